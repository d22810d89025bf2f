"""The servers orca_nb starts end a Voilà page's kernel with the page and cull idle kernels."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from orca_nb.widgets import cli, servers


def test_both_launches_cull_idle_unconnected_kernels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = tmp_path / "studio.ipynb"
    nb.write_text("{}")
    lab = cli.build_launch("lab", nb, port=8123, token="t", environ={}).argv
    voila = cli.build_launch("voila", nb, port=8123, token="t", environ={}).argv
    assert voila[1:3] == ("-m", "orca_nb.widgets.servers")  # Voilà with the hook and culling
    from voila.app import Voila

    seen: dict[str, Any] = {}
    monkeypatch.setattr(Voila, "launch_instance", lambda **kw: seen.update(kw))
    servers.main(list(voila[3:]))
    assert seen["config"].VoilaConfiguration.prelaunch_hook is servers.set_xsrf_cookie
    assert f"--MappingKernelManager.cull_idle_timeout={servers.CULL_IDLE_SECONDS}" in lab
    idle = f"--MappingKernelManager.cull_idle_timeout={servers.VOILA_CULL_IDLE_SECONDS}"
    assert idle in seen["argv"]
    for argv in (lab, seen["argv"]):
        assert "--MappingKernelManager.untracked_message_types=comm_msg" in argv
        assert "--MappingKernelManager.cull_connected=False" in argv
    assert "--Voila.token=t" in seen["argv"]


def test_a_cull_flag_given_replaces_the_launchers(monkeypatch: pytest.MonkeyPatch) -> None:
    from voila.app import Voila

    seen: dict[str, Any] = {}
    monkeypatch.setattr(Voila, "launch_instance", lambda **kw: seen.update(kw))
    servers.main(["nb.ipynb", "--MappingKernelManager.cull_idle_timeout=20"])
    idle = [a for a in seen["argv"] if a.startswith("--MappingKernelManager.cull_idle_timeout=")]
    assert idle == ["--MappingKernelManager.cull_idle_timeout=20"]  # traitlets refuses two
    assert "--MappingKernelManager.cull_connected=False" in seen["argv"]  # the rest stay


def test_the_prelaunch_hook_sets_the_xsrf_cookie_and_keeps_the_notebook() -> None:
    class Handler:
        reads = 0

        @property
        def xsrf_token(self) -> bytes:
            Handler.reads += 1  # Tornado sets the _xsrf cookie on the first read
            return b"token"

    assert servers.set_xsrf_cookie(Handler(), notebook={"cells": []}, cwd=".") is None
    assert Handler.reads == 1
    config = servers.voila_config()
    assert config.VoilaConfiguration.prelaunch_hook is servers.set_xsrf_cookie


def test_studio_command_starts_without_importing_pandas() -> None:
    code = (
        "import sys; from orca_nb.cli import main\n"
        "try:\n    main(['studio', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('pandas' in sys.modules, 'orca_nb.client' in sys.modules)"
    )
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip().splitlines()[-1] == "False False"
    assert time.monotonic() - start < 30
