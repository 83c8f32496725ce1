"""The build flags ``push`` and ``run`` share, declared once and read into options once.

``run`` builds ENTRYPOINT's image exactly as ``push`` does (docs/run.md), so
both take ``-f/--dockerfile``, ``--context``, ``--python``, ``--command``,
``--build-arg``, ``--platform`` and ``--no-cache`` with the same meaning and
help. Each command adds them where its ``--help`` has always listed them, so
:func:`add_build_flags` takes the flags to add, in order. ``--model-name`` and
``--podman-url`` are read here too but declared by each command: their help
differs (run needs a podman service on this machine).

Imported at start-up by both command modules: argparse and ``cli.parser`` only.
"""

from __future__ import annotations

import argparse

from keynet_train.cli.parser import add_python_option, path_arg

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, TypeVar

    from keynet_train.push.settings import BuildOptions

    Options = TypeVar("Options", bound=BuildOptions)

#: option → (its option strings, the rest of its add_argument keywords).
_BUILD_FLAGS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "--dockerfile": (
        ("-f", "--dockerfile"),
        {
            "type": path_arg,
            "help": "Dockerfile (default: Containerfile or Dockerfile in the context)",
        },
    ),
    "--context": (
        ("--context",),
        {"type": path_arg, "help": "build context directory (default: .)"},
    ),
    "--command": (
        ("--command",),
        {
            # "command" is the dest of keynet-train's own sub-command.
            "dest": "script_command",
            "metavar": "NAME",
            "help": "the script's sub-command to train with (default: the project file's "
            "'command', else the only one, else 'train')",
        },
    ),
    "--build-arg": (
        ("--build-arg",),
        {
            "action": "append",
            "default": [],
            "dest": "build_args",
            "metavar": "K=V",
            "help": "build argument (repeatable)",
        },
    ),
    "--platform": (
        ("--platform",),
        {"metavar": "OS/ARCH", "help": "target platform (default linux/amd64)"},
    ),
    "--no-cache": (
        ("--no-cache",),
        {"action": "store_true", "help": "do not use the build cache"},
    ),
}


def add_build_flags(parser: argparse.ArgumentParser, *flags: str) -> None:
    """Add the named build flags to ``parser``, in the order given.

    ``--python`` is :func:`keynet_train.cli.parser.add_python_option` (inspect
    takes it too); the others are declared in this module.

    Raises:
        KeyError: a name that is not a build flag (a programming error).
    """
    for flag in flags:
        if flag == "--python":
            add_python_option(parser)
            continue
        names, keywords = _BUILD_FLAGS[flag]
        parser.add_argument(*names, **keywords)


#: A flag, the rule its values must pass, and the values given.
FlagCheck = tuple[str, "Callable[[str], str]", list[str]]


def check_build_flags(
    args: argparse.Namespace, command: str, more: Sequence[FlagCheck] = ()
) -> dict[str, str]:
    """Check the build flags' values (and ``more``): a bad one is a usage error (exit 2).

    push and run apply the same rules (:mod:`keynet_train.build.image_names`)
    before the script is read, like ``--project abc``; the same rules apply to
    values from the environment and the project file, where they are not
    usage errors. Returns the ``--build-arg`` values as a mapping.

    Raises:
        UsageError: a ``--platform``, ``--model-name`` or ``--build-arg`` value,
            or one of ``more``, is invalid.
    """
    from keynet_train.build.image_names import (
        validate_build_arg_name,
        validate_model_name,
        validate_platform,
    )
    from keynet_train.errors import ConfigError, InputError, UsageError
    from keynet_train.push.settings import parse_build_args

    checks: list[FlagCheck] = [
        ("--platform", validate_platform, [args.platform] if args.platform else []),
        ("--model-name", validate_model_name, [] if args.model_name is None else [args.model_name]),
        *more,
    ]
    for flag, validate, values in checks:
        try:
            for value in values:
                validate(value)
        except (InputError, ConfigError) as exc:
            raise UsageError(f"{command}: argument {flag}: {exc.message}", exc.hint) from None
    try:
        build_args = parse_build_args(args.build_args)
        for name in build_args:
            validate_build_arg_name(name)
    except InputError as exc:
        raise UsageError(f"{command}: argument --build-arg: {exc.message}", exc.hint) from None
    return build_args


def add_quiet_flag(parser: argparse.ArgumentParser, help: str) -> None:
    """``-q/--quiet`` on a command, also accepted before it (``keynet-train -q push``)."""
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        # A default here would reset the value given before the sub-command.
        default=argparse.SUPPRESS,
        help=help,
    )


def options_from(
    cls: type[Options], args: argparse.Namespace, build_args: dict[str, str], **more: Any
) -> Options:
    """``cls`` (push's or run's options) from the build flags in ``args`` and ``more``.

    ``build_args`` is the ``--build-arg`` mapping :func:`check_build_flags`
    returned (both commands check their flags with it first).
    """
    return cls(
        dockerfile=args.dockerfile,
        context=args.context,
        model_name=args.model_name,
        build_args=build_args,
        platform=args.platform,
        no_cache=args.no_cache,
        podman_url=args.podman_url,
        command=args.script_command,
        python=args.python,
        **more,
    )
