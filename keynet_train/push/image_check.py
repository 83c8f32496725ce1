"""Check a built image the way the platform will use it, without running it.

The platform runs ``python {modelName} --name value ...`` in the image's
WORKDIR (docs/push.md). Before an upload key is requested, a push makes sure
that command can start in the image:

* the image's OS/architecture is the platform's (``--platform``, default
  ``linux/amd64``);
* the entrypoint is where the platform looks for it (``modelName`` relative
  to WORKDIR), with the same bytes as the file the hyperparameters were
  extracted from; without ``--model-name`` the model name is chosen from where
  the image holds it (its path relative to the build context, else its file
  name);
* ``python`` resolves on the image's PATH (symlinks followed inside the
  image) and the image's ENTRYPOINT does not swallow the command.

The files are read through :meth:`PodmanClient.image_files` (a container
created and never started); nothing in the image is run.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from keynet_train.errors import EntrypointError, ImageCheckError
from keynet_train.extraction.source import MAX_SOURCE_BYTES
from keynet_train.files import UnreadableFile, read_regular_file

if TYPE_CHECKING:
    from keynet_train.podman.client import PodmanClient
    from keynet_train.podman.image_files import ImageFiles, PathStat
    from keynet_train.podman.images import ImageConfig

#: podman's PATH for an image whose config sets none.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Folders Dockerfiles commonly copy a project into: looked at only when the
# entrypoint is not where the platform runs it, to make the fix concrete.
USUAL_DESTINATIONS = ("/app", "/workspace", "/code", "/src", "/opt/app", "/usr/src/app", "/project")
# Programs that run their arguments as a command (tini --, dumb-init, env).
PASS_THROUGH = frozenset({"tini", "tini-static", "dumb-init", "env", "catatonit"})
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})
# How much of an ENTRYPOINT script is read to see whether it runs "$@".
SCRIPT_READ_LIMIT = 256 * 1024
_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64"}
_RUNS_ARGUMENTS_RE = re.compile(rb"\$\{?[@*]")
_IMAGE_ID_RE = re.compile(r"(sha256:)?[0-9a-f]{64}")


class FactsMemo(Protocol):
    """Where passed checks are remembered (:class:`keynet_train.build.cache.ImageChecks`)."""

    def get(self, key: str) -> dict[str, object] | None:
        """The facts recorded under ``key``, if any."""
        ...

    def put(self, key: str, facts: dict[str, object]) -> None:
        """Record the facts of a passed check."""
        ...


@dataclass(frozen=True)
class ImageFacts:
    """What the image check established about the image."""

    #: The model name to register: where the platform finds the entrypoint, relative to WORKDIR.
    model_name: str
    #: The image's WORKDIR (``/`` when it sets none).
    workdir: str
    #: Where ``python`` resolves in the image (symlinks followed).
    python: str
    os: str
    architecture: str
    #: The image's ENTRYPOINT (empty when it has none).
    entrypoint: tuple[str, ...] = ()
    #: What could not be decided and may still stop the platform's command.
    warnings: tuple[str, ...] = ()

    @property
    def entrypoint_path(self) -> str:
        """The entrypoint's absolute path in the image."""
        return posixpath.normpath(posixpath.join(self.workdir, self.model_name))


def check_image(
    client: PodmanClient,
    image: str,
    *,
    entrypoint: Path,
    context: Path,
    model_name: str | None,
    platform: str,
    dockerfile: Path | None = None,
    memo: FactsMemo | None = None,
) -> ImageFacts:
    """Check ``image`` for the platform's command without running it; see the module doc.

    ``entrypoint`` is the local script the hyperparameters were extracted
    from, ``context`` the build context it was sent in, ``model_name`` the
    user's ``--model-name`` (None: chosen here), ``platform`` ``OS/ARCH[/VARIANT]``
    and ``dockerfile`` the file named in messages. With ``memo``, a check that
    passed before for the same image id, script bytes, path, model name and
    platform is not made again.

    Raises:
        ImageCheckError: the image is for another platform, lacks the entrypoint
            where the platform runs it, holds a different copy of it, has no
            ``python`` on its PATH, or has an ENTRYPOINT that swallows the command.
        EntrypointError: the local entrypoint cannot be read any more.
        BuildError / PodmanUnavailableError: podman failed to answer.
    """
    built_from = f"the image built from {dockerfile}" if dockerfile else f"image {image}"
    local = _read_entrypoint(entrypoint)
    relative = _relative_to_context(entrypoint, context)
    key = _memo_key(image, local, relative, model_name, platform) if memo is not None else None
    known = _facts_from(memo.get(key)) if memo is not None and key is not None else None
    if known is not None:
        return known
    config = client.image_config(image)
    _check_platform(config, platform, built_from, dockerfile)
    workdir = _workdir(config)
    with client.image_files(image) as files:
        chosen, found, copy = _locate_entrypoint(
            files, workdir, relative, model_name, len(local), built_from, dockerfile
        )
        _compare_entrypoint(found, copy, local, entrypoint, built_from, dockerfile)
        path_dirs = _path_dirs(config, workdir)
        python = _find_python(files, path_dirs, chosen, built_from, dockerfile)
        warnings = _check_entrypoint_instruction(
            files, config, workdir, path_dirs, built_from, dockerfile
        )
    facts = ImageFacts(
        model_name=chosen,
        workdir=workdir,
        python=python,
        os=config.os,
        architecture=config.architecture,
        entrypoint=config.entrypoint,
        warnings=tuple(warnings),
    )
    if memo is not None and key is not None:
        memo.put(key, asdict(facts))
    return facts


