"""Every sandbox route against hostile input: no 5xx, a 4xx envelope naming the field, and
nothing changed by a rejected request.

The routes come from the app itself (``create_app(...)``), so routes added later are covered
without touching this file. Inputs: lone surrogates (escaped in JSON, and raw bytes that are not
UTF-8) in every string, path and query position; digits that are not ASCII (``"١٢"``, ``"²"``)
and huge numbers where integers are expected; NaN/Infinity/``1e400``; nesting thousands deep;
malformed URLs (brackets, NUL, a megabyte long); malformed signed links; wrong JSON types;
bodies over the size limit.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import fields
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from orca_nb import wire
from orca_nb.sandbox import Backend, SandboxConfig, SandboxServer
from orca_nb.sandbox.app import create_app
from orca_nb.sandbox.parsing import MAX_BODY_BYTES, MAX_JSON_DEPTH
from tests.sandbox.helpers import make_group, sample_url, upload

KEY = "sk-orca-sandbox-test"
AUTH = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


# ---------------------------------------------------------------------- the route table
def _enumerate_routes() -> list[tuple[str, str]]:
    """(method, path template) of every route the sandbox app serves (HEAD left out)."""
    backend = Backend(SandboxConfig(seed_demo=False))
    try:
        app: Any = create_app(backend)
        while not hasattr(app, "routes"):  # unwrap middleware to the Starlette app
            app = app.app
        found = []
        for route in app.routes:
            assert isinstance(route, Route), f"unexpected route type {route!r}"
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method, route.path))
        return found
    finally:
        backend.close()


ROUTES = _enumerate_routes()
BODY_METHODS = ("POST", "PATCH", "PUT")
PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")


def _is_h5(path: str) -> bool:
    return path.startswith("/sandbox/h5/")


JSON_BODY_ROUTES = [(m, p) for m, p in ROUTES if m in BODY_METHODS and not _is_h5(p)]


def test_the_route_table_is_enumerated() -> None:
    paths = {p for _m, p in ROUTES}
    assert len(ROUTES) >= 30, ROUTES
    for expected in (
        "/v1" + wire.GROUPS_PATH,
        "/v1" + wire.VIDEO_PATH,
        "/sandbox/files/{blob_id}",
        "/sandbox/samples/{filename}",
        "/sandbox/h5/{session_id}",
        "/sandbox/admin/settings",
        "/sandbox/admin/faults",
    ):
        assert expected in paths
    assert len(JSON_BODY_ROUTES) >= 10


# ---------------------------------------------------------------------- state
def state(backend: Backend) -> dict[str, Any]:
    """Everything a request could change: every table (whatever tables exist), the settings,
    the fault table, the scripted task failures and the clock."""
    backend.wait_for_renders()
    with backend.db.tx() as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = {}
        for t in tables:
            columns = [
                f"length({c['name']})" if c["type"].upper() == "BLOB" else c["name"]
                for c in db.execute(f"PRAGMA table_info({t})")
            ]
            query = f"SELECT {', '.join(columns)} FROM {t}"
            rows[t] = sorted((tuple(r) for r in db.execute(query)), key=repr)
    config = {f.name: getattr(backend.config, f.name) for f in fields(backend.config)}
    config.pop("clock")
    return {
        "tables": rows,
        "config": config,
        "faults": backend.faults.describe(),
        "fail_next": list(backend._fail_next),
        "now": backend.now(),
    }


def settle(backend: Backend) -> None:
    """Finish renders and apply due transitions, so only a request can change the state."""
    backend.wait_for_renders()
    with backend.db.tx() as db:
        backend._progress(db)


# ---------------------------------------------------------------------- a world to aim at
class World:
    """Real objects of the test account, so fuzzed requests reach past the 404s."""

    def __init__(self, server: SandboxServer, api: httpx.Client) -> None:
        self.server, self.api = server, api
        self.build()

    def build(self) -> None:
        backend = self.server.backend
        backend.account_for_key(KEY)
        self.group = make_group(self.api, "fuzz")
        self.asset = upload(
            self.api, self.group, sample_url(self.server, "prop_1x1.png"), "Image", "p"
        )
        self.session = self.api.post(wire.SESSIONS_PATH, json={}).json()["session_id"]
        body: dict[str, Any] = {"model": wire.SEEDANCE_2, "prompt": "a lake"}
        body["metadata"] = {"duration": 4, "resolution": "480p"}
        created = self.api.post(wire.VIDEOS_PATH, json=body)
        assert created.status_code == 200, created.text
        self.task = created.json()["id"]
        settle(backend)
        url = self.api.get(wire.ASSET_PATH.format(asset_id=self.asset)).json()["URL"]
        parts = urlsplit(url)
        self.blob = parts.path.rsplit("/", 1)[-1]
        self.file_query = dict(parse_qsl(parts.query))

    def ensure(self) -> None:
        """Rebuild after an accepted request deleted part of it (or an admin reset all)."""
        paths = [
            wire.GROUP_PATH.format(group_id=self.group),
            wire.ASSET_PATH.format(asset_id=self.asset),
            wire.SESSION_PATH.format(session_id=self.session),
        ]
        if any(self.api.get(p).status_code == 404 for p in paths):
            self.build()

    def ids(self, name: str) -> list[str]:
        by_name = {
            "group_id": [self.group],
            "asset_id": [self.asset],
            "session_id": [self.session],
            "task_id": [self.task],
            "video_id": [self.task],
            "blob_id": [self.blob],
            "filename": ["prop_1x1.png"],
            "person": ["ada"],
        }
        every = [self.group, self.asset, self.session, self.task, self.blob]
        return by_name.get(name, every)


@pytest.fixture
def api(sandbox_server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox_server.base_url, headers=AUTH, timeout=60, trust_env=False
    ) as client:
        yield client


@pytest.fixture
def raw(sandbox_server: SandboxServer) -> Iterator[httpx.Client]:
    """httpx on the server root with the test key; the requests carry URLs as given."""
    with httpx.Client(
        base_url=sandbox_server.root_url, headers=AUTH, timeout=60, trust_env=False
    ) as client:
        yield client


@pytest.fixture
def world(
    sandbox_server: SandboxServer, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> World:
    """The objects to aim at; accepted video requests queue tasks but render nothing (the
    renders are covered elsewhere and would cost seconds each here)."""
    monkeypatch.setattr(sandbox_server.backend, "_submit_render", lambda task_id: None)
    return World(sandbox_server, api)


# ---------------------------------------------------------------------- hostile values
SURROGATE = "\ud800"
ODD_DIGITS = ["١٢", "²", "٣", "１２", "𝟘", "Ⅻ", "9" * 5000, "1e3", "-0", " 5", "0x10", "+7", ""]
HUGE = [10**400, 2**63, -(2**64), 10**30]
BAD_URLS = [
    "http://[::1",
    "http://[::1/x.png",
    "https://[zz]:1/a",
    "http://127.0.0.1:99999/a.png",
    "http://127.0.0.1/\x00.png",
    "http://127.0.0.1/a b.png",
    "http:///no-host.png",
    "http://" + "a" * 1_000_000 + ".png",
    "https://ex\u0000ample.com/a.png",
    "ftp://example.com/a.png",
    "javascript:alert(1)",
]
ODD_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=16) | st.sampled_from(
    [SURROGATE, "a\udfffb", "\x00", "..", "%", "/", *ODD_DIGITS[:10]]
)


class Raw:
    """A JSON literal spliced into a body as is (``NaN``, ``1e400``, a raw invalid byte)."""

    def __init__(self, literal: bytes) -> None:
        self.literal = literal


PARSER_KINDS: dict[str, Any] = {  # refused by the one JSON body reader, whatever the field
    "lone surrogate": SURROGATE,
    "lone surrogate in a list": ["ok", "x\udc00"],
    "invalid UTF-8": Raw(b'"caf\xe9"'),
    "NaN": Raw(b"NaN"),
    "Infinity": Raw(b"-Infinity"),
    "1e400": Raw(b"1e400"),
    "10**400": 10**400,
    "2**64": 2**64,
    "deep nesting": Raw(b"[" * (MAX_JSON_DEPTH + 5) + b"]" * (MAX_JSON_DEPTH + 5)),
    "very deep nesting": Raw(b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
}
SEMANTIC_KINDS: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63 - 1,
    1.5,
    1e308,
    "",
    " ",
    "x" * 100_000,
    [],
    {},
    [1, "a"],
    {"Strategy": "Skip", "url": "http://[::1"},
    "http://127.0.0.1/" + "%ff" * 10,  # well formed (percent-encoded bytes), fails to fetch
    *ODD_DIGITS[:7],
    *BAD_URLS[:2],
    BAD_URLS[7],  # a megabyte long
]

SHORT_SEMANTIC_KINDS: list[Any] = [None, "١٢", 10**30, [], {"a": 1}, "http://[::1"]


def dump(value: Any) -> bytes:
    """JSON bytes of ``value``, splicing :class:`Raw` literals and escaping surrogates."""
    marks: dict[str, bytes] = {}

    def walk(v: Any) -> Any:
        if isinstance(v, Raw):
            mark = f"@@raw{len(marks)}@@"
            marks[mark] = v.literal
            return mark
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    text = json.dumps(walk(value)).encode()  # ensure_ascii: surrogates become \ud800 escapes
    for mark, literal in marks.items():
        text = text.replace(json.dumps(mark).encode(), literal)
    return text


def with_field(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A copy of ``body`` with ``value`` at ``dotted`` (``a.b[0].c`` creates what is missing)."""
    out: dict[str, Any] = json.loads(json.dumps(body))
    target: Any = out
    keys = [k for k in re.split(r"\.|\[(\d+)\]", dotted) if k]
    for key, following in itertools.pairwise(keys):
        nxt: Any = [] if following.isdigit() else {}
        if key.isdigit():
            while len(target) <= int(key):
                target.append(nxt)
            target = target[int(key)]
        else:
            target = target.setdefault(key, nxt)
    last = keys[-1]
    if last.isdigit():
        while len(target) <= int(last):
            target.append(None)
        target[int(last)] = value
    else:
        target[last] = value
    return out


