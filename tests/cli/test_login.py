"""``keynet-train login`` / ``logout`` in-process, against the fake backend and a real registry."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import keynet_train.backend.http
from keynet_train.auth import normalize_server_url
from keynet_train.errors import InputError
from tests.cli.conftest import CliRunner, UnreadableStdin, write_config
from tests.support.fake_backend import SIGN_IN_PATH, FakeBackend
from tests.support.services import RegistryHandle


def _login(cli: CliRunner, backend: FakeBackend, *extra: str) -> tuple[int, str, str]:
    result = cli(
        "login", backend.url, "-u", backend.username, "--password-stdin", *extra,
        stdin=backend.password + "\n",
    )  # fmt: skip
    return result.exit_code, result.stdout, result.stderr


# ----------------------------------------------------------------------------- success


def test_login_stores_private_config_and_leaves_podman_logged_out(
    cli: CliRunner, backend: FakeBackend, registry: RegistryHandle, podman_auth_file: Path
) -> None:
    code, out, err = _login(cli, backend)

    assert code == 0, err
    assert out == ""  # human output goes to stderr
    assert f"Credentials stored in {cli.config_path} (mode 0600)" in err
    assert "Logged in as Alice Example (alice)" in err
    assert f"Harbor registry {registry.url} verified for {registry.username}" in err
    assert stat.S_IMODE(cli.config_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.config_path.parent.stat().st_mode) == 0o700

    data = json.loads(cli.config_path.read_text())
    assert data["server_url"] == backend.url
    assert data["username"] == backend.username
    assert data["api_token"].startswith("fake-")
    assert data["harbor"] == {
        "url": registry.url,
        "username": registry.username,
        "password": registry.password,
    }
    last_login = datetime.fromisoformat(data["last_login"].replace("Z", "+00:00"))
    assert abs(datetime.now(timezone.utc) - last_login) < timedelta(minutes=1)
    expires = datetime.fromisoformat(data["api_token_expires_at"].replace("Z", "+00:00"))
    assert expires > datetime.now(timezone.utc)

    [sign_in] = backend.requests_to(SIGN_IN_PATH)
    assert sign_in.json == {"username": backend.username, "password": backend.password}
    # The stored token is the one the backend issued: it works.
    assert cli("projects").exit_code == 0
    assert backend.requests[-1].header("authorization") == f"Bearer {data['api_token']}"

    # podman was not logged in: no robot password in podman's auth file, which
    # would outlive a KEYNET_CONFIG kept in a CI workspace (issue 21 item 16).
    assert not podman_auth_file.exists() or registry.password not in podman_auth_file.read_text()
    assert "podman is logged in" not in err


def test_login_json_prints_one_object(cli: CliRunner, backend: FakeBackend) -> None:
    code, out, err = _login(cli, backend, "--json")

    assert code == 0, err
    payload = json.loads(out)
    assert payload["server_url"] == backend.url
    assert payload["username"] == backend.username
    assert payload["config_path"] == str(cli.config_path)
    assert payload["harbor_url"] == backend.harbor_url
    assert payload["registry_verified"] is True
    assert "podman_logged_in" not in payload
    assert payload["token_expires_at"]
    assert "api_token" not in payload and backend.harbor_password not in out


def test_login_from_environment_variables(cli: CliRunner, backend: FakeBackend) -> None:
    result = cli(
        "login",
        stdin=UnreadableStdin(),
        environ={
            "KEYNET_SERVER_URL": backend.url + "/",
            "KEYNET_USERNAME": backend.username,
            "KEYNET_PASSWORD": backend.password,
        },
    )

    assert result.exit_code == 0, result
    data = json.loads(cli.config_path.read_text())
    assert data["server_url"] == backend.url  # trailing slash stripped
    assert data["username"] == backend.username


def test_relogin_keeps_preferences_and_unknown_keys(cli: CliRunner, backend: FakeBackend) -> None:
    write_config(cli, backend, project_id=7, harbor_project="team-a", extra={"future": 1})

    code, _, err = _login(cli, backend)

    assert code == 0, err
    data = json.loads(cli.config_path.read_text())
    assert (data["project_id"], data["harbor_project"], data["future"]) == (7, "team-a", 1)


def test_login_prompts_on_a_terminal(cli: CliRunner, backend: FakeBackend) -> None:
    asked: list[str] = []

    def fake_getpass(prompt: str) -> str:
        asked.append(prompt)
        return backend.password

    result = cli(
        "login",
        stdin=f"{backend.url}\n{backend.username}\n",
        tty=True,
        getpass=fake_getpass,
    )

    assert result.exit_code == 0, result
    assert "KeyNet server URL: " in result.stderr
    assert "Username: " in result.stderr
    assert asked == ["Password: "]
    assert backend.password not in result.output
    assert json.loads(cli.config_path.read_text())["username"] == backend.username


def test_prompt_only_for_what_is_missing(cli: CliRunner, offline_backend: FakeBackend) -> None:
    offline_backend.fail(SIGN_IN_PATH, 401)  # stop right after the prompts
    result = cli(
        "login",
        offline_backend.url,
        "-u",
        "bob",
        stdin=UnreadableStdin(),
        tty=True,
        getpass=lambda prompt: "typed-password",
    )

    assert result.exit_code == 1
    assert "Username: " not in result.stderr and "server URL" not in result.stderr
    [request] = offline_backend.requests_to(SIGN_IN_PATH)
    assert request.json == {"username": "bob", "password": "typed-password"}


@pytest.mark.parametrize(
    ("typed_username", "typed_password"), [("", "pw"), ("bob", "")], ids=["username", "password"]
)
def test_empty_answers_at_the_prompts_are_refused(
    cli: CliRunner, offline_backend: FakeBackend, typed_username: str, typed_password: str
) -> None:
    result = cli(
        "login",
        offline_backend.url,
        stdin=f"{typed_username}\n",
        tty=True,
        getpass=lambda prompt: typed_password,
    )

    assert result.exit_code == 1
    assert "Username and password must not be empty." in result.stderr
    assert offline_backend.requests_to(SIGN_IN_PATH) == []


@pytest.mark.parametrize(
    ("argv", "environ", "names"),
    [
        ([], {"KEYNET_USERNAME": "a", "KEYNET_PASSWORD": "p"}, ["SERVER_URL", "KEYNET_SERVER_URL"]),
        (["{url}"], {"KEYNET_PASSWORD": "p"}, ["-u USERNAME", "KEYNET_USERNAME"]),
        (["{url}", "-u", "a"], {}, ["--password-stdin", "KEYNET_PASSWORD"]),
    ],
    ids=["server", "username", "password"],
)
@pytest.mark.parametrize("half_tty", [False, True], ids=["no-tty", "stdin-only-tty"])
def test_without_terminal_missing_values_fail_naming_the_flag(
    cli: CliRunner,
    offline_backend: FakeBackend,
    argv: list[str],
    environ: dict[str, str],
    names: list[str],
    half_tty: bool,
) -> None:
    args = [a.format(url=offline_backend.url) for a in argv]
    result = cli(
        "login",
        *args,
        stdin=UnreadableStdin(),
        stdin_isatty=half_tty,  # a TTY stdin with stderr redirected is still no prompt
        stderr_isatty=False,
        getpass=lambda prompt: pytest.fail("getpass called without a terminal"),
        environ=environ,
    )

    assert result.exit_code == 1, result
    for name in names:
        assert name in result.stderr
    assert offline_backend.requests == []
    assert not cli.config_path.exists()


def test_password_stdin_without_username_fails_without_prompting(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    result = cli("login", offline_backend.url, "--password-stdin", stdin="pw\n", tty=False)

    assert result.exit_code == 1
    assert "KEYNET_USERNAME" in result.stderr
    assert offline_backend.requests == []


def test_password_stdin_empty_input_fails(cli: CliRunner, offline_backend: FakeBackend) -> None:
    result = cli("login", offline_backend.url, "-u", "a", "--password-stdin", stdin="")

    assert result.exit_code == 1
    assert "empty" in result.stderr
    assert offline_backend.requests == []


# ----------------------------------------------------------------------------- server URL


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("api.example.com", "https://api.example.com"),
        ("https://api.example.com/", "https://api.example.com"),
        ("  http://127.0.0.1:8080//  ", "http://127.0.0.1:8080"),
        ("https://api.example.com/base/", "https://api.example.com/base"),
    ],
)
def test_normalize_server_url(raw: str, expected: str) -> None:
    assert normalize_server_url(raw) == expected


@pytest.mark.parametrize("raw", ["ftp://x.example.com", "https://", "https://h/?q=1", "http:///p"])
def test_invalid_server_url_is_rejected(raw: str) -> None:
    with pytest.raises(InputError):
        normalize_server_url(raw)


def test_invalid_server_url_on_the_command_line(cli: CliRunner) -> None:
    result = cli("login", "ftp://x.example.com", "-u", "a", "--password-stdin", stdin="p")

    assert result.exit_code == 1
    assert "Invalid server URL" in result.stderr
    assert "https://api.example.com" in result.stderr  # the hint shows the shape


def test_scheme_less_url_assumes_https(cli: CliRunner, offline_backend: FakeBackend) -> None:
    host = offline_backend.url.removeprefix("http://")
    result = cli("login", host + "/", "-u", "a", "--password-stdin", stdin="p")

    # The fake speaks plain HTTP, so the https attempt fails, at the right URL.
    assert result.exit_code == 1
    assert f"Signing in to https://{host} as a" in result.stderr
    assert not cli.config_path.exists()


# ----------------------------------------------------------------------------- failures


def _snapshot(cli: CliRunner, backend: FakeBackend) -> bytes:
    write_config(cli, backend, project_id=3)
    return cli.config_path.read_bytes()


def test_wrong_password_leaves_config_unchanged(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    before = _snapshot(cli, offline_backend)

    result = cli(
        "login", offline_backend.url, "-u", offline_backend.username, "--password-stdin",
        stdin="not-the-password\n",
    )  # fmt: skip

    assert result.exit_code == 1
    assert "wrong username or password" in result.stderr
    assert result.stdout == ""
    assert cli.config_path.read_bytes() == before


def test_registry_rejecting_robot_credentials_fails_and_keeps_config(
    cli: CliRunner, backend: FakeBackend, podman_auth_file: Path
) -> None:
    before = _snapshot(cli, backend)
    backend.harbor_password = "not-the-registry-password"

    code, out, err = _login(cli, backend)

    assert code == 1
    assert out == ""
    assert "Harbor" in err or "registry" in err.lower()
    assert "unauthorized" in err.lower() or "rejected" in err.lower()
    assert backend.harbor_password not in err
    assert cli.config_path.read_bytes() == before
    assert not podman_auth_file.exists()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("500", "500"), ("503", "503"), ("non_json", "sign-in"), ("wrong_schema", "sign-in")],
)
def test_backend_failures_on_sign_in(
    cli: CliRunner, offline_backend: FakeBackend, mode: str, expected: str
) -> None:
    before = _snapshot(cli, offline_backend)
    offline_backend.fail(SIGN_IN_PATH, mode, times=None)

    result = cli(
        "login", offline_backend.url, "-u", offline_backend.username, "--password-stdin",
        "--json", stdin=offline_backend.password,
    )  # fmt: skip

    assert result.exit_code == 1, result
    assert expected in result.stderr
    error = result.json()["error"]
    assert error["type"] == "backend"
    assert expected in error["message"]
    assert cli.config_path.read_bytes() == before
    # A POST is not retried after the server answered.
    assert len(offline_backend.requests_to(SIGN_IN_PATH)) == 1


def test_slow_backend_times_out(
    cli: CliRunner, offline_backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keynet_train.backend.http, "READ_TIMEOUT", 0.3)
    before = _snapshot(cli, offline_backend)
    offline_backend.fail(SIGN_IN_PATH, "slow", delay=5)

    result = cli(
        "login", offline_backend.url, "-u", offline_backend.username, "--password-stdin",
        stdin=offline_backend.password,
    )  # fmt: skip

    assert result.exit_code == 1, result
    assert "timed out" in result.stderr.lower() or "timeout" in result.stderr.lower()
    assert cli.config_path.read_bytes() == before


def test_unreachable_backend(cli: CliRunner) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    result = cli("login", url, "-u", "a", "--password-stdin", stdin="p")

    assert result.exit_code == 1
    assert url.removeprefix("http://") in result.stderr or "connect" in result.stderr.lower()
    assert "Traceback" not in result.stderr


# ----------------------------------------------------------------------------- logout


def test_logout_after_login_removes_file_and_podman_login(
    cli: CliRunner, backend: FakeBackend, registry: RegistryHandle, podman_auth_file: Path
) -> None:
    assert _login(cli, backend)[0] == 0
    # What an older keynet-train left behind: podman logged in with the robot password.
    subprocess.run(
        ["podman", "login", "--tls-verify=false", "-u", registry.username, "--password-stdin",
         registry.host],
        input=registry.password, text=True, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert registry.host in json.loads(podman_auth_file.read_text())["auths"]

    result = cli("logout")

    assert result.exit_code == 0, result
    assert f"Removed stored credentials ({cli.config_path})" in result.stderr
    assert f"podman logged out of {registry.host}" in result.stderr
    assert not cli.config_path.exists()
    assert registry.host not in json.loads(podman_auth_file.read_text()).get("auths", {})


@pytest.mark.parametrize("command", [["logout"], ["config", "clear"]])
def test_logout_is_idempotent(cli: CliRunner, logged_in: object, command: list[str]) -> None:
    first = cli(*command)
    second = cli(*command)

    assert first.exit_code == 0 and "Removed stored credentials" in first.stderr
    assert second.exit_code == 0 and "nothing to do" in second.stderr
    assert not cli.config_path.exists()
    assert first.stdout == second.stdout == ""


def test_clear_removes_a_corrupt_file(cli: CliRunner) -> None:
    cli.config_path.parent.mkdir(mode=0o700)
    cli.config_path.write_text('{"api_token": "half-writ')
    cli.config_path.chmod(0o600)

    shown = cli("config", "show")
    cleared = cli("config", "clear")

    assert shown.exit_code == 1
    assert str(cli.config_path) in shown.stderr
    assert cleared.exit_code == 0, cleared
    assert not cli.config_path.exists()


# ----------------------------------------------------------------------------- more edges


def test_interrupt_at_the_password_prompt_exits_130(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    before = _snapshot(cli, offline_backend)

    def interrupted(prompt: str) -> str:
        raise KeyboardInterrupt

    result = cli("login", offline_backend.url, "-u", "a", tty=True, getpass=interrupted)

    assert result.exit_code == 130
    assert "Traceback" not in result.stderr
    assert offline_backend.requests == []
    assert cli.config_path.read_bytes() == before


def test_login_refuses_to_overwrite_a_corrupt_config(cli: CliRunner, backend: FakeBackend) -> None:
    cli.config_path.parent.mkdir(mode=0o700)
    cli.config_path.write_text("{corrupt")
    cli.config_path.chmod(0o600)

    code, _, err = _login(cli, backend)

    assert code == 1
    assert str(cli.config_path) in err
    assert "config clear" in err or "delete" in err.lower() or "remove" in err.lower()
    assert cli.config_path.read_text() == "{corrupt"


def test_unreachable_registry_fails_login(cli: CliRunner, offline_backend: FakeBackend) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        offline_backend.harbor_url = f"https://127.0.0.1:{sock.getsockname()[1]}"
    before = _snapshot(cli, offline_backend)

    result = cli(
        "login", offline_backend.url, "-u", offline_backend.username, "--password-stdin",
        "--json", stdin=offline_backend.password,
    )  # fmt: skip

    assert result.exit_code == 1, result
    assert result.json()["error"]["type"] == "registry"
    assert offline_backend.harbor_url in result.stderr
    assert cli.config_path.read_bytes() == before


def test_login_without_podman_warns_and_succeeds(
    cli: CliRunner, backend: FakeBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # podman_client finds podman via os.environ

    code, _, err = _login(cli, backend)

    assert code == 0, err
    # True statements only: push does need podman when it is not installed.
    assert "Warning: podman is not installed: push needs podman to build and push images." in err
    assert "Install podman:" in err
    assert "does not need" not in err
    assert json.loads(cli.config_path.read_text())["harbor"]["password"] == backend.harbor_password


def test_password_stdin_refuses_a_terminal(cli: CliRunner, offline_backend: FakeBackend) -> None:
    result = cli(
        "login", offline_backend.url, "-u", "a", "--password-stdin",
        stdin=UnreadableStdin(), tty=True,
    )  # fmt: skip

    assert result.exit_code == 1
    assert "--password-stdin" in result.stderr
    assert offline_backend.requests == []


@pytest.mark.parametrize("command", [["login", "-u", "a", "--password-stdin"], ["projects"]])
def test_unusable_ca_bundle_is_named(
    cli: CliRunner, offline_backend: FakeBackend, tmp_path: Path, command: list[str]
) -> None:
    write_config(cli, offline_backend)
    bundle = tmp_path / "no-such-ca.pem"
    argv = [*command[:1], offline_backend.url, *command[1:]] if command[0] == "login" else command

    result = cli(*argv, stdin="pw", environ={"KEYNET_CA_BUNDLE": str(bundle)})

    assert result.exit_code == 1, result
    assert "KEYNET_CA_BUNDLE" in result.stderr
    assert str(bundle) in result.stderr
    assert offline_backend.requests == []


# ----------------------------------------------------------------------------- re-login


def test_relogin_after_expiry_on_a_terminal_needs_no_arguments(
    cli: CliRunner, backend: FakeBackend
) -> None:
    write_config(cli, backend, expires_in=-60)  # the token expired a minute ago

    result = cli(
        "login", stdin="\n\n", tty=True, getpass=lambda prompt: backend.password
    )  # Enter at both prompts takes the stored values

    assert result.exit_code == 0, result
    assert f"KeyNet server URL [{backend.url}]: " in result.stderr
    assert f"Username [{backend.username}]: " in result.stderr
    assert "Replace that login" not in result.stderr  # the same server: nothing to confirm
    [sign_in] = backend.requests_to(SIGN_IN_PATH)
    assert sign_in.json == {"username": backend.username, "password": backend.password}
    config = cli.store().load()
    assert config is not None and not config.token_expired(datetime.now(timezone.utc))


def test_typed_answers_override_the_stored_defaults(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    write_config(cli, offline_backend, expires_in=-60)
    offline_backend.fail(SIGN_IN_PATH, 401)  # stop right after the prompts

    result = cli(
        "login", stdin=f"{offline_backend.url}/\nbob\n", tty=True, getpass=lambda prompt: "pw"
    )

    assert result.exit_code == 1
    [sign_in] = offline_backend.requests_to(SIGN_IN_PATH)
    assert sign_in.json == {"username": "bob", "password": "pw"}


@pytest.mark.parametrize(
    ("argv", "stdin", "environ"),
    [
        (["--password-stdin"], "{password}\n", {}),
        ([], "", {"KEYNET_PASSWORD": "{password}"}),
    ],
    ids=["password-stdin", "password-env"],
)
def test_relogin_without_terminal_uses_stored_server_and_username(
    cli: CliRunner,
    backend: FakeBackend,
    argv: list[str],
    stdin: str,
    environ: dict[str, str],
) -> None:
    write_config(cli, backend, expires_in=-60)

    result = cli(
        "login",
        *argv,
        stdin=stdin.format(password=backend.password),
        environ={k: v.format(password=backend.password) for k, v in environ.items()},
    )

    assert result.exit_code == 0, result
    assert f"Signing in to {backend.url} as {backend.username}" in result.stderr
    config = cli.store().load()
    assert config is not None and not config.token_expired(datetime.now(timezone.utc))


def test_login_to_another_server_asks_before_replacing_and_no_keeps_it(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    write_config(cli, offline_backend)
    data = json.loads(cli.config_path.read_text())
    data["server_url"] = "https://keynet.example.com"
    cli.config_path.write_text(json.dumps(data))
    before = cli.config_path.read_bytes()

    result = cli(
        "login", offline_backend.url, "-u", "bob", stdin="n\n", tty=True,
        getpass=lambda prompt: pytest.fail("asked for a password after 'n'"),
    )  # fmt: skip

    assert result.exit_code == 1, result
    assert f"You are logged in to https://keynet.example.com as {offline_backend.username}." in (
        result.stderr
    )
    assert f"Replace that login with one to {offline_backend.url}? [y/N]: " in result.stderr
    assert "Login cancelled; the stored login to https://keynet.example.com is unchanged" in (
        result.stderr
    )
    assert "KEYNET_CONFIG" in result.stderr
    assert offline_backend.requests == []
    assert cli.config_path.read_bytes() == before


def test_login_to_another_server_proceeds_after_yes_without_the_old_username(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    write_config(cli, offline_backend)
    data = json.loads(cli.config_path.read_text())
    data["server_url"] = "https://keynet.example.com"
    cli.config_path.write_text(json.dumps(data))
    offline_backend.fail(SIGN_IN_PATH, 401)

    result = cli(
        "login", offline_backend.url, stdin="y\nbob\n", tty=True, getpass=lambda prompt: "pw"
    )

    assert result.exit_code == 1  # the 401 above
    # The stored username belongs to the other server: no default offered.
    assert "Username: " in result.stderr and "Username [" not in result.stderr
    [sign_in] = offline_backend.requests_to(SIGN_IN_PATH)
    assert sign_in.json == {"username": "bob", "password": "pw"}


def test_login_to_another_server_without_terminal_does_not_ask(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    write_config(cli, offline_backend)
    data = json.loads(cli.config_path.read_text())
    data["server_url"] = "https://keynet.example.com"
    cli.config_path.write_text(json.dumps(data))

    result = cli("login", offline_backend.url, "--password-stdin", stdin="pw\n")

    # CI names the server on purpose; the stored username is not carried over.
    assert result.exit_code == 1, result
    assert "Replace that login" not in result.stderr
    assert "-u USERNAME" in result.stderr
    assert offline_backend.requests == []