def _read_entrypoint(entrypoint: Path) -> bytes:
    """The local script's bytes, read as extraction read them (regular, bounded, no FIFO).

    Raises:
        EntrypointError: the entrypoint cannot be read any more.
    """
    try:
        return read_regular_file(entrypoint, MAX_SOURCE_BYTES + 1)
    except UnreadableFile as e:
        raise EntrypointError(f"Cannot read entrypoint {entrypoint}: it {e.reason}") from None


def _memo_key(
    image: str, local: bytes, relative: str, model_name: str | None, platform: str
) -> str | None:
    """Everything a check reads, as one digest (the image by id, the script by content).

    None for an image named by a tag: only an image id names fixed content (a tag
    can move to another image).
    """
    if not _IMAGE_ID_RE.fullmatch(image):
        return None
    parts = [1, image, hashlib.sha256(local).hexdigest(), relative, model_name, platform]
    return hashlib.sha256(json.dumps(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _facts_from(recorded: dict[str, object] | None) -> ImageFacts | None:
    """The :class:`ImageFacts` a memo recorded; None when absent or not of this version."""
    if recorded is None or set(recorded) != {f.name for f in fields(ImageFacts)}:
        return None
    texts = [recorded[n] for n in ("model_name", "workdir", "python", "os", "architecture")]
    lists = [recorded["entrypoint"], recorded["warnings"]]
    if not all(isinstance(v, str) for v in texts) or not all(
        isinstance(v, list) and all(isinstance(i, str) for i in v) for v in lists
    ):
        return None
    model_name, workdir, python, os_name, architecture = (str(v) for v in texts)
    entrypoint, warnings = (tuple(str(i) for i in v) for v in lists)  # type: ignore[attr-defined]
    return ImageFacts(model_name, workdir, python, os_name, architecture, entrypoint, warnings)


# --------------------------------------------------------------------------- platform


def _check_platform(
    config: ImageConfig, platform: str, built_from: str, dockerfile: Path | None
) -> None:
    want_os, want_arch, *rest = platform.split("/")
    want_variant = rest[0] if rest else None
    have_arch = _ARCH_ALIASES.get(config.architecture, config.architecture)
    have = "/".join(p for p in (config.os, have_arch, config.variant) if p)
    if (
        config.os == want_os
        and have_arch == _ARCH_ALIASES.get(want_arch, want_arch)
        and (want_variant is None or config.variant in (None, want_variant))
    ):
        return
    where = f" in {dockerfile}" if dockerfile else ""
    raise ImageCheckError(
        f"{_capital(built_from)} is for {have or 'an unknown platform'} (the Os and "
        f"Architecture of its config), but the platform runs {platform} images: its nodes "
        "could not start it.",
        f"Build for {platform}: pass --platform {platform} (or set platform in the project "
        f"file), and use base images published for it (a FROM --platform=...{where} that "
        "names another platform overrides the build's).",
    )


# --------------------------------------------------------------------------- entrypoint


def _workdir(config: ImageConfig) -> str:
    # podman stores WORKDIR absolute; an image without one starts in /.
    workdir = config.workdir or "/"
    return posixpath.normpath(posixpath.join("/", workdir))


def _relative_to_context(entrypoint: Path, context: Path) -> str:
    located = Path(os.path.realpath(entrypoint.parent)) / entrypoint.name
    try:
        return located.relative_to(os.path.realpath(context)).as_posix()
    except ValueError:
        return entrypoint.name


def _in_image(workdir: str, model_name: str) -> str:
    return posixpath.normpath(posixpath.join(workdir, model_name))


def _locate_entrypoint(
    files: ImageFiles,
    workdir: str,
    relative: str,
    model_name: str | None,
    size: int,
    built_from: str,
    dockerfile: Path | None,
) -> tuple[str, PathStat, bytes | None]:
    """The model name, what is at its path and its content if at most ``size`` bytes.

    The model name is the one given, else the first candidate the image has.
    """
    candidates = (
        [model_name]
        if model_name
        else list(dict.fromkeys([relative, posixpath.basename(relative)]))
    )
    looked: list[str] = []
    for candidate in candidates:
        path = _in_image(workdir, candidate)
        looked.append(path)
        # The content comes with the look (one request): it is compared next.
        found, copy = files.fetch(path, size)
        if found is None or not found.exists:
            continue
        if not found.is_regular:
            kind = "a folder" if found.is_dir else "not a regular file"
            raise ImageCheckError(
                f"{_capital(built_from)} has {kind} at {path}, where the platform runs "
                f"`python {candidate}` (WORKDIR {workdir}).",
                _copy_hint(relative, workdir, dockerfile),
            )
        return candidate, found, copy
    raise _missing_entrypoint(files, workdir, relative, model_name, looked, built_from, dockerfile)


def _missing_entrypoint(
    files: ImageFiles,
    workdir: str,
    relative: str,
    model_name: str | None,
    looked: list[str],
    built_from: str,
    dockerfile: Path | None,
) -> ImageCheckError:
    """The error for an entrypoint the image holds nowhere the platform looks."""
    file = dockerfile or "the Dockerfile"
    if model_name:
        message = (
            f"{_capital(built_from)} has no file at {looked[0]}: --model-name {model_name} "
            f"makes the platform run `python {model_name}` in the image's WORKDIR {workdir}."
        )
    else:
        message = (
            f"{_capital(built_from)} has no {relative} where the platform runs it: looked at "
            f"{' and '.join(looked)} (the platform runs `python MODEL_NAME` in the image's "
            f"WORKDIR {workdir}, MODEL_NAME being the script's path in the build context or "
            "its file name)."
        )
    elsewhere = _find_elsewhere(files, workdir, relative, looked)
    if elsewhere is not None:
        root, path = elsewhere
        name = posixpath.relpath(path, root)
        hint = (
            f"The image holds it at {path}. Set WORKDIR {root} in {file} (the platform then "
            f"runs `python {name}` there), or pass --model-name "
            f"{posixpath.relpath(path, workdir)}."
        )
        if root == workdir:
            hint = f"The image holds it at {path}: pass --model-name {name}."
    elif "/" in relative:
        hint = (
            f"Copy the build context into the image and make that folder the WORKDIR (COPY . "
            f"/app and WORKDIR /app in {file}: the platform then runs `python {relative}`), "
            f"or copy the script into the WORKDIR (COPY {relative} "
            f"{_in_image(workdir, posixpath.basename(relative))}) and pass --model-name "
            f"{posixpath.basename(relative)}."
        )
    else:
        hint = _copy_hint(relative, workdir, dockerfile)
    return ImageCheckError(message, hint)


def _copy_hint(relative: str, workdir: str, dockerfile: Path | None) -> str:
    target = _in_image(workdir, relative)
    return (
        f"Copy the script into the image where the platform runs it: COPY {relative} {target} "
        f"in {dockerfile or 'the Dockerfile'} (or COPY . {workdir}), or pass --model-name "
        "with its path relative to the image's WORKDIR."
    )


def _find_elsewhere(
    files: ImageFiles, workdir: str, relative: str, looked: list[str]
) -> tuple[str, str] | None:
    """A usual destination folder holding ``relative`` (or its file name), and that path."""
    for root in dict.fromkeys([workdir, *USUAL_DESTINATIONS, "/"]):
        for candidate in dict.fromkeys([relative, posixpath.basename(relative)]):
            path = _in_image(root, candidate)
            if path in looked:
                continue
            found = files.stat(path)
            if found is not None and found.exists and found.is_regular:
                return root, path
    return None


def _compare_entrypoint(
    found: PathStat,
    copy: bytes | None,
    local: bytes,
    entrypoint: Path,
    built_from: str,
    dockerfile: Path | None,
) -> None:
    """The image's ``copy`` (None: over ``len(local)`` bytes) must be the file extracted from."""
    if found.size == len(local) and copy == local:
        return
    detail = (
        f"{found.size} bytes there, {len(local)} here"
        if found.size != len(local)
        else "same size, different content"
    )
    raise ImageCheckError(
        f"{_capital(built_from)} holds a different {found.path} than {entrypoint} ({detail}): "
        "the hyperparameters were extracted from the local file, so they would describe "
        "another script than the one the platform runs.",
        f"Make {dockerfile or 'the Dockerfile'} copy this file to {found.path} and no later "
        "step change it, or pass --model-name with the path of this script in the image.",
    )


# --------------------------------------------------------------------------- python


def _path_dirs(config: ImageConfig, workdir: str) -> list[str]:
    """The image's PATH as absolute folders (an empty or relative entry is relative to WORKDIR)."""
    path = DEFAULT_PATH
    for item in config.env:
        if item.startswith("PATH="):
            path = item[len("PATH=") :]
    dirs = [posixpath.normpath(posixpath.join(workdir, d)) for d in path.split(":")]
    return list(dict.fromkeys(dirs))


def _find_python(
    files: ImageFiles,
    path_dirs: list[str],
    model_name: str,
    built_from: str,
    dockerfile: Path | None,
) -> str:
    """Where ``python`` resolves on PATH, as the platform's ``python ...`` would find it."""
    notes: list[str] = []
    for folder in path_dirs:
        path = posixpath.join(folder, "python")
        found = files.stat(path)
        if found is None:
            continue
        if found.executable:
            return found.target
        if not found.exists:
            notes.append(f"{path} is a symlink to {found.target}, which does not exist")
        elif not found.is_regular:
            notes.append(f"{path} is not a file")
        else:
            notes.append(f"{path} is not executable")
    file = dockerfile or "the Dockerfile"
    python3 = _find_executable(files, path_dirs, "python3")
    if python3 is not None:
        hint = (
            f"The image has python3 ({python3}) but no `python`: add "
            f"`RUN ln -s {python3} /usr/local/bin/python` to {file}."
        )
    else:
        hint = (
            f"Use a base image with Python in {file} (e.g. FROM python:3.11-slim), or put the "
            "folder holding python on PATH (ENV PATH=/opt/conda/bin:$PATH)."
        )
    noted = f" ({'; '.join(notes)})" if notes else ""
    raise ImageCheckError(
        f"`python` is not on the PATH of {built_from}: looked in {':'.join(path_dirs)}"
        f"{noted}. The platform runs `python {model_name}`, which could not start.",
        hint,
    )


def _find_executable(files: ImageFiles, path_dirs: list[str], name: str) -> str | None:
    for folder in path_dirs:
        found = files.stat(posixpath.join(folder, name))
        if found is not None and found.executable:
            return found.target
    return None


# --------------------------------------------------------------------------- ENTRYPOINT


def _check_entrypoint_instruction(
    files: ImageFiles,
    config: ImageConfig,
    workdir: str,
    path_dirs: list[str],
    built_from: str,
    dockerfile: Path | None,
) -> list[str]:
    """An ENTRYPOINT gets the platform's command as its arguments: it must run them.

    Returns warnings for an ENTRYPOINT whose behaviour cannot be told statically.
    """
    argv = list(config.entrypoint)
    if not argv:
        return []
    shown = "[" + ", ".join(f'"{a}"' for a in argv) + "]"
    program = posixpath.basename(argv[0])
    file = dockerfile or "the Dockerfile"
    fix = (
        f"Remove the ENTRYPOINT from {file} (`ENTRYPOINT []` clears one the base image "
        'sets), or make it a wrapper that ends with exec "$@".'
    )

    def swallowed(reason: str) -> ImageCheckError:
        return ImageCheckError(
            f"The ENTRYPOINT {shown} of {built_from} would swallow the platform's command: "
            f"the platform's `python ...` is passed to it as arguments, and {reason}.",
            fix,
        )

    if program in PASS_THROUGH:
        return []
    if program in SHELLS and "-c" in argv[1:]:
        script = argv[argv.index("-c") + 1] if argv.index("-c") + 1 < len(argv) else ""
        if _RUNS_ARGUMENTS_RE.search(script.encode()):
            return []
        raise swallowed(f"`{program} -c` runs only its script")
    if program.startswith("python"):
        raise swallowed(f"{program} would run `{program} python ...`")
    located = _locate_program(files, argv[0], path_dirs, workdir)
    if located is None:
        raise ImageCheckError(
            f"The ENTRYPOINT {shown} of {built_from} names {argv[0]}, which is not in the "
            f"image (looked {'on PATH' if '/' not in argv[0] else 'at ' + argv[0]}): no "
            "container of it could start.",
            fix,
        )
    head = (
        files.read(located.target, SCRIPT_READ_LIMIT) if located.size <= SCRIPT_READ_LIMIT else None
    )
    if head is not None and head.startswith(b"#!"):
        if _RUNS_ARGUMENTS_RE.search(head):
            return []
        raise swallowed(f'the script {located.target} never runs its arguments (no "$@")')
    return [
        f"The image's ENTRYPOINT {shown} receives the platform's `python ...` command as "
        "arguments; keynet-train cannot tell whether it runs them. If it does not, the "
        f"training never starts: {fix}"
    ]


def _locate_program(
    files: ImageFiles, program: str, path_dirs: list[str], workdir: str
) -> PathStat | None:
    """The executable ``program`` names: a path (relative to WORKDIR), else looked up on PATH."""
    if "/" in program:
        candidates = [_in_image(workdir, program)]
    else:
        candidates = [posixpath.join(d, program) for d in path_dirs]
    for path in candidates:
        found = files.stat(path)
        if found is not None and found.executable:
            return found
    return None


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
