"""Generated hostile inputs: each must end in bounded time and memory with a clean message.

A seeded generator (the same cases on every run; the seed is in the test id)
mixes the ingredients the handwritten cases use one at a time: control and
format characters, NUL bytes, huge numbers, deep nesting, invalid UTF-8,
very long strings. The harness asserts the bounds and that no traceback or
"Unexpected internal error" is printed; the test asserts the exit status is
one the CLI documents (0, 1, 2).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.hostile.harness import Hostile

SEEDS = range(8)
ATOMS = [
    "",
    " ",
    "\x00",
    "\n",
    "\r\n",
    "\x1b[2J",
    "\u202e",
    "\u2028",
    "\ufeff",
    "-oProxyCommand=touch pwned",
    "../../../../etc/passwd",
    "~/.netrc",
    "$(touch pwned)",
    "`touch pwned`",
    "%s%n",
    "é",
    "\udcff",
    "x" * 5000,
    "9" * 400,
    "-1",
    "0",
    "[[[[",
    "{{{{",
    "ssh://",
    "unix:///dev/zero",
]


def _text(rng: random.Random, parts: int = 3) -> str:
    return "".join(rng.choice(ATOMS) for _ in range(rng.randint(1, parts)))


def _value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return _text(rng)
    if kind == 1:
        return rng.choice([0, -1, 2**63, -(2**70), 10**400 if rng.random() < 0.5 else 1.5e308])
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.choice([float("nan"), float("inf"), "null"])
    if kind == 4:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == 5:
        return {_text(rng, 1): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    nested: object = 1
    for _ in range(rng.choice([50, 5000])):
        nested = [nested]
    return nested


def _repo(hostile: Hostile) -> Path:
    repo = hostile.home / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "train.py").write_text(
        "import argparse\np = argparse.ArgumentParser()\np.add_argument('--lr', default=0.1)\n"
        "p.parse_args()\n"
    )
    (repo / "Dockerfile").write_text("FROM scratch\nCOPY train.py /\n")
    return repo


def _json_text(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError):
        return "[" * 5000


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_config_file(hostile: Hostile, seed: int) -> None:
    rng = random.Random(f"config-{seed}")
    hostile.log_in()
    data = json.loads(hostile.config_file.read_text())
    keys = ["server_url", "username", "api_token", "harbor", "project_id", "podman_url",
            "api_token_expires_at", "schema_version", "harbor_project", _text(rng, 1)]  # fmt: skip
    for key in rng.sample(keys, rng.randint(1, 2)):
        if key == "harbor" and rng.random() < 0.7:
            data["harbor"][rng.choice(["url", "username", "password"])] = _value(rng)
        else:
            data[key] = _value(rng)
    hostile.config_file.unlink()
    raw = _json_text(data).encode("utf-8", "surrogateescape")
    if rng.random() < 0.15:
        raw = raw[: rng.randrange(len(raw) + 1)] + bytes([rng.randrange(256)])
    hostile.config_file.write_bytes(raw)
    hostile.config_file.chmod(0o600)
    for command in (("config", "show"), ("whoami", "--json")):
        result = hostile.run(*command, env={"CONTAINER_HOST": "unix:///nonexistent.sock"})
        assert result.exit_code in (0, 1, 2), result.describe()
        hostile.expect(result, exit_code=result.exit_code, never_says=["pwned"])
    assert not (hostile.root / "pwned").exists()


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=True).replace("\\udcff", "\\uFFFD")


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_project_file(hostile: Hostile, seed: int) -> None:
    rng = random.Random(f"project-{seed}")
    repo = _repo(hostile)
    keys = ["project_id", "model_name", "dockerfile", "context", "harbor_project", "tags",
            "build_args", "platform", "command", "python"]  # fmt: skip
    if rng.random() < 0.1:
        keys.append(_text(rng, 1))
    lines = []
    for key in rng.sample(keys, rng.randint(1, 4)):
        choice = rng.choice([0, 0, 1, 2, 2, 3] if rng.random() < 0.2 else [0, 0, 1, 2, 2])
        if choice == 0:
            value = _toml_string(_text(rng))
        elif choice == 1:
            value = str(rng.choice([0, -1, 2**63 - 1, 10**30]))
        elif choice == 2:
            value = "[" + ", ".join(_toml_string(_text(rng, 1)) for _ in range(3)) + "]"
        else:
            value = "[" * rng.choice([10, 3000]) + "]" * 3
        lines.append(f"{_toml_string(key)} = {value}")
    (repo / "keynet.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = hostile.run("inspect", "train.py", cwd=repo)
    assert result.exit_code in (0, 1), result.describe()
    hostile.expect(result, exit_code=result.exit_code)
    assert not (repo / "pwned").exists()


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_push_flags(hostile: Hostile, seed: int) -> None:
    """Values that are not usable are refused before anything is built or sent."""
    rng = random.Random(f"flags-{seed}")
    hostile.log_in(project_id=1)
    repo = _repo(hostile)
    flags: list[str] = []
    for flag in rng.sample(["--tag", "--platform", "--build-arg", "--model-name", "--project",
                            "--harbor-project", "--podman-url"], rng.randint(1, 3)):  # fmt: skip
        value = _text(rng, 2).replace("\x00", "") or "\x1b"
        if flag == "--project":
            value = rng.choice(["0", "-1", "abc", "1e3", value])
        flags += [flag, value]
    result = hostile.run("push", "train.py", "--dry-run", *flags, cwd=repo)
    assert result.exit_code in (1, 2), result.describe()
    hostile.expect(result, exit_code=result.exit_code, never_says=["\x1b[2J"])
    assert not (repo / "pwned").exists()
