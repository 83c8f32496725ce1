"""Image-reference rules: tags, platforms, build-arg names, repository paths, model names.

One home for each rule. The command-line flags and ``KEYNET_*`` variables
(:mod:`keynet_train.push.settings`), the project file
(:mod:`keynet_train.push.project_file`), the push and the podman client all
call these, so a value is accepted in one place exactly when it is accepted
in the others (``tests/push/test_same_rules.py``). The Harbor project name has
its rule in :func:`keynet_train.config.validate_harbor_project`, which
``config set`` uses too.

Each ``validate_*`` returns the value or raises :class:`InputError` whose
message says what is wrong and whose hint says what is allowed; the project
file turns that into an error naming the file and the key.
"""

from __future__ import annotations

import re

from keynet_train.errors import InputError

# Docker's tag grammar: a word character, then up to 127 word characters, dots or dashes.
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
TAG_HINT = (
    "A tag is 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-' "
    "(e.g. v1.2 or latest)."
)

# A build argument is referenced as $NAME in the Dockerfile: a shell-style name.
_BUILD_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BUILD_ARG_HINT = (
    "A build-arg name is letters, digits and '_', not starting with a digit "
    "(e.g. TORCH_VERSION); pass it as NAME=VALUE."
)

# OCI distribution's path component: lowercase alphanumerics separated by '.',
# '_', '__' or runs of '-'.
_REPOSITORY_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
REPOSITORY_HINT = (
    "Repository paths are lowercase letters and digits separated by '.', '_' or '-' "
    "(check --harbor-project)."
)

#: The platform KeyNet trains on, and so what images are built for unless told otherwise.
DEFAULT_PLATFORM = "linux/amd64"

# os/arch or os/arch/variant. The OS and architecture are then looked up
# (x86_64 and aarch64 get a "did you mean"); a variant is letters and digits.
_PLATFORM = re.compile(r"[a-z0-9_-]+/[a-z0-9_-]+(?:/[a-z0-9]+)?")
# GOOS/GOARCH values podman accepts in --platform (Go's `go tool dist list`);
# anything else fails only after the context was sent, with podman's
# misleading "pinging container registry" text (docs/build-errors.md).
KNOWN_OS = (
    "linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly", "solaris",
    "illumos", "aix", "android", "ios", "plan9", "js", "wasip1",
)  # fmt: skip
KNOWN_ARCH = (
    "amd64", "arm64", "arm", "386", "ppc64le", "ppc64", "s390x", "riscv64", "mips",
    "mipsle", "mips64", "mips64le", "loong64", "wasm",
)  # fmt: skip
PLATFORM_HINT = "Use OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64."


def validate_tag(tag: str) -> str:
    """Return ``tag`` if it is a valid image tag.

    Raises:
        InputError: not 1-128 characters of ``[A-Za-z0-9_.-]`` starting with a
            letter, digit or underscore.
    """
    if not _TAG.fullmatch(tag):
        raise InputError(f"Invalid image tag: {tag!r}.", TAG_HINT)
    return tag


def validate_build_arg_name(name: str) -> str:
    """Return ``name`` if it is a valid build-argument name.

    Raises:
        InputError: not letters, digits and ``_`` starting with a letter or ``_``.
    """
    if not _BUILD_ARG_NAME.fullmatch(name):
        raise InputError(f"Invalid build-arg name: {name!r}.", BUILD_ARG_HINT)
    return name


def is_repository_component(component: str) -> bool:
    """Whether ``component`` may be one ``/``-separated part of a repository path."""
    return _REPOSITORY_COMPONENT.fullmatch(component) is not None


def validate_repository(repository: str) -> str:
    """Return ``repository`` (``host[:port]/path``) if its path is valid.

    Raises:
        InputError: no host, no path, or a path component that is not
            lowercase ``[a-z0-9]`` separated by ``.``, ``_``, ``__`` or ``-``.
    """
    host, _, path = repository.partition("/")
    components = path.split("/") if path else []
    if not host or not components or not all(map(is_repository_component, components)):
        raise InputError(f"Invalid image repository: {repository!r}.", REPOSITORY_HINT)
    return repository


def validate_platform(platform: str) -> str:
    """Return ``platform`` if it is ``OS/ARCH[/VARIANT]`` with a known OS and architecture.

    Raises:
        InputError: malformed, or an OS/architecture podman does not know (the
            message names the nearest known one).
    """
    if not _PLATFORM.fullmatch(platform):
        raise InputError(f"Invalid platform: {platform!r}.", PLATFORM_HINT)
    os_name, arch = platform.split("/")[:2]
    for kind, value, known in (("OS", os_name, KNOWN_OS), ("architecture", arch, KNOWN_ARCH)):
        if value not in known:
            import difflib

            # uname's names for the two common architectures are not Go's.
            alias = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64"}.get(value)
            close = [alias] if alias else difflib.get_close_matches(value, known, n=1, cutoff=0.5)
            guess = f"Did you mean {close[0]}? " if close else ""
            raise InputError(
                f"Invalid platform: {platform!r}: unknown {kind} {value!r}.",
                f"{guess}Use OS/ARCH[/VARIANT], e.g. linux/amd64 (the training "
                f"platform's GPU nodes) or linux/arm64; known {kind}s: {', '.join(known)}.",
            )
    return platform


#: The backend builds the training command line from the model name.
MODEL_NAME_HINT = (
    "Use a plain name such as train.py: letters, digits, punctuation and spaces, without "
    "control characters, line breaks or invisible formatting characters."
)
MAX_MODEL_NAME = 255


def validate_model_name(name: str) -> str:
    """Return ``name`` if it can be sent as the model name.

    The backend puts it into the command line the platform runs, so a name
    carrying a newline, a terminal escape or a bidirectional override could
    change that command or how it is displayed: refused rather than cleaned.

    Raises:
        InputError: empty or blank, longer than :data:`MAX_MODEL_NAME`
            characters, or holding a control, format or line/paragraph
            separator character (Unicode categories Cc, Cf, Zl, Zp).
    """
    import unicodedata  # only when a name is checked: not needed to start up

    if not name.strip():
        raise InputError("The model name is empty.", MODEL_NAME_HINT)
    if len(name) > MAX_MODEL_NAME:
        raise InputError(
            f"The model name is {len(name)} characters long (at most {MAX_MODEL_NAME}).",
            MODEL_NAME_HINT,
        )
    for char in name:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            raise InputError(
                f"Invalid model name {name!r}: it holds the control character U+{ord(char):04X}.",
                MODEL_NAME_HINT,
            )
    return name
