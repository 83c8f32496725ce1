"""Start a command and report its own peak memory (run as ``python -I -S launcher.py``).

``ru_maxrss`` of a child forked from the test process is useless: on Linux an
``exec`` records the replaced address space's high-water mark in the new
program's accounting, so every child of a pytest process that once held
400 MB "used" 400 MB. This launcher is a fresh, small interpreter: the program
it starts inherits only its few megabytes.

    python -I -S launcher.py REPORT ADDRESS_SPACE_LIMIT PROGRAM [ARGS...]

It limits its address space (inherited by the program), spawns the program
with the same stdin, stdout and stderr, waits for it, writes the program's
``ru_maxrss`` (KiB on Linux) to REPORT and exits with the program's status
(a program killed by signal N: exit 128 + N).
"""

import os
import resource
import sys


def main() -> int:
    report, limit, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    pid = os.posix_spawnp(argv[0], argv, os.environ)
    _, status, usage = os.wait4(pid, 0)
    with open(report, "w", encoding="ascii") as handle:
        handle.write(str(usage.ru_maxrss))
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    raise SystemExit(main())
