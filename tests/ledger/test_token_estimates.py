"""Tokens when the service reports none (the documented wrapped task has no usage): the ledger
records the reference's rule applied to the request, marked as estimated; a reported figure
always wins; ledgers written before the columns existed are migrated and backfilled. On SQLite
and PostgreSQL."""

from __future__ import annotations

from typing import Any

from orca_nb import wire
from orca_nb.ledger import Ledger, open_ledger
from orca_nb.ledger.schema import COLUMNS_ADDED
from tests.ledger.conftest import Clock

VIDEO = "asset://asset-20260318071009-vid01"


def body(**metadata: Any) -> dict[str, Any]:
    return {"model": wire.SEEDANCE_2, "prompt": "a harbour", "metadata": metadata}


IMAGE = {"type": "image_url", "image_url": {"url": "asset://asset-1"}, "role": "reference_image"}


def video_item(url: str = VIDEO) -> dict[str, Any]:
    return {"type": "video_url", "video_url": {"url": url}, "role": "reference_video"}


def run_task(
    ledger: Ledger,
    clock: Clock,
    request: dict[str, Any],
    task_id: str,
    *,
    end: dict[str, Any],
) -> str:
    sid = ledger.before_submit(request, submitter="key-abc", base_url=wire.DEFAULT_BASE_URL)
    clock.now += 1
    ledger.after_submit(sid, {"id": task_id, "status": "queued", "progress": 0})
    clock.now += 30
    ledger.on_task({"id": task_id, "status": "running", "progress": 50})
    clock.now += 60
    ledger.on_task({"id": task_id, **end})
    return sid


def tokens_of(ledger: Ledger, sid: str) -> tuple[Any, ...]:
    row = ledger.submission(sid)
    assert row is not None
    items = {i["tokens"] for i in row["items"]}
    return row["total_tokens"], row["tokens_source"], row["estimated_tokens"], items


def test_succeeded_without_usage_records_the_estimate(ledger: Ledger, clock: Clock) -> None:
    request = body(ratio="16:9", resolution="720p", duration=5, content=[video_item()])
    sid = run_task(ledger, clock, request, "t1", end={"status": "succeeded", "progress": 100})
    # the reference video's length is unknown to the ledger: counted at 2 s, a lower bound
    expected = 108_900 + 1280 * 720 * 48 // 1024
    assert tokens_of(ledger, sid) == (expected, wire.TOKENS_ESTIMATED_MIN, expected, {expected})


def test_reported_usage_wins_even_after_the_estimate(ledger: Ledger, clock: Clock) -> None:
    request = body(ratio="16:9", resolution="720p", duration=4, content=[IMAGE])
    sid = run_task(ledger, clock, request, "t1", end={"status": "succeeded"})
    assert tokens_of(ledger, sid) == (87_300, wire.TOKENS_ESTIMATED, 87_300, {87_300})
    # the usage read later (e.g. from GET /videos/{id}) replaces the estimate, items included
    ledger.on_task({"id": "t1", "status": "succeeded", "usage": {"total_tokens": 90_000}})
    assert tokens_of(ledger, sid) == (90_000, wire.TOKENS_REPORTED, 87_300, {90_000})
    # and a later fetch without usage does not bring the estimate back
    ledger.on_task({"id": "t1", "status": "succeeded", "progress": 100})
    assert tokens_of(ledger, sid)[:2] == (90_000, wire.TOKENS_REPORTED)


def test_usage_in_the_reply_is_reported(ledger: Ledger, clock: Clock) -> None:
    usage = {"completion_tokens": 108_900, "total_tokens": 108_900}
    end = {"status": "succeeded", "usage": usage}
    sid = run_task(ledger, clock, body(duration=5), "t1", end=end)
    assert tokens_of(ledger, sid)[:2] == (108_900, wire.TOKENS_REPORTED)


def test_failed_tasks_carry_no_tokens(ledger: Ledger, clock: Clock) -> None:
    end = {"status": "failed", "error": {"code": "InternalServiceError", "message": "x"}}
    sid = run_task(ledger, clock, body(duration=5, content=[IMAGE]), "t1", end=end)
    total, source, estimated, items = tokens_of(ledger, sid)
    assert (total, source, items) == (None, None, {None})
    assert estimated == 108_900  # kept: what it would have cost


