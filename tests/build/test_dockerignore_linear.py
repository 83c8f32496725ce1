"""``.dockerignore`` matching is linear in the path length (no backtracking blow-up).

Each pathological case runs in a child interpreter under a wall-clock bound:
a backtracking matcher spins inside the regex engine, where no signal or
timeout can stop it, so only killing the process ends the test.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import textwrap
import time

import pytest

from keynet_train.build import dockerignore as di
from keynet_train.errors import BuildError

_CHILD = textwrap.dedent(
    """
    import json, sys, time
    from keynet_train.build.dockerignore import IgnoreMatcher
    cases = json.loads(sys.stdin.read())
    out = []
    for patterns, path in cases:
        start = time.perf_counter()
        verdict = IgnoreMatcher(patterns).excluded(path)
        out.append([verdict, time.perf_counter() - start])
    print(json.dumps(out))
    """
)

# (patterns, path, verdict): classic catastrophic-backtracking shapes.
PATHOLOGICAL = [
    (["*a" * 25 + "*b"], "a" * 40, False),
    (["*a" * 25 + "*b"], "a" * 40 + "b", True),
    (["**/" * 20 + "x"], "a/" * 40 + "y", False),
    (["**a" * 15 + "**b"], "a/" * 30 + "c", False),
    (["*?" * 30 + "z"], "q" * 60, False),
    (["[a]*" * 25 + "b"], "a" * 50, False),
    (["**/*a*a*a*a*a*a*a*a*a*a*a*a*b"], "d/" * 20 + "a" * 40, False),
    (["*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b/**"], "a" * 40 + "/c/d/e", False),
    # a parent directory of a deep path is tried too: still bounded
    (["*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"], "/".join(["a" * 40] * 30), False),
]


def test_pathological_patterns_finish_fast() -> None:
    cases = [[patterns, path] for patterns, path, _ in PATHOLOGICAL]
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
    except subprocess.TimeoutExpired:  # pragma: no cover - the failure being guarded against
        pytest.fail("a pathological .dockerignore pattern did not finish within 20 s")
    results = json.loads(done.stdout)
    assert [verdict for verdict, _ in results] == [verdict for _, _, verdict in PATHOLOGICAL]
    slowest = max(seconds for _, seconds in results)
    assert slowest < 0.5, f"slowest case took {slowest:.2f} s"
    assert time.monotonic() - started < 20


def test_time_grows_linearly_with_the_path() -> None:
    matcher = di.IgnoreMatcher(["*a" * 25 + "*b"])

    def cost(n: int) -> float:
        start = time.perf_counter()
        for _ in range(5):
            matcher.excluded("a" * n)
        return time.perf_counter() - start

    cost(100)  # warm the transition cache
    small, big = cost(2_000), cost(16_000)
    # 8x the length: linear is ~8x; quadratic would be ~64x. Generous for a loaded machine.
    assert big < small * 24 + 0.05, (small, big)


# ------------------------------------------------------------- same verdicts as the regex

_PIECES = [
    "a",
    "b",
    "/",
    "*",
    "?",
    "**",
    "**/",
    "[ab]",
    "[^a]",
    "\\d",
    "\\.",
    ".",
    "[[:digit:]]",
    "1",
]
_PATH_CHARS = "ab1./"


def _regex_verdict(pattern: di.IgnorePattern, path: str) -> bool:
    """What the regex the pattern compiles to says (the pre-automaton matcher)."""
    assert pattern.regex is not None
    if pattern.regex.match(path) is not None:
        return True
    parts = path.split("/")[:-1]
    return any(pattern.regex.match("/".join(parts[: i + 1])) for i in range(len(parts)))


def test_automaton_agrees_with_the_regex_on_random_patterns() -> None:
    rng = random.Random(20261207)
    checked = 0
    for _ in range(3000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 6)))
        try:
            [compiled] = di.compile_patterns([text])
        except Exception:
            continue
        if compiled.kind != "regex":
            continue
        for _ in range(8):
            path = "".join(rng.choice(_PATH_CHARS) for _ in range(rng.randint(1, 10)))
            assert compiled.matches_or_parent(path) is _regex_verdict(compiled, path), (text, path)
            checked += 1
    assert checked > 5000


@pytest.mark.parametrize(
    ("pattern", "path", "verdict"),
    [
        ("^a*", "abc", True),  # "^" outside a class anchors, as in the regex
        ("^a*", "^abc", False),
        ("x\\bb*", "x b", False),
        ("\\Ax*", "xy", True),
        ("a\\Z*", "a", True),
        ("\\x41*", "AB", True),
        ("[[:upper:]]?", "Qz", True),
        ("a/**/b*", "a/b1", True),
        ("a/**/b*", "a/x/y/b1", True),
        ("a/**/b*", "ab1", False),
        ("*.log", "dir.log/inner", True),  # a matching directory takes its contents
    ],
)
def test_escapes_and_anchors_match_like_the_regex(pattern: str, path: str, verdict: bool) -> None:
    [compiled] = di.compile_patterns([pattern])
    assert compiled.matches_or_parent(path) is verdict
    assert _regex_verdict(compiled, path) is verdict


def test_backreferences_are_refused_as_docker_does() -> None:
    # Go's regexp (RE2) has no backreferences, so moby refuses "\\1".
    with pytest.raises(BuildError):
        di.compile_patterns(["**/a\\1"])
    assert re.compile("^(.*/)?a\\1$")  # Python's engine alone would have taken it


def _walk_verdicts(matcher: di.IgnoreMatcher, paths: list[str]) -> dict[str, bool]:
    """Each path's verdict as a walk reaches it: directory by directory, resuming states."""
    verdicts: dict[str, bool] = {}
    states = {"": matcher.walk_root()}
    for path in sorted(paths, key=lambda p: p.count("/")):
        parent, _, name = path.rpartition("/")
        verdicts[path] = matcher.excluded_entry(states[parent], name, path)
        states[path] = matcher.enter(states[parent], name, path)
    return verdicts


def test_a_walk_decides_every_path_as_the_whole_path_match_does() -> None:
    """Resuming each directory's automaton state changes no verdict, with exceptions too."""
    rng = random.Random(20261208)
    names = ["a", "b", "ab", "a.b", "1", "ba1", "a1b"]
    checked = 0
    for _ in range(400):
        patterns = []
        for _ in range(rng.randint(1, 4)):
            text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 5)))
            patterns.append(("!" if rng.random() < 0.3 else "") + text)
        try:
            matcher = di.IgnoreMatcher(patterns)
        except BuildError:
            continue
        paths: set[str] = set()
        for _ in range(12):
            parts = [rng.choice(names) for _ in range(rng.randint(1, 4))]
            paths.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        walked = _walk_verdicts(matcher, sorted(paths))
        for path in paths:
            assert walked[path] is matcher.excluded(path), (patterns, path)
            checked += 1
    assert checked > 5000
