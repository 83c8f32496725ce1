"""Measure static extraction against the runtime oracle on public training scripts.

The scripts listed in ``benchmarks/public_scripts.toml`` are read where their
repositories put them, in a scratch directory outside this repository
(``REPOS/owner+name/...``; fetch them yourself, nothing third-party is
committed). For each one:

- static: ``python -m keynet_train inspect SCRIPT --json`` (with ``--command``
  when listed, and ``--python SCRATCH_PYTHON`` when this keynet-train has it,
  so installed libraries can be read), diagnostics from stderr;
- runtime: ``benchmarks/public_runtime_probe.py`` under SCRATCH_PYTHON (a venv
  with click/typer/fire/tyro/transformers, no torch; missing modules are
  stubbed), which runs the script up to its parse and normalises the parser
  with ``tests/extraction/oracle.py``.

Per script, family and pattern it reports: arguments at runtime, arguments
found statically, fields (name, type, default, required, help, choices) that
agree, and wrong values (disagreeing fields), split by whether a diagnostic
names the argument. Usage::

    python benchmarks/measure_public.py --repos /work/measure/repos \\
        --python /work/measure/venv/bin/python [--markdown] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("name", "type", "default", "required", "help", "choices")
MARKER = "@@RUNTIME@@"


@dataclass
class Outcome:
    """One script's comparison."""

    entry: dict[str, object]
    static_type: str | None = None
    runtime_type: str | None = None
    runtime_args: int = 0
    static_args: int = 0
    found: int = 0
    fields: int = 0
    agree: int = 0
    wrong: list[str] = field(default_factory=list)
    wrong_silent: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    warnings: int = 0
    first_warning: str | None = None
    error: str | None = None
    runtime_error: str | None = None
    stubbed: list[str] = field(default_factory=list)
    #: The static result's ``complete`` flag (None: an older keynet-train without it).
    complete: bool | None = None
    #: Wall time (s) and peak RSS (MB) of ``inspect --json``.
    seconds: float = 0.0
    peak_mb: float = 0.0

    @property
    def silent_partial(self) -> bool:
        """Arguments missing statically, yet the result says it is complete and warns of nothing."""
        return bool(self.missing) and self.complete is not False and self.warnings == 0

    @property
    def family(self) -> str:
        return str(self.runtime_type or self.static_type or "none")


def _run_static(
    path: Path, repo: Path, command: str | None, python: str | None
) -> tuple[dict, list[str], float, float]:  # type: ignore[type-arg]
    # Run from the repository's top, as a user pushes from it (the default build
    # context, which inspect also reads imports from).
    argv = [sys.executable, "-m", "keynet_train", "inspect", str(path), "--json"]
    if command:
        argv += ["--command", command]
    if python and _has_python_flag():
        argv += ["--python", python]
    stdout, stderr, seconds, peak_mb = _measured(argv, repo)
    diagnostics = [line for line in stderr.splitlines() if line.strip()]
    try:
        doc = json.loads(stdout)
    except json.JSONDecodeError:
        doc = {"parser_type": None, "arguments": [], "error": " ".join(diagnostics)[:300]}
    return doc, diagnostics, seconds, peak_mb


def _measured(argv: list[str], cwd: Path) -> tuple[str, str, float, float]:
    """Run ``argv``: its stdout, stderr, wall time (s) and peak RSS (MB, from wait4)."""
    import tempfile
    import time

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd)
        _, _, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = 0  # reaped by wait4
        out.seek(0)
        err.seek(0)
        return (
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            usage.ru_maxrss / 1024,
        )


_PYTHON_FLAG: list[bool] = []


def _has_python_flag() -> bool:
    if not _PYTHON_FLAG:
        proc = subprocess.run(
            [sys.executable, "-m", "keynet_train", "inspect", "--help"],
            check=False,
            capture_output=True,
            text=True,
        )
        _PYTHON_FLAG.append("--python" in proc.stdout)
    return _PYTHON_FLAG[0]


def _run_runtime(
    path: Path, repo: Path, command: str | None, python: str, pythonpath: list[str]
) -> dict:  # type: ignore[type-arg]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(repo / p) for p in pythonpath)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    argv = [python, str(ROOT / "benchmarks" / "public_runtime_probe.py"), str(ROOT), str(path)]
    argv.append(command or "")
    try:
        proc = subprocess.run(
            argv, check=False, capture_output=True, text=True, timeout=120, cwd=repo, env=env
        )
    except subprocess.TimeoutExpired:
        return {"parser_type": None, "arguments": [], "error": "timeout"}
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])  # type: ignore[no-any-return]
    return {"parser_type": None, "arguments": [], "error": proc.stderr.strip()[-300:]}


