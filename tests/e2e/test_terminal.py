"""The CLI in a real pseudo-terminal (project picker) and under SIGINT."""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import uuid
from pathlib import Path

import pytest

from keynet_train.cli.output import display_width
from tests.e2e.conftest import SIMPLE_DOCKERFILE, Cli, make_context
from tests.support.fake_backend import sample_projects

pytestmark = pytest.mark.integration


class Terminal:
    """A child process on a pseudo-terminal, driven like a person at the keyboard."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        master, slave = os.openpty()
        self.master = master
        self.process = subprocess.Popen(
            args,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        os.close(slave)
        self.screen = ""

    def expect(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} did not appear; screen:\n{self.screen[-3000:]}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"EOF before {text!r}; screen:\n{self.screen[-3000:]}")
                self.screen += chunk.decode(errors="replace")

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def wait(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:
                    break
        code = self.process.wait(timeout=max(1, deadline - time.monotonic()))
        os.close(self.master)
        return code


def _env(cli: Cli, **extra: str) -> dict[str, str]:
    return {**os.environ, **cli.environ, "NO_COLOR": "1", **extra}


def test_interactive_project_picker_pages_and_saves_default(cli: Cli, tmp_path: Path) -> None:
    cli.backend.projects = sample_projects(25)
    cli.login()
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    term = Terminal([sys.executable, "-m", "keynet_train", "push", "train.py"], _env(cli), context)
    term.expect("Page 1/2")
    term.expect("n = next page")
    term.send("n")
    term.expect("Page 2/2")
    term.send("2")  # a row number is not an ID: the table shows IDs 21-25
    term.expect("Not a project ID on this page")
    term.send("22")
    term.expect("as your default? [y/N]")
    term.send("y")
    assert term.wait() == 0, term.screen
    assert "Push completed successfully" in term.screen
    uploads = [r for r in cli.backend.requests if r.method == "POST" and "/trains/" in r.path]
    assert [r.path for r in uploads] == ["/v1/projects/22/trains/images"]
    config = cli.store.load()
    assert config is not None and config.project_id == 22

    # The saved default is used without asking next time, with no terminal at all.
    again = cli("push", str(context / "train.py"), "--context", str(context), "--json")
    assert again.code == 0, again.err
    assert json.loads(again.out)["project_id"] == 22


def test_build_failing_during_the_pick_registers_no_upload_key(cli: Cli, tmp_path: Path) -> None:
    """The build runs while the user picks a project; a failed build sends no upload-key request."""
    cli.login()
    context = make_context(
        tmp_path / "ctx", SIMPLE_DOCKERFILE + "RUN echo about-to-fail && exit 7\n"
    )
    term = Terminal([sys.executable, "-m", "keynet_train", "push", "train.py"], _env(cli), context)
    term.expect("Project ID to push to")
    assert "about-to-fail" not in term.screen  # the build log waits for its step
    time.sleep(6)  # let the background build reach the failing step
    term.send("1")
    term.expect("as your default? [y/N]")
    term.send("n")
    assert term.wait() == 1, term.screen
    assert "Container image build failed at step 4" in term.screen
    assert term.screen.index("==> Build image") < term.screen.index("about-to-fail")
    uploads = [r for r in cli.backend.requests if r.method == "POST" and "/trains/" in r.path]
    assert uploads == []


def test_login_prompts_on_a_terminal(cli: Cli, tmp_path: Path) -> None:
    term = Terminal([sys.executable, "-m", "keynet_train", "login"], _env(cli), tmp_path)
    term.expect("KeyNet server URL: ")
    term.send(cli.backend.url)
    term.expect("Username: ")
    term.send(cli.backend.username)
    term.expect("Password: ")
    term.send(cli.backend.password)
    assert term.wait() == 0, term.screen
    assert cli.backend.password not in term.screen  # no echo
    assert "Credentials stored in" in term.screen


def test_relogin_after_expiry_takes_the_stored_server_and_username(
    cli: Cli, tmp_path: Path
) -> None:
    """Enter, Enter, password: the expired login is renewed with no arguments."""
    from datetime import datetime, timedelta, timezone

    cli.login()

    def expire(config):  # type: ignore[no-untyped-def]
        config.api_token_expires_at = datetime.now(timezone.utc) - timedelta(minutes=5)
        return config

    cli.store.update(expire)
    term = Terminal([sys.executable, "-m", "keynet_train", "login"], _env(cli), tmp_path)
    term.expect(f"KeyNet server URL [{cli.backend.url}]: ")
    term.send("")
    term.expect(f"Username [{cli.backend.username}]: ")
    term.send("")
    term.expect("Password: ")
    term.send(cli.backend.password)
    assert term.wait() == 0, term.screen
    assert "Replace that login" not in term.screen
    config = cli.store.load()
    assert config is not None and not config.token_expired(datetime.now(timezone.utc))


def _service_processes(under: Path) -> set[int]:
    """podman services whose socket is under ``under``: this test's, not other runs' on
    the machine (counting every service made the test fail whenever another started one)."""
    out = subprocess.run(
        ["pgrep", "-af", "system service --time=0"], capture_output=True, text=True
    )
    return {
        int(line.split(maxsplit=1)[0]) for line in out.stdout.splitlines() if str(under) in line
    }


def test_sigint_during_build_cleans_up(cli: Cli, tmp_path: Path) -> None:
    """Ctrl-C in the middle of a RUN step: exit 130, the private service and its socket gone."""
    # A unique RUN line so no layer cached by an earlier run can skip the step;
    # the marker is built by the shell so the echoed STEP line cannot match it.
    run_id = uuid.uuid4().hex
    marker = f"started-{run_id}"
    context = make_context(
        tmp_path / "ctx", SIMPLE_DOCKERFILE + f"RUN X={run_id} && echo started-$X && sleep 60\n"
    )
    before = _service_processes(tmp_path)
    runtime_dir = tmp_path / "runtime"
    runtime_dir.mkdir()
    env = _env(
        cli,
        XDG_RUNTIME_DIR=str(runtime_dir),
        KEYNET_PODMAN_RUNTIME="runc",
        TMPDIR=str(tmp_path / "tmp"),
    )
    env.pop("CONTAINER_HOST")
    (tmp_path / "tmp").mkdir()
    term = Terminal(
        [sys.executable, "-m", "keynet_train", "push", "train.py", "--dry-run"], env, context
    )
    term.expect(marker, timeout=90)
    assert _service_processes(tmp_path) - before, "a private podman service should be running"
    os.killpg(term.process.pid, signal.SIGINT)
    assert term.wait(timeout=60) == 130, term.screen
    assert "Traceback" not in term.screen
    # The private service was stopped with its RUN step: that statement is true here.
    assert "Nothing was left running; run the command again." in term.screen
    time.sleep(0.5)
    assert _service_processes(tmp_path) - before == set()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_sigint_during_a_run_step_in_the_users_service_says_it_still_runs(
    cli: Cli, tmp_path: Path
) -> None:
    """The user's own podman service finishes a RUN step after Ctrl-C: the message says so."""
    run_id = uuid.uuid4().hex
    marker = f"started-{run_id}"
    run_line = f"RUN X={run_id} && echo started-$X && sleep 3"
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE + run_line + "\n")
    term = Terminal(
        [sys.executable, "-m", "keynet_train", "push", "train.py", "--dry-run"], _env(cli), context
    )
    term.expect(marker, timeout=90)
    os.killpg(term.process.pid, signal.SIGINT)
    assert term.wait(timeout=60) == 130, term.screen
    screen = " ".join(term.screen.split())  # undo the terminal's line wrapping
    assert "Nothing was left running" not in screen
    found = re.search(r"STEP (\d+)/\d+: RUN X=", screen)
    assert found is not None, term.screen
    step = found.group(1)
    assert (
        f"Hint: The podman service at {cli.environ['CONTAINER_HOST']} finishes the step that "
        f"was running (STEP {step}: {run_line}) on its own, then discards the build; "
        "`podman ps --external` lists it until then; run the command again." in screen
    ), term.screen


