"""Is a cold push of many small files slower at one commit than at another?

Installs a wheel of each given commit (``git archive``) into its own fresh
venv, plus the current checkout, and pushes the same freshly written
context (``bench_scale.fill_files``) with each, interleaved with
``podman --url build`` + ``push`` against the same service, registry and
fake backend. Each install gets its own config and build-reuse cache, and
logs in on its own. Prints wall time and peak RSS per round and the
medians; the spread between rounds of the same command says how much of a
difference is noise.

    .venv/bin/python benchmarks/scale_commits.py COMMIT... [--files 20000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_scale  # noqa: E402
from fresh_install import fresh_install  # noqa: E402

from tests.support.stack import local_stack  # noqa: E402


def install_commit(commit: str, workdir: Path) -> Path:
    """The ``keynet-train`` script of a fresh install of ``commit``.

    Raises:
        subprocess.CalledProcessError: the commit is unknown or does not build.
    """
    tree = workdir / "tree"
    tree.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return fresh_install(workdir, tree) / "keynet-train"


def main() -> int:
    """Install each commit, then run the interleaved rounds and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commits", nargs="+", help="commits to compare with the checkout")
    parser.add_argument("--files", type=int, default=20_000, help="files in the context")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each command")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="keynet-bench-commits-") as tmp:
        scripts = {"checkout": fresh_install(Path(tmp) / "checkout") / "keynet-train"}
        for commit in args.commits:
            scripts[commit] = install_commit(commit, Path(tmp) / commit)
        runs: dict[str, list[tuple[float, int]]] = {name: [] for name in [*scripts, "podman"]}
        with local_stack("keynet-bench-commits-") as stack:
            stack.env["NO_COLOR"] = "1"
            context = stack.workdir / "ctx"
            context.mkdir()
            (context / "train.py").write_text(bench_scale.TRAIN_PY)
            (context / "Dockerfile").write_text(
                f"FROM {stack.base_image}\nWORKDIR /app\n"
                "COPY data /data\nCOPY train.py /app/train.py\n"
            )
            envs = {}
            for name, script in scripts.items():
                env = {
                    **stack.env,
                    "KEYNET_CONFIG": str(stack.workdir / name / "config.json"),
                    "XDG_CACHE_HOME": str(stack.workdir / name / "cache"),
                }
                subprocess.run(
                    [str(script), *stack.login_args()],
                    env=env,
                    input=stack.backend.password,
                    text=True,
                    capture_output=True,
                    check=True,
                )
                envs[name] = env
            remote = bench_scale.runners(stack, context, [], timeline=False)["podman --url"]
            names = list(runs)
            push = ["push", str(context / "train.py"), "--context", str(context), "--project", "1"]
            for i in range(args.rounds):
                for name in names[i % len(names) :] + names[: i % len(names)]:
                    bench_scale.fill_files(context, args.files)
                    if name == "podman":
                        runs[name].append(remote())
                    else:
                        runs[name].append(
                            bench_scale.run_measured([str(scripts[name]), *push], envs[name])
                        )
                    seconds, mib = runs[name][-1]
                    label = "podman --url" if name == "podman" else name
                    print(f"round {i} {label}: {seconds:.1f} s, peak {mib} MiB", flush=True)
    print()
    for name, results in runs.items():
        label = "podman --url" if name == "podman" else name
        rounds = ", ".join(f"{t:.1f}" for t, _ in results)
        median = statistics.median(t for t, _ in results)
        peak = max(m for _, m in results)
        print(f"{label:<14} rounds {rounds} s; median {median:.1f} s; peak {peak} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