def measure(entry: dict[str, object], repos: Path, python: str) -> Outcome:
    """Run both sides on one manifest entry and compare them field by field."""
    outcome = Outcome(entry)
    repo = repos / str(entry["repo"]).replace("/", "+")
    path = repo / str(entry["script"])
    if not path.is_file():
        outcome.error = f"not fetched: {path}"
        return outcome
    command = entry.get("command")
    command = str(command) if command else None
    static, diagnostics, outcome.seconds, outcome.peak_mb = _run_static(path, repo, command, python)
    complete = static.get("complete")
    outcome.complete = complete if isinstance(complete, bool) else None
    runtime = _run_runtime(
        path,
        repo,
        command,
        python,
        [str(p) for p in entry.get("pythonpath", [])],  # type: ignore[attr-defined]
    )
    outcome.static_type = static.get("parser_type")
    outcome.runtime_type = runtime.get("parser_type")
    outcome.runtime_error = runtime.get("error")
    outcome.stubbed = list(runtime.get("stubbed", []))
    outcome.warnings = sum(": warning: " in d or d.startswith("Warning:") for d in diagnostics)
    first = next((d for d in diagnostics if ": warning: " in d), None)
    outcome.first_warning = first.split(": warning: ", 1)[1] if first else None
    if static.get("error"):
        outcome.error = str(static["error"])
    s_args = {a["name"]: a for a in static.get("arguments", [])}
    r_args = {a["name"]: a for a in runtime.get("arguments", [])}
    outcome.static_args, outcome.runtime_args = len(s_args), len(r_args)
    outcome.missing = [n for n in r_args if n not in s_args]
    outcome.extra = [n for n in s_args if n not in r_args] if r_args else []
    for name, expected in r_args.items():
        actual = s_args.get(name)
        if actual is None:
            continue
        outcome.found += 1
        named = any(f"'{name}'" in d for d in diagnostics)
        for key in FIELDS:
            outcome.fields += 1
            exp, act = _norm(key, expected.get(key)), _norm(key, actual.get(key))
            if json.dumps(exp) == json.dumps(act):
                outcome.agree += 1
            else:
                detail = f"{name}.{key}: static {act!r} vs runtime {exp!r}"
                outcome.wrong.append(detail)
                if not named:
                    outcome.wrong_silent.append(detail)
    return outcome


def _norm(key: str, value: object) -> object:
    if key == "help" and isinstance(value, str):
        return " ".join(value.split()) or None
    return value


def _rows(outcomes: list[Outcome], key: str) -> list[list[str]]:
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.family if key == "family" else str(o.entry[key]), []).append(o)
    rows = []
    for name, group in sorted(groups.items()):
        rows.append(_summary(name, group))
    rows.append(_summary("**all**", outcomes))
    return rows


def _summary(name: str, group: list[Outcome]) -> list[str]:
    runtime = sum(o.runtime_args for o in group)
    found = sum(o.found for o in group)
    fields = sum(o.fields for o in group)
    agree = sum(o.agree for o in group)
    return [
        name,
        str(len(group)),
        str(runtime),
        f"{found} ({_pct(found, runtime)})",
        f"{agree}/{fields} ({_pct(agree, fields)})",
        str(sum(len(o.wrong) for o in group)),
        str(sum(len(o.wrong_silent) for o in group)),
        str(sum(o.complete is False for o in group)),
        str(sum(o.silent_partial for o in group)),
    ]


def _peak(outcomes: list[Outcome]) -> float:
    return max((o.peak_mb for o in outcomes), default=0.0)


