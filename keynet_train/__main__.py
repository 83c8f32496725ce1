"""``python -m keynet_train``."""

from keynet_train.cli.main import run

run()
