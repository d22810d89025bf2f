"""Every report on the hand-made ledger of ``seed.py``, on SQLite and PostgreSQL.

Expected values are worked out by hand from the scenario in ``seed.py``'s docstring.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from orca_nb import wire
from orca_nb.ledger import Ledger
from orca_nb.reports import (
    REPORTS,
    SCHEMAS,
    asset_hygiene,
    asset_usage,
    build_all,
    describe,
    failures_by_code,
    group_summary,
    latency,
    parse_time,
    quota_use,
    submissions,
    tokens_per_day,
    usage_breakdown,
)
from tests.reports.seed import URL, seed


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    opened = seed(ledger_url)
    yield opened
    opened.close()


def records(frame: pd.DataFrame, *cols: str) -> list[tuple[Any, ...]]:
    def plain(v: Any) -> Any:
        if v is pd.NaT or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return None
        return v

    return [tuple(plain(v) for v in row) for row in frame[list(cols)].itertuples(index=False)]


def test_every_report_has_its_schema_exactly(ledger: Ledger) -> None:
    built = build_all(ledger)
    assert set(built) == set(REPORTS) == set(SCHEMAS)
    for name, frame in built.items():
        expected = [(c, d) for c, d, _ in SCHEMAS[name]]
        assert [(c, str(frame[c].dtype)) for c in frame.columns] == expected, name
    assert list(describe("latency")["column"])[:4] == ["model", "resolution", "duration", "videos"]


def test_asset_usage(ledger: Ledger) -> None:
    frame = asset_usage(ledger)
    cols = ("source", "group_id", "references", "videos", "succeeded", "failed", "success_rate",
            "tokens", "first_used", "last_used")  # fmt: skip
    s1, s2, s3 = ts("2026-03-02 01:00"), ts("2026-03-02 02:00"), ts("2026-03-02 03:00")
    s4, s6 = ts("2026-03-03 01:00"), ts("2026-03-03 03:00")
    assert records(frame, *cols) == [
        ("asset-a1", "group-a", 4, 4, 2, 2, 0.5, 200, s1, s4),
        ("asset-a2", "group-a", 3, 2, 1, 0, 1.0, 100, s1, s6),
        ("asset-b1", "group-b", 1, 1, 0, 1, 0.0, 0, s3, s3),
        (URL, None, 1, 1, 1, 0, 1.0, 100, s2, s2),
    ]  # fmt: skip
    assert records(frame.head(1), "name", "asset_type", "group_name", "status", "deleted") == [
        ("ada front", "Image", "Ada", "Active", False)
    ]


def test_asset_usage_filters_by_time_group_and_model(ledger: Ledger) -> None:
    later = asset_usage(ledger, since="2026-03-03")
    assert records(later, "source", "references", "videos", "succeeded", "failed",
                   "success_rate") == [
        ("asset-a2", 2, 1, 0, 0, None),
        ("asset-a1", 1, 1, 0, 1, 0.0),
    ]  # fmt: skip
    assert list(asset_usage(ledger, group="group-b")["source"]) == ["asset-b1"]
    assert list(asset_usage(ledger, until=datetime(2026, 3, 2, 2, tzinfo=UTC))["source"]) == [
        "asset-a1", "asset-a2",
    ]  # fmt: skip
    assert asset_usage(ledger, model="byteplus/seedance-1-0-pro").empty
    assert len(asset_usage(ledger, model=[wire.SEEDANCE_2])) == 4


def test_usage_breakdown_by_type_role_and_group(ledger: Ledger) -> None:
    frame = usage_breakdown(ledger)
    # Counted per reference: S1 a1+a2 ok, S2 a1 ok, S3 a1 failed, S6 a2+a2 running.
    assert records(frame, "asset_type", "role", "group_id", "references", "assets",
                   "succeeded", "failed") == [
        ("Image", "reference_image", "group-a", 6, 2, 3, 1),
        ("Image", "first_frame", "group-a", 1, 1, 0, 1),
        ("Image", "reference_image", None, 1, 1, 1, 0),
        ("Video", "reference_video", "group-b", 1, 1, 0, 1),
    ]  # fmt: skip
    assert frame["success_rate"].iloc[0] == pytest.approx(3 / 4)


def test_asset_hygiene_lists_failed_and_never_used(ledger: Ledger) -> None:
    frame = asset_hygiene(ledger)
    assert records(frame, "asset_id", "issue", "status", "error_code", "group_name") == [
        ("asset-b2", "failed", "Failed", "FaceMismatch", "Bob"),
        ("asset-c1", "never_used", "Active", None, "Empty"),
    ]
    with_deleted = asset_hygiene(ledger, include_deleted=True)
    assert list(with_deleted["asset_id"]) == ["asset-b2", "asset-x", "asset-c1"]
    # Within D1 alone, b1 (used on D0 only) was never used either.
    assert list(asset_hygiene(ledger, since="2026-03-03")["asset_id"]) == [
        "asset-b2", "asset-b1", "asset-c1",
    ]  # fmt: skip
    assert list(asset_hygiene(ledger, group=["group-c"])["asset_id"]) == ["asset-c1"]


def test_group_summary(ledger: Ledger) -> None:
    frame = group_summary(ledger)
    assert records(frame, "group_id", "group_name", "group_type", "assets", "active_assets",
                   "failed_assets", "assets_used", "references", "videos", "succeeded",
                   "failed", "success_rate", "tokens", "first_used") == [
        ("group-a", "Ada", "AIGC", 2, 2, 0, 2, 7, 5, 2, 2, 0.5, 200, ts("2026-03-02 01:00")),
        ("group-b", "Bob", "LivenessFace", 2, 1, 1, 1, 1, 1, 0, 1, 0.0, 0,
         ts("2026-03-02 03:00")),
        ("group-c", "Empty", "AIGC", 1, 1, 0, 0, 0, 0, 0, 0, None, 0, None),
    ]  # fmt: skip
    assert list(group_summary(ledger, group="group-b")["group_id"]) == ["group-b"]


def test_failures_by_code(ledger: Ledger) -> None:
    frame = failures_by_code(ledger)
    assert records(frame, "status", "error_code", "failures", "share", "first_at",
                   "example_message") == [
        ("failed", "SensitiveContent", 1, 0.5, ts("2026-03-02 03:00"), "output blocked"),
        ("rejected", "quota_insufficient", 1, 0.5, ts("2026-03-03 01:00"), "balance exhausted"),
    ]  # fmt: skip
    assert list(failures_by_code(ledger, group="group-b")["share"]) == [1.0]
    assert failures_by_code(ledger, until="2026-03-02T02:30:00Z").empty


def test_latency_percentiles(ledger: Ledger) -> None:
    frame = latency(ledger)
    # Succeeded: S1 60 s, S2 120 s, S5 90 s; queue 10/20/30 s; run 50/100/60 s.
    assert records(frame, "model", "resolution", "duration", "videos", "p50", "p90", "p95",
                   "mean", "max", "queue_mean", "run_mean") == [
        (wire.SEEDANCE_2, "720p", 5, 3, 90.0, 114.0, 117.0, 90.0, 120.0, 20.0, 70.0),
    ]  # fmt: skip
    assert frame["p99"].iloc[0] == pytest.approx(119.4)
    assert records(latency(ledger, since="2026-03-03"), "videos", "p50") == [(1, 90.0)]
    assert latency(ledger, group="group-b").empty  # its only video failed


def test_tokens_per_day_and_submitter(ledger: Ledger) -> None:
    frame = tokens_per_day(ledger)
    assert records(frame, "day", "submitter", "videos", "succeeded", "tokens") == [
        (ts("2026-03-02"), "key-1", 2, 2, 200),
        (ts("2026-03-02"), "key-2", 1, 0, 0),
        (ts("2026-03-03"), "key-1", 2, 1, 50),
        (ts("2026-03-03"), "key-2", 1, 0, 0),
    ]
    assert records(tokens_per_day(ledger, group="group-b"), "submitter", "videos") == [("key-2", 1)]


def test_quota_use_over_time(ledger: Ledger) -> None:
    frame = quota_use(ledger)
    assert records(frame, "day", "videos", "succeeded", "tokens", "cumulative_tokens",
                   "assets_created", "assets_live", "asset_cap", "cap_used") == [
        (ts("2026-03-01"), 0, 0, 0, 0, 3, 3, 100, 0.03),
        (ts("2026-03-02"), 3, 2, 200, 200, 2, 5, 100, 0.05),
        (ts("2026-03-03"), 3, 1, 50, 250, 1, 5, 100, 0.05),
    ]  # fmt: skip
    window = quota_use(ledger, since="2026-03-02", until="2026-03-05", asset_cap=10)
    assert records(window, "day", "tokens", "cumulative_tokens", "assets_live", "cap_used") == [
        (ts("2026-03-02"), 200, 200, 5, 0.5),
        (ts("2026-03-03"), 50, 250, 5, 0.5),
        (ts("2026-03-04"), 0, 250, 5, 0.5),
    ]  # fmt: skip


def test_submissions_history(ledger: Ledger) -> None:
    frame = submissions(ledger)
    assert list(frame["task_id"].fillna("-")) == ["task-6", "task-5", "-", "task-3", "task-2",
                                                 "task-1"]  # fmt: skip
    assert list(frame["status"])[:3] == ["running", "succeeded", "rejected"]
    assert len(submissions(ledger, limit=2)) == 2
    with pytest.raises(ValueError, match="limit"):
        submissions(ledger, limit=-1)


def test_reports_accept_a_url_and_an_empty_ledger(tmp_path: Any) -> None:
    url = f"sqlite://{tmp_path / 'empty.sqlite3'}"
    built = build_all(url)
    assert all(frame.empty for frame in built.values())
    assert list(built["latency"].columns) == [c for c, _, _ in SCHEMAS["latency"]]
    with pytest.raises(ValueError, match="unknown reports"):
        build_all(url, reports=["nope"])


def test_time_bounds() -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert parse_time("7d", now=now) == datetime(2026, 3, 3, 12, tzinfo=UTC)
    assert parse_time("90m", now=now) == datetime(2026, 3, 10, 10, 30, tzinfo=UTC)
    assert parse_time("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_time(pd.Timestamp("2026-03-01T05:00:00+02:00")) == datetime(
        2026, 3, 1, 3, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="7d"):
        parse_time("last tuesday")
    with pytest.raises(ValueError, match="must be after"):
        asset_usage("sqlite:///:memory:", since="2026-03-02", until="2026-03-01")


def test_groups_learned_after_submission_count_each_video_once(ledger_url: str) -> None:
    from orca_nb.ledger import open_ledger

    with open_ledger(ledger_url) as fresh:
        body = {
            "model": wire.SEEDANCE_2,
            "prompt": "[Image 1] and [Image 2] meet, [Image 3] again",
            "metadata": {
                "content": [
                    {"type": "image_url", "image_url": {"url": f"asset://{a}"},
                     "role": "reference_image"}
                    for a in ("asset-p", "asset-q", "asset-p")
                ]
            },
        }  # fmt: skip
        sid = fresh.before_submit(body, submitter="key-1", base_url="u")
        fresh.after_submit(sid, {"id": "task-z", "status": "queued"})
        fresh.on_task({"id": "task-z", "status": "succeeded", "usage": {"total_tokens": 7}})
        assert group_summary(fresh).empty  # no snapshot yet: no group known
        fresh.snapshot_assets(
            [{"Id": "asset-p", "GroupId": "group-z"}, {"Id": "asset-q", "GroupId": "group-z"}]
        )
        groups = group_summary(fresh)
        assert records(groups, "group_id", "assets_used", "references", "videos", "succeeded",
                       "tokens") == [("group-z", 2, 3, 1, 1, 7)]  # fmt: skip
        usage = asset_usage(fresh)
        assert records(usage, "source", "group_id", "references", "videos", "tokens") == [
            ("asset-p", "group-z", 2, 1, 7),
            ("asset-q", "group-z", 1, 1, 7),
        ]
