"""``keynet-train push`` vs raw ``podman build`` + ``podman push`` of the same context.

Both run against the same private podman service and the same local TLS
registry in one run, interleaved, so machine noise hits both alike:

* cold - the context holds a fresh 100 MB random file every iteration, so the
  build cannot use its cache and the layer must be uploaded;
* warm - nothing changed since the previous build.

keynet-train registers every push under a new upload key, i.e. a new
repository; the baseline therefore also pushes to a new repository each
iteration (otherwise the raw push would only compare manifests). Reported:
median seconds of each and the ratio keynet/raw (targets: cold <= 1.10,
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

            def run_raw() -> float:
                reference = f"{registry.host}/bench/raw-{next(counter)}:latest"
                remote = ["podman", "--url", podman.url]
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

            def fresh_big_file() -> None:
                with big.open("wb") as handle:
                    for _ in range(args.size_mb):
                        handle.write(os.urandom(1024 * 1024))

            results: dict[str, dict[str, list[float]]] = {
                "cold": {"keynet": [], "raw": []},
                "warm": {"keynet": [], "raw": []},
            }
            for i in range(args.cold):
                order = [("keynet", run_keynet), ("raw", run_raw)]
                for name, run in order if i % 2 == 0 else reversed(order):
                    fresh_big_file()
                    results["cold"][name].append(run())
                    print(f"cold {name}: {results['cold'][name][-1]:.2f}s", flush=True)
            fresh_big_file()
            run_keynet()
            run_raw()  # both caches primed with the same content
            for i in range(args.warm):
                order = [("keynet", run_keynet), ("raw", run_raw)]
                for name, run in order if i % 2 == 0 else reversed(order):
                    results["warm"][name].append(run())
                    print(f"warm {name}: {results['warm'][name][-1]:.2f}s", flush=True)

        print()
        print(f"{'case':<6} {'keynet-train':>13} {'podman build+push':>18} {'ratio':>7}  target")
        for case, target in (("cold", 1.10), ("warm", 1.25)):
            ours = statistics.median(results[case]["keynet"])
            raw = statistics.median(results[case]["raw"])
            ratio = ours / raw
            verdict = "ok" if ratio <= target else "OVER"
            print(f"{case:<6} {ours:>12.2f}s {raw:>17.2f}s {ratio:>7.2f}  <= {target} {verdict}")
        return 0
    finally:
        if podman is not None:
            podman.stop()
        if registry is not None:
            registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
