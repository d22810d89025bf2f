"""The fixed column schemas of every report: name, pandas dtype and meaning, in order.

Dtypes are pandas 3's: ``str`` (missing = NaN), ``Int64`` (nullable integer), ``float64``,
``bool`` and ``datetime64[ms, UTC]``. "Failed" in a count means any terminal outcome other than
``succeeded`` (failed, cancelled, expired, or rejected at submission). A submission whose
outcome is ``unknown`` (sent, no usable reply: the task may exist) is neither succeeded nor
failed: ``tokens_per_day`` and ``quota_use`` count it in their ``unknown`` column and
``submissions`` lists it with that status until it is settled (``orca_nb.ledger.settle``).
``success_rate`` is succeeded / (succeeded + failed) and NaN while nothing has finished.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from orca_nb import wire

STR: Final = "str"
INT: Final = "Int64"
FLOAT: Final = "float64"
BOOL: Final = "bool"
TIME: Final = "datetime64[ms, UTC]"

Column = tuple[str, str, str]  # name, dtype, meaning

_OUTCOME: Final[tuple[Column, ...]] = (
    ("succeeded", INT, "videos that succeeded"),
    ("failed", INT, "videos that ended any other way (failed, cancelled, expired, rejected)"),
    ("success_rate", FLOAT, "succeeded / (succeeded + failed); NaN while none finished"),
)

SCHEMAS: Final[dict[str, tuple[Column, ...]]] = {
    "asset_usage": (
        ("source", STR, "asset id, or the URL of a URL item"),
        ("asset_id", STR, "asset id (NaN for URL items)"),
        ("name", STR, "asset name from the latest snapshot"),
        ("asset_type", STR, "Image, Video or Audio"),
        ("group_id", STR, "group of the asset"),
        ("group_name", STR, "group name from the latest snapshot"),
        ("status", STR, "asset status from the latest snapshot"),
        ("deleted", BOOL, "the asset was deleted since"),
        ("references", INT, "content items that referenced it"),
        ("videos", INT, "distinct submissions it fed"),
        *_OUTCOME,
        ("tokens", INT, "usage tokens of the videos it fed (each once; estimated if unreported)"),
        ("first_used", TIME, "first submission that referenced it"),
        ("last_used", TIME, "latest submission that referenced it"),
    ),
    "usage_breakdown": (
        ("asset_type", STR, "Image, Video or Audio"),
        ("role", STR, "content role (reference_image, first_frame, ...); NaN when not sent"),
        ("group_id", STR, "group of the referenced assets (NaN for URL items)"),
        ("group_name", STR, "group name from the latest snapshot"),
        ("references", INT, "content items"),
        ("assets", INT, "distinct sources (asset ids or URLs)"),
        ("succeeded", INT, "references whose video succeeded"),
        ("failed", INT, "references whose video ended any other way"),
        ("success_rate", FLOAT, "succeeded / (succeeded + failed), per reference"),
    ),
    "asset_hygiene": (
        ("asset_id", STR, "asset id"),
        ("name", STR, "asset name"),
        ("asset_type", STR, "Image, Video or Audio"),
        ("group_id", STR, "group of the asset"),
        ("group_name", STR, "group name"),
        ("status", STR, "asset status from the latest snapshot"),
        ("issue", STR, "'failed' (processing failed) or 'never_used' (no video referenced it)"),
        ("error_code", STR, "asset Error.Code when failed"),
        ("error_message", STR, "asset Error.Message when failed"),
        ("references", INT, "content items that referenced it"),
        ("created_at", TIME, "asset CreateTime"),
        ("last_seen_at", TIME, "when the ledger last saw the asset (to within 10 minutes)"),
    ),
    "failures_by_code": (
        (
            "status",
            STR,
            "failed, cancelled, expired, or rejected (refused at submission); never"
            " unknown (an unknown outcome is not a failure)",
        ),
        ("error_code", STR, "error code ('unknown' when the server gave none)"),
        ("failures", INT, "submissions that ended this way"),
        ("share", FLOAT, "failures / all unsuccessful submissions in the selection"),
        ("first_at", TIME, "first such submission"),
        ("last_at", TIME, "latest such submission"),
        ("example_message", STR, "one error message seen with this code"),
    ),
    "latency": (
        ("model", STR, "model"),
        ("resolution", STR, "resolution"),
        ("duration", INT, "seconds of video requested"),
        ("videos", INT, "succeeded videos with known times"),
        ("p50", FLOAT, "seconds from submission to finish, 50th percentile"),
        ("p90", FLOAT, "90th percentile (linear interpolation, as numpy)"),
        ("p95", FLOAT, "95th percentile"),
        ("p99", FLOAT, "99th percentile"),
        ("mean", FLOAT, "mean seconds from submission to finish"),
        ("max", FLOAT, "slowest, seconds"),
        ("queue_mean", FLOAT, "mean seconds from submission to start (NaN if starts unknown)"),
        ("run_mean", FLOAT, "mean seconds from start to finish (NaN if starts unknown)"),
    ),
    "tokens_per_day": (
        ("day", TIME, "UTC day the videos were submitted"),
        ("submitter", STR, "key label (hooks.key_label), never the key"),
        ("videos", INT, "submissions"),
        ("succeeded", INT, "succeeded videos"),
        ("unknown", INT, "submissions whose outcome is unknown (the task may exist; settle them)"),
        ("tokens", INT, "usage tokens: reported by the service, else estimated (12.4 rule)"),
        ("estimated_tokens", INT, "of tokens, the part estimated because no usage was reported"),
        ("lower_bound", BOOL, "an estimate counted an unknown video length at its minimum"),
    ),
    "group_summary": (
        ("group_id", STR, "group id"),
        ("group_name", STR, "group name from the latest snapshot"),
        ("group_type", STR, " or ".join(map(wire.group_type_label, wire.GROUP_TYPES))),
        ("deleted", BOOL, "the group was deleted since"),
        ("assets", INT, "assets of the group the ledger knows, not deleted"),
        ("active_assets", INT, "of which Active"),
        ("failed_assets", INT, "of which Failed"),
        ("assets_used", INT, "distinct assets of the group referenced"),
        ("references", INT, "content items referencing the group's assets"),
        ("videos", INT, "distinct submissions using the group"),
        *_OUTCOME,
        ("tokens", INT, "usage tokens of those videos (each once; estimated if unreported)"),
        ("first_used", TIME, "first use"),
        ("last_used", TIME, "latest use"),
    ),
    "quota_use": (
        ("day", TIME, "UTC day"),
        ("videos", INT, "submissions that day"),
        ("succeeded", INT, "succeeded videos that day"),
        ("unknown", INT, "submissions that day whose outcome is unknown (may exist; settle them)"),
        ("tokens", INT, "usage tokens of that day's submissions (reported, else estimated)"),
        ("estimated_tokens", INT, "of tokens, the part estimated because no usage was reported"),
        ("cumulative_tokens", INT, "tokens since the start of the selection"),
        ("assets_created", INT, "assets created that day (from snapshots)"),
        ("assets_live", INT, "assets existing at the end of the day (created, not deleted)"),
        ("asset_cap", INT, "the account's asset upload cap (wire.DEFAULT_ASSET_CAP)"),
        ("cap_used", FLOAT, "assets_live / asset_cap"),
    ),
    "submissions": (
        ("submission_id", STR, "ledger id"),
        ("task_id", STR, "server task id (NaN if never accepted)"),
        ("submitted_at", TIME, "when it was submitted"),
        ("finished_at", TIME, "when it reached a terminal status"),
        ("status", STR, "latest status ('unknown': sent, no usable reply; the task may exist)"),
        ("model", STR, "model"),
        ("mode", STR, "text, first_frame, first_last or reference"),
        ("resolution", STR, "resolution"),
        ("duration", INT, "seconds requested"),
        ("items", INT, "media items in content[]"),
        ("submitter", STR, "key label"),
        ("tokens", INT, "usage tokens"),
        ("tokens_source", STR, "reported, estimated (none reported) or estimated_min (at least)"),
        ("error_code", STR, "error code when it failed"),
        ("prompt", STR, "prompt"),
    ),
    "experiment_summary": (
        ("experiment_id", STR, "experiment (orca_nb.experiments), as its submissions name it"),
        (
            "dimension",
            STR,
            "a varied dimension (prompt, model, ratio, resolution, duration, seed,"
            " generate_audio, watermark, references); NaN on the experiment's own row",
        ),
        ("value", STR, "the dimension's value as text ('' when unset); NaN on the experiment row"),
        ("variants", INT, "variants with a ledger row (each counted once, by its latest send)"),
        ("submissions", INT, "ledger rows, refused sends that were retried included"),
        ("succeeded", INT, "variants whose video succeeded"),
        ("failed", INT, "variants that ended any other way (failed, cancelled, expired, rejected)"),
        ("unknown", INT, "variants whose send got no usable reply (the task may exist)"),
        ("pending", INT, "variants still being sent, queued or running"),
        ("success_rate", FLOAT, "succeeded / (succeeded + failed); NaN while none finished"),
        ("p50", FLOAT, "seconds from submission to finish of succeeded variants, median"),
        ("p95", FLOAT, "95th percentile (linear interpolation, as numpy)"),
        ("tokens", INT, "usage tokens: reported by the service, else estimated (12.4 rule)"),
        ("reported_tokens", INT, "of tokens, the part the service reported"),
        ("estimated_tokens", INT, "the estimate made before sending, summed over the variants"),
        (
            "reported_vs_estimate",
            FLOAT,
            "reported tokens / their variants' estimate; NaN while none was reported",
        ),
        ("rated", INT, "variants rated in the compare grid (1-5 stars)"),
        ("mean_rating", FLOAT, "their mean rating; NaN while none is rated"),
        (
            "winner",
            STR,
            "the pinned variant's id (on a dimension's row: only where it has that value)",
        ),
        ("first_at", TIME, "first variant's submission"),
        ("last_at", TIME, "latest variant's submission"),
    ),
}


def columns(report: str) -> list[str]:
    """The ordered column names of a report."""
    return [name for name, _, _ in SCHEMAS[report]]


def describe(report: str) -> pd.DataFrame:
    """A report's schema as a small table: column, dtype, meaning."""
    return pd.DataFrame(SCHEMAS[report], columns=["column", "dtype", "meaning"])


def conform(data: pd.DataFrame | Mapping[str, Any], report: str) -> pd.DataFrame:
    """Give ``data`` exactly the report's columns, order and dtypes.

    Integer millisecond times become UTC datetimes; missing columns are an error (a bug here).
    """
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    frame = frame.reset_index(drop=True)
    missing = [c for c in columns(report) if c not in frame.columns]
    if missing:
        raise KeyError(f"report {report!r} is missing columns {missing}")
    out: dict[str, pd.Series] = {}
    for name, dtype, _ in SCHEMAS[report]:
        col = frame[name]
        if dtype == TIME:
            if not pd.api.types.is_datetime64_any_dtype(col):
                col = pd.to_datetime(col.astype("Int64"), unit="ms", utc=True)
            out[name] = col.astype(TIME)
        elif dtype == BOOL:
            out[name] = col.fillna(False).astype(BOOL)
        else:
            out[name] = col.astype(dtype)  # type: ignore[call-overload]
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
