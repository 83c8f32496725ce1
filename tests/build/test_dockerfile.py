"""Which external images a Dockerfile reads (the base-image part of the build-reuse key)."""

from __future__ import annotations

import pytest

from keynet_train.build.dockerfile import SCRATCH, external_images

CASES = [
    ("plain", "FROM busybox:1.36\nCOPY . /app\n", {}, ["busybox:1.36"]),
    ("scratch", "FROM scratch\nCOPY a /a\n", {}, [SCRATCH]),
    ("lowercase keyword", "from localhost/base\n", {}, ["localhost/base"]),
    (
        "multi-stage: a stage name is no image",
        "FROM localhost/builder:1 AS build\nRUN make\nFROM localhost/run:2\n"
        "COPY --from=build /out /out\nFROM build AS again\n",
        {},
        ["localhost/builder:1", "localhost/run:2"],
    ),
    (
        "stage names are case-insensitive, indexes count",
        "FROM a:1 AS Build\nFROM b:2\nCOPY --from=BUILD /x /x\nCOPY --from=0 /y /y\n",
        {},
        ["a:1", "b:2"],
    ),
    (
        "COPY --from an image",
        "FROM scratch\nCOPY --from=localhost/tools:3 /bin/tool /tool\n",
        {},
        [SCRATCH, "localhost/tools:3"],
    ),
    (
        "RUN --mount from an image",
        "FROM a\nRUN --mount=type=bind,from=localhost/cache:1,target=/c ls /c\n",
        {},
        ["a", "localhost/cache:1"],
    ),
    ("ARG default", "ARG BASE=localhost/a:1\nFROM ${BASE}\n", {}, ["localhost/a:1"]),
    ("--build-arg wins", "ARG BASE=localhost/a:1\nFROM $BASE\n", {"BASE": "b:2"}, ["b:2"]),
    (
        "several ARGs on one line, quoted",
        'ARG REG="localhost" TAG=7\nFROM $REG/img:${TAG}\n',
        {},
        ["localhost/img:7"],
    ),
    ("${VAR:-default}", "ARG TAG\nFROM img:${TAG:-9}\n", {}, ["img:9"]),
    ("${VAR:+alt}", "ARG DEV=1\nFROM img${DEV:+-dev}\n", {}, ["img-dev"]),
    ("--platform flag", "FROM --platform=linux/amd64 img:1 AS x\n", {}, ["img:1"]),
    (
        "continuations and comments inside them",
        "FROM \\\n# a comment\n  img:1 \\\n  AS base\n",
        {},
        ["img:1"],
    ),
    (
        "escape directive",
        "# escape=`\nFROM img:1 `\n  AS base\nRUN echo \\\n",
        {},
        ["img:1"],
    ),
    (
        "heredoc bodies are not instructions",
        "FROM img:1\nRUN <<EOF\nFROM not-an-image\nEOF\nCOPY <<-END /x\n\tFROM nor-this\n\tEND\n",
        {},
        ["img:1"],
    ),
    ("duplicates once", "FROM a\nFROM a\n", {}, ["a"]),
    ("ARG after FROM is not global", "FROM a\nARG B=b\nFROM $B\n", None, None),
    ("undeclared variable", "FROM $NOPE\n", None, None),
    ("unsupported expansion", "ARG A=x\nFROM ${A%x}\n", None, None),
    ("variable in --from", "FROM a\nARG S=x\nCOPY --from=$S /a /a\n", None, None),
    ("no FROM", "RUN echo\n", None, None),
    ("FROM without image", "FROM --platform=x\n", None, None),
    ("unbalanced quote", "ARG A='x\nFROM a\n", None, None),
]


@pytest.mark.parametrize(
    ("text", "build_args", "expected"),
    [(c[1], c[2], c[3]) for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_external_images(
    text: str, build_args: dict[str, str] | None, expected: list[str] | None
) -> None:
    assert external_images(text, build_args or {}) == expected
