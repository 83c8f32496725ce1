"""argparse ``type=bool`` is warned about: bool('False') is True at runtime."""

from __future__ import annotations

import argparse
import pathlib

from keynet_train.extraction import extract_hyperparameters

SCRIPT = """\
import argparse
p = argparse.ArgumentParser()
p.add_argument("--pretrained", type=bool, default=False)
p.add_argument("--lr", type=float, default=0.1)
p.parse_args()
"""


def test_type_bool_gets_a_warning_naming_the_argument(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(SCRIPT)
    result = extract_hyperparameters(path)
    warnings = [d for d in result.diagnostics if d.severity == "warning"]
    assert len(warnings) == 1
    assert warnings[0].line == 3
    assert "'pretrained' uses type=bool" in warnings[0].message
    # The fix takes the platform's --pretrained False (docs/platform-command.md).
    assert "type=str2bool, nargs='?', const=True" in warnings[0].message
    # The runtime fact the warning rests on.
    parser = argparse.ArgumentParser()
    parser.add_argument("--pretrained", type=bool, default=False)
    assert parser.parse_args(["--pretrained", "False"]).pretrained is True
