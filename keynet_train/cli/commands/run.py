"""``keynet-train run ENTRYPOINT | --image REF``: flags, live lines, the verdict table."""

from __future__ import annotations

import argparse

from keynet_train.cli.build_flags import (
    add_build_flags,
    add_quiet_flag,
    check_build_flags,
    options_from,
)
from keynet_train.cli.common import engine_opener, open_store, run_reported
from keynet_train.cli.environment import Environment
from keynet_train.cli.output import CliReporter, format_table
from keynet_train.cli.parser import add_command, path_arg

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from keynet_train.cli.parser import Subparsers
    from keynet_train.run.callbacks import Callback
    from keynet_train.run.plan import RunPlan
    from keynet_train.run.verdict import RunResult

EPILOG = """\
examples:
  keynet-train run train.py                       # build as push does, run, judge
  keynet-train run train.py --set epochs=1 --set lr=0.01
  keynet-train run train.py --cancel-after 2      # rehearse a cancellation
  keynet-train run --image localhost/keynet-run:train --deadline 10m
  keynet-train run train.py --command-line "python train.py --epochs 1"
  keynet-train run train.py --dry-run             # show command, env, limits

exit status: 0 every check passed, 1 a check failed (the container's own
exit code is in the report), 2 usage error, 128+N on signal N.

The run folder (.keynet/runs/<run-id>/ in the build context, or --output-dir)
keeps report.json, callbacks.jsonl, container.log and podman-run.txt.
See docs/run.md for what is rehearsed and what is not.
"""


def register(sub: Subparsers) -> None:
    """Add ``run``."""
    p = add_command(
        sub,
        "run",
        description="Build ENTRYPOINT's image exactly as push does (or take --image), run it "
        "with the platform's command, environment and limits, answer its callbacks like the "
        "platform, and end with one verdict.",
        epilog=EPILOG,
    )
    p.add_argument(
        "entrypoint", metavar="ENTRYPOINT", nargs="?", help="the training script, e.g. train.py"
    )
    add_build_flags(p, "--dockerfile", "--context", "--python", "--command")
    p.add_argument("--model-name", help="the entrypoint's path as the platform runs it")
    add_build_flags(p, "--build-arg", "--platform", "--no-cache")
    p.add_argument("--podman-url", help="podman service URL (unix://; must be this machine)")
    _add_job_flags(p)
    _add_limit_flags(p)
    p.add_argument("--output-dir", type=path_arg, metavar="DIR", help="the run folder")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print command, environment and limits; start nothing",
    )
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    add_quiet_flag(p, help="no step lines or container log, only warnings and the verdict")
    p.set_defaults(handler=run)


def _add_job_flags(p: argparse.ArgumentParser) -> None:
    """What runs: the image, the hyperparameters or the whole command, the environment."""
    p.add_argument("--image", metavar="REF", help="run this image instead of building one")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        dest="sets",
        metavar="NAME=VALUE",
        help="a hyperparameter's value, checked against the script (repeatable)",
    )
    p.add_argument("--command-line", metavar="STR", help="run this command verbatim instead")
    p.add_argument(
        "--env", action="append", default=[], metavar="K=V", help="extra variable (repeatable)"
    )
    p.add_argument(
        "--env-file",
        action="append",
        default=[],
        type=path_arg,
        dest="env_files",
        metavar="F",
        help="file of K=V lines (repeatable)",
    )


def _add_limit_flags(p: argparse.ArgumentParser) -> None:
    """The job's limits, and the cancellation to rehearse."""
    p.add_argument(
        "--gpus", default="auto", metavar="auto|all|none|N", help="GPUs (default auto: one if any)"
    )
    p.add_argument("--memory", metavar="M", help="memory limit (default 16g)")
    p.add_argument("--cpus", metavar="N", help="CPU limit (default 4)")
    p.add_argument(
        "--shm-size", metavar="S", help="size of the shared memory /dev/shm (default 2g)"
    )
    p.add_argument(
        "--deadline", metavar="D", help="SIGTERM, 30 s grace, SIGKILL after (default 24h)"
    )
    p.add_argument(
        "--cancel-after",
        type=int,
        metavar="N",
        help="answer should_continue=false from the N-th heartbeat and check the job stops",
    )


