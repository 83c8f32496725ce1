"""Run login + push against local real services (see scripts/demo)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fake_backend import FakeBackend  # noqa: E402
from tests.support.services import (  # noqa: E402
    ensure_base_image,
    start_podman_service,
    start_registry,
)


def banner(text: str) -> None:
    """Print a section header."""
    print(f"\n\033[1m### {text}\033[0m" if sys.stdout.isatty() else f"\n### {text}", flush=True)


def main() -> int:
    """Start the services, log in, push, show the registry, stop everything."""
    example = sys.argv[1] if len(sys.argv) > 1 else "argparse"
    entrypoint = ROOT / "examples" / example / "train.py"
    if not entrypoint.is_file():
        print(f"unknown example {example!r}: choose argparse, click or typer", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="keynet-demo-"))
    registry = podman = None
    try:
        banner("Starting a TLS registry (htpasswd auth) on 127.0.0.1")
        registry = start_registry(work / "registry")
        print(f"registry: {registry.url} (robot account {registry.username})")
        assert registry.ca_cert is not None
        banner("Starting a private podman service")
        podman = start_podman_service(
            work / "podman", registry_ca=[(registry.host, registry.ca_cert)]
        )
        print(f"podman: {podman.url}")
        base = ensure_base_image(podman.url)
        print(f"offline base image: {base}")
        with FakeBackend(
            harbor_url=registry.url,
            harbor_username=registry.username,
            harbor_password=registry.password,
        ) as backend:
            print(f"fake KeyNet backend: {backend.url} (user {backend.username})")
            env = {
                **os.environ,
                "KEYNET_CONFIG": str(work / "keynet" / "config.json"),
                "KEYNET_CA_BUNDLE": str(registry.ca_cert),
                "CONTAINER_HOST": podman.url,
                "REGISTRY_AUTH_FILE": str(work / "auth.json"),
            }
            cli = [sys.executable, "-m", "keynet_train"]

            def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
                shown = " ".join(a if " " not in a else repr(a) for a in args)
                print(f"\n$ keynet-train {shown}", flush=True)
                done = subprocess.run(
                    cli + args, env=env, input=stdin, text=True, stdout=subprocess.PIPE, check=False
                )
                print(done.stdout, end="", flush=True)
                if done.returncode != 0:
                    raise SystemExit(f"keynet-train exited with {done.returncode}")
                return done

            banner("keynet-train login")
            run(
                ["login", backend.url, "-u", backend.username, "--password-stdin"],
                stdin=backend.password + "\n",
            )
            run(["projects"])
            run(["inspect", str(entrypoint.relative_to(ROOT))])
            banner("keynet-train push")
            done = run(
                [
                    "push",
                    str(entrypoint.relative_to(ROOT)),
                    "--context",
                    str(entrypoint.parent.relative_to(ROOT)),
                    "--project",
                    "1",
                    "--tag",
                    "demo",
                    "--build-arg",
                    f"BASE_IMAGE={base}",
                    "--json",
                ]
            )
            result = json.loads(done.stdout)
            banner("What the registry holds now")
            repository = result["image"].split("/", 1)[1]
            print("catalog:", registry.catalog())
            print(f"tags of {repository}:", registry.tags(repository))
            digest = registry.manifest_digest(repository, "latest")
            print(
                "manifest digest:",
                digest,
                "(matches push result)" if digest == result["digest"] else "(MISMATCH)",
            )
            labels = registry.image_config(repository, "latest").get("config", {}).get("Labels", {})
            for key in sorted(labels):
                if key.startswith(("ai.keynet", "org.opencontainers")):
                    print(f"label {key} = {labels[key][:100]}")
            sent = backend.requests_to("/v1/projects/1/trains/images", "POST")[-1].json
            print(
                "backend received hyperParameters:",
                json.dumps(sent["hyperParameters"])[:300],
                "...",
            )
            banner("Done: everything started by the demo is being stopped")
        return 0
    finally:
        if podman is not None:
            podman.stop()
        if registry is not None:
            registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
