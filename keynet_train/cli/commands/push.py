"""``keynet-train push ENTRYPOINT ...``: flags, the interactive project picker, rendering."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from keynet_train.cli.build_flags import (
    add_build_flags,
    add_quiet_flag,
    check_build_flags,
    options_from,
)
from keynet_train.cli.common import (
    debug_logger,
    engine_opener,
    open_store,
    prompt_text,
    run_reported,
)
from keynet_train.cli.environment import Environment
from keynet_train.cli.output import CliReporter, format_table, table_width
from keynet_train.cli.parser import add_command
from keynet_train.errors import InputError

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from keynet_train.backend.client import ProjectsPage
    from keynet_train.cli.parser import Subparsers
    from keynet_train.push.results import DryRunResult, PushResult

PICKER_PAGE_SIZE = 20

EPILOG = """\
examples:
  keynet-train push train.py
  keynet-train push train.py --project 123 --tag v1.2 --build-arg TORCH_VERSION=2.4
  keynet-train push src/train.py -f docker/Dockerfile --context .
  keynet-train push train.py --dry-run          # build locally, send nothing
  keynet-train push train.py --project 123 --json > push-result.json   # CI

precedence: flag > KEYNET_* variable > project file ([tool.keynet-train] in
pyproject.toml, or keynet.toml) > 'config set' preference > default.

environment:
  KEYNET_PROJECT_ID       project when --project is not given
  KEYNET_HARBOR_PROJECT   Harbor project when --harbor-project is not given
  KEYNET_CA_BUNDLE        PEM trusted for the backend and the registry
  CONTAINER_HOST          podman service URL when --podman-url is not given