GOOD_VIDEO: dict[str, Any] = {
    "model": wire.SEEDANCE_2,
    "prompt": "a lake",
    "metadata": {"duration": 4},
}


def base_body(method: str, path: str, world: World) -> dict[str, Any]:
    """A body the route would accept (or the nearest thing), to vary one field at a time."""
    if path.endswith(wire.GROUPS_PATH):
        return {"Name": "g", "Description": "d"}
    if path.endswith(wire.ASSETS_PATH):
        url = sample_url(world.server, "prop_1x1.png")
        return {"GroupId": world.group, "URL": url, "AssetType": "Image", "Name": "n"}
    if "{group_id}" in path:
        return {"Name": "g2", "Description": "d2"}
    if path.endswith(wire.SESSIONS_PATH):
        return {"return_url": "http://127.0.0.1/back"}
    if path.startswith("/v1/video") or path.endswith("/videos"):
        return copy.deepcopy(GOOD_VIDEO)
    if path.endswith("/settings"):
        return {"processing": "instant"}
    if path.endswith("/faults"):
        return {"route": "GET /nothing/here", "actions": ["ok"], "latency": 0, "repeat": False}
    if path.endswith("/fail-next-tasks"):
        return {"n": 0, "code": "X", "message": "m"}
    if path.endswith("/clock"):
        return {"advance": 0}
    if path.endswith("/step"):
        return {"n": 0}
    if path.endswith("/seed"):
        return {"api_key": KEY}
    return {}


