"""Start-up time of ``keynet-train`` against a bare interpreter, installed like a user's.

A wheel of the checkout is installed into a fresh venv (no editable ``.pth``
hook, byte-compiled by pip; see ``fresh_install.py``), and every command runs
as a fresh process of that venv, interleaved (one run of every command per
round, so load changes on the machine hit all of them alike). Printed: the
median and the ratio to that venv's ``python -c pass``. Targets (issue 9):
``--version`` <= 2.0x, ``--help`` <= 2.5x; ``python -c "import argparse"``
is shown as the floor of any argparse CLI.

Usage::

    python benchmarks/bench_startup.py [--runs 30] [--warmup 3] [--check] [--compare TREE]

``--check`` exits 1 when a target is missed. ``--compare TREE`` installs a
second source tree (e.g. ``git worktree add /tmp/before <commit>``) into its
own fresh venv and interleaves its commands in the same rounds, so a change is
measured before and after under the same load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fresh_install import fresh_install
from measure import child_environment, time_once

TARGETS = {"keynet-train --version": 2.0, "keynet-train --help": 2.5}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table; with --check, exit 1 if over target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="measured runs per command")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured runs per command")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument(
        "--compare", type=Path, metavar="TREE", help="another source tree, measured alongside"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="keynet-bench-") as workdir:
        print("installing a wheel of the checkout into a fresh venv ...", flush=True)
        bin_dir = fresh_install(Path(workdir))
        py, script = str(bin_dir / "python"), str(bin_dir / "keynet-train")
        commands: dict[str, list[str]] = {
            "python -c pass": [py, "-c", "pass"],
            'python -c "import argparse"': [py, "-c", "import argparse"],
            "keynet-train --version": [script, "--version"],
            "keynet-train --help": [script, "--help"],
            "keynet-train config path": [script, "config", "path"],
        }
        if args.compare is not None:
            print(f"installing a wheel of {args.compare} into a second fresh venv ...", flush=True)
            other = fresh_install(Path(workdir) / "compare", args.compare)
            other_script = str(other / "keynet-train")
            commands["compare: python -c pass"] = [str(other / "python"), "-c", "pass"]
            commands["compare: keynet-train --version"] = [other_script, "--version"]
            commands["compare: keynet-train --help"] = [other_script, "--help"]
        env = child_environment(workdir)
        for _ in range(args.warmup):
            for command in commands.values():
                time_once(command, env)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                samples[name].append(time_once(command, env))

    baseline = statistics.median(samples["python -c pass"])
    print(f"{args.runs} interleaved runs each (after {args.warmup} warm-up), medians,")
    print("non-editable install in a fresh venv, ratio to that venv's python -c pass:")
    width = max(len(n) for n in commands)
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:<{width}}  {median * 1000:7.1f} ms  {median / baseline:5.2f}x")
    missed = False
    for name, target in TARGETS.items():
        ratio = statistics.median(samples[name]) / baseline
        verdict = "OK" if ratio <= target else "OVER TARGET"
        missed = missed or ratio > target
        print(f"{name}: {ratio:.2f}x python -c pass (target <= {target:g}x): {verdict}")
    if args.compare is not None:
        other_baseline = statistics.median(samples["compare: python -c pass"])
        for name in TARGETS:
            ratio = statistics.median(samples["compare: " + name]) / other_baseline
            print(f"{args.compare}: {name}: {ratio:.2f}x its venv's python -c pass")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
