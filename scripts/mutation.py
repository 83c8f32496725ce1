"""Mutation testing of the security-relevant code with cosmic-ray (issue 10 item 5).

Run through ``scripts/mutation`` (it installs cosmic-ray). For each target
below, cosmic-ray mutates the module one change at a time and runs the
target's tests; a mutant the tests still pass on "survived". Only mutants
inside the listed functions count (the rest of a module is marked skipped
before the run), so a big module such as ``push.py`` can be scored on its
URL stripper alone.

Survivors judged equivalent (no test can tell them from the original) are
listed, each with its reason, in ``scripts/mutation_equivalent.toml``. The
score is the standard one, killed / (mutants - equivalent); the raw
killed / mutants is printed beside it. A survivor counts as equivalent only
if its changed line, before and after, is listed for its target.

Mutation happens in a copy of the repository (tracked and untracked files,
ignored ones excluded), never in the working tree. Prints a score per
target and every survivor with its diff; writes the same as JSON with
``--json FILE``. Exit status 1 when a target scores under ``--threshold``
(default 90 %).

    scripts/mutation                    # every target
    scripts/mutation secrets ignore     # some targets
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EQUIVALENT = REPO / "scripts" / "mutation_equivalent.toml"


@dataclass(frozen=True)
class Target:
    """A module, the functions in it that count (None: all), and the tests that guard them."""

    name: str
    module: str
    functions: tuple[str, ...] | None
    tests: tuple[str, ...]
    select: str | None = None  # a pytest -k expression, to run only the tests that matter
    # Whether the tests need installed pytest plugins (hypothesis, pytest-httpx).
    # Without them pytest starts without importing hypothesis (~0.5 s of each
    # mutant's ~1.5 s), which halves a run.
    plugins: bool = True


TARGETS = (
    Target(
        "secrets",
        "keynet_train/secrets.py",
        None,
        ("tests/backend/test_secrets.py", "tests/backend/test_debug_redaction.py"),
    ),
    Target(
        "userinfo",
        "keynet_train/push/pipeline.py",
        ("_strip_userinfo",),
        ("tests/push/test_settings.py",),
    ),
    Target(
        "config-masking",
        "keynet_train/config.py",
        (
            "Secret.masked",
            "Secret.__str__",
            "Secret.__repr__",
            "Config.to_json_dict",
            "_mask_unknown",
        ),
        ("tests/config/test_config_model.py",),
        plugins=False,
    ),
    Target(
        "ignore",
        "keynet_train/build/dockerignore.py",
        (
            "_go_clean",
            "parse_ignore_lines",
            "IgnorePattern.matches",
            "IgnorePattern.matches_or_parent",
            "_translate",
            "_python_classes",
            "_check_glob",
            "compile_patterns",
            "_escape_end",
            "_atoms",
            "_is_word",
            "_assertion_holds",
            "_Automaton.__init__",
            "_Automaton._inner",
            "_Automaton._closure",
            "_Automaton._step",
            "_Automaton._number",
            "_Automaton.matches",
            "_Automaton._matches_in_context",
            "IgnoreMatcher.__init__",
            "IgnoreMatcher.deciding_pattern",
            "IgnoreMatcher.excluded",
            "IgnoreMatcher.may_reinclude_below",
        ),
        ("tests/build/test_context.py", "tests/build/test_dockerignore_linear.py"),
        "ignore or pattern or vector or always_sent or containerignore or excluded",
        plugins=False,
    ),
    Target(
        "command-check",
        "keynet_train/extraction/command_check.py",
        None,
        (
            "tests/extraction/test_command_check.py",
            "tests/extraction/test_command_check_mutants.py",
        ),
        plugins=False,
    ),
)


def function_spans(source: str, names: tuple[str, ...]) -> list[tuple[int, int]]:
    """(first line, last line) of each named function (``Class.method`` for methods).

    Raises:
        SystemExit: a name is not found (the target list is out of date).
    """
    tree = ast.parse(source)
    found: dict[str, tuple[int, int]] = {}

    def visit(nodes: list[ast.stmt], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno is not None
                found[prefix + node.name] = (node.lineno, node.end_lineno)
            elif isinstance(node, ast.ClassDef):
                visit(node.body, prefix + node.name + ".")

    visit(tree.body, "")
    missing = [n for n in names if n not in found]
    if missing:
        raise SystemExit(f"mutation: functions not found: {', '.join(missing)}")
    return [found[n] for n in names]


def copy_repo(destination: Path) -> None:
    """Tracked and untracked (not ignored) files of the repository into ``destination``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        relative = raw.decode()
        source = REPO / relative
        if source.is_file():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """((line, col), (end line, end col)) of every annotation in ``source``.

    The project's modules use ``from __future__ import annotations``: an
    annotation is never evaluated, so mutating one (``str | None`` to
    ``str + None``) cannot change behaviour. Those mutants are equivalent by
    construction and are skipped rather than counted as survivors.
    """
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotations.append(node.returns)
        elif isinstance(node, (ast.arg, ast.AnnAssign)):
            annotations.append(node.annotation)
        for annotation in annotations:
            if annotation is not None and annotation.end_lineno is not None:
                spans.append(
                    (
                        (annotation.lineno, annotation.col_offset),
                        (annotation.end_lineno, annotation.end_col_offset or 0),
                    )
                )
    return spans


