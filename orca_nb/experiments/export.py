"""A one-file offline HTML page of an experiment: posters, parameters, tokens, ratings.

>>> run.export_html("storm.html")                                       # doctest: +SKIP
>>> export_html("storm", "storm.html", posters=False)                  # doctest: +SKIP

``orca-nb experiment export <name or id> -o storm.html`` does the same from a shell.

The page holds the experiment's name, its base request, every variant (its varied values,
status, prompt, parameters, tokens with estimates marked, latency, error) with the compare
grid's marks (winner, rating, tags, note), laid out as a matrix when exactly two dimensions
vary (e.g. prompt x seed), then a table of the same rows. Poster frames are fetched fresh
(``client.videos.get`` for a current link, then the capped downloader
:func:`orca_nb.media.fetch_media`), shrunk by :func:`orca_nb.media.video_poster` and embedded
as ``data:`` URIs; a poster that cannot be made is said in its cell and the export goes on.

The file needs no server and makes no request: no script, no stylesheet or font from
elsewhere, no link to follow (a URL a user wrote, or the service's address, is shown as text).
Every text is escaped (a prompt, tag or note is text, never markup), and signed links'
signatures are scrubbed (:func:`orca_nb.wire.strip_secret_params`); video links are not kept.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from orca_nb import wire
from orca_nb.compose import cost
from orca_nb.experiments import results
from orca_nb.experiments.db import (
    FAILED,
    INVALID,
    REFUSED,
    SUCCEEDED,
    UNKNOWN,
    VARIANT_STATUSES,
    ExperimentRow,
    ExperimentsDB,
    VariantRow,
)
from orca_nb.experiments.labels import variant_label
from orca_nb.experiments.location import find_experiment, open_experiments_db
from orca_nb.experiments.progress import phase
from orca_nb.media.poster import POSTER_SIDE, POSTER_SIDE_MAX

if TYPE_CHECKING:
    import pandas as pd

    from orca_nb.client import Orca
    from orca_nb.ledger import Ledger

log = logging.getLogger("orca_nb.experiments")

#: Largest video downloaded for a poster (a longer file is cut there; its first frame is
#: usually in the part read).
POSTER_MAX_BYTES: Final = 64 * wire.MB
#: Posters made at once (each is a task read, a download and a decode).
POSTER_WORKERS: Final = 4
#: A matrix is drawn when two dimensions vary and the columns are at most this many.
MATRIX_MAX_COLUMNS: Final = 8
_PROMPT_PREVIEW: Final = 160
#: The only image source the page writes: an embedded JPEG (base64 has no quote or markup).
_POSTER_URI: Final = re.compile(r"data:image/jpeg;base64,[A-Za-z0-9+/]*={0,2}")
#: Table columns holding prose (they wrap; the others stay on one line).
_WIDE_COLUMNS: Final = frozenset({"prompt", "references", "error", "tags", "note"})


@dataclass(frozen=True)
class Poster:
    """A variant's poster: a ``data:`` URI, or why there is none (``error``)."""

    uri: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class HtmlExport:
    """What :func:`export_html` wrote (usable as a path: ``open(export)`` works)."""

    path: Path
    variants: int
    posters: int
    poster_failures: int
    bytes: int
    seconds: float

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        failed = f", {self.poster_failures} poster(s) missing" if self.poster_failures else ""
        return (
            f"{self.path} ({self.bytes / 1024:,.0f} KiB, {self.variants} variant(s), "
            f"{self.posters} poster(s){failed}, {self.seconds:.1f} s)"
        )


