"""`.dockerignore` vectors written from Docker's documented rules.

Each vector is an ignore file and, for a set of files, whether Docker leaves
the file out of what ``COPY . /ctx`` puts in the image. The rules come from Docker's
documentation of `.dockerignore` and from reading moby's patternmatcher and
its tests (the cases are our own):

* patterns are cleaned like Go's ``filepath.Clean``; a leading ``/`` is
  dropped; surrounding whitespace is trimmed; ``#`` starts a comment only in
  column 0;
* a pattern without wildcards is compared exactly; one ending in ``**`` (and
  no wildcard before) is a prefix test; one starting with ``**`` (and no
  wildcard after) is a suffix test, so ``**.log`` leaves out every file
  ending in ``.log`` at any depth; everything else is a regular expression
  where ``*`` and ``?`` stop at ``/``, ``**`` spans directories (also none),
  ``[...]`` is a class (with RE2's POSIX classes such as ``[[:digit:]]``) and
  ``\\`` passes the next character to the regex as written;
* a pattern matching a directory leaves out everything below it;
* ``!`` re-includes; the last matching pattern decides; an excluded
  directory is only walked into when an exception pattern's text starts with
  that directory's path;
* the Dockerfile and the ignore file are always sent to the builder, but a
  ``COPY .`` still leaves them out when the ignore file lists them.

``PODMAN_CLI_DIFFERS`` lists the vectors where ``podman build`` (buildah's
matcher, containers/storage fileutils) decides differently from Docker, as
observed with podman 4.3.1; docs/dockerignore.md explains each and which
one keynet-train follows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vector:
    """An ignore file and the verdict for each file of a small tree (True: left out)."""

    name: str
    ignore: str
    verdicts: dict[str, bool]

    @property
    def kept(self) -> frozenset[str]:
        """The files (of ``verdicts``) a ``COPY . /ctx`` puts in the image."""
        return frozenset(path for path, out in self.verdicts.items() if not out)


VECTORS = (
    Vector(
        "exact-name-at-root-only",
        "notes.txt\n",
        {"notes.txt": True, "sub/notes.txt": False, "notes.txt.bak": False},
    ),
    Vector(
        "leading-slash-and-dot-segments-are-cleaned",
        "/build/../dist\n./cache/\n",
        {"dist/app.bin": True, "cache/x": True, "build/keep": False},
    ),
    Vector(
        "whitespace-trimmed-hash-only-in-column-0",
        "  temp.dat  \n# keep.txt\n #odd\n",
        {"temp.dat": True, "# keep.txt": False, "keep.txt": False, "#odd": True},
    ),
    Vector(
        "star-stays-in-one-directory",
        "*.tmp\nlogs/*.log\n",
        {"a.tmp": True, "dir/a.tmp": False, "logs/x.log": True, "logs/old/x.log": False},
    ),
    Vector(
        "question-mark-is-one-character-not-slash",
        "run?.out\n",
        {"run1.out": True, "run12.out": False, "run.out": False},
    ),
    Vector(
        "doublestar-any-depth-also-none",
        "**/__pycache__\nsrc/**/test_*.py\n",
        {
            "__pycache__/m.pyc": True,
            "pkg/deep/__pycache__/m.pyc": True,
            "src/test_top.py": True,
            "src/a/b/test_deep.py": True,
            "src/a/helper.py": False,
            "tests/test_other.py": False,
        },
    ),
    Vector(
        "leading-doublestar-is-a-suffix-test",
        "**.log\n**cache\n",
        {
            "app.log": True,
            "deep/dir/app.log": True,
            "catalog": False,
            "pkg/mycache": True,
            "mycache/file": True,
            "cache.d/x": False,
        },
    ),
    Vector(
        "leading-doublestar-slash-name",
        "**/secret.key\n",
        {"secret.key": True, "a/b/secret.key": True, "a/mysecret.key": False},
    ),
    Vector(
        "trailing-doublestar-is-a-prefix-test",
        "out**\nbuild/**\n",
        {"out": True, "output/x": True, "build/x/y": True, "builder/x": False},
    ),
    Vector(
        "wildcard-then-trailing-doublestar-is-a-regex-not-a-prefix",
        "cache*/**\n",
        {"cache1/a": True, "cache/b/c": True, "cachefile": False},
    ),
    Vector(
        "directory-pattern-covers-everything-below",
        "data\n",
        {"data/a": True, "data/b/c": True, "database.py": False},
    ),
    Vector(
        "character-classes-ranges-and-negation",
        "v[0-9].bin\nw[^a-c].bin\n",
        {"v3.bin": True, "vx.bin": False, "wd.bin": True, "wa.bin": False},
    ),
    Vector(
        "posix-class-inside-brackets",
        "shard-[[:digit:]][[:digit:]]\n",
        {"shard-07": True, "shard-7x": False, "shard-ab": False},
    ),
    Vector(
        "backslash-escapes-a-wildcard",
        "star\\*name\n",
        {"star*name": True, "starXname": False},
    ),
    Vector(
        "backslash-passes-the-next-character-to-the-regex",
        "ckpt\\d.pt\n",
        {"ckpt1.pt": True, "ckptd.pt": False},
    ),
    Vector(
        "regex-metacharacters-are-literal",
        "a+b(1).txt\nver$ion\n",
        {"a+b(1).txt": True, "aab1.txt": False, "ver$ion": True},
    ),
    Vector(
        "caret-outside-a-class-in-a-plain-name-is-literal",
        "x^y\n",
        {"x^y": True, "xy": False},
    ),
    Vector(
        "exception-after-pattern-re-includes",
        "*.md\n!README.md\n",
        {"README.md": False, "CHANGES.md": True},
    ),
    Vector(
        "exception-before-pattern-loses",
        "!README.md\n*.md\n",
        {"README.md": True, "CHANGES.md": True},
    ),
    Vector(
        "exception-inside-excluded-directory",
        "models\n!models/final.pt\n",
        {"models/final.pt": False, "models/epoch1.pt": True},
    ),
    Vector(
        "wildcard-exception-under-excluded-directory",
        "models\n!models/*.json\n",
        {"models/config.json": False, "models/w.pt": True, "models/sub/c.json": True},
    ),
    Vector(
        "exception-not-starting-with-the-directory-does-not-reach-in",
        "models\n!**/final.pt\n",
        {"models/final.pt": True, "final.pt": False},
    ),
    Vector(
        "allowlist",
        "*\n!src\n!train.py\n",
        {"train.py": False, "src/m.py": False, "src/sub/n.py": False, "notes.txt": True},
    ),
    Vector(
        "re-exclude-after-exception",
        "logs\n!logs\nlogs/debug.log\n",
        {"logs/debug.log": True, "logs/info.log": False},
    ),
    Vector(
        "dockerfile-and-ignore-file-are-sent-but-not-copied",
        "Dockerfile\n.dockerignore\n*\n",
        {"Dockerfile": True, ".dockerignore": True, "other": True},
    ),
    Vector(
        "dotfiles",
        ".*\n!.keep\n",
        {".env": True, ".keep": False, "dir/.env": False},
    ),
    Vector(
        "non-ascii-names",
        "données/*.csv\n",
        {"données/a.csv": True, "données/b.txt": False, "donnees/a.csv": False},
    ),
)

# Vectors where `podman build` itself (podman 4.3.1) decides otherwise:
# name -> the files on which the two disagree (podman's matcher has no
# exact/suffix fast paths and translates every pattern to a regex).
PODMAN_CLI_DIFFERS: dict[str, frozenset[str]] = {
    "leading-doublestar-is-a-suffix-test": frozenset(
        {"deep/dir/app.log", "app.log", "pkg/mycache", "mycache/file"}
    ),
    "caret-outside-a-class-in-a-plain-name-is-literal": frozenset({"x^y"}),
    # podman does not escape + ( ): "a+b(1).txt" becomes a regex matching
    # "aab1.txt" and not itself.
    "regex-metacharacters-are-literal": frozenset({"aab1.txt", "a+b(1).txt"}),
}

# Where podman's own matcher leaves out MORE than Docker, the image built from
# our tar lacks those files too: podman applies the ignore file it finds in the
# context once more on its side (name -> the files missing from the image).
PODMAN_SERVICE_ALSO_EXCLUDES: dict[str, frozenset[str]] = {
    "regex-metacharacters-are-literal": frozenset({"aab1.txt"}),
}

# Ignore files Docker refuses (Go's filepath.Match calls them bad patterns).
INVALID = ("[]a]\n", "[x-]\n", "[a-b-c]\n", "x[\n", "trailing\\\n", "!\n")
