"""Regenerate the terminal screenshots in docs/screenshots/ (SVG, exported by rich).

Runs the real CLI against the local stack (a TLS registry, a private podman
service, the fake backend; see tests/support/stack.py) exactly as
``scripts/demo`` does, captures each command's coloured output and exports it
as an SVG, so the pictures in docs/terminal.md never drift from what the tool
prints. Run: ``.venv/bin/python scripts/screenshots.py [OUT_DIR]`` (after
scripts/setup; OUT_DIR defaults to docs/screenshots).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.stack import KEYNET, LocalStack, local_stack  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
COLUMNS = 100


def capture(stack: LocalStack, args: list[str], cwd: Path, stdin: str = "") -> str:
    """The command's stderr and stdout, as a terminal would show them (ANSI colours)."""
    env = {**stack.env, "FORCE_COLOR": "1", "COLUMNS": str(COLUMNS)}
    env.pop("NO_COLOR", None)
    done = subprocess.run(
        KEYNET + args,
        env=env,
        cwd=cwd,
        input=stdin,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
    )
    return done.stdout


def save(name: str, title: str, shown: str, output: str, out: Path = OUT) -> None:
    """Write ``name``.svg in docs/screenshots: the prompt line, then the output."""
    from rich.console import Console
    from rich.text import Text

    console = Console(record=True, width=COLUMNS, file=io.StringIO(), force_terminal=True)
    console.print(Text(f"$ keynet-train {shown}", style="bold"))
    console.print(Text.from_ansi(output.rstrip("\n")))
    out.mkdir(parents=True, exist_ok=True)
    console.save_svg(str(out / f"{name}.svg"), title=title)
    print(f"wrote {out / name}.svg", flush=True)


def main() -> int:
    """Start the stack, run login, inspect, push and a failing build, export four SVGs."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    example = ROOT / "examples" / "argparse"
    with (
        local_stack("keynet-shots-") as stack,
        tempfile.TemporaryDirectory(prefix="keynet-shots-") as scratch,
    ):
        project = Path(scratch) / "detector"
        shutil.copytree(example, project)
        base = f"BASE_IMAGE={stack.base_image}"

        login = stack.login_args()
        output = capture(stack, login, project, stdin=stack.backend.password + "\n")
        save("login", "keynet-train login", " ".join(login[:-1]) + " < password", output, out)

        output = capture(stack, ["inspect", "train.py"], project)
        save("inspect", "keynet-train inspect", "inspect train.py", output, out)

        push = ["push", "train.py", "--project", "1", "--build-arg", base]
        save("push", "keynet-train push", " ".join(push), capture(stack, push, project), out)

        dockerfile = project / "Dockerfile"
        dockerfile.write_text(
            dockerfile.read_text().replace("COPY requirements.txt", "COPY requirments.txt")
        )
        save(
            "build-error",
            "keynet-train push: a failed build",
            " ".join(push),
            capture(stack, push, project),
            out,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
