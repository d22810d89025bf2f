"""Pre-flight agrees with the sandbox: every public sample URL gets the verdict its card states."""

from __future__ import annotations

import pytest

from orca_nb.media import MediaUnreadableError, preflight
from orca_nb.sandbox import SandboxServer
from orca_nb.sandbox.samples import SAMPLES


def _first_error(url: str, asset_type: str) -> str | None:
    """The Error.Code the file would fail with (None: accepted)."""
    try:
        report = preflight(url, asset_type)
    except MediaUnreadableError as exc:
        return exc.code
    assert report.asset_type == asset_type
    assert report.ok is (not report.violations)
    return report.violations[0].code if report.violations else None


@pytest.mark.parametrize("filename", sorted(SAMPLES))
def test_sample_urls(sandbox_server: SandboxServer, filename: str) -> None:
    sample = SAMPLES[filename]
    url = f"{sandbox_server.root_url}/sandbox/samples/{filename}"
    code = _first_error(url, sample.asset_type)
    assert code == sample.expected_error
    assert (code is None) is sample.valid