def skip_outside(
    session: Path,
    spans: list[tuple[int, int]] | None,
    annotations: list[tuple[tuple[int, int], tuple[int, int]]],
) -> tuple[int, int, int]:
    """Skip mutants outside ``spans`` (None: none are) or in an annotation.

    Returns (counted, skipped outside, skipped annotations).
    """
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    counted = outside = annotated = 0
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            starts = [tuple(m.start_pos) for m in item.mutations]
            if spans is not None and not any(
                first <= start[0] <= last for start in starts for first, last in spans
            ):
                outside += 1
            elif any(begin <= start < end for start in starts for begin, end in annotations):
                annotated += 1
            else:
                counted += 1
                continue
            db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
    return counted, outside, annotated


def shard_filter(session: Path, shard: int, shards: int) -> None:
    """Leave pending only every ``shards``-th remaining mutant, starting at ``shard``."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        pending = sorted(db.pending_work_items, key=lambda item: item.job_id)
        for index, item in enumerate(pending):
            if index % shards != shard:
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))


def run_target(
    target: Target, workdir: Path, timeout: float | None, jobs: int, sample: int = 1
) -> dict[str, object]:
    """Init, filter and execute one cosmic-ray session per shard; return the merged summary.

    Each shard mutates its own copy of the tree (cosmic-ray edits files in
    place), so ``jobs`` shards run side by side.
    """
    # --noconftest: these unit tests need none of the suite's services, and
    # starting them for each of hundreds of mutants would dominate the run.
    command = [
        sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--noconftest",
        *target.tests,
    ]  # fmt: skip
    if target.select:
        command += ["-k", target.select]
    env = dict(os.environ)
    if not target.plugins:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    started = time.monotonic()
    baseline = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, check=False, env=env
    )
    if timeout is None:
        # A mutant that loops forever (``i += 1`` -> ``i += 0``) is killed by
        # the timeout; 120 s each made them most of a run. Ten times the
        # unmutated tests' time leaves room for a loaded machine.
        timeout = max(20.0, 10 * (time.monotonic() - started))
    if baseline.returncode != 0:
        raise SystemExit(f"mutation: the tests of {target.name} fail unmutated:\n{baseline.stdout}")
    source = (workdir / target.module).read_text()
    spans = None if target.functions is None else function_spans(source, target.functions)
    shells = " ".join(f"'{part}'" if " " in part else part for part in command)
    sessions = []
    for shard in range(jobs):
        copy = workdir.parent / f"{workdir.name}-{target.name}-{shard}"
        if not copy.exists():
            shutil.copytree(workdir, copy)
        config = copy / f"{target.name}.toml"
        session = copy / f"{target.name}.sqlite"
        config.write_text(
            "[cosmic-ray]\n"
            f'module-path = "{target.module}"\n'
            f"timeout = {timeout}\n"
            "excluded-modules = []\n"
            f"test-command = {json.dumps(shells)}\n"
            "[cosmic-ray.distributor]\n"
            'name = "local"\n'
        )
        cosmic = [sys.executable, "-m", "cosmic_ray.cli"]
        subprocess.run([*cosmic, "init", str(config), str(session)], cwd=copy, check=True)
        counted, outside, annotated = skip_outside(session, spans, annotation_spans(source))
        # With sample > 1 only every sample-th mutant runs (a quick estimate).
        shard_filter(session, shard, jobs * sample)
        sessions.append((copy, config, session))
    print(
        f"{target.name}: {counted} mutants ({outside} outside the functions, "
        f"{annotated} in annotations skipped), {jobs} jobs, {timeout:.0f} s timeout",
        flush=True,
    )
    started = time.monotonic()
    running = [
        subprocess.Popen([*cosmic, "exec", str(config), str(session)], cwd=copy, env=env)
        for copy, config, session in sessions
    ]
    for process in running:
        if process.wait() != 0:
            raise SystemExit(f"mutation: cosmic-ray exec failed for {target.name}")
    report = summarize(target, [s for _, _, s in sessions], time.monotonic() - started)
    report["skipped_annotations"] = annotated
    return report


# (line before, line after) -> [(context line or "", reason)]
Equivalents = dict[tuple[str, str], list[tuple[str, str]]]


def load_equivalents(path: Path = EQUIVALENT) -> dict[str, Equivalents]:
    """Target name -> {(line before, line after): [(context, reason), ...]} from the file.

    An entry's optional ``context`` is a line that must also appear in the
    mutant's diff (its unchanged neighbours), for a change such as
    ``i += 1`` -> ``i += 0`` that is equivalent in one place only.

    Raises:
        SystemExit: an entry names an unknown reason or target.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same parser, from the test extra
        import tomli as tomllib

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    reasons: dict[str, str] = data.pop("reasons")
    names = {t.name for t in TARGETS}
    table: dict[str, Equivalents] = {}
    for name, entries in data.items():
        if name not in names:
            raise SystemExit(f"mutation: {path.name}: unknown target {name!r}")
        for entry in entries:
            if entry["reason"] not in reasons:
                raise SystemExit(f"mutation: {path.name}: unknown reason {entry['reason']!r}")
            key = (entry["before"].strip(), entry["after"].strip())
            context = entry.get("context", "").strip()
            table.setdefault(name, {}).setdefault(key, []).append((context, entry["reason"]))
    return table


