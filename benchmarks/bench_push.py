"""``keynet-train push`` vs raw ``podman build`` + ``podman push`` of the same context.

Both run against the same private podman service and the same local TLS
registry in one run, interleaved, so machine noise hits both alike:

* cold - the context holds a fresh 100 MB random file every iteration, so the
  build cannot use its cache and the layer must be uploaded;
* warm - nothing changed since the previous build.

Two baselines: ``podman build`` + ``podman push`` run locally on the same
storage (the context is read in place, the stronger baseline and the one the
targets apply to), and the same two commands as clients of the podman service
keynet-train uses (``podman --url``).

keynet-train registers every push under a new upload key, i.e. a new
repository; the baseline therefore also pushes to a new repository each
iteration (otherwise the raw push would only compare manifests). Reported:
median seconds of each and the ratio keynet/baseline (targets: cold <= 1.10,
warm <= 1.25).

    .venv/bin/python benchmarks/bench_push.py [--cold N] [--warm N] [--size-mb M]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fake_backend import FakeBackend  # noqa: E402
from tests.support.services import (  # noqa: E402
    ensure_base_image,
    start_podman_service,
    start_registry,
)

TRAIN_PY = """\
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--lr", type=float, default=0.001)
parser.parse_args()
"""


def timed(command: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    """Run ``command`` and return its wall time; fail loudly if it fails."""
    start = time.perf_counter()
    done = subprocess.run(
        command, env=env, input=stdin, text=True, capture_output=True, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> int:
    """Start services, run the interleaved measurements, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=3, help="cold iterations (default 3)")
    parser.add_argument("--warm", type=int, default=5, help="warm iterations (default 5)")
    parser.add_argument("--size-mb", type=int, default=100, help="size of the big file")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="keynet-bench-push-"))
    registry = podman = None
    try:
        registry = start_registry(work / "registry")
        assert registry.ca_cert is not None
        podman = start_podman_service(
            work / "podman", registry_ca=[(registry.host, registry.ca_cert)]
        )
        base = ensure_base_image(podman.url)
        context = work / "ctx"
        context.mkdir()
        (context / "train.py").write_text(TRAIN_PY)
        (context / "Dockerfile").write_text(
            f"FROM {base}\nCOPY big.bin /data/big.bin\nCOPY train.py /app/train.py\n"
        )
        big = context / "big.bin"

        with FakeBackend(
            harbor_url=registry.url,
            harbor_username=registry.username,
            harbor_password=registry.password,
        ) as backend:
            env = {
                **os.environ,
                "KEYNET_CONFIG": str(work / "keynet" / "config.json"),
                "KEYNET_CA_BUNDLE": str(registry.ca_cert),
                "CONTAINER_HOST": podman.url,
                "REGISTRY_AUTH_FILE": str(work / "auth.json"),
                **podman.env,
            }
            keynet = [sys.executable, "-m", "keynet_train"]
            timed(
                [*keynet, "login", backend.url, "-u", backend.username, "--password-stdin"],
                env,
                stdin=backend.password,
            )
            counter = iter(range(1_000_000))

            def run_keynet() -> float:
                return timed(
                    [
                        *keynet,
                        "push",
                        str(context / "train.py"),
                        "--context",
                        str(context),
                        "--project",
                        "1",
                    ],
                    env,
                )

            def raw(remote: list[str]) -> float:
                reference = f"{registry.host}/bench/raw-{next(counter)}:latest"
                build = timed(
                    [*remote, "build", "--platform", "linux/amd64", "-t", reference, str(context)],
                    env,
                )
                push = timed(
                    [
                        *remote,
                        "push",
                        "--creds",
                        f"{registry.username}:{registry.password}",
                        reference,
                    ],
                    env,
                )
                return build + push

            def run_local() -> float:
                # podman's own CLI on the same storage: reads the context in place.
                return raw(["podman"])

            def run_remote() -> float:
                # podman's CLI as a client of the same service keynet-train talks to.
                return raw(["podman", "--url", podman.url])

            runners = {"keynet": run_keynet, "podman": run_local, "podman-remote": run_remote}

            def fresh_big_file() -> None:
                with big.open("wb") as handle:
                    for _ in range(args.size_mb):
                        handle.write(os.urandom(1024 * 1024))

            results: dict[str, dict[str, list[float]]] = {
                case: {name: [] for name in runners} for case in ("cold", "warm")
            }
            names = list(runners)
            for i in range(args.cold):
                # Rotate the order so no variant always runs first.
                for name in names[i % 3 :] + names[: i % 3]:
                    fresh_big_file()
                    results["cold"][name].append(runners[name]())
                    print(f"cold {name}: {results['cold'][name][-1]:.2f}s", flush=True)
            fresh_big_file()
            for run in runners.values():
                run()  # every cache primed with the same content
            for i in range(args.warm):
                for name in names[i % 3 :] + names[: i % 3]:
                    results["warm"][name].append(runners[name]())
                    print(f"warm {name}: {results['warm'][name][-1]:.2f}s", flush=True)

        print()
        print(
            f"{'case':<5} {'keynet-train':>12} {'podman':>8} {'ratio':>6}"
            f" {'podman --url':>13} {'ratio':>6}  target"
        )
        for case, target in (("cold", 1.10), ("warm", 1.25)):
            ours, local, remote = (statistics.median(results[case][n]) for n in names)
            verdict = "ok" if ours / local <= target else "OVER"
            print(
                f"{case:<5} {ours:>11.2f}s {local:>7.2f}s {ours / local:>6.2f}"
                f" {remote:>12.2f}s {ours / remote:>6.2f}  <= {target} vs podman: {verdict}"
            )
        return 0
    finally:
        if podman is not None:
            podman.stop()
        if registry is not None:
            registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