# --------------------------------------------------------------------------- posters
def make_posters(
    client: Orca,
    rows: Sequence[VariantRow],
    *,
    max_side: int | None = None,
    max_bytes: int = POSTER_MAX_BYTES,
    workers: int = POSTER_WORKERS,
) -> dict[str, Poster]:
    """Posters of the succeeded variants, by variant id (others have none: their cell says
    their status). Each failure is kept as its :attr:`Poster.error`; nothing raises."""
    side = POSTER_SIDE if max_side is None else max_side
    wanted = [v for v in rows if v.status == SUCCEEDED and v.task_id]
    if not wanted:
        return {}

    def one(v: VariantRow) -> tuple[str, Poster]:
        assert v.task_id is not None
        try:
            return v.variant_id, _poster(client, v.task_id, side, max_bytes)
        except Exception as exc:  # whatever went wrong, it is this cell's, not the export's
            log.info("no poster for %s: %s", v.variant_id, exc)
            return v.variant_id, Poster(error=_clean(f"no poster: {type(exc).__name__}: {exc}"))

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="orca-poster") as pool:
        return dict(pool.map(one, wanted))


def _poster(client: Orca, task_id: str, side: int, max_bytes: int) -> Poster:
    from orca_nb.media import MediaError, MediaFetchError, fetch_media
    from orca_nb.media.poster import jpeg_data_uri, video_poster

    try:
        task = client.videos.get(task_id)
    except Exception as exc:  # the cell says why; the export goes on
        return Poster(error=_clean(f"could not read task {task_id}: {exc}"))
    url = task.video_url
    if not url:
        return Poster(error=f"the service gave no video link for task {task_id} ({task.status})")
    try:
        got = fetch_media(url, max_bytes=max_bytes)
    except MediaFetchError as exc:
        return Poster(error=_clean(str(exc).replace(url, "the video link")))
    except (ValueError, OSError) as exc:
        return Poster(error=_clean(f"could not download the video: {exc}".replace(url, "it")))
    try:
        return Poster(uri=jpeg_data_uri(video_poster(got.data, max_side=side)))
    except MediaError as exc:
        if not got.complete:
            return Poster(
                error=f"the video is over the {max_bytes // wire.MB} MB download cap and no "
                "frame could be read from its first part"
            )
        return Poster(error=_clean(f"no poster frame: {exc}"))


def _clean(text: str) -> str:
    """Text with signed links' signatures scrubbed (never a bearer link in a file)."""
    return wire.strip_secret_params(text)


# --------------------------------------------------------------------------- rendering
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222;
       padding: 0 1rem; }
