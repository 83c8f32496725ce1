"""One policy for every integration test: a missing binary fails, with or without CI."""

from __future__ import annotations

import pytest

from tests.support.conftest_plugin import require_binaries


@pytest.mark.parametrize("ci", [None, "", "true"])
def test_missing_binary_fails_whether_or_not_ci_is_set(
    monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="keynet-no-such-binary"):
        require_binaries("sh", "keynet-no-such-binary")


def test_present_binaries_pass() -> None:
    require_binaries("sh")
