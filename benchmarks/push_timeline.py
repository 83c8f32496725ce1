"""Where a small push's time goes: per-step wall times of ``keynet-train push``, from outside.

The installed CLI (a wheel in a fresh venv, like ``bench_push.py``) pushes the
small project (train.py + Dockerfile) to a private podman service and a local
TLS registry (``tests/support/stack.py``), ``--rounds`` times cold
(``--no-cache``) and as many times warm (nothing changed; one unmeasured push
primes the caches). Without a terminal the CLI prints one plain line on
stderr as each step starts (``==> Build image ...``) and finishes
(`` ok Build image: ...``); this script reads stderr line by line as it
arrives and stamps each line with the time since just before the process was
started. A segment is the time between two consecutive step lines: the first
is start-up until the first line (interpreter, imports, settings), the last
is the final line until the process exited. Nothing inside the package is
instrumented, so the resolution is the step lines: work between two lines
(e.g. imports, the service ping, the background registry check) is not
split further.

Printed: each segment's median (min) in milliseconds, cold and warm, and the
load average before and after, since these machines are shared.
``--compare TREE`` installs a second source tree (e.g. ``git worktree add
/tmp/before <commit>``) into its own venv and pushes it in the same rounds,
alternating which goes first.

    .venv/bin/python benchmarks/push_timeline.py [--rounds 8] [--compare TREE]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_push import load, push_args, small_project, timed  # noqa: E402
from fresh_install import fresh_install  # noqa: E402

from tests.support.stack import local_stack  # noqa: E402

START, EXIT = "start-up, until the first line", "after the last line, until exit"


def step_line(line: str) -> str | None:
    """The step a plain stderr line starts or finishes (``start X``/``end X``), else None.

    Build log lines (``    | ...``) and info lines (``    ...``) are not steps.
    """
    if line.startswith("==> "):
        return "start " + line[4:].removesuffix(" ...").strip()
    if line.startswith(" ok "):
        return "end " + line[4:].split(": ", 1)[0].strip()
    return None


def segment(previous: str, current: str) -> str:
    """The name of the time between step lines ``previous`` and ``current``."""
    if previous == START:
        return f"{START} ({current})"
    if current == EXIT:
        return f"{EXIT} ({previous})"
    kind, _, title = previous.partition(" ")
    next_kind, _, next_title = current.partition(" ")
    if kind == "start" and next_kind == "end" and title == next_title:
        return title
    return f"{previous} -> {current}"


def timeline(command: list[str], env: dict[str, str]) -> list[tuple[str, float]]:
    """Run one push; return (segment, seconds) in order. Exits loudly if the push fails."""
    lines: list[str] = []
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE
        )
        assert process.stderr is not None
        stamps: list[tuple[str, float]] = [(START, 0.0)]
        for raw in iter(process.stderr.readline, b""):
            now = time.perf_counter() - start
            text = raw.decode("utf-8", "replace").rstrip("\n")
            lines.append(text)
            step = step_line(text)
            if step is not None:
                stamps.append((step, now))
        code = process.wait()
        stamps.append((EXIT, time.perf_counter() - start))
        if code != 0:
            out.seek(0)
            stdout = out.read().decode("utf-8", "replace")
            raise SystemExit(
                f"{' '.join(command[:3])} ... failed ({code}):\n{stdout}\n" + "\n".join(lines)
            )
    return [(segment(a, b), t_b - t_a) for (a, t_a), (b, t_b) in itertools.pairwise(stamps)]


def collect(runs: list[list[tuple[str, float]]]) -> dict[str, list[float]]:
    """Segment name -> its durations over ``runs``, in order of first appearance.

    A segment that happens twice in one push (it should not) is summed.
    """
    table: dict[str, list[float]] = {}
    for run in runs:
        totals: dict[str, float] = {}
        for name, seconds in run:
            totals[name] = totals.get(name, 0.0) + seconds
        for name, seconds in totals.items():
            table.setdefault(name, []).append(seconds)
    return table


def cell(values: list[float] | None, rounds: int) -> str:
    """``median (min)`` in ms; ``n/k`` appended when the segment occurred in only n of k pushes."""
    if not values:
        return "-"
    text = f"{statistics.median(values) * 1000:.0f} ({min(values) * 1000:.0f})"
    return text if len(values) == rounds else f"{text} [{len(values)}/{rounds}]"


def main() -> int:
    """Start the stack, run the pushes, print the per-segment table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="cold and warm pushes (default 8)")
    parser.add_argument(
        "--compare", type=Path, metavar="TREE", help="another source tree, pushed alongside"
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    install_dir = tempfile.TemporaryDirectory(prefix="keynet-timeline-install-")
    trees = {"this": [str(fresh_install(Path(install_dir.name)) / "keynet-train")]}
    if args.compare is not None:
        other = fresh_install(Path(install_dir.name) / "compare", args.compare)
        trees["compare"] = [str(other / "keynet-train")]
    runs: dict[tuple[str, str], list[list[tuple[str, float]]]] = {}
    loads = [load()]
    with install_dir, local_stack("keynet-timeline-") as stack:
        env = dict(stack.env)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        # Plain lines, no CI log folding: the step lines this script reads.
        env["NO_COLOR"] = "1"
        for variable in ("FORCE_COLOR", "GITHUB_ACTIONS", "GITLAB_CI"):
            env.pop(variable, None)
        for command in trees.values():
            timed([*command, *stack.login_args()], env, stdin=stack.backend.password)
        context = small_project(stack, "ctx-small")
        for mode in ("cold", "warm"):
            cold = mode == "cold"
            for command in trees.values():
                timeline([*command, *push_args(context, cold)], env)  # unmeasured: primes
            names = list(trees)
            for i in range(args.rounds):
                # Alternate the order so neither tree always runs first.
                for name in names[i % len(names) :] + names[: i % len(names)]:
                    run = timeline([*trees[name], *push_args(context, cold)], env)
                    runs.setdefault((name, mode), []).append(run)
                    total = sum(seconds for _, seconds in run)
                    print(f"{mode} {name} push {i + 1}: {total:.2f}s", flush=True)
        loads.append(load())

    columns = [(name, mode) for mode in ("cold", "warm") for name in trees]
    tables = {key: collect(runs[key]) for key in columns}
    order: list[str] = []
    for key in columns:
        order += [name for name in tables[key] if name not in order]
    print()
    print(
        f"ms per segment between consecutive stderr step lines, median (min) of {args.rounds} "
        "pushes; measured from outside, so work between two lines is not split further.\n"
        "The build and the registry check run in background threads started before "
        "'Choose project': their lines show only the wait that is left."
    )
    headers = [mode if len(trees) == 1 else f"{mode} {name}" for name, mode in columns]
    print("| segment | " + " | ".join(headers) + " |")
    print("|---|" + "---|" * len(headers))
    whole = {key: [sum(s for _, s in run) for run in runs[key]] for key in columns}
    print("| whole push | " + " | ".join(cell(whole[k], args.rounds) for k in columns) + " |")
    for name in order:
        cells = [cell(tables[key].get(name), args.rounds) for key in columns]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("machine:", "; ".join(loads))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
