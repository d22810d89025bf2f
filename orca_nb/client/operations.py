"""Every endpoint as one I/O-free operation (a generator run by ``Orca`` or ``AsyncOrca``).

What each call guarantees (retried? reconciled? may it duplicate?) is the table in README.md,
"What each call guarantees when the network misbehaves": the one statement of it. The policy
itself (which statuses retry, the delays, ``Retry-After``, what "may have landed" means) is
decided once in :mod:`orca_nb.client.retries` (``RETRY_STATUSES``, ``classify``, ``next_retry``);
``_core.send`` applies it to every call and ``_stream`` to downloads (which also stop retrying
once a byte is written). The reconciliation of each create lives with its operation below.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final, TypeVar

import httpx
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from orca_nb import wire
from orca_nb.client import _validate as v
from orca_nb.client import defaults
from orca_nb.client._core import (
    Ctx,
    Download,
    Found,
    Gather,
    Notify,
    Op,
    Sleep,
    build_request,
    join_url,
    parse_json,
    same_origin,
    send,
    send_json,
)
from orca_nb.client._redact import redact_text
from orca_nb.client.default_ledger import DefaultLedger
from orca_nb.client.errors import (
    APIError,
    AssetFailedError,
    OutcomeUnknownError,
    ValidationError,
    WaitTimeoutError,
)
from orca_nb.client.hooks import AssetDeletions, AssetSnapshots, UnknownOutcomes, key_label
from orca_nb.client.models import Asset, Created, Group, Page, Session, TaskError, VideoTask
from orca_nb.client.retries import (
    classify,
    next_interval,
    next_retry,
    parse_retry_after,
    poll_delay,
)

log = logging.getLogger("orca_nb.client")
M = TypeVar("M", bound=BaseModel)


def _url(ctx: Ctx, path: str, **ids: str) -> str:
    return join_url(ctx.config.base_url, path, **ids)


def _model(cls: type[M], data: Any, response_hint: str) -> M:
    try:
        return cls.model_validate(data)
    except PydanticValidationError as exc:
        raise APIError(
            f"unexpected reply to {response_hint}: {exc.error_count()} field(s) did not match "
            f"the {cls.__name__} shape ({exc.errors()[0]['loc']}). Is base_url an OrcaRouter API?",
            body=data,
        ) from None


def _page(cls: type[M], body: Any, page_number: int, page_size: int, hint: str) -> Page[M]:
    if not isinstance(body, Mapping) or not isinstance(body.get("Items", []), list):
        raise APIError(f"unexpected reply to {hint}: no Items list", body=body)
    items = [_model(cls, item, hint) for item in body.get("Items", [])]
    return Page(
        items=items,
        total_count=int(body.get("TotalCount", len(items))),
        page_number=int(body.get("PageNumber", page_number)),
        page_size=int(body.get("PageSize", page_size)),
        raw=body,
    )


def _list_params(
    *, page_number: Any, page_size: Any, sort_by: Any, sort_order: Any, sort_values: Sequence[str]
) -> dict[str, Any]:
    return {
        "page_number": v.integer("page_number", page_number, low=1, high=1_000_000),
        "page_size": v.integer("page_size", page_size, low=1, high=wire.MAX_PAGE_SIZE),
        "sort_by": v.optional_choice("sort_by", sort_by, sort_values),
        "sort_order": v.optional_choice("sort_order", sort_order, wire.SORT_ORDERS),
    }


# --------------------------------------------------------------------------- groups
def group_list_params(
    *,
    group_type: Any = None,
    name: Any = None,
    sort_by: Any = None,
    sort_order: Any = None,
    page_number: Any = 1,
    page_size: Any = wire.DEFAULT_PAGE_SIZE,
) -> dict[str, Any]:
    """Validated query for ``GET /asset/groups`` (``group_type=None``: the server's default,
    which the reference says is ``real_human``)."""
    params = _list_params(
        page_number=page_number,
        page_size=page_size,
        sort_by=sort_by,
        sort_order=sort_order,
        sort_values=wire.GROUP_SORT_BY,
    )
    params["group_type"] = v.optional_choice("group_type", group_type, ("aigc", "real_human"))
    params["name"] = v.text("name", name, max_chars=wire.NAME_MAX_CHARS, required=False)
    return params


def list_groups(ctx: Ctx, params: Mapping[str, Any]) -> Op[Page[Group]]:
    """One page of groups (snapshotted in the ledger in one write)."""
    body = yield from send_json(ctx, "GET", _url(ctx, wire.GROUPS_PATH), params=params)
    page = _page(Group, body, params["page_number"], params["page_size"], "list groups")
    _snapshot(ctx, groups=page.items)
    return page


def _exact_group_ids(ctx: Ctx, name: str) -> Op[set[str]]:
    found: set[str] = set()
    params = group_list_params(group_type="aigc", name=name, page_size=defaults.ITER_PAGE_SIZE)
    for number in range(1, defaults.RECONCILE_MAX_PAGES + 1):
        page = yield from list_groups(ctx, {**params, "page_number": number})
        found |= {g.id for g in page.items if g.name == name}
        if not page.has_next_page:
            break
    return found


def _reconciler(
    before: set[str], current: Callable[[], Op[set[str]]], what: str, how_to_check: str
) -> Callable[[], Op[str | None]]:
    def reconcile() -> Op[str | None]:
        try:
            now = yield from current()
        except APIError as exc:
            raise OutcomeUnknownError(
                f"The {what} request got no reply and the check for it failed too "
                f"({type(exc).__name__}).",
                how_to_check=how_to_check,
            ) from exc
        new = sorted(now - before)
        if len(new) > 1:
            raise OutcomeUnknownError(
                f"The {what} request got no reply and {len(new)} matching objects appeared "
                f"meanwhile ({', '.join(new)}); one may be a concurrent create.",
                how_to_check=how_to_check,
                candidates=tuple(new),
            )
        return new[0] if new else None

    return reconcile


def create_group(ctx: Ctx, *, name: Any, description: Any = None) -> Op[Created]:
    """``POST /asset/groups`` (an AIGC group), reconciled by exact name so it never duplicates."""
    name_ = v.text("name", name, max_chars=wire.NAME_MAX_CHARS, required=True)
    assert name_ is not None
    desc = v.text("description", description, max_chars=wire.DESCRIPTION_MAX_CHARS, required=False)
    body = {"Name": name_} | ({"Description": desc} if desc is not None else {})
    how = f"List AIGC groups named {name_!r} (client.groups.list(group_type='aigc', name=...))."
    before = yield from _exact_group_ids(ctx, name_)
    result = yield from send(
        ctx,
        "POST",
        _url(ctx, wire.GROUPS_PATH),
        json=body,
        mode="create",
        reconcile=_reconciler(before, lambda: _exact_group_ids(ctx, name_), "group create", how),
        how_to_check=how,
    )
    return _created(result, "create group")


def _created(result: httpx.Response | Found, hint: str) -> Created:
    if isinstance(result, Found):
        return Created(id=result.id)
    return _model(Created, parse_json(result), hint)


def get_group(ctx: Ctx, group_id: Any) -> Op[Group]:
    """``GET /asset/groups/{id}``."""
    gid = v.require_id("group_id", group_id)
    body = yield from send_json(ctx, "GET", _url(ctx, wire.GROUP_PATH, group_id=gid))
    group = _model(Group, body, "get group")
    _snapshot(ctx, groups=(group,))
    return group


def update_group(
    ctx: Ctx, group_id: Any, *, name: Any = None, description: Any = None
) -> Op[Group]:
    """``PATCH /asset/groups/{id}`` then read the group back."""
    gid = v.require_id("group_id", group_id)
    body: dict[str, Any] = {}
    if name is not None:
        body["Name"] = v.text("name", name, max_chars=wire.NAME_MAX_CHARS, required=True)
    if description is not None:
        body["Description"] = v.text(
            "description", description, max_chars=wire.DESCRIPTION_MAX_CHARS, required=False
        )
    if not body:
        raise ValidationError("name", "pass name= and/or description= to update")
    url = _url(ctx, wire.GROUP_PATH, group_id=gid)
    yield from send_json(ctx, "PATCH", url, json=body)
    return (yield from get_group(ctx, gid))


def delete_group(ctx: Ctx, group_id: Any) -> Op[None]:
    """``DELETE /asset/groups/{id}`` (cascades to the group's assets)."""
    gid = v.require_id("group_id", group_id)
    yield from send(ctx, "DELETE", _url(ctx, wire.GROUP_PATH, group_id=gid), mode="delete")
    _deleted(ctx, group_ids=(gid,))
    return None


# --------------------------------------------------------------------------- assets
def asset_list_params(
    *,
    group_type: Any = None,
    group_id: Any = None,
    statuses: Any = None,
    name: Any = None,
    sort_by: Any = None,
    sort_order: Any = None,
    page_number: Any = 1,
    page_size: Any = wire.DEFAULT_PAGE_SIZE,
) -> dict[str, Any]:
    """Validated query for ``GET /asset/files``."""
    params = _list_params(
        page_number=page_number,
        page_size=page_size,
        sort_by=sort_by,
        sort_order=sort_order,
        sort_values=wire.ASSET_SORT_BY,
    )
    params["group_type"] = v.optional_choice("group_type", group_type, ("aigc", "real_human"))
    params["group_id"] = None if group_id is None else v.require_id("group_id", group_id)
    params["statuses"] = v.statuses(statuses)
    params["name"] = v.text("name", name, max_chars=wire.NAME_MAX_CHARS, required=False)
    return params


def list_assets(ctx: Ctx, params: Mapping[str, Any]) -> Op[Page[Asset]]:
    """One page of assets (snapshotted in the ledger in one write)."""
    body = yield from send_json(ctx, "GET", _url(ctx, wire.ASSETS_PATH), params=params)
    page = _page(Asset, body, params["page_number"], params["page_size"], "list assets")
    _snapshot(ctx, assets=page.items)
    return page


def _exact_asset_ids(ctx: Ctx, group_id: str, name: str, asset_type: str) -> Op[set[str]]:
    found: set[str] = set()
    params = asset_list_params(group_id=group_id, name=name, page_size=defaults.ITER_PAGE_SIZE)
    for number in range(1, defaults.RECONCILE_MAX_PAGES + 1):
        page = yield from list_assets(ctx, {**params, "page_number": number})
        found |= {a.id for a in page.items if a.name == name and a.asset_type == asset_type}
        if not page.has_next_page:
            break
    return found


def upload_asset(
    ctx: Ctx, *, group_id: Any, url: Any, asset_type: Any, name: Any = None, moderation: Any = None
) -> Op[Created]:
    """``POST /asset/files``; reconciled by exact name when ``name`` is given."""
    gid = v.require_id("group_id", group_id)
    source = v.http_url("url", url)
    kind = v.choice("asset_type", asset_type, wire.ASSET_TYPES)
    name_ = v.text("name", name, max_chars=wire.NAME_MAX_CHARS, required=False)
    if name_ is not None and not name_.strip():
        raise ValidationError("name", "must not be blank (omit it instead)")
    mod = v.moderation(moderation)
    v.json_body("moderation", mod)
    body: dict[str, Any] = {"GroupId": gid, "URL": source, "AssetType": kind}
    if name_ is not None:
        body["Name"] = name_
    if mod is not None:
        body["Moderation"] = mod
    url_ = _url(ctx, wire.ASSETS_PATH)
    if name_ is None:
        how = (
            f"List the group's assets (client.assets.list(group_id={gid!r})) and look for a new "
            f"{kind} before uploading again; pass name= next time so the client can check itself."
        )
        result = yield from send(ctx, "POST", url_, json=body, mode="create", how_to_check=how)
        return _created(result, "upload asset")
    how = (
        f"List assets of group {gid!r} named {name_!r} "
        "(client.assets.list(group_id=..., name=...))."
    )
    before = yield from _exact_asset_ids(ctx, gid, name_, kind)
    result = yield from send(
        ctx,
        "POST",
        url_,
        json=body,
        mode="create",
        reconcile=_reconciler(
            before, lambda: _exact_asset_ids(ctx, gid, name_, kind), "asset upload", how
        ),
        how_to_check=how,
    )
    return _created(result, "upload asset")


def get_asset(ctx: Ctx, asset_id: Any) -> Op[Asset]:
    """``GET /asset/files/{id}`` (snapshotted in the ledger)."""
    asset = yield from _fetch_asset(ctx, asset_id)
    _snapshot(ctx, assets=(asset,))
    return asset


def _fetch_asset(ctx: Ctx, asset_id: Any) -> Op[Asset]:
    """``GET /asset/files/{id}`` without a snapshot (polling writes only the settled result)."""
    aid = v.require_id("asset_id", asset_id)
    body = yield from send_json(ctx, "GET", _url(ctx, wire.ASSET_PATH, asset_id=aid))
    return _model(Asset, body, "get asset")


def _get_asset_with_hint(ctx: Ctx, aid: str) -> Op[tuple[Asset, float | None]]:
    result = yield from send(ctx, "GET", _url(ctx, wire.ASSET_PATH, asset_id=aid))
    assert isinstance(result, httpx.Response)
    return _model(Asset, parse_json(result), "get asset"), parse_retry_after(result.headers)


def delete_asset(ctx: Ctx, asset_id: Any) -> Op[None]:
    """``DELETE /asset/files/{id}``."""
    aid = v.require_id("asset_id", asset_id)
    yield from send(ctx, "DELETE", _url(ctx, wire.ASSET_PATH, asset_id=aid), mode="delete")
    _deleted(ctx, asset_ids=(aid,))
    return None


def _wait_timeout(value: Any, default: float) -> float:
    return default if value is None else v.number("timeout", value)


def _first_interval(value: Any, default: float) -> float:
    return default if value is None else v.number("poll_interval", value, minimum=0.0)


def wait_asset(
    ctx: Ctx, asset_id: Any, *, timeout: Any = None, poll_interval: Any = None
) -> Op[Asset]:
    """Poll until the asset is ``Active`` (returned) or ``Failed`` (``AssetFailedError``)."""
    aid = v.require_id("asset_id", asset_id)
    limit = _wait_timeout(timeout, defaults.ASSET_WAIT_TIMEOUT_SECONDS)
    interval = _first_interval(poll_interval, defaults.ASSET_POLL_FIRST_SECONDS)
    deadline = ctx.now() + limit
    while True:
        asset, hint = yield from _get_asset_with_hint(ctx, aid)
        if asset.settled:
            _snapshot(ctx, assets=(asset,))
        if asset.status == "Active":
            return asset
        if asset.status == "Failed":
            raise AssetFailedError(asset)
        remaining = deadline - ctx.now()
        if remaining <= 0:
            raise WaitTimeoutError(
                f"asset {aid} is still {asset.status} after {limit:g} s; call wait again with "
                "a larger timeout=, or check it later with client.assets.get.",
                last=asset,
                pending=(aid,),
            )
        yield Sleep(poll_delay(interval, remaining, hint))
        interval = next_interval(interval, defaults.ASSET_POLL_MAX_SECONDS)


def wait_assets(
    ctx: Ctx,
    asset_ids: Any,
    *,
    timeout: Any = None,
    poll_interval: Any = None,
    raise_on_failure: Any = False,
) -> Op[list[Asset]]:
    """Poll many assets together (one round of GETs per interval) until all settle.

    Returns the assets in input order (``Active`` or ``Failed``); with ``raise_on_failure`` the
    first failed one raises ``AssetFailedError`` instead.
    """
    if isinstance(asset_ids, str) or not isinstance(asset_ids, Iterable):
        raise ValidationError("asset_ids", "must be a list of asset ids")
    order = [v.require_id("asset_ids", i) for i in asset_ids]
    strict = v.boolean("raise_on_failure", raise_on_failure)
    limit = _wait_timeout(timeout, defaults.ASSET_WAIT_TIMEOUT_SECONDS)
    interval = _first_interval(poll_interval, defaults.ASSET_POLL_FIRST_SECONDS)
    deadline = ctx.now() + limit
    latest: dict[str, Asset] = {}
    pending = list(dict.fromkeys(order))
    while pending:
        outcomes = yield Gather(tuple(_fetch_asset(ctx, aid) for aid in pending))
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            latest[outcome.id] = outcome
        pending = [aid for aid in pending if aid not in latest or not latest[aid].settled]
        if not pending:
            break
        remaining = deadline - ctx.now()
        if remaining <= 0:
            raise WaitTimeoutError(
                f"{len(pending)} of {len(set(order))} assets still processing after "
                f"{limit:g} s: {', '.join(pending)}. Wait again with a larger timeout=.",
                last=[latest.get(aid) for aid in order],
                pending=tuple(pending),
            )
        yield Sleep(poll_delay(interval, remaining, None))
        interval = next_interval(interval, defaults.ASSET_POLL_MAX_SECONDS)
    results = [latest[aid] for aid in order]
    _snapshot(ctx, assets=list(latest.values()))
    if strict:
        for asset in results:
            if asset.status == "Failed":
                raise AssetFailedError(asset)
    return results


# --------------------------------------------------------------------------- real-human sessions
_SERVER_SET_FIELDS = ("CallbackURL", "ProjectName")


def start_session(ctx: Ctx, *, return_url: Any = None, extra: Mapping[str, Any]) -> Op[Session]:
    """``POST /asset/real-human/sessions``; ``extra`` fields are forwarded as-is."""
    body: dict[str, Any] = {}
    for key in extra:
        if key in _SERVER_SET_FIELDS:
            raise ValidationError(key, "is set by OrcaRouter and cannot be overridden")
        v.json_body(str(key), extra[key])
    body.update(extra)
    if return_url is not None:
        body["return_url"] = v.http_url("return_url", return_url)
    data = yield from send_json(ctx, "POST", _url(ctx, wire.SESSIONS_PATH), json=body)
    return _model(Session, data, "start session")


def get_session(ctx: Ctx, session_id: Any) -> Op[Session]:
    """``GET /asset/real-human/sessions/{id}``."""
    sid = v.require_id("session_id", session_id)
    data = yield from send_json(ctx, "GET", _url(ctx, wire.SESSION_PATH, session_id=sid))
    return _model(Session, data, "get session")


# --------------------------------------------------------------------------- videos
def _ledger(ctx: Ctx, method: str, *args: Any, **kw: Any) -> Any:
    """Call the ledger; log and swallow anything it raises (it must never break a request)."""
    ledger = ctx.config.ledger
    if ledger is None:
        return None
    try:
        return getattr(ledger, method)(*args, **kw)
    except Exception as exc:
        log.warning("ledger %s failed (ignored): %s", method, redact_text(repr(exc)))
        return None


def _deleted(ctx: Ctx, *, asset_ids: Sequence[str] = (), group_ids: Sequence[str] = ()) -> None:
    """Tell the ledger (if it records deletions) that these were deleted through the client."""
    if isinstance(ctx.config.ledger, AssetDeletions):
        _ledger(ctx, "mark_deleted", asset_ids=asset_ids, group_ids=group_ids)


def _snapshot(ctx: Ctx, *, assets: Sequence[Asset] = (), groups: Sequence[Group] = ()) -> None:
    """Tell the ledger (if it keeps snapshots) what these assets and groups look like now."""
    if (assets or groups) and isinstance(ctx.config.ledger, AssetSnapshots):
        _ledger(ctx, "snapshot_assets", assets, groups)


def video_body(
    *,
    model: Any,
    prompt: Any,
    content: Any,
    ratio: Any,
    duration: Any,
    resolution: Any,
    generate_audio: Any,
    watermark: Any,
    seed: Any,
    return_last_frame: Any,
    service_tier: Any,
    callback_url: Any,
    extra_metadata: Any,
) -> dict[str, Any]:
    """Validated ``POST /video/generations`` body (shape checks; composition rules are
    ``orca_nb.compose``'s)."""
    model_ = v.choice("model", model, tuple(wire.MODELS))
    spec = wire.MODELS[model_]
    if not isinstance(prompt, str):
        raise ValidationError("prompt", f"must be a string, got {type(prompt).__name__}")
    metadata: dict[str, Any] = {}
    items = v.content_items(content)
    if items:
        metadata["content"] = items
    if not prompt.strip() and not items:
        raise ValidationError("prompt", "must not be empty when no content is given")
    if ratio is not None:
        metadata["ratio"] = v.choice("ratio", ratio, wire.RATIOS)
    if duration is not None:
        if duration != wire.DURATION_MODEL_CHOOSES:
            v.integer("duration", duration, low=spec.min_seconds, high=spec.max_seconds)
        metadata["duration"] = duration
    if resolution is not None:
        metadata["resolution"] = v.choice("resolution", resolution, spec.resolutions)
    for key, value in (
        ("generate_audio", generate_audio),
        ("watermark", watermark),
        ("return_last_frame", return_last_frame),
    ):
        if value is not None:
            metadata[key] = v.boolean(key, value)
    if seed is not None:
        metadata["seed"] = v.integer("seed", seed, low=wire.SEED_MIN, high=wire.SEED_MAX)
    if service_tier is not None:
        metadata["service_tier"] = v.choice("service_tier", service_tier, wire.SERVICE_TIERS)
    if callback_url is not None:
        metadata["callback_url"] = v.http_url("callback_url", callback_url)
    if extra_metadata is not None:
        if not isinstance(extra_metadata, Mapping):
            raise ValidationError("extra_metadata", "must be a dict of extra metadata fields")
        clash = sorted(set(extra_metadata) & set(metadata))
        if clash:
            raise ValidationError("extra_metadata", f"repeats {', '.join(clash)}; pass it once")
        metadata.update(extra_metadata)
    return {"model": model_, "prompt": prompt, "metadata": metadata}


# The metadata fields video_body checks itself (its keyword arguments); the rest pass as extras.
_CHECKED_METADATA: Final = frozenset(inspect.signature(video_body).parameters) - {
    "model",
    "prompt",
    "extra_metadata",
}


def prebuilt_body(body: Any) -> dict[str, Any]:
    """A full request body (e.g. from ``orca_nb.compose.build_request``), shape-checked."""
    if not isinstance(body, Mapping):
        raise ValidationError("request", "must be a dict like compose.build_request returns")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise ValidationError("request.metadata", "must be a dict")
    checked = video_body(
        model=body.get("model"),
        prompt=body.get("prompt", ""),
        extra_metadata={k: val for k, val in metadata.items() if k not in _CHECKED_METADATA},
        **{k: metadata.get(k) for k in _CHECKED_METADATA},
    )
    extra_top = {k: val for k, val in body.items() if k not in ("model", "prompt", "metadata")}
    return {**extra_top, **checked}


def _task(body: Any, hint: str) -> VideoTask:
    if not isinstance(body, Mapping):
        raise APIError(f"unexpected reply to {hint}: not a JSON object", body=body)
    try:
        return VideoTask.from_wire(body)
    except (ValueError, PydanticValidationError) as exc:
        raise APIError(f"unexpected reply to {hint}: {exc}", body=body) from None


def create_video(ctx: Ctx, body: dict[str, Any]) -> Op[VideoTask]:
    """``POST /video/generations``, wrapped in the ledger hooks; never retried blindly.

    The ledger row ends ``rejected`` only when the server proved nothing was created (a 4xx, or
    a refusal before it read the request); when the outcome cannot be known it ends
    ``unknown`` and the :class:`OutcomeUnknownError` says how to settle it.
    """
    v.json_body("request", body)  # nothing unsendable reaches the ledger or the wire
    submission = _ledger(
        ctx,
        "before_submit",
        body,
        submitter=key_label(ctx.config.api_key),
        base_url=ctx.config.ledger_service,
    )
    how = _video_how_to_check(ctx, submission)
    try:
        result = yield from send(
            ctx, "POST", _url(ctx, wire.VIDEOS_PATH), json=body, mode="create", how_to_check=how
        )
        assert isinstance(result, httpx.Response)
        try:
            task = _task(parse_json(result), "create video")
        except APIError as exc:  # a 2xx: the server says it made a task, but not which
            raise OutcomeUnknownError(
                f"POST {result.request.url.path} answered HTTP {result.status_code} but the "
                f"task in the reply could not be read ({exc}).",
                how_to_check=how,
                response=result,
            ) from exc
    except OutcomeUnknownError as exc:
        exc.submission_id = submission
        _record_unknown(ctx, submission, exc)
        raise
    except APIError as exc:  # the server refused it: nothing was created
        if submission is not None:
            _ledger(ctx, "submit_failed", submission, code=exc.code, message=str(exc))
        raise
    except ValidationError as exc:  # refused locally: nothing was sent
        if submission is not None:
            _ledger(ctx, "submit_failed", submission, code="not_sent", message=str(exc))
        raise
    except BaseException as exc:  # interrupted (Ctrl-C, cancelled) with the request maybe sent
        _record_unknown(ctx, submission, exc)
        raise
    if submission is not None:
        _ledger(ctx, "after_submit", submission, task.ledger_dict())
    return task


def _video_how_to_check(ctx: Ctx, submission: str | None) -> str:
    """What to do about a video create whose outcome is unknown (names the ledger row)."""
    text = (
        "The task may exist (the server did not refuse it): do not submit again before checking, "
        "a second submission is a second billed video. The API has no task list: look in the "
        "OrcaRouter dashboard (usage or billing) for a video task created just now."
    )
    if submission is None:
        return text
    where = "orca_nb.ledger" if isinstance(ctx.config.ledger, DefaultLedger) else "client.ledger"
    return (
        f"{text} The usage ledger records it as 'unknown' ({submission}). If you find the task, "
        f"{where}.settle({submission!r}, task_id='<task id>') attaches it and "
        f"orca_nb.ledger.reattach follows it; if none was created, "
        f"{where}.settle({submission!r}, created=False)."
    )


def _record_unknown(ctx: Ctx, submission: str | None, exc: BaseException) -> None:
    if submission is None:
        return
    message = str(exc) or f"interrupted ({type(exc).__name__}) while the request was in flight"
    code = getattr(exc, "code", None)
    if isinstance(ctx.config.ledger, UnknownOutcomes):
        _ledger(ctx, "submit_unknown", submission, code=code, message=message)
    else:
        _ledger(ctx, "submit_failed", submission, code=code, message=message)


def get_video(ctx: Ctx, task_id: Any, *, via: Any = None) -> Op[VideoTask]:
    """A task's state, normalised; reported to the ledger.

    ``via``: ``"generations"`` reads ``GET /video/generations/{id}`` (the documented fetch),
    ``"openai"`` the alias ``GET /videos/{id}``; ``None`` the client's ``task_api``. A task read
    from the documented fetch that has succeeded without usage, or failed without an error code
    (the wrapper carries only ``fail_reason``), is read once from the alias for them (when
    ``usage_from_alias``; remembered per task, and an alias the service does not offer is not
    asked again).
    """
    tid = v.require_id("task_id", task_id)
    route = ctx.config.task_api if via is None else v.choice("via", via, wire.TASK_APIS)
    path = wire.OPENAI_VIDEO_PATH if route == "openai" else wire.VIDEO_PATH
    body = yield from send_json(ctx, "GET", _url(ctx, path, task_id=tid))
    task = _task(body, "get video task")
    if route != "openai" and _lacks_alias_details(task):
        task = yield from _details_from_alias(ctx, task)
    _ledger(ctx, "on_task", task.ledger_dict())
    return task


_ALIAS_OFF: Final = "alias-not-offered"


def _lacks_alias_details(task: VideoTask) -> bool:
    """Whether the alias may know what the documented fetch left out (usage, an error code)."""
    if task.status == "succeeded":
        return task.usage is None
    return task.status == "failed" and (task.error is None or not task.error.code)


def _details_from_alias(ctx: Ctx, task: VideoTask) -> Op[VideoTask]:
    """``task`` with the usage or error code the OpenAI-style alias reports, when it has them."""
    memo = ctx.config.memo
    key = f"alias:{task.id}"
    if not ctx.config.usage_from_alias or memo.get(_ALIAS_OFF):
        return task
    if key not in memo:
        try:
            body = yield from send_json(
                ctx, "GET", _url(ctx, wire.OPENAI_VIDEO_PATH, task_id=task.id)
            )
            alias_task = _task(body, "get video task (alias)")
            if not alias_task.done:
                return task  # the alias lags behind: ask again on the next read
            memo[key] = alias_task
        except APIError as exc:
            status = getattr(exc, "status", None) or 0
            if 400 <= status < 500:
                memo[key] = None  # this task is not there: ask once per task, not every poll
            if status in (401, 403, 405, 501):
                memo[_ALIAS_OFF] = True  # the service does not offer it: do not ask again
            log.info("task details not read from the alias (%s); the ledger estimates", exc.code)
            return task
    alias = memo.get(key)
    if not isinstance(alias, VideoTask):
        return task
    update: dict[str, Any] = {}
    if task.usage is None and alias.usage is not None:
        update["usage"] = alias.usage
    if task.status == "failed" and alias.error is not None and alias.error.code:
        message = (task.error.message if task.error else None) or alias.error.message
        update["error"] = TaskError(code=alias.error.code, message=message)
    return task.model_copy(update=update) if update else task


def wait_video(
    ctx: Ctx,
    task_id: Any,
    *,
    timeout: Any = None,
    poll_interval: Any = None,
    on_progress: Callable[[VideoTask], object] | None = None,
    via: Any = None,
) -> Op[VideoTask]:
    """Poll until the task is terminal and return it (whatever the terminal status)."""
    tid = v.require_id("task_id", task_id)
    if on_progress is not None and not callable(on_progress):
        raise ValidationError("on_progress", "must be a function taking a VideoTask")
    limit = _wait_timeout(timeout, defaults.VIDEO_WAIT_TIMEOUT_SECONDS)
    interval = _first_interval(poll_interval, defaults.VIDEO_POLL_FIRST_SECONDS)
    deadline = ctx.now() + limit
    while True:
        task = yield from get_video(ctx, tid, via=via)
        if on_progress is not None:
            yield Notify(on_progress, task)
        if task.done:
            return task
        remaining = deadline - ctx.now()
        if remaining <= 0:
            raise WaitTimeoutError(
                f"video task {tid} is still {task.status} ({task.progress}%) after {limit:g} s; "
                "wait again with a larger timeout=.",
                last=task,
                pending=(tid,),
            )
        yield Sleep(poll_delay(interval, remaining, None))
        interval = next_interval(interval, defaults.VIDEO_POLL_MAX_SECONDS)


def download_video(ctx: Ctx, task: Any, target: Any) -> Op[int]:
    """Stream the task's MP4 to a path or a binary file object; returns the bytes written.

    Auth is only sent when the video URL is on the API's own host. A path is written to
    ``<path>.part`` and renamed when complete, so a broken download never looks finished.
    """
    path: Path | None = None
    if isinstance(target, str | os.PathLike):
        path = v.file_target("path_or_file", target)
    elif not callable(getattr(target, "write", None)):
        raise ValidationError("path_or_file", "must be a path or a binary file object")
    if isinstance(task, str) and task.startswith(("http://", "https://")):
        url = v.http_url("task", task)
    elif isinstance(task, str | VideoTask):
        if isinstance(task, str):
            task = yield from get_video(ctx, v.require_id("task", task))
        if not task.video_url:
            raise ValidationError(
                "task", f"task {task.id} has no video yet (status {task.status}); wait for it first"
            )
        url = task.video_url
    else:
        raise ValidationError("task", "must be a VideoTask, a task id or a video URL")
    if path is None:
        return (yield from _stream(ctx, url, target))
    part = path.with_name(path.name + ".part")
    try:
        fh = part.open("wb")
    except OSError as exc:  # a folder the user cannot write to
        raise ValidationError("path_or_file", f"cannot write {part}: {exc.strerror}") from None
    try:
        with fh:
            written = yield from _stream(ctx, url, fh)
        part.replace(path)
    finally:
        part.unlink(missing_ok=True)
    return written


def _stream(ctx: Ctx, url: str, fh: IO[bytes]) -> Op[int]:
    written = 0

    def sink(chunk: bytes) -> None:
        nonlocal written
        fh.write(chunk)
        written += len(chunk)

    auth = same_origin(url, ctx.config.base_url)
    attempt = 0
    while True:
        request = build_request(ctx, "GET", url, auth=auth)
        result = yield Download(request, sink)
        if isinstance(result, httpx.Response) and result.is_success:
            return written
        # The core's policy (statuses, delays, Retry-After); a download also stops retrying
        # once a byte has been written (the sink cannot take the start again).
        failed = classify(result, request)
        delay = (
            next_retry(attempt, failed, max_retries=ctx.max_retries, rng=ctx.config.rng)
            if written == 0
            else None
        )
        if delay is None:
            raise failed.error
        yield Sleep(delay)
        attempt += 1


def video_request(*, request: Any, **fields: Any) -> dict[str, Any]:
    """The body for ``videos.create``: from the fields, or from a prebuilt ``request``."""
    if request is None:
        if fields.get("prompt") is None:
            raise ValidationError("prompt", "is required (or pass request=)")
        return video_body(**fields)
    given = sorted(
        k
        for k, val in fields.items()
        if val is not None and not (k == "model" and val == wire.SEEDANCE_2)
    )
    if given:
        raise ValidationError(
            "request", f"pass either request= or fields, not both ({', '.join(given)})"
        )
    return prebuilt_body(request)
