"""Malformed bodies and parameters: always a 4xx OpenAI-style envelope, never a 500, and the
sandbox's state is unchanged afterwards."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca_nb import wire
from orca_nb.sandbox import Backend, SandboxServer
from tests.sandbox.helpers import make_group

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
_REF = re.compile(r"\[(Image|Video|Audio)\s+\d+\]")


def _valid_name(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip()) and len(v) <= wire.NAME_MAX_CHARS


def _valid_description(v: Any) -> bool:
    return v is None or (isinstance(v, str) and len(v) <= wire.DESCRIPTION_MAX_CHARS)


def _valid_url(v: Any) -> bool:
    return isinstance(v, str) and v.startswith(("http://", "https://"))


def _valid_return_url(v: Any) -> bool:
    return v is None or (_valid_url(v) and len(v) <= 2048)


def _valid_moderation(v: Any) -> bool:
    return v is None or (
        isinstance(v, dict) and v.get("Strategy", "Default") in wire.MODERATION_STRATEGIES
    )


def _one_of(values: tuple[str, ...], *, none_ok: bool = True) -> Any:
    return lambda v: (none_ok and v is None) or (isinstance(v, str) and v in values)


def _valid_duration(v: Any) -> bool:
    return v is None or (type(v) is int and (v == -1 or 4 <= v <= 15))


def _valid_seed(v: Any) -> bool:
    return v is None or (type(v) is int and wire.SEED_MIN <= v <= wire.SEED_MAX)


def _valid_bool(v: Any) -> bool:
    return v is None or isinstance(v, bool)


def _valid_prompt(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip()) and not _REF.search(v)


def invalid(valid: Any) -> st.SearchStrategy[Any]:
    """Random JSON values that the predicate ``valid`` rejects."""
    return ANY_JSON.filter(lambda v: not valid(v))


BROKEN_ITEM = st.one_of(
    ANY_JSON.filter(lambda v: not isinstance(v, dict)),
    st.fixed_dictionaries(
        {"type": st.text(max_size=12).filter(lambda t: t not in wire.CONTENT_TYPES)}
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["image_url", "video_url", "audio_url"]), "image_url": ANY_JSON}
    ).filter(lambda d: d["type"] != "image_url" or not isinstance(d["image_url"], dict)),
    st.builds(
        lambda t, ident: {"type": t, t: {"url": "asset://asset-" + ident}},
        st.sampled_from(["image_url", "video_url"]),
        st.text(max_size=12),
    ),
)

GOOD_VIDEO = {"model": wire.SEEDANCE_2, "prompt": "a quiet lake", "metadata": {"duration": 4}}
VIDEO_FIELDS: dict[str, Any] = {
    "model": invalid(lambda v: v == wire.SEEDANCE_2),
    "prompt": invalid(_valid_prompt),
    "metadata.ratio": invalid(_one_of(wire.RATIOS)),
    "metadata.duration": invalid(_valid_duration),
    "metadata.resolution": invalid(_one_of(wire.RESOLUTIONS)),
    "metadata.generate_audio": invalid(_valid_bool),
    "metadata.watermark": invalid(_valid_bool),
    "metadata.seed": invalid(_valid_seed),
    "metadata.service_tier": invalid(_one_of(wire.SERVICE_TIERS)),
    "metadata.content": st.one_of(
        ANY_JSON.filter(lambda v: v is not None and not isinstance(v, list)),
        st.lists(BROKEN_ITEM, min_size=1, max_size=3),
    ),
    "metadata": ANY_JSON.filter(lambda v: v is not None and not isinstance(v, dict)),
}
QUERY_PARAMS: dict[str, Any] = {
    "group_type": lambda v: v in ("", *wire.GROUP_TYPE_QUERY_TO_WIRE),
    "page_number": lambda v: v == "" or (v.isdigit() and int(v) >= 1),
    "page_size": lambda v: v == "" or (v.isdigit() and 1 <= int(v) <= wire.MAX_PAGE_SIZE),
    "sort_by": lambda v: v in ("", *wire.GROUP_SORT_BY),
    "sort_order": lambda v: v in ("", *wire.SORT_ORDERS),
}


def snapshot(backend: Backend) -> dict[str, Any]:
    with backend.db.tx() as db:
        return {
            table: [tuple(r) for r in db.execute(f"SELECT * FROM {table} ORDER BY id")]
            for table in ("groups", "assets", "sessions", "tasks")
        }


def assert_rejected(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert isinstance(error["message"], str)
    assert error["message"]


def with_field(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(body))
    *parents, last = dotted.split(".")
    target = out
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = value
    return out


@pytest.fixture
def world(api: httpx.Client) -> dict[str, str]:
    return {"group": make_group(api, "fuzz")}


@FUZZ
@given(data=st.data())
def test_malformed_group_bodies(
    api: httpx.Client, sandbox_backend: Backend, world: dict[str, str], data: st.DataObject
) -> None:
    before = snapshot(sandbox_backend)
    name = data.draw(invalid(_valid_name), "Name")
    description = data.draw(ANY_JSON, "Description")
    body: Any = {"Name": name, "Description": description}
    if data.draw(st.booleans(), "drop Name"):
        del body["Name"]
    assert_rejected(api.post(wire.GROUPS_PATH, json=body))
    bad_description = data.draw(invalid(_valid_description), "bad Description")
    assert_rejected(api.post(wire.GROUPS_PATH, json={"Name": "ok", "Description": bad_description}))
    path = wire.GROUP_PATH.format(group_id=world["group"])
    patch = data.draw(st.sampled_from(["Name", "Description"]), "field")
    value = data.draw(invalid(_valid_name if patch == "Name" else _valid_description), "value")
    if not (patch == "Name" and value is None):  # an absent/None Name leaves it unchanged
        assert_rejected(api.patch(path, json={patch: value}))
    assert snapshot(sandbox_backend) == before


@FUZZ
@given(data=st.data())
def test_malformed_uploads(
    api: httpx.Client, sandbox_backend: Backend, world: dict[str, str], data: st.DataObject
) -> None:
    before = snapshot(sandbox_backend)
    body: dict[str, Any] = {
        "GroupId": world["group"],
        "URL": "https://example.invalid/a.png",
        "AssetType": "Image",
    }
    field, strategy = data.draw(
        st.sampled_from(
            [
                ("GroupId", invalid(lambda v: v == world["group"])),
                ("URL", invalid(_valid_url)),
                ("AssetType", invalid(_one_of(wire.ASSET_TYPES, none_ok=False))),
                ("Name", invalid(lambda v: v is None or _valid_name(v))),
                ("Moderation", invalid(_valid_moderation)),
            ]
        ),
        "field",
    )
    body[field] = data.draw(strategy, field)
    assert_rejected(api.post(wire.ASSETS_PATH, json=body))
    assert snapshot(sandbox_backend) == before


@FUZZ
@given(data=st.data())
def test_malformed_video_requests(
    api: httpx.Client, sandbox_backend: Backend, data: st.DataObject
) -> None:
    before = snapshot(sandbox_backend)
    field = data.draw(st.sampled_from(sorted(VIDEO_FIELDS)), "field")
    body = with_field(GOOD_VIDEO, field, data.draw(VIDEO_FIELDS[field], field))
    assert_rejected(api.post(wire.VIDEOS_PATH, json=body))
    assert snapshot(sandbox_backend) == before


@FUZZ
@given(data=st.data())
def test_malformed_sessions_and_queries(
    api: httpx.Client, sandbox_backend: Backend, data: st.DataObject
) -> None:
    before = snapshot(sandbox_backend)
    bad = data.draw(invalid(_valid_return_url), "return_url")
    assert_rejected(api.post(wire.SESSIONS_PATH, json={"return_url": bad}))
    param = data.draw(st.sampled_from(sorted(QUERY_PARAMS)), "param")
    value = data.draw(st.text(max_size=12).filter(lambda v: not QUERY_PARAMS[param](v)), param)
    path = data.draw(st.sampled_from([wire.GROUPS_PATH, wire.ASSETS_PATH]), "path")
    assert_rejected(api.get(path, params={param: value}))
    statuses = data.draw(
        st.text(max_size=20).filter(
            lambda v: any(s.strip() not in ("", *wire.ASSET_STATUSES) for s in v.split(","))
        ),
        "statuses",
    )
    assert_rejected(api.get(wire.ASSETS_PATH, params={"statuses": statuses}))
    assert snapshot(sandbox_backend) == before


@FUZZ
@given(
    raw=st.binary(max_size=60),
    path=st.sampled_from(
        [wire.GROUPS_PATH, wire.ASSETS_PATH, wire.SESSIONS_PATH, wire.VIDEOS_PATH]
    ),
)
def test_non_object_bodies(
    api: httpx.Client, sandbox_backend: Backend, raw: bytes, path: str
) -> None:
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = ...
    if isinstance(parsed, dict) or (path == wire.SESSIONS_PATH and parsed is None):
        return  # objects are the other tests' job; an empty session body is allowed
    if path == wire.SESSIONS_PATH and not raw.strip():
        return
    before = snapshot(sandbox_backend)
    response = api.post(path, content=raw, headers={"Content-Type": "application/json"})
    assert_rejected(response)
    assert snapshot(sandbox_backend) == before


def test_server_still_healthy_after_fuzz(sandbox_server: SandboxServer) -> None:
    assert httpx.get(sandbox_server.root_url + "/healthz").json() == {"ok": True}