h1 { margin-bottom: .2rem; } .meta { color: #666; margin-top: 0; }
section { margin: 2.2rem 0; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
.note { color: #666; font-size: .85rem; }
.estimate { background: #fff8e1; border-left: 3px solid #f0a500; padding: .3rem .6rem; }
.chips span, .tag { display: inline-block; border-radius: 1rem; padding: .05rem .55rem;
       margin: 0 .25rem .25rem 0; background: #eef1f5; font-size: .8rem; max-width: 100%;
       overflow-wrap: anywhere; }
.prompt, .text { white-space: pre-wrap; overflow-wrap: anywhere; }
.params { border-collapse: collapse; font-size: .9rem; }
.params th { text-align: left; padding: .15rem .8rem .15rem 0; color: #555; font-weight: 500; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr));
        gap: 1rem; }
.matrix { border-collapse: separate; border-spacing: .6rem; }
.matrix th { font-weight: 600; text-align: center; vertical-align: middle; max-width: 14rem;
             overflow-wrap: anywhere; white-space: pre-wrap; font-size: .85rem; }
.matrix td { vertical-align: top; width: 260px; }
.card { border: 1px solid #ddd; border-radius: .5rem; padding: .5rem; background: #fff;
        font-size: .85rem; }
.card.winner { border: 2px solid #d4a000; box-shadow: 0 0 0 3px #fff3c4; }
.card .labels { font-weight: 600; margin: .3rem 0; overflow-wrap: anywhere; }
.poster { width: 100%; aspect-ratio: 16 / 9; background: #f2f2f2; display: flex;
          align-items: center; justify-content: center; border-radius: .3rem;
          overflow: hidden; color: #777; text-align: center; font-size: .8rem; }
.poster img { width: 100%; height: 100%; object-fit: contain; background: #000; }
.poster.missing { background: #fbeaea; color: #8a1c1c; padding: .4rem; }
.status { display: inline-block; border-radius: .25rem; padding: 0 .4rem; font-size: .75rem;
          background: #e8e8e8; }
.status.succeeded { background: #e3f4e6; color: #1b5e20; }
.status.failed, .status.refused, .status.invalid { background: #fbeaea; color: #8a1c1c; }
.status.unknown { background: #fff3c4; color: #6b4f00; }
.badge { display: inline-block; background: #d4a000; color: #fff; border-radius: .25rem;
         padding: 0 .4rem; font-size: .75rem; margin-left: .3rem; }
.stars { color: #d4a000; letter-spacing: .05rem; }
.error { color: #8a1c1c; overflow-wrap: anywhere; }
.table-box { overflow: auto; max-width: 100%; max-height: 36rem; border: 1px solid #eee; }
table.results { border-collapse: collapse; font-size: .8rem; min-width: 100%; }
table.results th, table.results td { border-bottom: 1px solid #eee; padding: .25rem .5rem;
       text-align: left; vertical-align: top; }
table.results td { white-space: nowrap; }
table.results td.wide { white-space: pre-wrap; min-width: 16rem; max-width: 30rem;
       overflow-wrap: anywhere; }
table.results th { background: #f6f6f6; position: sticky; top: 0; }
details summary { cursor: pointer; color: #555; }
"""


def _e(value: object) -> str:
    """Any value as escaped text (signed links' signatures scrubbed)."""
    return html.escape(_clean(_plain(value)), quote=True)


def _plain(value: object) -> str:
    """A value as the page writes it ('' for none)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _na(value: object) -> bool:
    """True for None, NaN, NA and NaT (a list or tuple is a value, even empty)."""
    import pandas as pd

    if isinstance(value, (list, tuple, dict)):
        return False
    try:
        return bool(pd.isna(cast(Any, value)))
    except (TypeError, ValueError):
        return False


def tokens_text(tokens: object, source: object) -> str:
    """A results cell's tokens in :func:`orca_nb.compose.cost.tokens_text`'s words, a reported
    figure said so (the table mixes both): ``108,900 tokens (reported)``, ``~108,900 tokens
    (estimate)``, ``at least 108,900 tokens (estimate, lower bound)``; '' when unknown."""
    if tokens is None or _na(tokens):
        return ""
    text = cost.tokens_text(int(tokens), str(source))  # type: ignore[call-overload]
    return f"{text} (reported)" if source == wire.TOKENS_REPORTED else text


def _stars(rating: object) -> str:
    if rating is None or _na(rating):
        return ""
    n = int(rating)  # type: ignore[call-overload]
    return (
        f"<span class='stars' title='rated {n} of 5'>{'★' * n}{'☆' * (5 - n)}</span> "
        f"<span class='note'>{n}/5</span>"
    )


def _params_of(body: Mapping[str, Any] | None) -> dict[str, Any]:
    """The request's parameters as the page lists them (model, then metadata without content)."""
    if not body:
        return {}
    meta = body.get("metadata") or {}
    out: dict[str, Any] = {"model": body.get("model")}
    out.update({k: v for k, v in meta.items() if k != "content"})
    return out


def _references_of(body: Mapping[str, Any] | None) -> list[str]:
    """The request's media items as ``Image (reference_image): asset://...`` lines."""
    if not body:
        return []
    items = (body.get("metadata") or {}).get("content") or []
    lines = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        kind = str(item.get("type", "")).replace("_url", "")
        inner = item.get(str(item.get("type", ""))) or {}
        source = inner.get("url") if isinstance(inner, Mapping) else None
        role = item.get("role")
        lines.append(f"{kind}{f' ({role})' if role else ''}: {source or '?'}")
    return lines


def _params_table(params: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in params.items() if v is not None
    )
    return f"<table class='params'>{rows}</table>" if rows else ""


def _card(
    v: VariantRow,
    row: Mapping[str, Any],
    poster: Poster | None,
    dims: Sequence[str],
    *,
    skip: Sequence[str] = (),
) -> str:
    pinned = bool(row.get("pinned"))
    classes = "card winner" if pinned else "card"
    if poster is not None and poster.uri and not _POSTER_URI.fullmatch(poster.uri):
        poster = Poster(error="the poster was not an embedded JPEG (left out)")
    if poster is not None and poster.uri:
        picture = (
            f"<div class='poster'><img src='{poster.uri}' "
            f"alt='{_e('poster of variant ' + v.variant_id)}'></div>"
        )
    elif poster is not None and poster.error:
        picture = f"<div class='poster missing'>No poster: {_e(poster.error)}</div>"
    else:
        picture = f"<div class='poster'>{_e(_no_video(v.status))}</div>"
    parts = [f"<div class='{classes}' id='variant-{_e(v.variant_id)}'>", picture]
    label = variant_label(v.values, dims, skip=skip)
    if label:
        parts.append(f"<div class='labels'>{_e(label)}</div>")
    head = f"<span class='status {_e(v.status)}'>{_e(v.status)}</span>"
    if pinned:
        head += "<span class='badge'>★ winner</span>"
    parts.append(f"<div>{head} <span class='note'>{_e(v.variant_id)}</span></div>")
    stars = _stars(row.get("rating"))
    if stars:
        parts.append(f"<div>{stars}</div>")
    tags = row.get("tags") or ()
    if tags:
        chips = "".join(f"<span class='tag'>{_e(t)}</span>" for t in tags)
        parts.append(f"<div class='tags'>{chips}</div>")
    note = row.get("note") or ""
    if note:
        parts.append(f"<div class='text note-text'>{_e(note)}</div>")
    facts = [
        tokens_text(row.get("tokens"), row.get("tokens_source")),
        _latency_text(row.get("latency_s"), row.get("latency_source")),
    ]
    facts = [f for f in facts if f]
    if facts:
        parts.append(f"<div class='note'>{_e(' · '.join(facts))}</div>")
    if v.status in (FAILED, REFUSED, UNKNOWN, INVALID) or v.error_message:
        parts.append(f"<div class='error'>{_e(_error_text(v))}</div>")
    prompt = (v.body or {}).get("prompt") or v.values.get("prompt") or ""
    if prompt:
        preview = prompt if len(prompt) <= _PROMPT_PREVIEW else prompt[: _PROMPT_PREVIEW - 1] + "…"
        parts.append(
            f"<details><summary>Prompt and parameters</summary>"
            f"<p class='prompt'>{_e(prompt)}</p>{_params_table(_params_of(v.body))}"
            f"{_references_html(_references_of(v.body))}"
            f"<div class='note'>task {_e(v.task_id or 'none')}</div></details>"
            f"<p class='prompt note'>{_e(preview)}</p>"
        )
    parts.append("</div>")
    return "".join(parts)


def _references_html(lines: Sequence[str]) -> str:
    if not lines:
        return ""
    return "<ul class='text'>" + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ul>"


def _no_video(status: str) -> str:
    return {
        INVALID: "not sent (invalid)",
        REFUSED: "refused: no video",
        FAILED: "failed: no video",
        UNKNOWN: "outcome unknown",
    }.get(status, f"{status}: no video yet")


def _error_text(v: VariantRow) -> str:
    if v.status == INVALID and v.reasons:
        return "invalid: " + "; ".join(v.reasons)
    code = f"{v.error_code}: " if v.error_code else ""
    return f"{code}{v.error_message or v.status}"


def _latency_text(latency: object, source: object) -> str:
    if latency is None or _na(latency):
        return ""
    clock = "" if source == results.LATENCY_SERVICE else " (local clock)"
    return f"{float(latency):.1f} s{clock}"  # type: ignore[arg-type]


def _matrix_dims(rows: Sequence[VariantRow], dims: Sequence[str]) -> tuple[str, str] | None:
    """(row dimension, column dimension) when the variants form a matrix of two dimensions."""
    if len(dims) != 2:
        return None
    a, b = dims
    keys = [(_plain(v.values.get(a)), _plain(v.values.get(b))) for v in rows]
    if len(set(keys)) != len(keys):
        return None
    cols_a = len({k[0] for k in keys})
    cols_b = len({k[1] for k in keys})
    # Fewer columns across the page: the dimension with fewer values goes across.
    if cols_b <= cols_a and cols_b <= MATRIX_MAX_COLUMNS:
        return a, b
    if cols_a <= MATRIX_MAX_COLUMNS:
        return b, a
    return None


def _ordered(values: Sequence[str]) -> list[str]:
    def key(text: str) -> tuple[int, float, str]:
        try:
            return (0, float(text), "")
        except ValueError:
            return (1, 0.0, text)

    seen = list(dict.fromkeys(values))
    numeric = all(key(t)[0] == 0 for t in seen)
    return sorted(seen, key=key) if numeric else seen


def _grid_html(
    rows: Sequence[VariantRow],
    by_id: Mapping[str, Mapping[str, Any]],
    posters: Mapping[str, Poster],
    dims: Sequence[str],
) -> str:
    matrix = _matrix_dims(rows, dims)
    if matrix is None:
        cards = "".join(
            _card(v, by_id[v.variant_id], posters.get(v.variant_id), dims) for v in rows
        )
        return f"<div class='grid' id='variants'>{cards}</div>"
    down, across = matrix
    row_values = _ordered([_plain(v.values.get(down)) for v in rows])
    col_values = _ordered([_plain(v.values.get(across)) for v in rows])
    cell = {(_plain(v.values.get(down)), _plain(v.values.get(across))): v for v in rows}
    head = f"<th>{_e(down)} \\ {_e(across)}</th>" + "".join(
        f"<th>{_e(across)}: {_e(c)}</th>" for c in col_values
    )
    body = []
    for r in row_values:
        cells = []
        for c in col_values:
            v = cell.get((r, c))
            if v is None:
                cells.append("<td></td>")
                continue
            card = _card(v, by_id[v.variant_id], posters.get(v.variant_id), dims, skip=dims)
            cells.append(f"<td>{card}</td>")
        body.append(f"<tr><th>{_e(down)}: {_e(r)}</th>{''.join(cells)}</tr>")
    return (
        "<div class='table-box' style='max-height:none'><table class='matrix' id='variants'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _table_html(frame: pd.DataFrame) -> str:
    columns = [c for c in frame.columns if c != "finished_at"]
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = []
    for record in frame[columns].to_dict("records"):
        cells = []
        for c in columns:
            value = record[c]
            if c == "tokens":
                text = tokens_text(value, record.get("tokens_source"))
            elif c == "submitted_at":
                text = "" if _na(value) else value.strftime("%Y-%m-%d %H:%M:%S UTC")
            elif c == "latency_s":
                text = "" if _na(value) else f"{float(value):.1f}"
            elif c == "pinned":
                text = "winner" if value else ""
            elif isinstance(value, (tuple, list)):
                text = _plain(value)
            else:
                text = "" if _na(value) else _plain(value)
            wide = " class='wide'" if c in _WIDE_COLUMNS else ""
            cells.append(f"<td{wide}>{_e(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f"<div class='table-box' id='table-variants'><table class='results'><thead><tr>{head}"
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _summary_html(
    experiment: ExperimentRow, rows: Sequence[VariantRow], frame: pd.DataFrame
) -> str:
    counts = {s: sum(1 for v in rows if v.status == s) for s in VARIANT_STATUSES}
    chips = "".join(
        f"<span class='status {_e(s)}'>{_e(s)} {n}</span> " for s, n in counts.items() if n
    )
    reported = frame[frame["tokens_source"] == wire.TOKENS_REPORTED]["tokens"]
    estimated = frame[
        frame["tokens_source"].isin([wire.TOKENS_ESTIMATED, wire.TOKENS_ESTIMATED_MIN])
    ]
    lower = bool((estimated["tokens_source"] == wire.TOKENS_ESTIMATED_MIN).any())
    token_parts = []
    if len(reported):
        token_parts.append(f"{int(reported.sum()):,} tokens reported by the service")
    if len(estimated):
        source = wire.TOKENS_ESTIMATED_MIN if lower else wire.TOKENS_ESTIMATED
        token_parts.append(
            f"{cost.tokens_text(int(estimated['tokens'].sum()), source)} for "
            f"{len(estimated)} variant(s) without a reported figure"
        )
    latencies = frame["latency_s"].dropna()
    lines = [f"<div class='chips'>{chips}</div>"]
    if token_parts:
        lines.append(f"<p>{_e('; '.join(token_parts))}.</p>")
    if len(latencies):
        lines.append(
            f"<p>Latency (submission to finish): median {latencies.median():.1f} s, "
            f"slowest {latencies.max():.1f} s over {len(latencies)} variant(s).</p>"
        )
    winner = frame[frame["pinned"]]
    if len(winner):
        w = winner.iloc[0]
        lines.append(
            f"<p>Winner: <a href='#variant-{_e(w['variant_id'])}'>{_e(w['variant_id'])}</a></p>"
        )
    rated = frame["rating"].dropna()
    if len(rated):
        lines.append(f"<p>{len(rated)} variant(s) rated, mean {float(rated.mean()):.2f} of 5.</p>")
    if len(estimated):
        lines.append(
            "<p class='estimate' id='estimate-note'>Token figures marked ~ or 'at least' are "
            "estimates by the reference's rule (the service reported none for them); 'at least' "
            "marks a lower bound (a reference video's length was unknown).</p>"
        )
    del experiment
    return "".join(lines)


def render_html(
    experiment: ExperimentRow,
    rows: Sequence[VariantRow],
    frame: pd.DataFrame,
    posters: Mapping[str, Poster] | None = None,
    *,
    notes: Sequence[str] = (),
    now: datetime | None = None,
) -> str:
    """The page as one self-contained HTML string (see the module's docstring)."""
    posters = posters or {}
    moment = now or datetime.now(UTC)
    dims = results.dimensions(rows)
    by_id: dict[str, Mapping[str, Any]] = {
        str(r["variant_id"]): {str(k): v for k, v in r.items()} for r in frame.to_dict("records")
    }
    base = experiment.definition.get("base") or {}
    title = f"Experiment: {experiment.name}"
    meta = " · ".join(
        [
            f"id {experiment.experiment_id}",
            f"account {experiment.account}",
            f"service {experiment.base_url}",
            f"state {phase(experiment.state, Counter(v.status for v in rows))}",
            f"created {_when(experiment.created_at)}",
            f"exported {moment.strftime('%Y-%m-%d %H:%M UTC')}",
        ]
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        # No request may leave the page: this policy blocks any that a browser would make.
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1><p class='meta'>{_e(meta)}</p>",
    ]
    parts += [f"<p class='estimate'>{_e(n)}</p>" for n in notes]
    parts.append(
        f"<section id='summary'><h2>Summary</h2>{_summary_html(experiment, rows, frame)}</section>"
    )
    base_prompt = base.get("prompt") or ""
    varied = ", ".join(dims) if dims else "nothing"
    parts.append(
        "<section id='base'><h2>Base request</h2>"
        f"<p class='note'>Varied: {_e(varied)}.</p>"
        f"<p class='prompt'>{_e(base_prompt)}</p>{_params_table(_params_of(base))}"
        f"{_references_html(_references_of(base))}</section>"
    )
    parts.append(
        f"<section id='grid'><h2>Variants</h2>{_grid_html(rows, by_id, posters, dims)}</section>"
    )
    parts.append(f"<section id='table'><h2>All variants</h2>{_table_html(frame)}</section>")
    parts.append(
        "<p class='note'>Made by orca_nb. This page is one file and makes no network request; "
        "posters are embedded stills, not the videos.</p></body></html>"
    )
    return "\n".join(parts)


# --------------------------------------------------------------------------- entry points
def write_export(
    path: str | os.PathLike[str],
    db: ExperimentsDB,
    experiment: ExperimentRow,
    *,
    client: Orca | None,
    ledger: Ledger | None,
    posters: bool = True,
    poster_side: int | None = None,
    max_video_bytes: int = POSTER_MAX_BYTES,
    workers: int = POSTER_WORKERS,
    now: datetime | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> HtmlExport:
    """Read the experiment's rows, its ledger facts and (``posters``) its posters; write the
    page to ``path`` (parent folders made). The building block of :func:`export_html` and
    :meth:`ExperimentRun.export_html <orca_nb.experiments.ExperimentRun.export_html>`."""
    if poster_side is not None and (
        isinstance(poster_side, bool)
        or not isinstance(poster_side, int)
        or not 1 <= poster_side <= POSTER_SIDE_MAX
    ):
        raise ValueError(
            f"poster_side must be a whole number of pixels, 1 to {POSTER_SIDE_MAX}; "
            f"got {poster_side!r}"
        )
    began = clock()
    rows = db.variants(experiment.experiment_id)
    frame = results.results_frame(
        rows,
        sends=results.ledger_sends(ledger, experiment.experiment_id),
        marks=results.ledger_marks(ledger, experiment.experiment_id),
    )
    notes: list[str] = []
    made: dict[str, Poster] = {}
    if posters:
        if client is None:
            raise ValueError("posters=True needs a client to fetch the videos (or posters=False)")
        if client.key_label != experiment.account:
            notes.append(
                f"Posters were fetched with key {client.key_label}; the experiment belongs to "
                f"{experiment.account}. Missing posters may need that key."
            )
        made = make_posters(
            client, rows, max_side=poster_side, max_bytes=max_video_bytes, workers=workers
        )
    if ledger is None:
        notes.append(
            "No usage ledger was read: latency is this machine's clock and marks (winner, "
            "ratings, tags, notes) are not shown."
        )
    page = render_html(experiment, rows, frame, made, notes=notes, now=now)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = page.encode("utf-8")
    target.write_bytes(data)
    return HtmlExport(
        path=target,
        variants=len(rows),
        posters=sum(1 for p in made.values() if p.uri),
        poster_failures=sum(1 for p in made.values() if p.error),
        bytes=len(data),
        seconds=clock() - began,
    )


def export_html(
    experiment: str,
    path: str | os.PathLike[str],
    *,
    client: Orca | None = None,
    ledger: Ledger | None = None,
    database_url: str | None = None,
    posters: bool = True,
    poster_side: int | None = None,
    max_video_bytes: int = POSTER_MAX_BYTES,
    workers: int = POSTER_WORKERS,
) -> HtmlExport:
    """Write a stored experiment (``experiment``: its name or id) as one offline HTML file.

    Needs no running experiment runtime: it reads the experiments database (``database_url``,
    default beside the ledger), the usage ledger (``ledger``, default the client's, else the
    default ledger) and, with ``posters=True``, each succeeded variant's video through
    ``client`` (default ``orca_nb.Orca()``) for its poster frame (``poster_side`` pixels, 320 by
    default). Returns an :class:`HtmlExport` (path, size, posters made and missing).
    """
    from orca_nb.client.default_ledger import open_default_ledger
    from orca_nb.ledger import readable_ledger

    db = open_experiments_db(database_url)
    owned: Orca | None = None
    try:
        row = find_experiment(db, experiment)
        if posters and client is None:
            from orca_nb.client import Orca

            client = owned = Orca()
        if ledger is None:
            ledger = readable_ledger(client.ledger if client is not None else open_default_ledger())
        return write_export(
            path, db, row, client=client, ledger=ledger, posters=posters,
            poster_side=poster_side, max_video_bytes=max_video_bytes, workers=workers,
        )  # fmt: skip
    finally:
        if owned is not None:
            owned.close()
        db.close()


__all__ = [
    "POSTER_MAX_BYTES",
    "HtmlExport",
    "Poster",
    "export_html",
    "make_posters",
    "render_html",
    "tokens_text",
    "write_export",
]
