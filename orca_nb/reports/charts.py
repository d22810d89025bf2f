"""Plotly charts for the reports (graph objects only: they render in JupyterLab, Voilà and
offline HTML). Each function takes the report's DataFrame and returns a ``go.Figure``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

_LAYOUT: Final = {
    "template": "plotly_white",
    "height": 380,
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "legend": {"orientation": "h", "y": -0.2},
}


def _figure(title: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, **_LAYOUT)
    return fig


DAY_MS: Final = 86_400_000
HOUR_MS: Final = 3_600_000


def whole_axis(fig: go.Figure, top: float, *, axis: str = "yaxis") -> None:
    """Ticks at whole numbers on an axis of counts (one apart while the counts are small), from
    zero; ``top`` is the largest value shown (a stacked bar's total); ``axis`` is the layout's
    name for it (``xaxis``, ``yaxis``, ``yaxis2``)."""
    kw: dict[str, object] = {"tickformat": ",d", "rangemode": "tozero"}
    if top <= 10:
        kw["dtick"] = 1
    fig.update_layout({axis: kw})


def day_axis(fig: go.Figure, days: pd.Series) -> None:
    """A date axis that reads right: within one day, hours around it (a single day otherwise
    gets sub-second ticks); over more days, whole days."""
    stamps = pd.to_datetime(days, utc=True).dropna()
    if stamps.empty:
        return
    first, last = stamps.min(), stamps.max()
    fig.update_traces(xhoverformat="%Y-%m-%d")
    if last - first < pd.Timedelta(days=1):
        # the day's bar fills the day it counts (left edge at its midnight), hours around it
        start, end = first.floor("D"), last.floor("D") + pd.Timedelta(days=1)
        fig.update_traces(selector={"type": "bar"}, width=0.96 * DAY_MS, offset=0.02 * DAY_MS)
        pad = pd.Timedelta(hours=1)
        fig.update_xaxes(
            range=[start - pad, end + pad], dtick=3 * HOUR_MS, tick0=start, tickformat="%H:%M"
        )
        fig.update_layout(xaxis_title=f"hours of {start:%Y-%m-%d} (UTC)")
        return
    span_days = (last - first) / pd.Timedelta(days=1)
    fig.update_xaxes(dtick=DAY_MS * max(1, math.ceil(span_days / 12)), tickformat="%b %d")


def _stacked_top(x: pd.Series, y: pd.Series) -> float:
    """The tallest stack of ``y`` over equal ``x`` (0 when empty)."""
    if y.empty:
        return 0.0
    return float(pd.Series(y.to_numpy(), index=x.to_numpy()).groupby(level=0).sum().max())


def _empty(fig: go.Figure) -> go.Figure:
    fig.add_annotation(text="No data in this selection", showarrow=False, x=0.5, y=0.5,
                       xref="paper", yref="paper", font={"size": 16})  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def asset_usage_chart(frame: pd.DataFrame, *, top: int = 15) -> go.Figure:
    """The most referenced assets, coloured by the success rate of the videos they fed."""
    fig = _figure(f"Most used assets (top {top})")
    if frame.empty:
        return _empty(fig)
    head = frame.head(top).iloc[::-1]
    labels = head["name"].fillna(head["source"]).astype(str)
    rate = head["success_rate"].fillna(0.0)
    fig.add_bar(
        x=head["references"].astype("int64"),
        y=labels,
        orientation="h",
        marker={"color": rate, "colorscale": "RdYlGn", "cmin": 0, "cmax": 1,
                "colorbar": {"title": "success"}},
        customdata=head[["source", "videos"]].astype(str).to_numpy(),
        hovertemplate="%{customdata[0]}<br>%{x} references, %{customdata[1]} videos"
        "<extra></extra>",
    )  # fmt: skip
    fig.update_layout(xaxis_title="references", height=max(320, 26 * len(head) + 120))
    whole_axis(fig, float(head["references"].max()), axis="xaxis")
    return fig


def usage_breakdown_chart(frame: pd.DataFrame) -> go.Figure:
    """References by type and role, stacked by group."""
    fig = _figure("References by type, role and group")
    if frame.empty:
        return _empty(fig)
    slot = frame["asset_type"].astype(str) + " · " + frame["role"].fillna("(no role)").astype(str)
    group = frame["group_name"].fillna(frame["group_id"]).fillna("(URL items)").astype(str)
    data = pd.DataFrame({"slot": slot, "group": group, "references": frame["references"]})
    for name, part in data.groupby("group", sort=True):
        fig.add_bar(x=part["slot"], y=part["references"].astype("int64"), name=str(name))
    fig.update_layout(barmode="stack", yaxis_title="references")
    whole_axis(fig, _stacked_top(data["slot"], data["references"]))
    return fig


def failures_chart(frame: pd.DataFrame) -> go.Figure:
    """Unsuccessful submissions by error code, one colour per way they ended."""
    fig = _figure("Failures by error code")
    if frame.empty:
        return _empty(fig)
    for status, part in frame.groupby("status", sort=True):
        fig.add_bar(x=part["error_code"].astype(str), y=part["failures"].astype("int64"),
                    name=str(status))  # fmt: skip
    fig.update_layout(barmode="stack", yaxis_title="submissions")
    whole_axis(fig, _stacked_top(frame["error_code"].astype(str), frame["failures"]))
    return fig


def latency_chart(frame: pd.DataFrame) -> go.Figure:
    """Latency percentiles per model, resolution and duration."""
    fig = _figure("Generation latency (seconds, submission to finish)")
    if frame.empty:
        return _empty(fig)
    model = frame["model"].astype(str).str.split("/").str[-1]
    label = (
        model + " " + frame["resolution"].astype(str) + " " + frame["duration"].astype(str) + "s"
    )
    for column in ("p50", "p90", "p99"):
        fig.add_bar(x=label, y=frame[column], name=column)
    fig.update_layout(barmode="group", yaxis_title="seconds")
    return fig


def _estimated(frame: pd.DataFrame) -> pd.Series:
    if "estimated_tokens" not in frame:
        return pd.Series(0, index=frame.index, dtype="int64")
    return frame["estimated_tokens"].fillna(0).astype("int64")


def estimate_note(frame: pd.DataFrame) -> str:
    """Words saying how much of a token report is estimated ("" when nothing is)."""
    if frame.empty or "tokens" not in frame:
        return ""
    estimated = int(_estimated(frame).sum())
    if not estimated:
        return ""
    total = int(frame["tokens"].fillna(0).astype("int64").sum())
    share = estimated / total if total else 1.0
    note = (
        f"{estimated:,} of {total:,} tokens ({share:.0%}) are estimates: the service reported no "
        "usage, so they follow the token rule applied to each request"
    )
    if "lower_bound" in frame and bool(frame["lower_bound"].fillna(False).astype(bool).any()):
        note += "; some are lower bounds (a reference video's length was unknown)"
    return note + "."


def tokens_chart(frame: pd.DataFrame) -> go.Figure:
    """Usage tokens per day, stacked by submitter label; estimated tokens are hatched and named
    as estimates."""
    estimated = _estimated(frame)
    title = "Tokens per day by submitter"
    if int(estimated.sum()):
        title += " (hatched: estimated, no usage reported)"
    fig = _figure(title)
    if frame.empty:
        return _empty(fig)
    data = frame.assign(estimated=estimated)
    for submitter, part in data.groupby("submitter", sort=True):
        reported = part["tokens"].astype("int64") - part["estimated"]
        fig.add_bar(x=part["day"], y=reported, name=str(submitter), legendgroup=str(submitter))
        if int(part["estimated"].sum()):
            fig.add_bar(
                x=part["day"],
                y=part["estimated"],
                name=f"{submitter} (estimated)",
                legendgroup=str(submitter),
                marker={"pattern": {"shape": "/"}},
                hovertemplate="%{y:,} tokens estimated<extra>%{fullData.name}</extra>",
            )
    fig.update_layout(barmode="stack", yaxis_title="tokens")
    whole_axis(fig, _stacked_top(frame["day"], frame["tokens"]))
    day_axis(fig, frame["day"])
    return fig


def group_chart(frame: pd.DataFrame, *, top: int = 15) -> go.Figure:
    """Videos per group, split by outcome."""
    fig = _figure(f"Videos per group (top {top})")
    used = frame[frame["videos"] > 0].head(top)
    if used.empty:
        return _empty(fig)
    label = used["group_name"].fillna(used["group_id"]).astype(str)
    fig.add_bar(x=label, y=used["succeeded"].astype("int64"), name="succeeded",
                marker_color="#2ca02c")  # fmt: skip
    fig.add_bar(x=label, y=used["failed"].astype("int64"), name="failed", marker_color="#d62728")
    running = used["videos"] - used["succeeded"] - used["failed"]
    fig.add_bar(x=label, y=running.astype("int64"), name="in flight", marker_color="#7f7f7f")
    fig.update_layout(barmode="stack", yaxis_title="videos")
    whole_axis(fig, float(used["videos"].max()))
    return fig


def quota_chart(frame: pd.DataFrame) -> go.Figure:
    """Tokens spent so far, and assets held against the upload cap."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.update_layout(title="Quota use over time", **_LAYOUT)
    if frame.empty:
        return _empty(fig)
    estimated = int(_estimated(frame).sum())
    fig.add_scatter(
        x=frame["day"],
        y=frame["cumulative_tokens"].astype("int64"),
        name="tokens (cumulative, partly estimated)" if estimated else "tokens (cumulative)",
        mode="lines+markers",
        secondary_y=False,
    )
    if estimated:
        fig.add_scatter(
            x=frame["day"],
            y=_estimated(frame).cumsum(),
            name="of which estimated (no usage reported)",
            mode="lines",
            line={"dash": "dash"},
            secondary_y=False,
        )
    fig.add_scatter(
        x=frame["day"],
        y=frame["assets_live"].astype("int64"),
        name="assets held",
        mode="lines",
        line={"dash": "dot"},
        secondary_y=True,
    )
    fig.add_scatter(
        x=frame["day"],
        y=frame["asset_cap"].astype("int64"),
        name="asset cap",
        mode="lines",
        line={"color": "#d62728", "width": 1},
        secondary_y=True,
    )
    fig.update_yaxes(title_text="tokens", secondary_y=False)
    fig.update_yaxes(title_text="assets", secondary_y=True, rangemode="tozero")
    whole_axis(fig, float(frame["cumulative_tokens"].max()))
    held = max(frame["assets_live"].max(), frame["asset_cap"].max())
    whole_axis(fig, float(held), axis="yaxis2")
    day_axis(fig, frame["day"])
    return fig  # fmt: skip


#: Report name -> chart function (reports without a chart are shown as tables only).
CHARTS: Final[dict[str, Callable[[pd.DataFrame], go.Figure]]] = {
    "asset_usage": asset_usage_chart,
    "usage_breakdown": usage_breakdown_chart,
    "group_summary": group_chart,
    "failures_by_code": failures_chart,
    "latency": latency_chart,
    "tokens_per_day": tokens_chart,
    "quota_use": quota_chart,
}