# --------------------------------------------------------------------------- progress at any width

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


class Recorder(Terminal):
    """A Terminal that keeps when each piece of output arrived."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, columns: int) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        self.master = master
        self.process = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.screen = ""
        self.chunks: list[tuple[float, str]] = []

    def run(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 65536).decode(errors="replace")
                except OSError:
                    break
                self.chunks.append((time.monotonic(), chunk))
                self.screen += chunk
        code = self.process.wait(timeout=max(1, deadline - time.monotonic()))
        os.close(self.master)
        return code

    def frames(self, start: str, end: str) -> list[tuple[float, str]]:
        """(arrival, visible text) of every redraw of a line between ``start`` and ``end``."""
        frames: list[tuple[float, str]] = []
        inside = False
        for when, chunk in self.chunks:
            for piece in re.split(r"\r|\n|\x1b\[2K", chunk):
                text = _ANSI.sub("", piece)
                if start in text:
                    inside = True
                if inside and text.strip():
                    frames.append((when, text.rstrip()))
                if end in text:
                    return frames
        return frames


@pytest.mark.parametrize("columns", [60, 120])
def test_push_of_a_300_mb_layer_moves_every_second(cli: Cli, tmp_path: Path, columns: int) -> None:
    cli.login()
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE + "COPY layer.bin /data/layer.bin\n")
    with (context / "layer.bin").open("wb") as layer:  # random: no compression shortcut
        for _ in range(300):
            layer.write(os.urandom(1024 * 1024))
    env = {k: v for k, v in _env(cli).items() if k != "NO_COLOR"}
    env.update(TERM="xterm-256color", COLUMNS=str(columns), LINES="40")
    term = Recorder(
        [sys.executable, "-m", "keynet_train", "push", "train.py", "--project", "1"],
        env, context, columns=columns,
    )  # fmt: skip
    assert term.run(timeout=600) == 0, term.screen[-3000:]

    frames = term.frames("Push image", "Push completed")
    pushing = [(when, text) for when, text in frames if "Pushing" in text and "0:0" in text]
    assert len(pushing) > 5, [(round(w, 2), t) for w, t in frames]
    # Something visible changes (spinner, elapsed time) at least every second.
    changes = [pushing[0][0]]
    for (_, before), (when, after) in itertools.pairwise(pushing):
        if after != before:
            changes.append(when)
    gaps = [b - a for a, b in itertools.pairwise(changes)]
    assert max(gaps) <= 1.0, gaps
    # How far the push got: podman reports each blob it starts, not its bytes.
    assert any(re.search(r"Pushing blob \d+/\d+ of ", text) for _, text in pushing), pushing
    # The elapsed time is on every frame, whatever was cut from the reference.
    assert all(re.search(r"\d:\d\d:\d\d$", text) for _, text in pushing), pushing[:5]
    # The build of the 300 MB context (upload, podman unpacking it, the steps)
    # never stands still for a second either.
    building = term.frames("==> Build image", "Build image:")
    assert _longest_still(building) <= 1.0
    # The build runs in the background; its upload's bytes reach the step's line.
    assert any(
        re.search(r"Building image: [\d.]+ of about 300\.\d MiB", text) for _, text in building
    ), building
    # No line of the whole push is wider than the terminal.
    lines = [_ANSI.sub("", piece) for piece in re.split(r"\r|\n|\x1b\[2K", term.screen)]
    assert [line for line in lines if display_width(line.rstrip()) > columns] == []


def _longest_still(frames: list[tuple[float, str]]) -> float:
    """The longest time between two visibly different frames."""
    assert len(frames) > 2, frames
    changes = [frames[0][0]]
    for (_, before), (when, after) in itertools.pairwise(frames):
        if after != before:
            changes.append(when)
    return max(b - a for a, b in itertools.pairwise(changes))


def test_a_large_context_moves_while_podman_unpacks_it_in_a_dry_run(
    cli: Cli, tmp_path: Path
) -> None:
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE + "COPY layer.bin /data/\n")
    with (context / "layer.bin").open("wb") as layer:
        for _ in range(300):
            layer.write(os.urandom(1024 * 1024))
    env = {k: v for k, v in _env(cli).items() if k != "NO_COLOR"}
    env.update(TERM="xterm-256color", COLUMNS="60", LINES="40")
    term = Recorder(
        [sys.executable, "-m", "keynet_train", "push", "train.py", "--dry-run", "--no-cache"],
        env, context, columns=60,
    )  # fmt: skip
    assert term.run(timeout=600) == 0, term.screen[-3000:]

    frames = term.frames("==> Build image", "Build image (dry run):")
    assert any("podman is unpacking the build context" in text for _, text in frames), frames
    assert _longest_still(frames) <= 1.0


def test_a_slow_backend_call_shows_a_spinner_naming_the_endpoint(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    cli.backend.fail("/v1/projects/trainable", "slow", delay=3)
    env = {k: v for k, v in _env(cli).items() if k != "NO_COLOR"}
    env.update(TERM="xterm-256color", COLUMNS="60", LINES="40")
    term = Recorder([sys.executable, "-m", "keynet_train", "projects"], env, tmp_path, columns=60)
    assert term.run(timeout=60) == 0, term.screen
    visible = [_ANSI.sub("", piece) for piece in re.split(r"\r|\n|\x1b\[2K", term.screen)]
    waiting = [line for line in visible if "Waiting for GET /v1/projects/trainable" in line]
    assert waiting, term.screen
    # The elapsed time moves while the backend is silent (about 3 s).
    # It counts from the request, not from when the spinner appeared (after 1 s).
    shown = {line.rstrip()[-7:] for line in waiting}
    assert "0:00:00" not in shown and {"0:00:01", "0:00:02"} <= shown, waiting
    assert [line for line in visible if display_width(line.rstrip()) > 60] == []


# --------------------------------------------------------------------------- width


def _lines_wider_than(term: Recorder, columns: int) -> list[str]:
    lines = [_ANSI.sub("", piece).rstrip() for piece in re.split(r"\r|\n|\x1b\[2K", term.screen)]
    return [line for line in lines if display_width(line) > columns]


@pytest.mark.parametrize("columns", [60, 120])
def test_no_line_is_wider_than_the_terminal(cli: Cli, tmp_path: Path, columns: int) -> None:
    """login, projects, whoami, inspect, push, push --dry-run and errors at 60 and 120 columns."""
    cli.backend.projects = sample_projects(25)
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    broken = make_context(
        tmp_path / "broken", SIMPLE_DOCKERFILE + "COPY requirments.txt /app/\n",
        {"requirements.txt": "torch\n"},
    )  # fmt: skip
    example = Path(__file__).resolve().parents[2] / "examples" / "argparse" / "train.py"
    env = {k: v for k, v in _env(cli).items() if k != "NO_COLOR"}
    env.update(
        TERM="xterm-256color", COLUMNS=str(columns), LINES="40",
        KEYNET_PASSWORD=cli.backend.password,
    )  # fmt: skip
    runs = [
        (["login", cli.backend.url, "-u", cli.backend.username], context, 0),
        (["projects"], context, 0),
        (["whoami"], context, 0),
        (["inspect", str(example)], context, 0),
        (["push", "train.py", "--project", "3", "--tag", "width-check"], context, 0),
        (["push", "train.py", "--dry-run"], context, 0),
        (["push", "no-such-script.py", "--project", "3"], context, 1),
        (["push", "train.py", "--project", "3"], broken, 1),
        (["projects", "--page", "x"], context, 2),
    ]
    for argv, cwd, expected in runs:
        term = Recorder([sys.executable, "-m", "keynet_train", *argv], env, cwd, columns=columns)
        assert term.run(timeout=300) == expected, term.screen[-3000:]
        assert _lines_wider_than(term, columns) == [], (argv, term.screen[-3000:])
        if argv[0] == "inspect" and columns == 60:
            assert "help" not in term.screen.split("Parser:")[1].splitlines()[1]


def test_a_slow_upload_key_request_shows_a_spinner_naming_the_endpoint(
    cli: Cli, tmp_path: Path
) -> None:
    cli.login()
    cli.backend.fail("/v1/projects/1/trains/images", "slow", delay=3)
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    env = {k: v for k, v in _env(cli).items() if k != "NO_COLOR"}
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
    term = Recorder(
        [sys.executable, "-m", "keynet_train", "push", "train.py", "--project", "1"],
        env, context, columns=120,
    )  # fmt: skip
    assert term.run(timeout=300) == 0, term.screen[-3000:]
    visible = [_ANSI.sub("", piece) for piece in re.split(r"\r|\n|\x1b\[2K", term.screen)]
    waiting = [t for t in visible if "Waiting for POST /v1/projects/1/trains/images" in t]
    assert {"0:00:01", "0:00:02"} <= {line.rstrip()[-7:] for line in waiting}, waiting
