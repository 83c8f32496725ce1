"""``python -m keynet_train`` (the same fast path for --version as the console script)."""

from keynet_train.cli.entry import run

run()
