"""Benchmark: static extraction against a regular (non-editable) install in a fresh venv.

Issue 7's performance targets, each measured in the same run as its baseline:

1. ``inspect`` of a single 1,200-line script <= 2.0x
   ``python -c "import ast; ast.parse(open(F).read())"`` (medians);
2. ``inspect`` of a script reaching 30 project modules <= 1.0 s (median wall time);
3. peak memory (max RSS of the ``inspect`` process) <= 100 MB.

An editable install's ``.pth`` hook roughly doubles a bare interpreter's start
and flatters every ratio, so this script builds a wheel of the working tree,
installs it with ``--no-deps`` into a new virtualenv (``inspect`` needs only
the standard library) and times that venv's ``keynet-train``; the baseline
runs with that venv's interpreter too.

    python benchmarks/bench_extraction.py [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_inspect import generate_script

REPO = Path(__file__).resolve().parent.parent
MODULES = 30


def fresh_install(tmp: Path) -> Path:
    """A new venv with keynet-train installed from a wheel of the working tree; its bin dir."""
    wheels = tmp / "wheels"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels)]
    subprocess.run([*pip_wheel, str(REPO)], check=True)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    [wheel] = wheels.glob("keynet_train-*.whl")
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True,
    )
    # byte-compile like a normal install so the first timed run is not a cold one
    compile_all = [str(bin_dir / "python"), "-m", "compileall", "-q", str(venv / "lib")]
    subprocess.run(compile_all, check=True, stdout=subprocess.DEVNULL)
    return bin_dir


def write_project(root: Path, modules: int = MODULES) -> Path:
    """A project whose entrypoint reaches ``modules`` modules of a package; its entrypoint.

    Each module imports constants from the previous one, defines a type
    function and a helper that adds four arguments; the entrypoint imports
    the package, whose ``__init__`` re-exports every helper.
    """
    pkg = root / "proj" / "trainlib"
    pkg.mkdir(parents=True)
    init = []
    for i in range(modules):
        prev = f"from .m{i - 1} import BASE_{i - 1}\n" if i else ""
        base = f"BASE_{i - 1} * 2" if i else "1"
        (pkg / f"m{i}.py").write_text(
            f'"""Helpers of part {i}."""\n'
            "import os\n"
            f"{prev}"
            f"BASE_{i} = {base}\n"
            f"CHOICES_{i} = ['a{i}', 'b{i}', 'c{i}']\n\n\n"
            f"def str2bool_{i}(v):\n"
            "    if v.lower() in ('yes', 'true', '1'):\n        return True\n"
            "    if v.lower() in ('no', 'false', '0'):\n        return False\n"
            "    raise ValueError(v)\n\n\n"
            f"def add_part_{i}(parser):\n"
            f"    g = parser.add_argument_group('part {i}')\n"
            f"    g.add_argument('--lr-{i}', type=float, default=BASE_{i} / 1000)\n"
            f"    g.add_argument('--mode-{i}', choices=CHOICES_{i}, default=CHOICES_{i}[0])\n"
            f"    g.add_argument('--flag-{i}', type=str2bool_{i}, default=False)\n"
            f"    g.add_argument('--name-{i}', default=os.environ.get('N{i}', 'x{i}'))\n"
            "    return parser\n",
            encoding="utf-8",
        )
        init.append(f"from .m{i} import add_part_{i}")
    (pkg / "__init__.py").write_text("\n".join(init) + "\n", encoding="utf-8")
    entry = root / "proj" / "train.py"
    calls = "".join(f"    trainlib.add_part_{i}(parser)\n" for i in range(modules))
    entry.write_text(
        "import argparse\n\nimport trainlib\n\n\ndef main():\n"
        "    parser = argparse.ArgumentParser()\n" + calls + "    parser.parse_args()\n\n\n"
        "if __name__ == '__main__':\n    main()\n",
        encoding="utf-8",
    )
    return entry


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time (s) and peak RSS (bytes) of one run.

    Raises:
        RuntimeError: the command failed (a broken command must not look fast).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {err!r}")
    return elapsed, usage.ru_maxrss * 1024  # KiB on Linux


def measure(runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bin_dir = fresh_install(tmp)
        python, keynet = str(bin_dir / "python"), str(bin_dir / "keynet-train")
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        env.update(NO_COLOR="1", KEYNET_CONFIG=str(tmp / "config.json"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)

        single = tmp / "single" / "train.py"
        single.parent.mkdir()
        single.write_text(generate_script(1200), encoding="utf-8")
        project = write_project(tmp)

        baseline = [python, "-c", f"import ast; ast.parse(open({str(single)!r}).read())"]
        inspect_single = [keynet, "inspect", str(single), "--json"]
        inspect_project = [keynet, "inspect", str(project), "--json"]
        found = {}
        for name, cmd in (("single", inspect_single), ("project", inspect_project)):
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
            found[name] = len(json.loads(out.stdout)["arguments"])
        for cmd in (baseline, inspect_single, inspect_project):  # warm the file cache
            run_once(cmd, env)
        times: dict[str, list[float]] = {"baseline": [], "single": [], "project": []}
        peak = 0
        for _ in range(runs):  # interleaved, so load changes hit all three alike
            for key, cmd in (
                ("baseline", baseline),
                ("single", inspect_single),
                ("project", inspect_project),
            ):
                elapsed, rss = run_once(cmd, env)
                times[key].append(elapsed)
                if key != "baseline":
                    peak = max(peak, rss)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "runs": runs,
        "single_lines": 1200,
        "single_arguments": found["single"],
        "project_modules": MODULES,
        "project_arguments": found["project"],
        "baseline_median_s": round(med["baseline"], 4),
        "single_median_s": round(med["single"], 4),
        "single_ratio": round(med["single"] / med["baseline"], 3),
        "project_median_s": round(med["project"], 4),
        "peak_rss_mb": round(peak / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=15, help="runs of each command (median reported)")
    ap.add_argument("--json", action="store_true", help="print the measurements as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = ap.parse_args(argv)
    r = measure(args.runs)
    ok = (
        float(r["single_ratio"]) <= 2.0  # type: ignore[arg-type]
        and float(r["project_median_s"]) <= 1.0  # type: ignore[arg-type]
        and float(r["peak_rss_mb"]) <= 100  # type: ignore[arg-type]
    )
    if args.json:
        print(json.dumps(r))
    else:
        print(f"fresh venv, non-editable wheel install; {r['runs']} interleaved runs each")
        print(
            f"single script, 1,200 lines ({r['single_arguments']} arguments): "
            f"inspect {float(r['single_median_s']) * 1000:.1f} ms vs ast.parse "  # type: ignore[arg-type]
            f"{float(r['baseline_median_s']) * 1000:.1f} ms = {r['single_ratio']}x (target <= 2.0x)"  # type: ignore[arg-type]
        )
        print(
            f"project, {r['project_modules']} modules ({r['project_arguments']} arguments): "
            f"inspect {float(r['project_median_s']) * 1000:.1f} ms (target <= 1000 ms)"  # type: ignore[arg-type]
        )
        print(f"peak RSS of inspect: {r['peak_rss_mb']} MB (target <= 100 MB)")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