"""


def register(sub: Subparsers) -> None:
    """Add ``push``."""
    p = add_command(
        sub,
        "push",
        description="Validate ENTRYPOINT, extract its hyperparameters, register them with "
        "the backend for an upload key, then build, tag and push the image to Harbor "
        "with podman.",
        epilog=EPILOG,
    )
    p.add_argument("entrypoint", metavar="ENTRYPOINT", help="the training script, e.g. train.py")
    add_build_flags(p, "--dockerfile", "--context", "--python")
    p.add_argument("--project", type=int, dest="project_id", metavar="ID", help="project id")
    p.add_argument(
        "--model-name",
        help="the script's path in the image relative to its WORKDIR, which the platform runs "
        "as `python MODEL_NAME` (default: its path in the context if the image has it there, "
        "else its file name)",
    )
    add_build_flags(p, "--command")
    p.add_argument(
        "--tag",
        action="append",
        default=[],
        dest="tags",
        metavar="TAG",
        help="extra tag on the same repository (repeatable)",
    )
    add_build_flags(p, "--build-arg", "--platform")
    p.add_argument("--harbor-project", help="Harbor project (default kitech-model)")
    add_build_flags(p, "--no-cache")
    p.add_argument("--podman-url", help="podman service URL (unix://, tcp://, ssh://)")
    _add_registration_flags(p)
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="validate, extract and build locally; send nothing",
    )
    p.add_argument("--json", action="store_true", help="one JSON result object on stdout")
    p.add_argument(
        "--wide",
        action="store_true",
        help="tables with every column on one line (default on a terminal: fit its width)",
    )
    add_quiet_flag(
        p, help="print only warnings, errors and the result (no step lines or build log)"
    )
    p.set_defaults(handler=run)


def _add_registration_flags(p: argparse.ArgumentParser) -> None:
    """The flags of what push sends: TLS to the registry, the command check, the upload key."""
    p.add_argument(
        "--insecure-registry",
        action="store_true",
        help="do not verify the registry's TLS certificate (prefer KEYNET_CA_BUNDLE)",
    )
    p.add_argument(
        "--allow-command-mismatch",
        action="store_true",
        help="push even if the platform's training command would stop the script (warnings "
        "instead of errors; only for a platform that renders from the image label)",
    )
    p.add_argument(
        "--new-key",
        action="store_true",
        help="register a new upload key even if an unfinished push of the same inputs holds one",
    )


def make_project_chooser(env: Environment) -> Callable[[Callable[[int], ProjectsPage]], int]:
    """The interactive picker on a TTY; otherwise a chooser that fails listing the projects."""

    def choose(unwatched: Callable[[int], ProjectsPage]) -> int:
        from keynet_train.cli.output import waiting

        def fetch_page(number: int) -> ProjectsPage:
            with waiting(env, "GET /v1/projects/trainable"):
                return unwatched(number)

        if not env.interactive:
            page = fetch_page(0)
            listing = "; ".join(f"{p.id} ({p.title})" for p in page.content[:20])
            more = " ..." if page.meta.total > len(page.content[:20]) else ""
            raise InputError(
                "No project given and no terminal to choose one. "
                f"Trainable projects: {listing or 'none'}{more}.",
                NO_PROJECT_HINT,
            )
        return _pick(env, fetch_page)

    return choose


def _pick(env: Environment, fetch_page: Callable[[int], ProjectsPage]) -> int:
    from keynet_train.cli.commands.projects import PROJECT_HEADERS, project_rows

    page_no = 0
    while True:
        page = fetch_page(page_no)
        if not page.content and page_no == 0:
            raise InputError(
                "You have no trainable projects.",
                "Ask a platform administrator to give you access to a project.",
            )
        env.err("")
        env.err(
            format_table(PROJECT_HEADERS, project_rows(page), width=table_width(env, env.stderr))
        )
        last = max(page.meta.max_page, 0)
        env.err(f"Page {page_no + 1}/{last + 1} - {page.meta.total} projects")
        # The ID is what the table shows and what --project takes; a separate
        # row number would be a second number to confuse it with.
        try:
            answer = prompt_text(
                env, "Project ID to push to (n = next page, p = previous, q = quit): "
            ).lower()
        except InputError as exc:
            raise InputError("No project chosen (input closed).", NO_PROJECT_HINT) from exc
        by_id = {str(p.id): p for p in page.content}
        if answer == "n" and page_no < last:
            page_no += 1
        elif answer == "p" and page_no > 0:
            page_no -= 1
        elif answer == "q":
            raise InputError("No project chosen.", NO_PROJECT_HINT)
        elif answer in by_id:
            chosen = by_id[answer]
            save = prompt_text(env, f"Save project {chosen.id} as your default? [y/N]: ")
            if save.lower() in ("y", "yes"):
                store = open_store(env)
                store.set_preference("project_id", str(chosen.id))
                env.err(f"Saved project_id={chosen.id} in {store.path}.")
            return chosen.id
        else:
            env.err(f"Not a project ID on this page: {answer!r}. Type an ID from the table.")


NO_PROJECT_HINT = (
    "Pass --project ID, set KEYNET_PROJECT_ID, add project_id to the "
    "project file, or run: keynet-train config set project_id ID"
)


def _check_flag_values(args: argparse.Namespace) -> dict[str, str]:
    """Check push's flag values: a bad one is a usage error (exit 2), like ``--project abc``.

    Returns the ``--build-arg`` values as a mapping.

    Raises:
        UsageError: ``--project`` is not positive; a ``--tag`` or
            ``--harbor-project`` value, or a build flag's
            (:func:`~keynet_train.cli.build_flags.check_build_flags`), is invalid.
    """
    from keynet_train.build.image_names import validate_tag
    from keynet_train.config import validate_harbor_project
    from keynet_train.errors import UsageError

    if args.project_id is not None and args.project_id <= 0:
        raise UsageError(
            f"push: argument --project: must be a positive integer, got {args.project_id}.",
            "List the projects you can train in with: keynet-train projects",
        )
    harbor_project = [args.harbor_project] if args.harbor_project else []
    return check_build_flags(
        args,
        "push",
        [
            ("--tag", validate_tag, list(args.tags)),
            ("--harbor-project", validate_harbor_project, harbor_project),
        ],
    )


def run(args: argparse.Namespace, env: Environment) -> int:
    """Run the push pipeline and render its result.

    Raises:
        KeynetError: whatever step failed (see :func:`keynet_train.push.pipeline.run_push`).
    """
    from pathlib import Path

    from keynet_train.build.cache import BuildCache, cache_path
    from keynet_train.cli.commands.projects import backend_for_config
    from keynet_train.notices import CONFIG_PERMISSIONS, Notice
    from keynet_train.podman.trust import install_registry_ca
    from keynet_train.push.pipeline import PushServices, run_push
    from keynet_train.push.results import PushResult
    from keynet_train.push.settings import PushOptions

    options = options_from(
        PushOptions,
        args,
        _check_flag_values(args),
        entrypoint=Path(args.entrypoint),
        project_id=args.project_id,
        tags=list(args.tags),
        harbor_project=args.harbor_project,
        insecure_registry=args.insecure_registry,
        dry_run=args.dry_run,
        allow_command_mismatch=args.allow_command_mismatch,
        new_key=args.new_key,
    )
    reporter = CliReporter(env)
    # Its warnings go through the reporter so --json lists them too.
    store = open_store(env, warn=lambda m: reporter.notice(Notice(CONFIG_PERMISSIONS, m)))
    services = PushServices(
        open_engine=engine_opener(env, reporter, args.podman_url),
        backend_for=lambda config: backend_for_config(config, env),
        choose_project=make_project_chooser(env),
        load_config=store.load,
        trust_registry_ca=install_registry_ca,
        build_cache=BuildCache(cache_path(env.environ)),
        debug_log=debug_logger(env),
    )
    result, warnings = run_reported(
        reporter,
        lambda: run_push(
            options, environ=env.environ, cwd=Path.cwd(), services=services, reporter=reporter
        ),
    )
    if isinstance(result, PushResult):
        _render_push(env, result, warnings)
    else:
        _render_dry_run(env, result, warnings, wide=getattr(args, "wide", False))
    return 0


def _render_push(
    env: Environment, result: PushResult, warnings: list[dict[str, object]] | None = None
) -> None:
    import json

    if env.json_output:
        env.out(json.dumps({**result.to_json(), "warnings": warnings or []}))
    lines = [
        "",
        "✨ Push completed successfully!",
        f"   Upload Key: {result.upload_key}",
        f"   Image: {result.image}",
        f"   Tags: {', '.join(result.tags)}",
    ]
    if result.digest:
        lines.append(f"   Digest: {result.digest}")
    lines.append(f"   Hyperparameters: {len(result.hyperparameters)} arguments sent to Backend")
    lines.append(f"   Command: {result.command}")
    write = env.err if env.json_output else env.out
    if env.json_output and env.quiet:
        return
    for line in lines:
        write(line)


def _render_dry_run(
    env: Environment,
    result: DryRunResult,
    warnings: list[dict[str, object]] | None = None,
    wide: bool = False,
) -> None:
    import json

    from keynet_train.build.context import human_size
    from keynet_train.cli.commands.inspect import format_platform_check

    if env.json_output:
        env.out(json.dumps({**result.to_json(), "warnings": warnings or []}))
        return
    env.out("")
    env.out("Dry run: nothing was sent to the backend or the registry.")
    env.out(f"   Local image: {result.image} ({result.image_id[:12]})")
    env.out(f"   Would push to: {result.target_repository}")
    env.out(f"   Dockerfile: {result.dockerfile}")
    ignore = str(result.ignore_file) if result.ignore_file else "none"
    env.out(
        f"   Context: {result.context} - {result.file_count} files, "
        f"{human_size(result.total_size)} (ignore file: {ignore})"
    )
    for path, size in result.largest_files:
        env.out(f"      {human_size(size):>10}  {path}")
    env.out(f"   Model name: {result.model_name}")
    _render_hyperparameter_table(env, result, wide)
    env.out(format_platform_check(result.platform_command, result.problems))


def _render_hyperparameter_table(env: Environment, result: DryRunResult, wide: bool) -> None:
    """The hyperparameters as ``inspect`` shows them (the JSON is ``--json``'s)."""
    from keynet_train.cli.commands.inspect import format_arguments
    from keynet_train.extraction import Argument

    arguments = [Argument.from_json(doc) for doc in result.hyperparameters]
    count = len(arguments)
    sub = f", sub-command {result.subcommand}" if result.subcommand else ""
    env.out(
        f"   Hyperparameters: {count} argument{'s' if count != 1 else ''} "
        f"({result.parser_type or 'no parser'}{sub})"
    )
    if arguments:
        env.out(
            format_arguments(arguments, result.parser_type, table_width(env, env.stdout, wide)),
            wrap=not wide,
        )
