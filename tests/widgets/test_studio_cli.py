"""``orca-nb studio``: the launch it builds, and a real Voilà started, served and stopped."""

from __future__ import annotations

import argparse
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from orca_nb import wire
from orca_nb.widgets import cli

REPO_ROOT = Path(__file__).resolve().parents[2]
SMOKE_NOTEBOOK = REPO_ROOT / "tests" / "browser" / "notebooks" / "harness_smoke.ipynb"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orca-nb")
    cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_voila_launch_is_loopback_with_a_token_in_the_printed_url(tmp_path: Path) -> None:
    nb = tmp_path / "studio.ipynb"
    nb.write_text("{}")
    launch = cli.build_launch("voila", nb, port=8123, token="tok", environ={})
    assert "--Voila.ip=127.0.0.1" in launch.argv
    assert "--port=8123" in launch.argv
    assert "--Voila.token=tok" in launch.argv
    assert launch.url == "http://127.0.0.1:8123/?token=tok"
    assert launch.cwd == tmp_path


def test_lab_launch_opens_the_studio_notebook(tmp_path: Path) -> None:
    nb = tmp_path / "studio.ipynb"
    nb.write_text("{}")
    launch = cli.build_launch("lab", nb, port=8124, token="tok", environ={})
    assert "--ServerApp.ip=127.0.0.1" in launch.argv
    assert f"--ServerApp.root_dir={tmp_path}" in launch.argv
    assert "--IdentityProvider.token=tok" in launch.argv
    assert launch.url == "http://127.0.0.1:8124/lab/tree/studio.ipynb?token=tok"


def test_launch_gets_a_fresh_token_and_a_free_port(tmp_path: Path) -> None:
    nb = tmp_path / "studio.ipynb"
    nb.write_text("{}")
    first = cli.build_launch("voila", nb, environ={})
    second = cli.build_launch("voila", nb, environ={})
    assert first.port > 0
    assert re.search(r"\?token=[\w-]{20,}$", first.url)
    assert first.url.split("token=")[1] != second.url.split("token=")[1]


def test_real_credentials_never_reach_the_studio_server(tmp_path: Path) -> None:
    nb = tmp_path / "studio.ipynb"
    nb.write_text("{}")
    environ = {
        wire.API_KEY_ENV: "sk-orca-test-not-for-the-studio",
        wire.BASE_URL_ENV: "https://example.invalid/v1",
        "PYTHONPATH": "/elsewhere",
        "KEEP": "me",
    }
    env = cli.build_launch("lab", nb, environ=environ).env
    assert wire.API_KEY_ENV not in env
    assert wire.BASE_URL_ENV not in env
    assert env["KEEP"] == "me"
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO_ROOT), "/elsewhere"]


def test_repository_notebook_is_found_and_a_missing_one_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--notebook PATH"):
        cli.find_notebook(str(tmp_path / "nope.ipynb"))
    assert cli.find_notebook(str(SMOKE_NOTEBOOK)) == SMOKE_NOTEBOOK


def test_parser_defaults_to_lab_and_rejects_bad_ports_and_both_modes() -> None:
    args = _parser().parse_args(["studio"])
    assert (args.voila, args.lab, args.port, args.no_browser) == (False, False, None, False)
    assert callable(args.func)
    args = _parser().parse_args(["studio", "--voila", "--port", "9000", "--no-browser"])
    assert (args.voila, args.port, args.no_browser) == (True, 9000, True)
    for bad in (
        ["studio", "--port", "0"],
        ["studio", "--port", "x"],
        ["studio", "--voila", "--lab"],
    ):
        with pytest.raises(SystemExit):
            _parser().parse_args(bad)


def test_missing_notebook_exits_2_with_advice(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["studio", "--no-browser", "--notebook", "/nonexistent.ipynb"])
    assert args.func(args) == 2
    assert "--notebook PATH" in capsys.readouterr().err


_DRIVER = """
import argparse, sys
from orca_nb.widgets import cli
parser = argparse.ArgumentParser()
cli.add_parser(parser.add_subparsers())
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_studio_serves_voila_on_loopback_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "run"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        ORCA_NB_SANDBOX_DB=str(tmp_path / "sandbox.db"),
        PYTHONPATH=str(REPO_ROOT),
    )
    argv = ["studio", "--voila", "--no-browser", "--notebook", str(SMOKE_NOTEBOOK)]
    proc = subprocess.Popen(
        [sys.executable, "-c", _DRIVER, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        url = ""
        deadline = time.monotonic() + 90
        while not url and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if m := re.search(r"(http://127\.0\.0\.1:(\d+)/\?token=\S+)", line):
                url = m.group(1)
        assert url, "no URL printed within 90 s"
        port = int(url.split(":")[2].split("/")[0])
        with httpx.Client(follow_redirects=True, timeout=30) as http:
            page = http.get(url)
            assert page.status_code == 200
            assert "voila" in page.text.lower()
        assert httpx.get(url.split("?")[0], timeout=30).status_code != 200  # token required
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not _port_open(port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        stdout.close()
