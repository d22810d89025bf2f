"""The workload generator: a plausible month, deterministic per seed, and a sandbox run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from orca_nb.client.hooks import key_label
from orca_nb.ledger import open_ledger
from orca_nb.reports import asset_hygiene, quota_use, tokens_per_day
from scripts.workload import SUBMITTERS, main, seed_month

END = datetime(2026, 3, 31, 18, tzinfo=UTC)


def test_month_without_sandbox_is_plausible_and_repeatable(tmp_path: Path) -> None:
    first = seed_month(f"sqlite://{tmp_path / 'a.sqlite3'}", sandbox=False, seed=3, end=END)
    again = seed_month(f"sqlite://{tmp_path / 'b.sqlite3'}", sandbox=False, seed=3, end=END)
    assert first.history == again.history
    # 30 per weekday, about a third of that at weekends: 22 weekdays + 8 weekend days.
    assert 500 < first.history < 1000
    with open_ledger(first.ledger_url) as ledger:
        _, rows = ledger.database.query("SELECT status, COUNT(*) FROM submissions GROUP BY status")
        counts = dict(rows)
        assert set(counts) == {"succeeded", "failed", "rejected", "running"}
        assert counts["succeeded"] / first.history > 0.75
        per_day = tokens_per_day(ledger)
        assert set(per_day["submitter"]) == {key_label(k) for k in SUBMITTERS}
        assert per_day["day"].min() >= datetime(2026, 3, 1, tzinfo=UTC)
        quota = quota_use(ledger)
        assert len(quota) == 31
        assert quota["assets_live"].iloc[-1] == 13
        assert set(asset_hygiene(ledger)["issue"]) == {"failed"}  # every valid asset gets used


def test_sandbox_run_records_real_tasks_and_a_refusal(tmp_path: Path) -> None:
    printed: list[str] = []
    url = f"sqlite://{tmp_path / 'live.sqlite3'}"
    assert main(["--ledger", url, "--days", "2", "--per-day", "5", "--live", "3"],
                out=printed.append) == 0  # fmt: skip
    assert "(3 through the sandbox)" in printed[0]
    with open_ledger(url) as ledger:
        _, rows = ledger.database.query(
            "SELECT status, error_code, task_id FROM submissions"
            " WHERE task_id IS NULL OR task_id NOT LIKE 'task_seeded%' ORDER BY submitted_at"
        )
    live = [tuple(r) for r in rows if r[2] is None or not str(r[2]).startswith("task_seeded")]
    statuses = [r[0] for r in live[-3:]]
    assert statuses[0] == "succeeded"
    assert statuses[1] == "failed"  # the sandbox was told to fail it
    assert statuses[2] == "rejected"  # refused with 402
