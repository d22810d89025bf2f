"""Charts, CSV/Parquet exports, the one-file HTML report and the ``orca-nb report`` command."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from orca_nb.ledger import Ledger
from orca_nb.reports import REPORTS, SCHEMAS, build_all
from orca_nb.reports.charts import CHARTS
from orca_nb.reports.cli import add_parser
from orca_nb.reports.export import export_csv, export_parquet
from orca_nb.reports.html import render_html, write_html
from tests.reports.seed import seed


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = seed(f"sqlite://{tmp_path / 'ledger.sqlite3'}")
    yield opened
    opened.close()


def test_every_chart_draws_its_report_and_says_when_empty(ledger: Ledger) -> None:
    frames = build_all(ledger)
    for name, chart in CHARTS.items():
        figure = chart(frames[name])
        assert isinstance(figure, go.Figure)
        assert len(figure.data) >= 1, name
        assert all(len(trace.x) > 0 for trace in figure.data), name
        empty = chart(frames[name].iloc[0:0])
        assert [a.text for a in empty.layout.annotations] == ["No data in this selection"], name


def test_exports_keep_columns_and_dtypes(ledger: Ledger, tmp_path: Path) -> None:
    frames = build_all(ledger)
    csvs = export_csv(frames, tmp_path / "csv")
    parquets = export_parquet(frames, tmp_path / "parquet")
    assert sorted(p.name for p in csvs) == sorted(f"{n}.csv" for n in REPORTS)
    for path in parquets:
        name = path.stem
        back = pd.read_parquet(path)
        pd.testing.assert_frame_equal(back, frames[name], check_dtype=True)
    usage = pd.read_csv(tmp_path / "csv" / "asset_usage.csv")
    assert list(usage.columns) == [c for c, _, _ in SCHEMAS["asset_usage"]]
    assert usage["first_used"].iloc[0] == "2026-03-02T01:00:00.000000Z"


def test_html_report_is_one_offline_file_and_escapes_names(ledger: Ledger, tmp_path: Path) -> None:
    ledger.snapshot_assets([{"Id": "asset-a1", "Name": "<script>alert('x')</script>"}])
    path = write_html(tmp_path / "out" / "report.html", ledger, since="2026-03-01", title="T & Co")
    text = path.read_text(encoding="utf-8")
    assert text.count("<script") == 1 + len(CHARTS)  # plotly.js once, then one call per chart
    assert "<script src" not in text  # nothing fetched: plotly.js is inline
    assert "window.Plotly" in text or "Plotly=" in text
    for name in CHARTS:
        assert f'id="chart-{name}"' in text
    assert "<td>&lt;script&gt;alert('x')&lt;/script&gt;</td>" in text
    assert "<script>alert" not in text
    assert "<title>T &amp; Co</title>" in text
    assert "From 2026-03-01 00:00 UTC to now" in text


def test_html_of_an_empty_selection_still_renders(ledger: Ledger) -> None:
    frames = build_all(ledger, model="byteplus/seedance-1-0-pro")
    page = render_html(frames)
    # Hygiene, groups and quota (assets held) still have rows when no video matches.
    assert page.count("Nothing in this selection.") == len(REPORTS) - 3


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", *argv])
    return int(args.func(args))


def test_cli_writes_html_csv_and_parquet(
    ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _cli([
        "--ledger", ledger.url, "--since", "2026-03-01", "--until", "2026-03-04",
        "--group", "group-a", "--out", str(tmp_path / "r.html"),
        "--csv", str(tmp_path / "csv"), "--parquet", str(tmp_path / "pq"),
    ])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out.split()
    assert str(tmp_path / "r.html") in printed
    assert len(printed) == 1 + 2 * len(REPORTS)
    groups = pd.read_parquet(tmp_path / "pq" / "group_summary.parquet")
    assert list(groups["group_id"]) == ["group-a"]


def test_cli_says_what_is_wrong(
    ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(["--ledger", ledger.url, "--since", "someday", "--out", str(tmp_path / "x")]) == 2
    assert "span back from now like 7d" in capsys.readouterr().err
    assert _cli(["--ledger", "mysql://nope"]) == 2
    assert "cannot open the ledger" in capsys.readouterr().err
    assert _cli(["--ledger", ledger.url, "--no-html"]) == 2
    err = capsys.readouterr().err
    assert err == "orca-nb report: nothing to write (--no-html without --csv/--parquet)\n"
