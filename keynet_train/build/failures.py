"""Failed build steps explained: the cause in the user's terms and the fix (docs/build-errors.md).

podman reports a failed step as text meant for its own developers: a short
name it refuses to guess, "pinging container registry localhost" for an image
that is simply not in this store, a Go struct dump for a typo'd instruction,
``copier: stat: "/requirments.txt"`` for a COPY source. :func:`explain` reads
that text together with what we know (the Dockerfile, the context and its
ignore rules, the platform, the image store) and returns a
:class:`~keynet_train.errors.BuildError` that names the Dockerfile line, the
cause and what to do. Text it does not recognise keeps podman's words.

Talks to no service: facts about the image store come in as callables.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from keynet_train.build.context import ContextSummary, read_dockerfile
from keynet_train.errors import BuildError

GENERIC_HINT = "See the build log above; fix that step in the Dockerfile and push again."

INSTRUCTIONS = (
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
    "WORKDIR",
)  # fmt: skip

_SHORT_NAME_RE = re.compile(
    r'short-name "(?P<name>[^"]+)" did not resolve to an alias.*?defined in "(?P<conf>[^"]+)"'
)
_PING_RE = re.compile(
    r"initializing source docker://(?P<name>\S+?): pinging container registry "
    r"(?P<host>[^:\s]+(?::\d+)?): (?P<rest>.*)"
)
_UNKNOWN_RE = re.compile(r'Unknown instruction: "(?P<word>[^"]*)"')
_STAT_RE = re.compile(r'copier: stat: "/(?P<path>[^"]*)": no such file or directory')


class BuildStepError(BuildError):
    """A build step failed; carries the step and podman's own words for :func:`explain`."""

    def __init__(self, step: int, instruction: str, detail: str) -> None:
        where = f" at step {step}: {instruction}" if step else ""
        super().__init__(f"Container image build failed{where} … {detail}", hint=GENERIC_HINT)
        self.step = step
        self.instruction = instruction
        self.detail = detail


@dataclass(frozen=True)
class StoreFacts:
    """What the podman service can tell about its image store (all lookups never raise).

    ``platform_of(reference)`` is the stored image's ``os/arch`` (None: not in
    the store); ``rootless`` whether the service runs rootless (None: unknown).
    """

    platform_of: Callable[[str], str | None]
    rootless: bool | None


def explain(
    failure: BuildStepError, summary: ContextSummary, platform: str | None, store: StoreFacts
) -> BuildError:
    """The error to show for ``failure``: its cause and fix when recognised, else itself."""
    prefix = f"Container image build failed at step {failure.step}: {failure.instruction}"
    line = _dockerfile_line(summary.dockerfile, failure.instruction)
    where = f"{summary.dockerfile}:{line}" if line else str(summary.dockerfile)
    for rule in (_short_name, _not_pullable, _unknown_instruction, _missing_source):
        found = rule(failure, summary, platform, store, where)
        if found is not None:
            message, hint = found
            return BuildError(f"{prefix} … {message}", hint=hint)
    return failure


def _short_name(
    failure: BuildStepError, summary: ContextSummary, platform: str | None, store: StoreFacts,
    where: str,
) -> tuple[str, str] | None:  # fmt: skip
    found = _SHORT_NAME_RE.search(failure.detail)
    if found is None:
        return None
    name, conf = found.group("name"), found.group("conf")
    return (
        f"the base image {name} ({where}) is a short name, and podman does not guess "
        "which registry it comes from",
        f"Write the fully qualified name: FROM {qualified_name(name)} (Docker Hub), or "
        f"list the registries to search as unqualified-search-registries in {conf} "
        "(rootless podman: ~/.config/containers/registries.conf).",
    )


def qualified_name(name: str) -> str:
    """``name`` as Docker resolves a short name: on Docker Hub, official images under library/."""
    first, _, _ = name.partition("/")
    if "/" in name and ("." in first or ":" in first or first == "localhost"):
        return name
    return f"docker.io/{name}" if "/" in name else f"docker.io/library/{name}"


