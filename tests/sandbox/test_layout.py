"""The sandbox's layout: db.py alone knows the SQL schema; the backend is split by resource."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from orca_nb import sandbox
from orca_nb.sandbox import Backend

SANDBOX = Path(sandbox.__file__).resolve().parent
SQL_WORDS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE FROM", "CREATE TABLE", "ALTER TABLE")


def _sql_sites(path: Path) -> list[str]:
    """``.execute(...)`` calls and string literals that read like SQL statements."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"execute", "executemany", "executescript"}
        ):
            found.append(f"{path.name}:{node.lineno}: .{node.func.attr}(...)")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.lstrip().upper().startswith(SQL_WORDS)
        ):
            found.append(f"{path.name}:{node.lineno}: {node.value[:40]!r}")
    return found


def test_only_the_db_module_runs_sql() -> None:
    offenders = [
        site
        for path in sorted(SANDBOX.glob("*.py"))
        if path.name != "db.py"
        for site in _sql_sites(path)
    ]
    assert offenders == []


def test_the_checker_sees_sql(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('def f(db):\n    db.execute("SELECT 1")\n', encoding="utf-8")
    assert len(_sql_sites(probe)) == 2


@pytest.mark.parametrize(
    ("module", "methods"),
    [
        ("accounts", {"account_for_key", "seed_demo", "set_balance", "billing_usage"}),
        ("groups", {"create_group", "list_groups", "update_group", "delete_group"}),
        ("assets", {"upload_asset", "list_assets", "delete_asset", "open_file"}),
        ("sessions", {"start_session", "get_session", "h5_complete"}),
        ("video_tasks", {"create_task", "get_task", "wait_for_renders"}),
    ],
)
def test_each_resource_family_lives_in_its_module(module: str, methods: set[str]) -> None:
    for name in methods:
        where = inspect.getmodule(getattr(Backend, name))
        assert where is not None, name
        assert where.__name__ == f"orca_nb.sandbox.{module}", name


def test_the_backend_module_is_only_the_facade() -> None:
    lines = (SANDBOX / "backend.py").read_text(encoding="utf-8").count("\n")
    assert lines < 250, f"backend.py grew to {lines} lines: put resource code in its module"
