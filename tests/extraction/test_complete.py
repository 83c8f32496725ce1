"""``complete: true|false``: a partial list is never reported as complete (issue 17 item 8).

Each place where code that may add arguments cannot be followed is a warning
naming the file and line that hold it, and makes the result (``inspect
--json``, the push result) ``complete: false``.
"""

from __future__ import annotations

import io
import json
import pathlib
import textwrap

from keynet_train.cli.environment import Environment
from keynet_train.cli.main import main
from keynet_train.extraction import extract_hyperparameters
from keynet_train.push.results import DryRunResult, PushResult


def _write(base: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    for name, text in files.items():
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return base / next(iter(files))


def _inspect_json(path: pathlib.Path) -> tuple[dict[str, object], str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=err, environ={"NO_COLOR": "1"})
    assert main(["inspect", str(path), "--json"], env=env) == 0
    return json.loads(out.getvalue()), err.getvalue()


def _partial(path: pathlib.Path) -> list[tuple[str, int, str]]:
    result = extract_hyperparameters(path)
    return [
        (pathlib.Path(d.path).name, d.line, d.severity) for d in result.diagnostics if d.partial
    ]


def test_a_script_followed_everywhere_is_complete(tmp_path: pathlib.Path) -> None:
    path = _write(
        tmp_path,
        {
            "train.py": """
            import argparse
            import sys
            p = argparse.ArgumentParser()
            if sys.platform == "x":
                p.add_argument("--a", default=1)
            p.add_argument("--b", default=2)
            while False:
                print("training")
            args = p.parse_args()
            """
        },
    )
    doc, err = _inspect_json(path)
    assert doc["complete"] is True
    assert "partial" not in err


def test_parser_handed_to_code_that_cannot_be_followed(tmp_path: pathlib.Path) -> None:
    path = _write(
        tmp_path,
        {
            "train.py": """
            import argparse
            from helpers import add_all
            p = argparse.ArgumentParser()
            p.add_argument("--lr", default=0.1)
            add_all(p)
            args = p.parse_args()
            """,
            "helpers.py": """
            import not_installed_anywhere

            def add_all(parser):
                parser.add_argument("--seed", default=0)
                not_installed_anywhere.add_model_args(parser)
            """,
        },
    )
    doc, err = _inspect_json(path)
    assert doc["complete"] is False
    assert [a["name"] for a in doc["arguments"]] == ["lr", "seed"]  # type: ignore[index]
    # The place is in helpers.py, line 5 (not train.py:5).
    assert _partial(path) == [("helpers.py", 5, "warning")]
    assert "helpers.py:5: warning: " in err
    assert "the list may be partial" in err


def test_while_loop_that_adds_arguments(tmp_path: pathlib.Path) -> None:
    path = _write(
        tmp_path,
        {
            "train.py": """
            import argparse
            p = argparse.ArgumentParser()
            i = 0
            while i < 3:
                p.add_argument(f"--layer{i}", type=int, default=i)
                i += 1
            args = p.parse_args()
            """
        },
    )
    assert _partial(path) == [("train.py", 5, "warning")]
    assert extract_hyperparameters(path).to_json()["complete"] is False


def test_call_nesting_too_deep_with_the_parser(tmp_path: pathlib.Path) -> None:
    path = _write(
        tmp_path,
        {
            "train.py": """
            import argparse

            def add(parser, n):
                if n == 0:
                    parser.add_argument("--deep", default=1)
                    return
                add(parser, n - 1)

            p = argparse.ArgumentParser()
            add(p, 40)
            args = p.parse_args()
            """
        },
    )
    result = extract_hyperparameters(path)
    assert not result.complete
    assert any("too deep" in d.message and d.partial for d in result.diagnostics)


def test_budget_spent_is_partial(tmp_path: pathlib.Path) -> None:
    from keynet_train.extraction.select import extract_from_tree
    from keynet_train.extraction.source import load_source

    path = _write(
        tmp_path,
        {
            "train.py": """
            import argparse
            p = argparse.ArgumentParser()
            for i in range(500):
                x = i * 2
            p.add_argument("--late", default=1)
            args = p.parse_args()
            """
        },
    )
    source = load_source(path)
    result = extract_from_tree(source.tree, str(path), max_steps=300)
    assert not result.complete
    assert result.to_json()["complete"] is False


def test_push_results_carry_complete() -> None:
    push = PushResult("k" * 21, "h/p/k", ["latest"], None, 1, "t.py", "argparse", [], "python t.py")
    assert push.to_json()["complete"] is True
    push.complete = False
    assert push.to_json()["complete"] is False
    dry = DryRunResult(
        *("img", "id", "repo", pathlib.Path("Dockerfile"), pathlib.Path(".")),
        *(1, 1, [], None, "argparse", [], "t.py"),
        complete=False,
    )
    assert dry.to_json()["complete"] is False


def test_budget_spent_names_the_innermost_place(tmp_path: pathlib.Path) -> None:
    from keynet_train.extraction.select import extract_from_tree
    from keynet_train.extraction.source import load_source

    path = _write(
        tmp_path,
        {
            "train.py": """
            import argparse

            def slow():
                total = 0
                for i in range(900):
                    total += i
                return total

            p = argparse.ArgumentParser()
            n = slow()
            p.add_argument("--late", default=1)
            args = p.parse_args()
            """
        },
    )
    source = load_source(path)
    result = extract_from_tree(source.tree, str(path), max_steps=300)
    [stopped] = [d for d in result.diagnostics if "analysis stopped here" in d.message]
    assert stopped.partial and 4 <= stopped.line <= 7  # inside slow(), not the call at line 10
