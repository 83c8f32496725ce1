"""Configurator globals computed at runtime are listed with a null default (issue 17 item 6)."""

import os

batch_size = 12
workers = int(os.cpu_count() or 1)
run_name = f"run-{os.getpid()}"
multi = os.cpu_count() > 1
host = os.uname().nodename
exec(open(os.path.join(os.path.dirname(__file__), "support", "configurator.py")).read())  # noqa: SIM115
