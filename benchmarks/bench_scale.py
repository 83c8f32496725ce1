"""Scale: ``keynet-train push`` vs ``podman build`` + ``podman push`` on big contexts.

Two contexts, each pushed cold (fresh content) by both, alternating:

* ``files``: 20,000 small files (1 KiB each, 200 directories);
* ``big``: 2 GB in 8 files of 256 MB.

Two baselines, as in bench_push: ``podman build`` + ``podman push`` run
locally on the same storage (reads the context in place), and the same two
commands as clients of the podman service keynet-train uses (``podman
--url``: podman-remote, the same REST API path, which also uploads the
context as a tar for the service to unpack).

Reported per run: wall time, and the peak resident memory of the client
process (``ru_maxrss`` from ``wait4``): keynet-train's Python process, which
scans and streams the context, vs the ``podman`` process. The local podman
builds in-process; the podman *service* that keynet-train and podman-remote
talk to is a separate process and is not counted. keynet-train runs from a
wheel in a fresh venv, against the same private podman service, registry and
fake backend as bench_push.

    .venv/bin/python benchmarks/bench_scale.py [--cases files,big] [--rounds 1] [--files 20000]
        [--timeline] [--phases]

``--timeline`` prints every output line of each measured command with its
arrival time; ``--phases`` also times keynet-train's phases in-process
(``scale_phases.py``) on one more cold build per case.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from fresh_install import fresh_install  # noqa: E402

from tests.support.stack import LocalStack, local_stack  # noqa: E402

TRAIN_PY = "import argparse\nargparse.ArgumentParser().parse_args()\n"


def run_measured(
    command: list[str], env: dict[str, str], timeline: bool = False
) -> tuple[float, int]:
    """Run ``command``; return (wall seconds, peak RSS in MiB of that process).

    The output is read line by line as it arrives (stamped with the seconds
    since the start, printed with ``--timeline``): that is the phase
    breakdown of each side, taken in the measured run itself; ``timeline``
    prints them.

    Raises:
        SystemExit: the command failed (a failure must not look fast).
    """
    lines: list[str] = []
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None

    def read() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            text = raw.decode(errors="replace").rstrip()
            lines.append(f"{time.perf_counter() - start:8.2f}  {text[:160]}")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    reader.join()
    process.stdout.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n" + "\n".join(lines[-40:]))
    if timeline:
        print(f"  $ {' '.join(command[:6])} ...")
        print("\n".join(f"  {line}" for line in lines), flush=True)
    return elapsed, usage.ru_maxrss // 1024


def fill_files(context: Path, count: int = 20_000) -> None:
    """``count`` fresh 1 KiB files in 200 directories."""
    shutil.rmtree(context / "data", ignore_errors=True)
    for i in range(count):
        directory = context / "data" / f"d{i % 200:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{i:05d}.txt").write_bytes(os.urandom(1024))


def fill_big(context: Path, files: int = 8, mib: int = 256) -> None:
    """``files`` fresh files of ``mib`` MiB (2 GiB by default)."""
    shutil.rmtree(context / "data", ignore_errors=True)
    (context / "data").mkdir()
    block = 4 * 1024 * 1024
    for i in range(files):
        with (context / "data" / f"part{i}.bin").open("wb") as handle:
            for _ in range(mib * 1024 * 1024 // block):
                handle.write(os.urandom(block))


BASELINES = ("podman CLI", "podman --url")


def runners(
    stack: LocalStack, context: Path, keynet: list[str], timeline: bool
) -> dict[str, Callable[[], tuple[float, int]]]:
    """keynet-train push, and podman build + push locally and through the service.

    The baselines' time is build plus push, their memory the larger peak.
    """
    counter = iter(range(1_000_000))
    # Without CONTAINER_HOST, `podman` really runs locally; with it, it would
    # silently act as a remote client of the service.
    local_env = {k: v for k, v in stack.env.items() if k != "CONTAINER_HOST"}

    def ours() -> tuple[float, int]:
        push = ["push", str(context / "train.py"), "--context", str(context), "--project", "1"]
        return run_measured([*keynet, *push], stack.env, timeline)

    def raw(podman: list[str]) -> tuple[float, int]:
        reference = f"{stack.registry.host}/bench/scale-{next(counter)}:latest"
        build = [*podman, "build", "--platform", "linux/amd64", "-t", reference, str(context)]
        creds = f"{stack.registry.username}:{stack.registry.password}"
        run_env = stack.env if "--url" in podman else local_env
        build_s, build_mb = run_measured(build, run_env, timeline)
        push = [*podman, "push", "--creds", creds, reference]
        push_s, push_mb = run_measured(push, run_env, timeline)
        print(f"    ({' '.join(podman[:2])}: build {build_s:.1f} s + push {push_s:.1f} s)")
        return build_s + push_s, max(build_mb, push_mb)

    return {
        "keynet-train": ours,
        # podman's own CLI on the same storage: reads the context in place.
        BASELINES[0]: lambda: raw(["podman"]),
        # podman-remote: a client of the same service and REST API keynet-train uses.
        BASELINES[1]: lambda: raw(["podman", "--url", stack.podman.url]),
    }


def main() -> int:
    """Run the cases and print time and peak memory of each side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="files,big", help="files, big or both (default)")
    parser.add_argument("--rounds", type=int, default=1, help="cold rounds per case")
    parser.add_argument(
        "--files", type=int, default=20_000, help="file count of the files case (default 20000)"
    )
    parser.add_argument(
        "--big-mib",
        type=int,
        default=2048,
        help="total size of the big case, in 8 files (default 2048; 100 is bench_push's cold case)",
    )
    parser.add_argument(
        "--timeline", action="store_true", help="print each command's output lines, timed"
    )
    parser.add_argument(
        "--phases",
        action="store_true",
        help="after each case, time keynet-train's phases in-process (scale_phases.py)",
    )
    args = parser.parse_args()
    fills: dict[str, Callable[[Path], None]] = {
        "files": lambda context: fill_files(context, args.files),
        "big": lambda context: fill_big(context, mib=max(1, args.big_mib // 8)),
    }

    install_dir = tempfile.TemporaryDirectory(prefix="keynet-bench-install-")
    keynet = [str(fresh_install(Path(install_dir.name)) / "keynet-train")]
    results: dict[str, dict[str, list[tuple[float, int]]]] = {}
    with install_dir, local_stack("keynet-bench-scale-") as stack:
        stack.env["NO_COLOR"] = "1"
        context = stack.workdir / "ctx"
        context.mkdir()
        (context / "train.py").write_text(TRAIN_PY)
        (context / "Dockerfile").write_text(
            f"FROM {stack.base_image}\nWORKDIR /app\nCOPY data /data\nCOPY train.py /app/train.py\n"
        )
        subprocess.run(
            [*keynet, *stack.login_args()],
            env=stack.env,
            input=stack.backend.password,
            text=True,
            capture_output=True,
            check=True,
        )
        run = runners(stack, context, keynet, args.timeline)
        for case in args.cases.split(","):
            results[case] = {name: [] for name in run}
            names = list(run)
            for i in range(args.rounds):
                # Rotate the order so no variant always runs first.
                for name in names[i % 3 :] + names[: i % 3]:
                    fills[case](context)  # fresh content: a cold build and upload
                    results[case][name].append(run[name]())
                    seconds, mib = results[case][name][-1]
                    print(f"{case} {name}: {seconds:.1f} s, peak {mib} MiB", flush=True)
            if args.phases:
                fills[case](context)
                print(f"{case}: phases of one cold build, timed inside keynet-train", flush=True)
                python = str(Path(keynet[0]).parent / "python")
                probe = [python, str(ROOT / "benchmarks" / "scale_phases.py")]
                subprocess.run([*probe, str(context), stack.podman.url], env=stack.env, check=True)
            shutil.rmtree(context / "data", ignore_errors=True)

    print()
    print("median time and largest peak RSS of each; ratio: the median of the per-round")
    print("ratios keynet-train / baseline (paired: a slow moment hits both sides alike)")
    print(
        f"{'case':<6} {'keynet-train':>18}" + "".join(f" {b:>18} {'ratio':>6}" for b in BASELINES)
    )
    for case, by_name in results.items():
        ours = by_name["keynet-train"]
        if not ours:
            continue
        t_ours, m_ours = summarise(ours)
        line = f"{case:<6} {t_ours:>7.1f} s {m_ours:>5} MiB"
        for baseline in BASELINES:
            t_theirs, m_theirs = summarise(by_name[baseline])
            paired = statistics.median(
                k / b for (k, _), (b, _) in zip(ours, by_name[baseline], strict=True)
            )
            line += f" {t_theirs:>7.1f} s {m_theirs:>5} MiB {paired:>5.2f}x"
        print(line)
    return 0


def summarise(runs: list[tuple[float, int]]) -> tuple[float, int]:
    """Median wall time and largest peak RSS of ``runs``."""
    return statistics.median(t for t, _ in runs), max(m for _, m in runs)


if __name__ == "__main__":
    raise SystemExit(main())
