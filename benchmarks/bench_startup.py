"""Start-up time of ``keynet-train`` against a bare interpreter.

Runs each command as a fresh process, interleaved (one run of every command
per round, so load changes on the machine hit all of them alike), and prints
the median and the ratio to ``python -c pass``. The target (issue 2 / STYLE
§9) is ``--version`` within 2x of the bare interpreter.

Measured like a real install: the package is byte-compiled first and the
children run without ``PYTHONDONTWRITEBYTECODE`` (a development machine may
set it, and then every run would re-compile the package from source).

Usage::

    python benchmarks/bench_startup.py [--runs 30] [--warmup 3] [--check]

``--check`` exits 1 when ``--version`` is over the target ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import child_environment, console_script, precompile, time_once

TARGET_RATIO = 2.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table; with --check, exit 1 if over target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="measured runs per command")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured runs per command")
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 if --version > {TARGET_RATIO}x"
    )
    args = parser.parse_args(argv)

    precompile()
    py = sys.executable
    commands: dict[str, list[str]] = {
        "python -c pass": [py, "-c", "pass"],
        "python -m keynet_train --version": [py, "-m", "keynet_train", "--version"],
    }
    script = console_script()
    if script:
        commands["keynet-train --version"] = [script, "--version"]
    commands["python -m keynet_train config path"] = [py, "-m", "keynet_train", "config", "path"]
    commands["python -m keynet_train --help"] = [py, "-m", "keynet_train", "--help"]

    with tempfile.TemporaryDirectory(prefix="keynet-bench-") as config_dir:
        env = child_environment(config_dir)
        for _ in range(args.warmup):
            for command in commands.values():
                time_once(command, env)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                samples[name].append(time_once(command, env))

    baseline = statistics.median(samples["python -c pass"])
    print(f"{args.runs} interleaved runs each (after {args.warmup} warm-up), medians:")
    if script:
        print(f"console script: {script}")
    width = max(len(n) for n in commands)
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:<{width}}  {median * 1000:7.1f} ms  {median / baseline:5.2f}x")
    worst = max(
        statistics.median(values) / baseline
        for name, values in samples.items()
        if name.endswith("--version")
    )
    verdict = "OK" if worst <= TARGET_RATIO else "OVER TARGET"
    print(f"--version: {worst:.2f}x python -c pass (target <= {TARGET_RATIO:g}x): {verdict}")
    return 1 if args.check and worst > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