def _label(o: Outcome) -> str:
    return f"{o.entry['repo']}/{o.entry['script']}"


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def report(outcomes: list[Outcome]) -> str:
    """Markdown: per script, per family, per pattern."""
    per_script = [
        [
            f"[{o.entry['repo']}/{o.entry['script']}](https://github.com/{o.entry['repo']}/blob/HEAD/{o.entry['script']})",
            str(o.entry["kind"]),
            str(o.entry["pattern"]),
            f"{o.static_type or '-'} / {o.runtime_type or '-'}",
            str(o.runtime_args),
            str(o.found),
            f"{o.agree}/{o.fields}",
            str(len(o.wrong)),
            str(len(o.wrong_silent)),
            str(o.warnings),
            {True: "yes", False: "no", None: "-"}[o.complete],
            f"{o.seconds:.2f} s / {o.peak_mb:.0f} MB",
        ]
        for o in outcomes
    ]
    slowest = sorted(outcomes, key=lambda o: -o.seconds)[:3]
    largest = sorted(outcomes, key=lambda o: -o.runtime_args)[:3]
    costly = [
        "Slowest `inspect` runs: "
        + "; ".join(f"{_label(o)} {o.seconds:.2f} s, {o.peak_mb:.0f} MB" for o in slowest),
        "",
        "Largest (most arguments at runtime): "
        + "; ".join(
            f"{_label(o)} {o.runtime_args} arguments, {o.seconds:.2f} s, {o.peak_mb:.0f} MB"
            for o in largest
        ),
        "",
        f"Peak memory of any `inspect` run: {_peak(outcomes):.0f} MB.",
        "",
    ]
    head = ["group", "scripts", "args at runtime", "found statically", "fields agreeing"]
    head += ["wrong values", "wrong, no diagnostic", "partial (complete: false)"]
    head += ["partial, no warning"]
    parts = [
        *costly,
        "Per family (the parser type at runtime):",
        "",
        _table(head, _rows(outcomes, "family")),
        "",
        "Per pattern:",
        "",
        _table(head, _rows(outcomes, "pattern")),
        "",
        "Per script (static / runtime parser type):",
        "",
        _table(
            [
                "script",
                "kind",
                "pattern",
                "parser",
                "runtime args",
                "found",
                "fields agreeing",
                "wrong",
                "wrong, no diag.",
                "warnings",
                "complete",
                "inspect time / peak RSS",
            ],
            per_script,
        ),
    ]
    notes = []
    for o in outcomes:
        label = f"{o.entry['repo']}/{o.entry['script']}"
        if o.runtime_error:
            notes.append(f"- {label}: runtime oracle: {o.runtime_error}")
        if o.error:
            notes.append(f"- {label}: static: {o.error}")
        for w in o.wrong:
            notes.append(f"- {label}: {w}")
        if o.static_type is None and o.first_warning:
            notes.append(f"- {label}: static warning: {o.first_warning[:200]}")
        if o.missing:
            notes.append(f"- {label}: missing statically: {', '.join(o.missing[:12])}")
    if notes:
        parts += ["", "Details:", "", *notes]
    return "\n".join(parts)


def _write_docs(path: Path, text: str) -> None:
    """Replace what is between ``<!-- measure:begin -->`` and ``<!-- measure:end -->``."""
    begin, end = "<!-- measure:begin -->", "<!-- measure:end -->"
    doc = path.read_text(encoding="utf-8")
    head, _, rest = doc.partition(begin)
    _, _, tail = rest.partition(end)
    revision = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        check=False,
        capture_output=True,
        text=True,
    ).stdout.strip()
    stamp = f"Measured at keynet-train {revision or '?'} by `benchmarks/measure_public.py`."
    path.write_text(f"{head}{begin}\n{stamp}\n\n{text}\n{end}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=Path, required=True, help="scratch dir of owner+name/")
    parser.add_argument("--python", required=True, help="scratch interpreter for the runtime side")
    parser.add_argument(
        "--manifest", type=Path, default=ROOT / "benchmarks" / "public_scripts.toml"
    )
    parser.add_argument("--only", help="measure entries whose repo or script contains this")
    parser.add_argument("--json", type=Path, help="write the raw outcomes here")
    parser.add_argument(
        "--docs",
        type=Path,
        help="also put the report between the measure markers of this markdown file",
    )
    args = parser.parse_args(argv)
    entries = tomllib.loads(args.manifest.read_text())["script"]
    if args.only:
        entries = [e for e in entries if args.only in e["repo"] + "/" + e["script"]]
    outcomes = []
    for entry in entries:
        outcome = measure(entry, args.repos, args.python)
        outcomes.append(outcome)
        print(
            f"{entry['repo']}/{entry['script']}: runtime {outcome.runtime_args} "
            f"found {outcome.found} agree {outcome.agree}/{outcome.fields} "
            f"wrong {len(outcome.wrong)}",
            file=sys.stderr,
        )
    text = report(outcomes)
    print(text)
    if args.docs:
        _write_docs(args.docs, text)
    if args.json:
        args.json.write_text(
            json.dumps([o.__dict__ for o in outcomes], indent=1, default=str), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
