"""A one-file HTML usage report: every chart and table, with plotly.js embedded (no CDN)."""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from orca_nb.reports.charts import CHARTS, estimate_note
from orca_nb.reports.filters import LedgerLike, Names, Selection, TimeLike, using
from orca_nb.reports.registry import build_all
from orca_nb.reports.schemas import SCHEMAS
from orca_nb.reports.tables import cut

#: Section titles in the order the report shows them.
SECTIONS: Final[dict[str, str]] = {
    "quota_use": "Quota use over time",
    "tokens_per_day": "Tokens per day and submitter",
    "asset_usage": "Asset usage",
    "usage_breakdown": "Usage by type, role and group",
    "group_summary": "Groups",
    "latency": "Generation latency",
    "failures_by_code": "Failures by error code",
    "asset_hygiene": "Quota hygiene: failed and never-used assets",
    "submissions": "Latest submissions",
    "experiment_summary": "Experiments",
}
TABLE_ROWS: Final = 25

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: .2rem; } .meta { color: #666; margin-top: 0; }
section { margin: 2.5rem 0; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
.table-box { overflow: auto; max-width: 100%; max-height: 36rem; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: .85rem; min-width: 100%; }
th, td { border-bottom: 1px solid #eee; padding: .25rem .5rem; text-align: left; }
th, td { white-space: nowrap; } td { max-width: 32rem; overflow: hidden; text-overflow: ellipsis; }
th { background: #f6f6f6; position: sticky; top: 0; } .note { color: #666; font-size: .85rem; }
.estimate { background: #fff8e1; border-left: 3px solid #f0a500; padding: .3rem .6rem; }
"""


def render_html(
    frames: Mapping[str, pd.DataFrame],
    *,
    title: str = "orca_nb usage report",
    subtitle: str = "",
    table_rows: int = TABLE_ROWS,
) -> str:
    """The report as one self-contained HTML page (works offline)."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>",
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>",
        f"<h1>{html.escape(title)}</h1><p class='meta'>{html.escape(subtitle)}</p>",
    ]
    tokens = frames.get("tokens_per_day")
    note = estimate_note(tokens) if tokens is not None else ""
    if note:
        parts.append(f"<p class='estimate' id='estimate-note'>{html.escape(note)}</p>")
    for name in [*SECTIONS, *(n for n in frames if n not in SECTIONS)]:
        if name not in frames:
            continue
        frame = frames[name]
        parts.append(f"<section id='{name}'><h2>{html.escape(SECTIONS.get(name, name))}</h2>")
        if name in CHARTS:
            figure = CHARTS[name](frame)
            parts.append(
                pio.to_html(
                    figure,
                    full_html=False,
                    include_plotlyjs=False,
                    div_id=f"chart-{name}",
                    config={"displaylogo": False, "responsive": True},
                )
            )
        section_note = estimate_note(frame) if "estimated_tokens" in frame else ""
        if section_note:
            parts.append(f"<p class='estimate'>{html.escape(section_note)}</p>")
        if frame.empty:
            parts.append("<p class='note'>Nothing in this selection.</p>")
        else:
            shown, cut_note = cut(name, frame, table_rows)
            table = shown.to_html(index=False, na_rep="", escape=True, border=0)
            parts.append(f"<div class='table-box' id='table-{name}'>{table}</div>")
            if cut_note:
                parts.append(f"<p class='note'>{html.escape(cut_note)}</p>")
        meanings = "; ".join(f"{c}: {m}" for c, _, m in SCHEMAS.get(name, ()))
        if meanings:
            parts.append(f"<details class='note'><summary>Columns</summary>{html.escape(meanings)}"
                         "</details>")  # fmt: skip
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(
    path: str | os.PathLike[str],
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    experiment: Names = None,
    title: str = "orca_nb usage report",
    reports: Sequence[str] | None = None,
    now: datetime | None = None,
) -> Path:
    """Build the reports from a ledger and write the one-file HTML report to ``path``."""
    moment = now or datetime.now(UTC)
    selection = Selection.of(since, until, group, model, experiment=experiment, now=moment)
    with using(ledger) as opened:
        frames = build_all(opened, since=since, until=until, group=group, model=model,
                           experiment=experiment, reports=reports, now=moment)  # fmt: skip
        subtitle = describe_selection(selection, opened.url, moment)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(frames, title=title, subtitle=subtitle), encoding="utf-8")
    return target


def describe_selection(selection: Selection, url: str, now: datetime) -> str:
    """One line saying what the report covers."""

    def when(ms: int | None, default: str) -> str:
        if ms is None:
            return default
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")

    words = [f"From {when(selection.since_ms, 'the start')} to {when(selection.until_ms, 'now')}"]
    if selection.groups:
        words.append("groups " + ", ".join(selection.groups))
    if selection.models:
        words.append("models " + ", ".join(selection.models))
    if selection.experiments:
        words.append("experiments " + ", ".join(selection.experiments))
    words.append(f"ledger {url}")
    words.append(f"generated {now.strftime('%Y-%m-%d %H:%M UTC')}")
    return " · ".join(words)
