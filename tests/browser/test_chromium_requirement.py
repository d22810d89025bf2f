"""Without Chromium, browser tests skip on a laptop but fail in CI (where it must be installed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import require_chromium

pytestmark = pytest.mark.browser


def test_present_chromium_is_used(tmp_path: Path) -> None:
    exe = tmp_path / "chromium"
    exe.touch()
    assert require_chromium(exe, {"CI": "1"}) == exe


def test_missing_chromium_skips_locally(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        require_chromium(tmp_path / "nope", {})


def test_missing_chromium_fails_in_ci(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        require_chromium(tmp_path / "nope", {"CI": "true"})
