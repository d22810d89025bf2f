"""The embedded singleton, the demo library seed and the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx
import pytest

from orca_nb import wire
from orca_nb.sandbox import Backend, SandboxServer, ensure_embedded, shutdown_embedded
from orca_nb.sandbox.cli import add_parser, config_from_args, run
from orca_nb.sandbox.demo import DEMO_GROUPS
from orca_nb.sandbox.embedded import DB_ENV, default_db_path
from tests.sandbox.conftest import client_for


def test_ensure_embedded_is_a_seeded_singleton(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DB_ENV, ":memory:")
    try:
        first = ensure_embedded()
        assert ensure_embedded() is first
        assert first.api_key == wire.DEFAULT_SANDBOX_KEY
        assert first.base_url == first.server.base_url
        assert first.base_url.startswith("http://127.0.0.1:")
        with client_for(first.server, first.api_key) as api:
            real = api.get(wire.GROUPS_PATH).json()
            aigc = api.get(wire.GROUPS_PATH, params={"group_type": "aigc"}).json()
            assets = api.get(wire.ASSETS_PATH, params={"group_type": "aigc"}).json()
            verified = api.get(wire.ASSETS_PATH).json()
        assert [g["Name"] for g in real["Items"]] == ["ada (verified)"]
        assert aigc["TotalCount"] == 2
        expected = sum(len(files) for _, _, kind, _, files in DEMO_GROUPS if kind == "AIGC")
        assert assets["TotalCount"] == expected
        assert {a["Status"] for a in assets["Items"] + verified["Items"]} == {"Active"}
    finally:
        shutdown_embedded()
    assert not first.server.running


def test_default_db_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DB_ENV, str(tmp_path / "x.sqlite3"))
    assert default_db_path() == str(tmp_path / "x.sqlite3")
    monkeypatch.delenv(DB_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_db_path() == str(tmp_path / "data" / "orca-nb" / "sandbox.sqlite3")


def test_demo_seed_is_idempotent(sandbox_backend: Backend, sandbox_server: SandboxServer) -> None:
    sandbox_backend.seed_demo("sk-orca-sandbox-second")
    sandbox_backend.seed_demo("sk-orca-sandbox-second")
    with client_for(sandbox_server, "sk-orca-sandbox-second") as api:
        assert api.get(wire.GROUPS_PATH, params={"group_type": "aigc"}).json()["TotalCount"] == 2
        assert api.get(wire.GROUPS_PATH).json()["TotalCount"] == 1
    root = httpx.post(
        sandbox_server.root_url + "/sandbox/admin/seed", json={"api_key": "sk-orca-sandbox-3"}
    )
    assert root.json() == {"ok": True}
    with client_for(sandbox_server, "sk-orca-sandbox-3") as api:
        assert api.get(wire.GROUPS_PATH).json()["TotalCount"] == 1
    with client_for(sandbox_server, "sk-orca-sandbox-fresh") as api:
        assert api.get(wire.GROUPS_PATH).json()["TotalCount"] == 0  # only the demo key


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["sandbox", *argv])


def test_cli_arguments(tmp_path: Path) -> None:
    args = parse("--port", "0", "--db", str(tmp_path / "s.db"), "--processing", "manual",
                 "--task-shape", "newapi", "--asset-cap", "5", "--seed", "3")  # fmt: skip
    config = config_from_args(args)
    assert (config.db_path, config.processing, config.task_shape) == (
        str(tmp_path / "s.db"),
        "manual",
        "newapi",
    )
    assert (config.asset_cap, config.seed) == (5, 3)
    assert args.func is run
    with pytest.raises(SystemExit):
        parse("--processing", "sometimes")


def test_cli_reports_bad_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(parse("--asset-cap", "-1", "--db", ":memory:")) == 2
    err = capsys.readouterr().err
    assert err.startswith("orca-nb sandbox: ")
    assert "asset_cap" in err
