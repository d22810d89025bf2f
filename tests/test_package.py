"""The public surface in a fresh process: ``Orca()`` without a key uses the embedded sandbox and
says so once; ``import orca_nb`` loads nothing heavy."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import orca_nb

HEAVY = ("pandas", "ipywidgets", "ipyvuetify", "av", "numpy", "PIL", "starlette", "uvicorn")


def _run(code: str, tmp_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ORCAROUTER_API_KEY"}
    env.update(tmp_env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_orca_without_a_key_starts_the_embedded_sandbox_and_says_so_once(tmp_path: Path) -> None:
    done = _run(
        """
        from orca_nb import Orca
        with Orca() as client, Orca() as second:
            assert client.is_sandbox and second.is_sandbox
            gid = client.groups.create(name="from a fresh process").id
            listed = client.groups.list(group_type="aigc").items
            assert gid in [g.id for g in listed], listed
            assert "127.0.0.1" in client.base_url
        print("ok")
        """,
        {"ORCA_NB_SANDBOX_DB": ":memory:", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    notes = [line for line in done.stderr.splitlines() if "sandbox" in line.lower()]
    assert len(notes) == 1, done.stderr  # once, although two clients were made
    assert "embedded OrcaRouter sandbox" in notes[0]
    assert "ORCAROUTER_API_KEY" in notes[0]  # says how to use the real service
    assert "sk-orca" not in done.stderr  # the sandbox key is not printed


def test_import_orca_nb_loads_nothing_heavy() -> None:
    done = _run(
        f"""
        import sys
        import orca_nb
        assert orca_nb.__version__
        print(",".join(m for m in {HEAVY!r} + ("httpx", "orca_nb.client") if m in sys.modules))
        from orca_nb import Orca, AsyncOrca
        print(",".join(m for m in {HEAVY!r} if m in sys.modules))
        """,
        {},
    )
    assert done.returncode == 0, done.stderr
    at_import, with_client = done.stdout.splitlines()
    assert at_import == ""  # not even httpx until the client is asked for
    assert with_client == ""  # the client needs no media, widgets or sandbox stack


def test_unknown_attribute_is_a_clear_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        getattr(orca_nb, "Nope")  # noqa: B009
