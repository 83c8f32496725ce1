"""Run login + push against local real services (see scripts/demo)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.stack import KEYNET, LocalStack, local_stack  # noqa: E402


def banner(text: str) -> None:
    """Print a section header."""
    print(f"\n\033[1m### {text}\033[0m" if sys.stdout.isatty() else f"\n### {text}", flush=True)


def run(
    stack: LocalStack,
    args: list[str],
    stdin: str | None = None,
    echo: bool = True,
    expect_failure: bool = False,
) -> str:
    """Run keynet-train like a user would (stderr to the terminal); return its stdout.

    Raises SystemExit if it fails (or, with ``expect_failure``, if it succeeds).
    """
    shown = " ".join(a if " " not in a else repr(a) for a in args)
    print(f"\n$ keynet-train {shown}", flush=True)
    done = subprocess.run(
        KEYNET + args, env=stack.env, input=stdin, text=True, stdout=subprocess.PIPE, check=False
    )
    if echo:
        print(done.stdout, end="", flush=True)
    if (done.returncode != 0) != expect_failure:
        raise SystemExit(f"keynet-train exited with {done.returncode}")
    return done.stdout


def show_registry(stack: LocalStack, result: dict[str, object]) -> None:
    """Print what the push left in the registry and what the backend received."""
    registry = stack.registry
    repository = str(result["image"]).split("/", 1)[1]
    print("catalog:", registry.catalog())
    print(f"tags of {repository}:", registry.tags(repository))
    digest = registry.manifest_digest(repository, "latest")
    verdict = "matches" if digest == result["digest"] else "DOES NOT MATCH"
    print(f"manifest digest: {digest} ({verdict} the push result)")
    labels = registry.image_config(repository, "latest").get("config", {}).get("Labels", {})
    for key in sorted(labels):
        if key.startswith(("ai.keynet", "org.opencontainers")):
            print(f"label {key} = {labels[key][:100]}")
    sent = stack.backend.requests_to("/v1/projects/1/trains/images", "POST")[-1].json
    print(f"backend received hyperParameters: {json.dumps(sent['hyperParameters'])[:300]} ...")


def show_harbor_refusal(stack: LocalStack, push_args: list[str]) -> None:
    """Make the Harbor-like registry refuse the next push over quota, and push again."""
    from tests.support.harbor import HarborErrors

    assert stack.harbor is not None
    banner("Harbor refuses a push over the project's storage quota")
    stack.harbor.proxy.answer_with(HarborErrors.storage_quota("29.0 MiB", "152.4 MiB", "10.0 MiB"))
    # --no-cache: a new layer, so Harbor sees a blob upload (where it checks the quota).
    run(stack, [*push_args, "--no-cache"], echo=False, expect_failure=True)
    stack.harbor.proxy.answer_with(None)


def rehearse(stack: LocalStack) -> None:
    """``keynet-train run`` of the stdlib callback example on an offline Python image."""
    from tests.support.python_image import ensure_python_image

    banner("keynet-train run: the platform's job rehearsed locally, every callback checked")
    python = ensure_python_image(stack.podman.url, "localhost/keynet-demo-python:latest", stack.env)
    example = ROOT / "examples" / "callbacks"
    run(
        stack,
        [
            "run",
            str((example / "train.py").relative_to(ROOT)),
            "--context",
            str(example.relative_to(ROOT)),
            "--build-arg",
            f"BASE_IMAGE={python}",
            "--set",
            "epochs=2",
            "--output-dir",
            str(stack.workdir / "run"),
        ],
    )


def main() -> int:
    """Start the services, log in, push, show the registry, stop everything."""
    arguments = sys.argv[1:]
    harbor = "--harbor" in arguments
    arguments = [a for a in arguments if a != "--harbor"]
    example = arguments[0] if arguments else "argparse"
    entrypoint = ROOT / "examples" / example / "train.py"
    if not entrypoint.is_file():
        print(f"unknown example {example!r}: choose argparse, click or typer", file=sys.stderr)
        return 2
    script = str(entrypoint.relative_to(ROOT))
    kind = "a Harbor-like registry (token auth)" if harbor else "a TLS registry"
    banner(f"Starting {kind}, a private podman service and the fake backend")
    with local_stack("keynet-demo-", announce=print, harbor=harbor) as stack:
        banner("keynet-train login")
        run(stack, stack.login_args(), stdin=stack.backend.password + "\n")
        run(stack, ["projects"])
        run(stack, ["inspect", script])
        banner("keynet-train push")
        push_args = [
            "push",
            script,
            "--context",
            str(entrypoint.parent.relative_to(ROOT)),
            "--project",
            "1",
            "--tag",
            "demo",
            "--build-arg",
            f"BASE_IMAGE={stack.base_image}",
            "--json",
        ]
        # The JSON result is read below; the summary went to stderr.
        out = run(stack, push_args, echo=False)
        banner("What the registry holds now")
        show_registry(stack, json.loads(out))
        if harbor:
            show_harbor_refusal(stack, push_args)
        rehearse(stack)
        banner("Done: everything started by the demo is being stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