def test_server_times_never_precede_what_the_ledger_saw(ledger: Ledger, clock: Clock) -> None:
    sid = ledger.before_submit(body(), submitter="key-abc", base_url=wire.DEFAULT_BASE_URL)
    ledger.after_submit(sid, {"id": "t1", "status": "queued"})
    early = clock.now - 3600  # a server clock an hour behind ours
    ledger.on_task({"id": "t1", "status": "succeeded", "started_at": early, "completed_at": early})
    row = ledger.submission(sid)
    assert row is not None
    assert [s for s, _ in row["events"]] == ["submitting", "queued", "succeeded"]
    assert row["latency_ms"] >= 0


def test_old_ledgers_are_migrated_and_backfilled(ledger_url: str, clock: Clock) -> None:
    with open_ledger(ledger_url, clock=clock) as old:
        done = run_task(
            old, clock, body(duration=4, ratio="16:9"), "t1", end={"status": "succeeded"}
        )
        usage = {"status": "succeeded", "usage": {"total_tokens": 5}}
        kept = run_task(old, clock, body(duration=4), "t2", end=usage)
        # make it look like a ledger written before the token columns existed
        old.database.write(
            [
                ("UPDATE submissions SET total_tokens = NULL WHERE id = ?", (done,)),
                ("UPDATE submission_items SET tokens = NULL", ()),
                ("DELETE FROM ledger_meta WHERE name <> 'schema_version'", ()),
                # an old ledger has no index on the added columns either
                ("DROP INDEX IF EXISTS submissions_experiment", ()),
                *((f"ALTER TABLE {t} DROP COLUMN {c}", ()) for t, c, _ in COLUMNS_ADDED),
            ]
        )
        names, _ = old.database.query("SELECT * FROM submissions WHERE id = ?", (done,))
        assert "tokens_source" not in names
    with open_ledger(ledger_url, clock=clock) as migrated:
        assert tokens_of(migrated, done)[:3] == (87_300, wire.TOKENS_ESTIMATED, 87_300)
        assert tokens_of(migrated, kept)[:2] == (5, wire.TOKENS_REPORTED)
        sid = run_task(migrated, clock, body(duration=5), "t3", end={"status": "succeeded"})
        assert tokens_of(migrated, sid)[:2] == (108_900, wire.TOKENS_ESTIMATED)
    with open_ledger(ledger_url, clock=clock) as again:  # the backfill ran once
        _, meta = again.database.query("SELECT name FROM ledger_meta ORDER BY name")
        assert [m[0] for m in meta] == ["schema_version", "token_estimates_backfilled"]


def test_token_reports_flag_estimates_on_both_engines(ledger: Ledger, clock: Clock) -> None:
    from orca_nb.reports import quota_use, submissions, tokens_per_day

    run_task(ledger, clock, body(duration=4, ratio="16:9"), "t1", end={"status": "succeeded"})
    reported = {"status": "succeeded", "usage": {"total_tokens": 1_000}}
    run_task(ledger, clock, body(duration=4), "t2", end=reported)
    lower = body(duration=4, ratio="16:9", content=[video_item()])
    run_task(ledger, clock, lower, "t3", end={"status": "succeeded"})
    day = tokens_per_day(ledger)
    assert len(day) == 1
    with_video = 87_300 + 1280 * 720 * 48 // 1024
    assert int(day["tokens"].iloc[0]) == 87_300 + 1_000 + with_video
    assert int(day["estimated_tokens"].iloc[0]) == 87_300 + with_video
    assert bool(day["lower_bound"].iloc[0])
    assert int(quota_use(ledger)["estimated_tokens"].sum()) == 87_300 + with_video
    history = submissions(ledger)
    sources = dict(zip(history["task_id"], history["tokens_source"], strict=True))
    assert sources == {
        "t1": wire.TOKENS_ESTIMATED,
        "t2": wire.TOKENS_REPORTED,
        "t3": wire.TOKENS_ESTIMATED_MIN,
    }
