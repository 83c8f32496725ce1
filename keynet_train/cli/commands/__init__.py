"""The command table: every command's name, where it is registered, and its one-line summary.

``keynet-train --help`` lists the commands from this table without importing
any of them, and a run imports only the chosen command's module
(``keynet_train.cli.main.build_parser``); pip's ``commands/__init__.py`` works
the same way. Adding a command is one line here plus its module, which
defines ``register(subparsers)`` (or the function named after the colon): it
adds the command with :func:`keynet_train.cli.parser.add_command`, its
options, and ``set_defaults(handler=...)``.
"""

from __future__ import annotations

#: name → ("module:register function", one-line summary), in the order --help lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "login": ("keynet_train.cli.commands.login:register", "sign in and store credentials"),
    "logout": (
        "keynet_train.cli.commands.login:register_logout",
        "delete stored credentials (same as: config clear)",
    ),
    "config": (
        "keynet_train.cli.commands.config_cmd:register",
        "show or change the stored configuration",
    ),
    "projects": ("keynet_train.cli.commands.projects:register", "list trainable projects"),
    "whoami": (
        "keynet_train.cli.commands.whoami:register",
        "show the signed-in user, server, registry and podman service",
    ),
    "inspect": (
        "keynet_train.cli.commands.inspect:register",
        "show the hyperparameters push would send",
    ),
    "push": (
        "keynet_train.cli.commands.push:register",
        "validate, register and push a training image",
    ),
    "run": (
        "keynet_train.cli.commands.run:register",
        "rehearse the platform's training job locally, checking every callback",
    ),
    "completion": (
        "keynet_train.cli.commands.completion:register",
        "print a shell completion script (bash, zsh, fish)",
    ),
}


def summary(name: str) -> str:
    """The one-line summary of command ``name``.

    Raises:
        KeyError: ``name`` is not in :data:`COMMANDS`.
    """
    return COMMANDS[name][1]