def equivalent_reason(equivalents: Equivalents, diff: str) -> str | None:
    """The reason a survivor's diff is listed as equivalent, or None."""
    for context, reason in equivalents.get(changed_line(diff), []):
        if not context or any(line[1:].strip() == context for line in diff.splitlines()):
            return reason
    return None


def changed_line(diff: str) -> tuple[str, str]:
    """The (removed, added) source line of a one-line mutant's unified diff, stripped."""
    removed = [
        ln[1:] for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")
    ]
    added = [ln[1:] for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return ("\n".join(removed).strip(), "\n".join(added).strip())


def summarize(target: Target, sessions: list[Path], seconds: float) -> dict[str, object]:
    """Killed/survived/equivalent counts over all shards, the score, and each survivor's diff."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    equivalents = load_equivalents().get(target.name, {})
    killed = survived = equivalent = 0
    survivors: list[dict[str, object]] = []
    results = []
    for session in sessions:
        with use_db(str(session), WorkDB.Mode.open) as db:
            results += list(db.completed_work_items)
    for item, result in results:
        if result.worker_outcome == WorkerOutcome.SKIPPED:
            continue
        if result.worker_outcome == WorkerOutcome.NORMAL and (
            result.test_outcome == TestOutcome.SURVIVED
        ):
            survived += 1
            mutation = item.mutations[0]
            reason = equivalent_reason(equivalents, result.diff or "")
            equivalent += reason is not None
            survivors.append(
                {
                    "line": mutation.start_pos[0],
                    "operator": mutation.operator_name,
                    "occurrence": mutation.occurrence,
                    "equivalent": reason,
                    "diff": result.diff,
                }
            )
        else:
            # Killed by a failing test, a timeout or an exception on import.
            killed += 1
    total = killed + survived
    scored = total - equivalent
    return {
        "target": target.name,
        "module": target.module,
        "functions": list(target.functions or ["(whole module)"]),
        "tests": list(target.tests),
        "mutants": total,
        "killed": killed,
        "survived": survived,
        "equivalent": equivalent,
        "score": round(100.0 * killed / scored, 1) if scored else 100.0,
        "raw_score": round(100.0 * killed / total, 1) if total else 100.0,
        "seconds": round(seconds),
        "survivors": sorted(survivors, key=lambda s: (s["line"], str(s["operator"]))),
    }


def main() -> int:
    """Run the chosen targets; 1 if any scores under the threshold."""
    parser = argparse.ArgumentParser(description="Mutation testing of the security code.")
    parser.add_argument("targets", nargs="*", help=f"of {', '.join(t.name for t in TARGETS)}")
    parser.add_argument("--threshold", type=float, default=90.0)
    parser.add_argument(
        "--timeout",
        type=float,
        help="per mutant, seconds (default: ten times the unmutated tests' time, at least 20)",
    )
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested side by side")
    parser.add_argument(
        "--sample", type=int, default=1, help="run every N-th mutant only (an estimate)"
    )
    args = parser.parse_args()
    chosen = [t for t in TARGETS if not args.targets or t.name in args.targets]
    unknown = set(args.targets) - {t.name for t in TARGETS}
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    reports = []
    with tempfile.TemporaryDirectory(prefix="keynet-mutation-") as tmp:
        workdir = Path(tmp) / "tree"
        workdir.mkdir()
        copy_repo(workdir)
        for target in chosen:
            report = run_target(
                target, workdir, args.timeout, max(1, args.jobs), max(1, args.sample)
            )
            report["sample"] = max(1, args.sample)
            reports.append(report)
            print(
                f"{target.name}: {report['score']}% killed of the non-equivalent "
                f"({report['killed']}/{report['mutants']} - {report['equivalent']} equivalent; "
                f"raw {report['raw_score']}%, {report['seconds']} s)",
                flush=True,
            )
            for survivor in report["survivors"]:  # type: ignore[attr-defined]
                verdict = f"equivalent ({survivor['equivalent']})" if survivor["equivalent"] else ""
                print(f"  survived line {survivor['line']} {survivor['operator']} {verdict}")
                print("    " + str(survivor["diff"]).replace("\n", "\n    "))
    if args.json:
        args.json.write_text(json.dumps({"commit": commit, "targets": reports}, indent=2) + "\n")
    low = [r["target"] for r in reports if float(r["score"]) < args.threshold]  # type: ignore[arg-type]
    if low:
        print(f"under {args.threshold}%: {', '.join(map(str, low))}")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
