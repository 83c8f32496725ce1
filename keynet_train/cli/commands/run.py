"""``keynet-train run ENTRYPOINT | --image REF``: flags, live lines, the verdict table."""

from __future__ import annotations

import argparse

from keynet_train.cli.environment import Environment
from keynet_train.cli.output import CliReporter, format_table
from keynet_train.cli.parser import add_command, add_python_option, path_arg

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from keynet_train.cli.parser import Subparsers
    from keynet_train.run.callbacks import Callback
    from keynet_train.run.pipeline import RunPlan, RunResult

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
        help="rehearse the platform's training job locally, checking every callback",
        description="Build ENTRYPOINT's image exactly as push does (or take --image), run it "
        "with the platform's command, environment and limits, answer its callbacks like the "
        "platform, and end with one verdict.",
        epilog=EPILOG,
    )
    p.add_argument(
        "entrypoint", metavar="ENTRYPOINT", nargs="?", help="the training script, e.g. train.py"
    )
    p.add_argument(
        "-f",
        "--dockerfile",
        type=path_arg,
        help="Dockerfile (default: Containerfile or Dockerfile in the context)",
    )
    p.add_argument("--context", type=path_arg, help="build context directory (default: .)")
    add_python_option(p)
    p.add_argument(
        "--command",
        dest="script_command",
        metavar="NAME",
        help="the script's sub-command to train with (default: the only one, else 'train')",
    )
    p.add_argument("--model-name", help="the entrypoint's path as the platform runs it")
    p.add_argument(
        "--build-arg",
        action="append",
        default=[],
        dest="build_args",
        metavar="K=V",
        help="build argument (repeatable)",
    )
    p.add_argument("--platform", metavar="OS/ARCH", help="target platform (default linux/amd64)")
    p.add_argument("--no-cache", action="store_true", help="do not use the build cache")
    p.add_argument("--podman-url", help="podman service URL (unix://; must be this machine)")
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
    p.add_argument("--output-dir", type=path_arg, metavar="DIR", help="the run folder")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print command, environment and limits; start nothing",
    )
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        # Also accepted before the sub-command: a default here would reset that one.
        default=argparse.SUPPRESS,
        help="no step lines or container log, only warnings and the verdict",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    """Rehearse the job and render the verdict; 0 when every check passed, else 1.

    Raises:
        KeynetError: see :func:`keynet_train.run.pipeline.run_job`.
    """
    import threading
    from pathlib import Path

    from keynet_train.build.cache import BuildCache, cache_path
    from keynet_train.cli.common import open_store
    from keynet_train.notices import CALLBACK_PROBLEM, Notice
    from keynet_train.podman.connection import choose_podman_url, explicit_source
    from keynet_train.podman.service import connect
    from keynet_train.push.settings import parse_build_args
    from keynet_train.run.pipeline import RunOptions, RunResult, RunServices, run_job

    options = RunOptions(
        entrypoint=Path(args.entrypoint) if args.entrypoint else None,
        image=args.image,
        dockerfile=args.dockerfile,
        context=args.context,
        command=args.script_command,
        python=args.python,
        model_name=args.model_name,
        build_args=parse_build_args(args.build_args),
        platform=args.platform,
        no_cache=args.no_cache,
        podman_url=args.podman_url,
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
    # The log thread and the receiver's threads print at once: one line at a time.
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

    # --podman-url > CONTAINER_HOST > config podman_url > podman's default, as for push.
    config = open_store(env).load()
    podman_url = choose_podman_url(
        args.podman_url, env.environ, config.podman_url if config else None
    )
    services = RunServices(
        open_engine=lambda _: connect(
            podman_url,
            reporter=reporter,
            environ=env.environ,
            source=explicit_source(args.podman_url, env.environ),
        ),
        build_cache=BuildCache(cache_path(env.environ)),
        on_callback=on_callback,
        on_container_line=on_line,
    )
    try:
        result = run_job(
            options, environ=env.environ, cwd=Path.cwd(), services=services, reporter=reporter
        )
    finally:
        reporter.close()
    warnings = [notice.to_json() for notice in reporter.notices]
    if isinstance(result, RunResult):
        _render_result(env, result, warnings)
        return 0 if result.passed else 1
    _render_plan(env, result, warnings)
    return 0


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
