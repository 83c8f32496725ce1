"""Benchmark: ``keynet-train inspect big.py`` vs ``python -c "import ast; ast.parse(...)"``.

Generates a realistic 3,000-line training script (model code, helpers, a
dataclass config and an argparse parser with 60 arguments built in a
function called from ``main()``), then runs both commands N times each,
interleaved, and prints the medians and their ratio. Target: ratio <= 1.5.

    python benchmarks/bench_inspect.py [--runs 21] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fresh_install import fresh_install
from measure import child_environment, time_once

TARGET_LINES = 3000


def generate_script(lines: int = TARGET_LINES) -> str:
    """A plausible big training script of exactly ``lines`` lines."""
    head = [
        '"""Generated benchmark training script."""',
        "import argparse",
        "import math",
        "import os",
        "from dataclasses import dataclass",
        "",
        "BASE_LR = 0.1",
        "MODELS = ['resnet18', 'resnet50', 'vit_b_16']",
        "",
        "@dataclass",
        "class Config:",
        "    batch_size: int = 64",
        "    epochs: int = 90",
        "",
    ]
    parser = ["def get_parser():", "    parser = argparse.ArgumentParser(description='bench')"]
    templates = [
        "--lr-{i}', type=float, default=BASE_LR / {n}, help='learning rate {i}'",
        "--epochs-{i}', type=int, default=Config.epochs, help='epochs'",
        "--flag-{i}', action='store_true', help='flag'",
        "--model-{i}', choices=MODELS, default=MODELS[0]",
        "--name-{i}', default=os.environ.get('N{i}', 'x')",
    ]
    for i in range(60):
        spec = templates[i % 5].format(i=i, n=i + 1)
        parser.append(f"    parser.add_argument('{spec})")
    parser += ["    return parser", ""]
    tail = [
        "def main():",
        "    args = get_parser().parse_args()",
        "    train(args)",
        "",
        "if __name__ == '__main__':",
        "    main()",
    ]
    body: list[str] = ["def train(args):", "    return args", ""]
    n = 0
    while True:
        block = [
            f"class Block{n}:",
            f"    '''Residual block number {n}.'''",
            "    def __init__(self, channels, stride=1):",
            "        self.channels = channels",
            "        self.stride = stride",
            "        self.weights = [[0.0] * channels for _ in range(channels)]",
            "",
            "    def forward(self, x):",
            "        out = [sum(w * v for w, v in zip(row, x)) for row in self.weights]",
            "        if self.stride > 1:",
            "            out = out[:: self.stride]",
            "        return [max(0.0, v) + math.tanh(v) for v in out]",
            "",
            f"def train_step_{n}(model, batch, lr=BASE_LR):",
            "    loss = 0.0",
            "    for x, y in batch:",
            "        pred = model.forward(x)",
            "        loss += sum((p - t) ** 2 for p, t in zip(pred, y)) / max(len(y), 1)",
            "    return loss * lr",
            "",
        ]
        if len(head) + len(parser) + len(body) + len(block) + len(tail) > lines:
            break
        body += block
        n += 1
    missing = lines - (len(head) + len(parser) + len(body) + len(tail))
    body += [f"# padding {k}" for k in range(max(missing, 0))]
    return "\n".join(head + body + parser + tail) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=21, help="runs of each command (median reported)")
    ap.add_argument("--lines", type=int, default=TARGET_LINES)
    ap.add_argument("--json", action="store_true", help="print the measurements as JSON")
    ap.add_argument("--max-ratio", type=float, default=None, help="exit 1 if the ratio is above")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        # A wheel in a fresh venv, compared with that venv's own interpreter.
        bin_dir = fresh_install(Path(tmp))
        env = dict(child_environment(tmp), NO_COLOR="1")
        script = Path(tmp) / "big_train.py"
        script.write_text(generate_script(args.lines), encoding="utf-8")
        py = str(bin_dir / "python")
        baseline = [py, "-c", f"import ast; ast.parse(open({str(script)!r}).read())"]
        inspect_cmd = [str(bin_dir / "keynet-train"), "inspect", str(script), "--json"]
        # Sanity: it must work and find the 60 arguments.
        out = subprocess.run(inspect_cmd, check=True, capture_output=True, text=True, env=env)
        found = len(json.loads(out.stdout)["arguments"])
        for cmd in (baseline, inspect_cmd):  # warm the OS file cache
            time_once(cmd, env)
        base_t: list[float] = []
        insp_t: list[float] = []
        for _ in range(args.runs):
            base_t.append(time_once(baseline, env))
            insp_t.append(time_once(inspect_cmd, env))
    b, i = statistics.median(base_t), statistics.median(insp_t)
    ratio = i / b
    result = {
        "lines": args.lines,
        "runs": args.runs,
        "arguments_found": found,
        "baseline_median_s": round(b, 4),
        "inspect_median_s": round(i, 4),
        "ratio": round(ratio, 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"script: {args.lines} lines, {found} arguments extracted")
        print(f"python -c 'ast.parse(...)'   median {b * 1000:7.1f} ms  ({args.runs} runs)")
        print(f"keynet-train inspect --json  median {i * 1000:7.1f} ms  ({args.runs} runs)")
        print(f"ratio {ratio:.2f}x (target <= 1.5x)")
    if args.max_ratio is not None and ratio > args.max_ratio:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
