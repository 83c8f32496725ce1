"""Extraction cost is bounded by the size of the values produced (issue 17 item 7).

Small scripts whose values are huge if computed: a list holding a large
sublist many times (10**8 to 10**12 values logically, built in a few
steps), a format template whose fields are very wide, a 3 MB template that
would expand to gigabytes. ``inspect`` ends within 5 s and under the
harness's memory bound, with a diagnostic for the value it did not build.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.harness import Hostile, assert_bounded, run_bounded

LIMIT_SECONDS = 5.0

TAIL = (
    "parser = argparse.ArgumentParser()\n"
    "parser.add_argument('--n', default=big)\n"
    "args = parser.parse_args()\n"
)

CASES = {
    "shared-nested-list": (
        "import argparse\n"
        "a = [[0] * 10**6] * 10**6\n"
        "x = [0] * 10000\n"
        "y = [x] * 10000\n"
        "z = [y] * 10000\n"
        "s = str(y)\n"
        "t = y == y\n"
        "u = sorted(z)\n"
        "big = [x for _ in range(1000)]\n"
        "v = [big, big, big, big, big]\n" + TAIL
    ),
    "wide-format-fields": ("import argparse\nbig = ('{0:>99999}' * 10000).format(1)\n" + TAIL),
    "percent-format": ("import argparse\nbig = ('%99999d' * 10000) % ((1,) * 10000)\n" + TAIL),
}


def _write(hostile: Hostile, name: str, text: str) -> Path:
    path = hostile.root / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    return path


def _inspect_bounded(hostile: Hostile, path: Path) -> str:
    result = run_bounded(
        ["inspect", str(path), "--json"],
        env=hostile.env,
        cwd=hostile.root,
        wall_limit=LIMIT_SECONDS,
    )
    assert_bounded(result)
    hostile.expect(result, exit_code=0)
    assert result.seconds <= LIMIT_SECONDS, result.describe()
    assert '"parser_type": "argparse"' in result.stdout, result.describe()
    # The value it did not build is named: the default is null, with a warning.
    assert "default of 'n' could not be resolved statically" in result.stderr, result.describe()
    return result.stderr


@pytest.mark.parametrize("name", sorted(CASES))
def test_huge_values_end_quickly_with_a_diagnostic(hostile: Hostile, name: str) -> None:
    _inspect_bounded(hostile, _write(hostile, name, CASES[name]))


def test_three_megabyte_template(hostile: Hostile) -> None:
    template = "{0:>1700}" * (3_000_000 // 9)
    text = f"import argparse\nT = '{template}'\nbig = T.format(1)\n" + TAIL
    stderr = _inspect_bounded(hostile, _write(hostile, "template", text))
    assert "would build a string over the size limit" in stderr