def _not_pullable(
    failure: BuildStepError, summary: ContextSummary, platform: str | None, store: StoreFacts,
    where: str,
) -> tuple[str, str] | None:  # fmt: skip
    found = _PING_RE.search(failure.detail)
    if found is None:
        return None
    name, host, rest = found.group("name"), found.group("host"), found.group("rest")
    name = _from_image(failure.instruction) or name  # podman shortens docker.io names
    if host.split(":", maxsplit=1)[0] != "localhost":
        return (
            f"cannot pull the base image {name} ({where}): the registry {host} cannot "
            f"be reached ({_network_reason(rest, host)})",
            "Check the network and the proxy settings of the podman service (HTTPS_PROXY), "
            f"or load the image into podman's store first: `podman pull {name}` on a machine "
            "that reaches the registry, then `podman save` there and `podman load` here.",
        )
    # "localhost/..." is never pulled for real: podman looks in its store, does
    # not find the image (for this platform), and then tries a registry on
    # localhost:443 - hence "connection refused".
    stored = store.platform_of(name)
    if stored is not None:
        return (
            f"the base image {name} ({where}) is in podman's image store for {stored}, "
            f"not for the platform {platform}",
            f"Build for the image's platform with --platform {stored}, or make a "
            f"{platform} variant of the base image.",
        )
    if store.rootless is True:
        other = (
            "Images built or pulled with sudo are in root's store, which rootless podman "
            f"does not see: copy it with `sudo podman save {name} | podman load`, or build "
            "it again without sudo."
        )
        whose = "rootless podman's own store"
    elif store.rootless is False:
        other = (
            "Images built or pulled without sudo are in each user's own store, which "
            f"root's podman does not see: copy it with `podman save {name} | sudo podman "
            "load`, or build it again as root."
        )
        whose = "root's store"
    else:
        other = "Build or load the image into the store of the podman service in use."
        whose = "the store of the podman service in use"
    return (f"the base image {name} ({where}) is not in {whose}", other)


def _from_image(instruction: str) -> str | None:
    """The image a ``FROM [--platform=...] IMAGE [AS name]`` names, as written."""
    words = instruction.split()
    if not words or words[0].upper() != "FROM":
        return None
    rest = [w for w in words[1:] if not w.startswith("--")]
    return rest[0] if rest else None


def _network_reason(rest: str, host: str) -> str:
    bare = host.split(":", maxsplit=1)[0]
    if "no such host" in rest:
        return f"no DNS answer for {bare}: no network, or a name only an intranet knows"
    if "connection refused" in rest:
        return f"{host} refused the connection"
    if "i/o timeout" in rest or "Timeout" in rest or "timeout" in rest:
        return f"no answer from {host} in time"
    if "network is unreachable" in rest:
        return "the network is unreachable"
    return rest.strip()


def _unknown_instruction(
    failure: BuildStepError, summary: ContextSummary, platform: str | None, store: StoreFacts,
    where: str,
) -> tuple[str, str] | None:  # fmt: skip
    found = _UNKNOWN_RE.search(failure.detail)
    if found is None:
        return None
    word = found.group("word").strip().upper()
    close = difflib.get_close_matches(word, INSTRUCTIONS, n=1, cutoff=0.5)
    guess = f"Did you mean {close[0]}? " if close else ""
    return (
        f"unknown Dockerfile instruction {word} ({where})",
        f"{guess}Dockerfile instructions are: {', '.join(INSTRUCTIONS)}.",
    )


def _missing_source(
    failure: BuildStepError, summary: ContextSummary, platform: str | None, store: StoreFacts,
    where: str,
) -> tuple[str, str] | None:  # fmt: skip
    found = _STAT_RE.search(failure.detail)
    keyword = failure.instruction.split(None, 1)[0].upper() if failure.instruction else ""
    if found is None or keyword not in ("COPY", "ADD"):
        return None
    source = found.group("path").rstrip("/")
    context = summary.context_dir
    if (context / source).exists() or (context / source).is_symlink():
        decider = summary.matcher().deciding_pattern(source)
        ignore = summary.ignore_file or ".dockerignore"
        pattern = (
            f"the pattern {decider.text!r} in {ignore}"
            if decider is not None
            else f"the patterns in {ignore} (a parent directory is excluded)"
        )
        return (
            f"the {keyword} source {source} ({where}) exists but is excluded from the build "
            f"context by {pattern}",
            f"Edit {ignore}: remove that pattern, or add a line '!{source}' after it.",
        )
    close = difflib.get_close_matches(source, summary.files, n=1, cutoff=0.6)
    guess = f"Did you mean {close[0]}? " if close else ""
    return (
        f"the {keyword} source {source} ({where}) does not exist in the build context {context}",
        f"{guess}{keyword} paths are relative to the build context, not to the Dockerfile; "
        "pass --context to send another directory.",
    )


def _dockerfile_line(dockerfile: Path, instruction: str) -> int | None:
    """The 1-based line where ``instruction`` (as podman echoes it) starts, if found."""
    try:
        lines = read_dockerfile(dockerfile).splitlines()
    except BuildError:
        return None
    wanted = " ".join(instruction.split())
    keyword = wanted.split(" ", 1)[0].upper() if wanted else ""
    start: int | None = None
    joined = ""
    fallback: int | None = None
    for number, text in enumerate(lines, 1):
        stripped = text.strip()
        if start is None:
            if not stripped or stripped.startswith("#"):
                continue
            start, joined = number, ""
        joined += " " + stripped.removesuffix("\\")
        if stripped.endswith("\\"):
            continue
        logical = " ".join(joined.split())
        if logical == wanted:
            return start
        if fallback is None and keyword and logical.split(" ", 1)[0].upper() == keyword:
            fallback = start
        start = None
    return fallback
