"""Asset list pages: every sort order and filter pages through exactly the right rows, in order,
with the page chosen on an index (the list does not sort or scan the whole library)."""

from __future__ import annotations

import sqlite3

import pytest

from orca_nb import wire
from orca_nb.sandbox import Backend
from orca_nb.sandbox.processing import Verdict

ROOT = "http://127.0.0.1:1"


@pytest.fixture
def library(sandbox_backend: Backend, sandbox_key: str) -> tuple[Backend, str, list[str]]:
    """Five groups (two real-human) with 47 assets of mixed times and statuses."""
    backend = sandbox_backend
    account = backend.account_for_key(sandbox_key)
    group_ids: list[str] = []
    with backend.db.tx() as db:
        for g in range(5):
            kind = "LivenessFace" if g < 2 else "AIGC"
            group_ids.append(backend.insert_group(db, account, f"g{g}", "", kind))
        for i in range(47):
            verdict = (
                Verdict(wire.ASSET_ERROR_NO_FACE, "no face") if i % 7 == 0 else Verdict(None, None)
            )
            created = 1_800_000_000 + (i * 37) % 11  # many equal timestamps: ties by insertion
            aid = backend.insert_asset(
                db, account, group_ids[(i * 3) % 5], f"asset {i:02d}", wire.ASSET_TYPES[i % 3],
                f"https://media.invalid/{i}", {}, verdict, None, created=created,
                settled=i % 5 != 0,
            )  # fmt: skip
            db.execute("UPDATE assets SET updated = ? WHERE id = ?", (created + (i * 13) % 5, aid))
    return backend, account, group_ids


def _all_pages(backend: Backend, account: str, query: dict[str, str]) -> tuple[list[str], int]:
    ids: list[str] = []
    total = -1
    for page in range(1, 50):
        result = backend.list_assets(account, {**query, "page_number": str(page)}, ROOT)
        assert total in (-1, result["TotalCount"])
        total = result["TotalCount"]
        if not result["Items"]:
            break
        assert len(result["Items"]) <= int(query["page_size"])
        ids += [item["Id"] for item in result["Items"]]
    return ids, total


def _expected(
    db: sqlite3.Connection, account: str, sort_by: str, desc: bool, where: str, args: list[str]
) -> list[str]:
    column = {"CreateTime": "created", "UpdateTime": "updated", "GroupId": "group_id"}[sort_by]
    rows = db.execute(
        f"SELECT a.id, a.{column} AS k, a.seq FROM assets a JOIN groups g ON g.id = a.group_id"
        f" WHERE a.account = ? AND {where}",
        [account, *args],
    ).fetchall()
    ordered = sorted(rows, key=lambda r: (r["k"], r["seq"]), reverse=desc)
    return [r["id"] for r in ordered]


@pytest.mark.parametrize("sort_by", wire.ASSET_SORT_BY)
@pytest.mark.parametrize("sort_order", wire.SORT_ORDERS)
@pytest.mark.parametrize("page_size", [1, 7, 100])
def test_pages_partition_the_sorted_list(
    library: tuple[Backend, str, list[str]], sort_by: str, sort_order: str, page_size: int
) -> None:
    backend, account, _ = library
    query = {"sort_by": sort_by, "sort_order": sort_order, "page_size": str(page_size)}
    with backend.db.tx() as db:
        for kind, wire_kind in wire.GROUP_TYPE_QUERY_TO_WIRE.items():
            got, total = _all_pages(backend, account, {**query, "group_type": kind})
            want = _expected(
                db, account, sort_by, sort_order == "Desc", "g.group_type = ?", [wire_kind]
            )
            assert got == want
            assert total == len(want)


def test_filters_by_group_status_and_name(library: tuple[Backend, str, list[str]]) -> None:
    backend, account, group_ids = library
    base = {"page_size": "4", "sort_order": "Asc"}
    with backend.db.tx() as db:
        got, total = _all_pages(backend, account, {**base, "group_id": group_ids[3]})
        assert got == _expected(db, account, "CreateTime", False, "a.group_id = ?", [group_ids[3]])
        assert total == len(got) > 0
        got, total = _all_pages(
            backend, account, {**base, "group_type": "aigc", "statuses": "Processing,Failed"}
        )
        want = _expected(
            db, account, "CreateTime", False,
            "g.group_type = 'AIGC' AND a.status IN ('Processing', 'Failed')", [],
        )  # fmt: skip
        assert got == want
        assert total == len(want) > 0
        got, _ = _all_pages(backend, account, {**base, "group_type": "real_human", "name": "SET 1"})
        want = _expected(
            db, account, "CreateTime", False,
            "g.group_type = 'LivenessFace' AND a.name LIKE '%set 1%'", [],
        )  # fmt: skip
        assert got == want
        assert want


def test_other_accounts_assets_are_not_listed(
    library: tuple[Backend, str, list[str]], sandbox_key: str
) -> None:
    backend, _, _ = library
    other = backend.account_for_key(sandbox_key + "-other")
    result = backend.list_assets(other, {"group_type": "aigc", "page_size": "100"}, ROOT)
    assert result["TotalCount"] == 0
    assert result["Items"] == []


def test_page_and_lifecycle_lookups_use_indexes(library: tuple[Backend, str, list[str]]) -> None:
    backend, account, _ = library
    statements: list[str] = []
    conn = backend.db._conn
    conn.set_trace_callback(statements.append)
    try:
        backend.list_assets(account, {"group_type": "aigc", "page_number": "2"}, ROOT)
    finally:
        conn.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects
    with backend.db.tx() as db:
        for sql in selects:
            plan = " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql))
            assert "SCAN a " not in plan + " ", (sql, plan)
            assert "SCAN assets" not in plan, (sql, plan)
            if "LIMIT" in sql:  # the page is picked from an index alone, not from sorted rows
                assert "COVERING INDEX assets_by_created" in plan, plan