def run(args: argparse.Namespace, env: Environment) -> int:
    """Rehearse the job and render the verdict; 0 when every check passed, else 1.

    Raises:
        KeynetError: see :func:`keynet_train.run.pipeline.run_job`.
    """
    from pathlib import Path

    from keynet_train.build.cache import BuildCache, cache_path
    from keynet_train.podman.connection import choose_podman_url
    from keynet_train.run.pipeline import RunOptions, RunServices, run_job
    from keynet_train.run.verdict import RunResult

    options = options_from(
        RunOptions,
        args,
        check_build_flags(args, "run"),
        entrypoint=Path(args.entrypoint) if args.entrypoint else None,
        image=args.image,
        sets=list(args.sets),
        command_line=args.command_line,
        env=list(args.env),
        env_files=list(args.env_files),
        gpus=args.gpus,
        memory=args.memory,
        cpus=args.cpus,
        shm_size=args.shm_size,
        deadline=args.deadline,
        cancel_after=args.cancel_after,
        output_dir=args.output_dir,
        dry_run=args.dry_run,
    )
    reporter = CliReporter(env)
    on_line, on_callback = _live_sinks(reporter)
    # --podman-url > CONTAINER_HOST > config podman_url > podman's default, as for push.
    config = open_store(env).load()
    podman_url = choose_podman_url(
        args.podman_url, env.environ, config.podman_url if config else None
    )
    open_engine = engine_opener(env, reporter, args.podman_url)
    services = RunServices(
        open_engine=lambda _: open_engine(podman_url),
        build_cache=BuildCache(cache_path(env.environ)),
        on_callback=on_callback,
        on_container_line=on_line,
    )
    result, warnings = run_reported(
        reporter,
        lambda: run_job(
            options, environ=env.environ, cwd=Path.cwd(), services=services, reporter=reporter
        ),
    )
    if isinstance(result, RunResult):
        _render_result(env, result, warnings)
        return 0 if result.passed else 1
    _render_plan(env, result, warnings)
    return 0


def _live_sinks(
    reporter: CliReporter,
) -> tuple[Callable[[str, str], None], Callable[[Callback], None]]:
    """The container's log lines and each callback, as they come, one line at a time."""
    import threading

    from keynet_train.notices import CALLBACK_PROBLEM, Notice

    # The log thread and the receiver's threads print at once.
    lock = threading.Lock()

    def on_line(stream: str, line: str) -> None:
        with lock:
            reporter.log_line(line)

    def on_callback(callback: Callback) -> None:
        with lock:
            text = callback_line(callback)
            if callback.problems:
                reporter.notice(Notice(CALLBACK_PROBLEM, text))
            else:
                reporter.info(text)

    return on_line, on_callback


def callback_line(callback: Callback) -> str:
    """``callback 3: POST heartbeat -> 200 should_continue=true; problem ...``."""
    answer = ""
    if "should_continue" in callback.response:
        answer = f" should_continue={str(callback.response['should_continue']).lower()}"
    what = callback.endpoint or callback.path
    text = f"callback {callback.number}: {callback.method} {what} -> {callback.status}{answer}"
    if callback.problems:
        text += "; " + "; ".join(f"[{p.check}] {p.message}" for p in callback.problems)
    return text


def _render_plan(env: Environment, plan: RunPlan, warnings: list[dict[str, object]]) -> None:
    import json

    if env.json_output:
        env.out(json.dumps({"dry_run": True, **plan.to_json(), "warnings": warnings}))
        return
    env.out("Dry run: nothing was built or started.")
    env.out(f"   Command ({plan.command_source}): {plan.to_json()['command_text']}")
    env.out("   Environment:")
    for name, value in plan.environment.items():
        env.out(f"      {name}={value}")
    limits = plan.limits.to_json()
    env.out("   Limits:")
    for limit, amount in limits.items():
        env.out(f"      {limit}: {amount}")
    for note in plan.notes:
        env.out(f"   Note: {note}")


def _render_result(env: Environment, result: RunResult, warnings: list[dict[str, object]]) -> None:
    import json

    if env.json_output:
        env.out(json.dumps({**result.to_json(), "warnings": warnings}))
    write = env.err if env.json_output else env.out
    rows = [[c.name, c.status.upper(), str(c.callback or ""), c.reason] for c in result.checks]
    write("")
    write(format_table(["CHECK", "RESULT", "CALLBACK", "REASON"], rows))
    write("")
    verdict = (
        "PASSED: every check passed"
        if result.passed
        else "FAILED: " + ", ".join(c.name for c in result.checks if c.status == "fail")
    )
    code = "none (killed)" if result.exit_code is None else str(result.exit_code)
    write(f"{verdict}. Container exit code {code}; run folder {result.folder}")