EXTRA_FIELDS = [  # besides the base body's own: nested, unknown and cross-route fields
    "zz_unknown",
    "metadata.seed",
    "metadata.duration",
    "metadata.content[0].image_url.url",
    "seconds",
    "n",
    "latency",
]


def path_for(template: str, world: World, override: dict[str, str] | None = None) -> str:
    """``template`` with real ids (or the percent-encoded ``override`` values) filled in."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if override and name in override:
            return quote(override[name].encode("utf-8", "surrogatepass"), safe="")
        return world.ids(name)[0]

    return PARAM.sub(fill, template)


def encode_query(query: dict[str, str]) -> str:
    return "&".join(
        f"{quote(k.encode('utf-8', 'surrogatepass'), safe='')}="
        f"{quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
        for k, v in query.items()
    )


# ---------------------------------------------------------------------- checks
ANY_PARAM = object()  # check(): any ``param`` will do


def check(
    backend: Backend,
    response: httpx.Response,
    before: dict[str, Any],
    what: str,
    *,
    param: object = ANY_PARAM,
    must_reject: bool = False,
) -> None:
    """No 5xx; a 4xx leaves ``before`` intact and, when JSON, is the envelope (naming
    ``param`` when given)."""
    status = response.status_code
    assert status < 500, (what, status, response.text[:300])
    if must_reject:
        assert 400 <= status < 500, (what, status, response.text[:300])
    if 400 <= status < 500:
        assert state(backend) == before, f"{what}: a rejected request changed the state"
        if response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            if "error" not in body:  # new-api's own error shape (task_not_exist)
                assert body["code"], (what, body)
                assert body["message"], (what, body)
                assert param is ANY_PARAM, (what, body)
                return
            error = body["error"]
            assert set(error) >= {"message", "type", "code", "param"}, (what, error)
            assert error["message"], what
            if param is not ANY_PARAM:
                assert error["param"] == param, (what, error)


def recover(backend: Backend, response: httpx.Response, world: World) -> dict[str, Any]:
    """After an accepted request: undo what would disturb the next ones (injected faults,
    changed settings), settle renders, rebuild the world if it was reset; the new state."""
    if response.status_code < 400:
        backend.faults.clear()
        backend._fail_next.clear()
        backend.config = backend._initial
        settle(backend)
        world.ensure()
    return state(backend)


# ---------------------------------------------------------------------- matrix tests
ROUTE_IDS = [f"{m} {p}" for m, p in ROUTES]


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=ROUTE_IDS)
def test_hostile_path_and_query_values(
    sandbox_backend: Backend, raw: httpx.Client, world: World, method: str, template: str
) -> None:
    before = state(sandbox_backend)
    params = PARAM.findall(template)
    hostile = [SURROGATE, "a\udfffb", "\x00", "١٢", "²", "9" * 5000, "x" * 20_000]
    for name in params:
        for value in hostile:
            path = path_for(template, world, {name: value})
            what = f"{method} {template} {name}={value[:20]!r}"
            response = raw.request(method, path, content=b"{}")
            check(sandbox_backend, response, before, what)
            before = recover(sandbox_backend, response, world)
    query_keys = [
        "page_number",
        "page_size",
        "sort_by",
        "sort_order",
        "group_type",
        "statuses",
        "name",
        "group_id",
        "route",
        "X-Tos-Expires",
        SURROGATE,
    ]
    # a DELETE of the real objects would succeed (then the world is rebuilt) every time
    missing = {name: "missing" for name in params} if method == "DELETE" else None
    for key in query_keys:
        for value in [SURROGATE, "١٢", "9" * 5000, "\x00", "1e400"]:
            path = path_for(template, world, missing) + "?" + encode_query({key: value})
            what = f"{method} {template} ?{key[:20]!r}={value[:20]!r}"
            response = raw.request(method, path, content=b"{}")
            check(sandbox_backend, response, before, what)
            before = recover(sandbox_backend, response, world)


@pytest.mark.parametrize(("method", "template"), JSON_BODY_ROUTES, ids=lambda x: str(x))
def test_hostile_json_bodies(
    sandbox_backend: Backend, raw: httpx.Client, world: World, method: str, template: str
) -> None:
    base = base_body(method, template, world)
    before = state(sandbox_backend)
    path = path_for(template, world)
    for field in [*base, *EXTRA_FIELDS]:
        semantic = SEMANTIC_KINDS if field in base else SHORT_SEMANTIC_KINDS
        for kind, value in PARSER_KINDS.items():
            body = dump(with_field(base, field, value))
            what = f"{method} {template} {field}: {kind}"
            response = raw.request(method, path, content=body)
            expected: Any = field if kind != "very deep nesting" else None
            if kind == "deep nesting":
                expected = ANY_PARAM  # the path of the level that is too deep
            if kind == "lone surrogate in a list":
                expected = f"{field}[1]"
            check(sandbox_backend, response, before, what, param=expected, must_reject=True)
        for value in semantic:
            body = dump(with_field(base, field, value))
            what = f"{method} {template} {field}={str(value)[:30]!r}"
            response = raw.request(method, path, content=body)
            check(sandbox_backend, response, before, what)
            before = recover(sandbox_backend, response, world)
    for body in [b"", b"null", b"[]", b'"x"', b"1", b"{", b"\xff\xfe", b"[" * 200_000]:
        response = raw.request(method, path, content=body)
        check(sandbox_backend, response, before, f"{method} {template} body {body[:10]!r}")
        before = recover(sandbox_backend, response, world)


@pytest.mark.parametrize(("method", "template"), JSON_BODY_ROUTES, ids=lambda x: str(x))
def test_bodies_over_the_limit_are_refused(
    sandbox_backend: Backend, raw: httpx.Client, world: World, method: str, template: str
) -> None:
    before = state(sandbox_backend)
    path = path_for(template, world)
    big = b'{"Name": "' + b"a" * MAX_BODY_BYTES + b'"}'
    response = raw.request(method, path, content=big)
    check(sandbox_backend, response, before, f"{method} {template} 16 MB", must_reject=True)
    assert response.status_code == 413


def test_chunked_bodies_over_the_limit_are_refused(
    sandbox_backend: Backend, raw: httpx.Client, world: World
) -> None:
    before = state(sandbox_backend)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the reader must count itself
        yield b'{"Name": "'
        for _ in range(17):
            yield b"a" * wire.MB
        yield b'"}'

    for path in ("/v1" + wire.GROUPS_PATH, "/sandbox/admin/settings"):
        response = raw.post(path, content=chunks())
        check(sandbox_backend, response, before, f"POST {path} chunked", must_reject=True)
        assert response.status_code == 413


def test_h5_form_over_the_limit(sandbox_backend: Backend, raw: httpx.Client, world: World) -> None:
    from orca_nb.sandbox.pages import H5_FORM_MAX_BYTES

    before = state(sandbox_backend)
    form = b"consent=yes&choice=ada&pad=" + b"x" * H5_FORM_MAX_BYTES
    response = raw.post(f"/sandbox/h5/{world.session}", content=form)
    check(sandbox_backend, response, before, "H5 form 64 KB", must_reject=True)
    assert response.status_code == 413
    assert "text/html" in response.headers["content-type"]
    assert raw.get(f"/sandbox/h5/{world.session}").status_code == 200  # still pending


def test_malformed_signed_links(sandbox_backend: Backend, raw: httpx.Client, world: World) -> None:
    before = state(sandbox_backend)
    path = f"/sandbox/files/{world.blob}"
    good = world.file_query
    assert raw.get(path, params=good).status_code == 200
    variants: list[dict[str, str]] = [
        {"X-Tos-Signature": "é" * 64},
        {"X-Tos-Signature": "\u0663" * 64},
        {"X-Tos-Signature": good["X-Tos-Signature"].upper()},
        {"X-Tos-Signature": good["X-Tos-Signature"] + "0"},
        {"X-Tos-Signature": SURROGATE},
        {"X-Tos-Signature": ""},
        {"X-Tos-Expires": "١٢"},
        {"X-Tos-Expires": "²"},
        {"X-Tos-Expires": "9" * 5000},
        {"X-Tos-Expires": "-1"},
        {"X-Tos-Expires": "1e400"},
        {"X-Tos-Date": "２０２６０１０１T000000Z"},
        {"X-Tos-Date": "99999999T999999Z"},
        {"X-Tos-Date": "\x00"},
    ]
    for change in variants:
        query = {**good, **change}
        response = raw.get(path + "?" + encode_query(query))
        what = f"signed link {change!r}"[:80]
        check(sandbox_backend, response, before, what, param="X-Tos-Signature", must_reject=True)
        assert response.status_code == 403
    for ranges in ["bytes=²-", "bytes=١-٢", "bytes=-" + "9" * 5000, "bytes=5-1", "bytes=a-b"]:
        response = raw.get(path, params=good, headers=[(b"Range", ranges.encode())])
        check(sandbox_backend, response, before, f"Range {ranges[:20]}")


def test_admin_settings_refuse_non_finite_and_wrong_types(
    sandbox_backend: Backend, raw: httpx.Client
) -> None:
    from orca_nb.sandbox.admin import _SETTABLE

    before = state(sandbox_backend)
    for name in _SETTABLE:
        for value in [Raw(b"NaN"), Raw(b"Infinity"), Raw(b"1e400"), 10**400, 1e300, -1e300]:
            body = dump({"processing": "manual", name: value})  # one good change beside it
            response = raw.post("/sandbox/admin/settings", content=body)
            what = f"settings {name}={getattr(value, 'literal', value)!r}"[:60]
            check(sandbox_backend, response, before, what, param=name, must_reject=True)
        kind = str({f.name: f.type for f in fields(SandboxConfig)}[name])
        nullable = kind.endswith(" | None")  # a limit: None is "no limit"
        kind = kind.removesuffix(" | None")
        wrong: list[Any] = [[], {}, "١٢", 10**30, *([] if nullable else [None])]
        wrong += {"bool": ["yes", 1], "float": [True, "3"], "int": [True, "3", 2.5]}.get(kind, [3])
        for value in wrong:
            response = raw.post("/sandbox/admin/settings", content=dump({name: value}))
            check(sandbox_backend, response, before, f"settings {name}={value!r}", param=name)
            assert response.status_code == 400, (name, value)
    bad_faults: list[tuple[dict[str, Any], str]] = [
        ({"route": "*", "actions": ["latency:nan"]}, "actions[0]"),
        ({"route": "*", "actions": ["latency:inf"]}, "actions[0]"),
        ({"route": "*", "actions": ["slow_body:1e300"]}, "actions[0]"),
        ({"route": "*", "actions": ["²"]}, "actions[0]"),
        ({"route": "*", "actions": ["٥٠٣"]}, "actions[0]"),
        ({"route": "*", "actions": [True]}, "actions[0]"),
        ({"route": "*", "actions": ["ok"], "latency": 1e300}, "latency"),
        ({"route": "*", "actions": ["ok"], "latency": -1}, "latency"),
        ({"route": "*", "actions": ["ok"], "repeat": "yes"}, "repeat"),
        ({"route": "no-slash", "actions": ["ok"]}, "route"),
        ({"route": 7, "actions": ["ok"]}, "route"),
        ({"route": "*", "actions": "503"}, "actions"),
    ]
    for fault, param in bad_faults:
        response = raw.post("/sandbox/admin/faults", content=dump(fault))
        check(sandbox_backend, response, before, f"faults {fault}", param=param, must_reject=True)
    for clock, param in [
        ({"advance": 1e300}, "advance"),
        ({"advance": -1}, "advance"),
        ({"advance": True}, "advance"),
    ]:
        response = raw.post("/sandbox/admin/clock", content=dump(clock))
        check(sandbox_backend, response, before, f"clock {clock}", param=param, must_reject=True)
    admin: list[tuple[str, dict[str, Any], str]] = [
        ("step", {"n": 1.0}, "n"),
        ("fail-next-tasks", {"n": 1, "code": 5}, "code"),
        ("reset", {"everything": True}, "everything"),
        ("seed", {"api_key": ["x"]}, "api_key"),
    ]
    for route, admin_body, param in admin:
        response = raw.post(f"/sandbox/admin/{route}", content=dump(admin_body))
        check(
            sandbox_backend,
            response,
            before,
            f"{route} {admin_body}",
            param=param,
            must_reject=True,
        )


def test_malformed_urls_are_refused_where_a_url_is_expected(
    sandbox_backend: Backend, raw: httpx.Client, world: World
) -> None:
    before = state(sandbox_backend)
    url_fields = [
        ("/v1" + wire.ASSETS_PATH, "URL"),
        ("/v1" + wire.SESSIONS_PATH, "return_url"),
        ("/v1" + wire.VIDEOS_PATH, "metadata.content[0].image_url.url"),
        ("/v1" + wire.VIDEOS_PATH, "metadata.callback_url"),
    ]
    for path, field in url_fields:
        base = base_body("POST", path, world)
        if "content" in field:
            base["metadata"]["content"] = [{"type": "image_url", "image_url": {"url": ""}}]
        for url in BAD_URLS:
            response = raw.post(path, content=dump(with_field(base, field, url)))
            what = f"{path} {field}={url[:30]!r}"
            check(sandbox_backend, response, before, what, param=field, must_reject=True)


# ---------------------------------------------------------------------- the fuzzer
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(HUGE)
    | st.floats()  # NaN and infinities included
    | ODD_TEXT
    | st.sampled_from(BAD_URLS[:-2])
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3),
    max_leaves=8,
)
HEADER_BYTES = [*range(0x21, 0x7F), *range(0x80, 0x100)]  # what h11 lets a client send
FUZZ = settings(  # ORCA_NB_FUZZ_EXAMPLES=5000 for a deeper run
    max_examples=int(os.environ.get("ORCA_NB_FUZZ_EXAMPLES", "250")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _body(data: st.DataObject, method: str, template: str, world: World) -> bytes:
    if _is_h5(template):
        form = data.draw(st.dictionaries(ODD_TEXT, ODD_TEXT, max_size=3), "form")
        return encode_query(form).encode()
    shape = data.draw(st.sampled_from(["field", "object", "raw", "deep"]), "body shape")
    if shape == "raw":
        return data.draw(st.binary(max_size=80), "raw body")
    if shape == "deep":
        depth = data.draw(st.integers(MAX_JSON_DEPTH - 2, 3000), "depth")
        return b"[" * depth + b"]" * depth
    if shape == "object":
        return dump(data.draw(st.dictionaries(ODD_TEXT, JSON_VALUES, max_size=4), "object"))
    base = base_body(method, template, world)
    field = data.draw(st.sampled_from([*base, *EXTRA_FIELDS]), "field")
    value = data.draw(JSON_VALUES | st.sampled_from(list(PARSER_KINDS.values())), "value")
    return dump(with_field(base, field, value))


@FUZZ
@given(data=st.data())
def test_fuzz_every_route(
    sandbox_backend: Backend, raw: httpx.Client, world: World, data: st.DataObject
) -> None:
    before = state(sandbox_backend)
    method, template = data.draw(st.sampled_from(ROUTES), "route")
    override = {
        name: data.draw(st.sampled_from(world.ids(name)) | ODD_TEXT, name)
        for name in PARAM.findall(template)
    }
    path = path_for(template, world, override)
    query = data.draw(
        st.dictionaries(
            st.sampled_from(["page_number", "page_size", "statuses", "name", "route"]) | ODD_TEXT,
            ODD_TEXT,
            max_size=3,
        ),
        "query",
    )
    if query:
        path += "?" + encode_query(query)
    body = _body(data, method, template, world) if method in BODY_METHODS else b""
    headers: dict[bytes, bytes] = {}
    auth = data.draw(st.sampled_from(["good", "odd", "none"]), "authorization")
    if auth == "odd":  # latin-1 junk, or a key shape with a byte that is not ASCII
        headers[b"authorization"] = data.draw(
            st.sampled_from([b"Bearer sk-orca-\xff\xfe", b"Bearer \xc3\xa9", b"Basic x", b"Bearer"])
            | st.lists(st.sampled_from(HEADER_BYTES), min_size=1, max_size=20).map(bytes),
            "odd authorization",
        )
    elif auth == "none":
        headers[b"authorization"] = b""
    if data.draw(st.booleans(), "odd task shape header"):
        headers[b"x-orca-sandbox-task-shape"] = data.draw(
            st.text(st.characters(min_codepoint=33, max_codepoint=255), max_size=12), "shape"
        ).encode("latin-1")
    response = raw.request(method, path, content=body, headers=headers)
    check(sandbox_backend, response, before, f"{method} {path[:80]} {body[:80]!r}")
    recover(sandbox_backend, response, world)


def test_still_healthy_after_the_fuzz(sandbox_server: SandboxServer) -> None:
    assert httpx.get(sandbox_server.root_url + "/healthz", trust_env=False).json() == {"ok": True}
