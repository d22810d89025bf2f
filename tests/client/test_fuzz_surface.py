"""Fuzz every public client call: only the error tree leaves it, and a refusal sends nothing.

The resources' public methods are enumerated (a new method is covered without editing this
file). Each gets hostile values for its parameters (lone surrogates, NUL, slashes, odd digits,
bools for ints, NaN and huge numbers, bad URLs, nested containers, objects) mixed with plausible
ones, against a transport that counts requests and answers 404. Whatever happens, the call
either returns or raises an ``OrcaError``; a ``ValidationError`` is raised before any request;
and a video create never leaves its ledger row ``submitting``.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca_nb import wire
from orca_nb.client import AsyncOrca, Orca
from orca_nb.client.errors import OrcaError, ValidationError
from orca_nb.compose import Ref, Selection, build_request
from orca_nb.ledger import Ledger, open_ledger

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KEY = "sk-orca-sandbox-fuzz"
BASE = "http://127.0.0.1:9/v1"  # never reached: the transport below answers

ODD_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12)
ODD_STRINGS = st.sampled_from([
    "", " ", "\x00", "\ud800", "a\udfffb", "group-1/../x", "a/b", "?x=1", "#frag", "%2F", "..",
    "١٢٣", "１０", "½", "Ⅻ", "𝟙𝟚", "1e309", "NaN", "-0", "Image", "image", "Active,Nope",
    "http://[::1", "http://exa mple.com/a.jpg", "http://\ud800.com/", "javascript:alert(1)",
    "data:image/png;base64,AAAA", "asset://asset-1", "file:///etc/passwd", "http://", "http:///x",
    "https://example.com/" + "a" * 9000, "x" * 300, "group-abc", "asset-abc", "task-abc",
    "sess-abc", "http://127.0.0.1:9/a.jpg", wire.SEEDANCE_2, "9:16", "480p", "Skip",
])  # fmt: skip
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 5, 10, 100, 10**400, -1, float("nan"), float("inf")]),
)
ATOMS = st.one_of(
    st.none(), st.booleans(), NUMBERS, ODD_TEXT, ODD_STRINGS, st.binary(max_size=4),
    st.builds(object), st.just(Path("/")),
)  # fmt: skip
HOSTILE = st.recursive(
    ATOMS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner)
        | st.dictionaries(st.one_of(ODD_STRINGS, ODD_TEXT, st.integers()), inner, max_size=3)
    ),
    max_leaves=8,
)


def _nest(n: int) -> Any:
    value: Any = "leaf"
    for _ in range(n):
        value = {"k": [value]}
    return value


DEEP = st.integers(min_value=30, max_value=200).map(_nest)


def _valid_request() -> dict[str, Any]:
    ref = Ref(source="asset-abc", kind="Image", name="x")
    return build_request(wire.SEEDANCE_2, "[Image 1] walks", Selection([ref]), duration=5)


def _request_bodies() -> st.SearchStrategy[Any]:
    """Video request bodies: valid, with one hostile value planted somewhere, or nested deep."""
    base = st.just(None).map(lambda _: _valid_request())

    def plant(body: dict[str, Any], where: str, value: Any) -> dict[str, Any]:
        meta = body["metadata"]
        if where == "prompt":
            body["prompt"] = value
        elif where == "content_url":
            meta["content"][0]["image_url"]["url"] = value
        elif where == "content_role":
            meta["content"][0]["role"] = value
        elif where == "extra":
            meta["x_extra"] = value
        elif where == "top":
            body["x_top"] = value
        else:
            meta[where] = value
        return body

    places = st.sampled_from(
        ["prompt", "content_url", "content_role", "extra", "top", "duration", "seed", "ratio"]
    )
    planted = st.builds(plant, base, places, st.one_of(HOSTILE, DEEP))
    return st.one_of(base, planted, HOSTILE)


class Counting(httpx.MockTransport):
    """Counts requests; answers every one 404 in the API's error envelope."""

    def __init__(self) -> None:
        self.count = 0
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        body = {"error": {"message": "no such thing", "type": "not_found", "code": "not_found"}}
        return httpx.Response(404, json=body)


class AsyncCounting(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = Counting()

    @property
    def count(self) -> int:
        return self.inner.count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self.inner.handle_request(request)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """Downloads to relative paths land in a throwaway folder."""
    saved = Path.cwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(saved)


@pytest.fixture(scope="module")
def ledger(workdir: Path) -> Iterator[Ledger]:
    with open_ledger(workdir / "fuzz-ledger.sqlite3", durable=False) as opened:
        yield opened


def _resources(client: Orca | AsyncOrca) -> dict[str, Any]:
    """The client's public resources (every attribute whose class lives in the client)."""
    found = {
        name: value
        for name, value in vars(client).items()
        if not name.startswith("_")
        and type(value).__module__.startswith("orca_nb.client._resources")
    }
    assert {"groups", "assets", "real_human", "videos"} <= set(found)
    return found


def _methods(client: Orca | AsyncOrca) -> list[tuple[str, str, inspect.Signature]]:
    out = []
    for rname, resource in _resources(client).items():
        for mname, member in inspect.getmembers(type(resource), inspect.isfunction):
            if not mname.startswith("_"):
                out.append((rname, mname, inspect.signature(member)))
    return out


_SYNC_METHODS = _methods(Orca(KEY, base_url=BASE, ledger=None))
_IDS = [f"{r}.{m}" for r, m, _ in _SYNC_METHODS]


def _value_for(name: str) -> st.SearchStrategy[Any]:
    if name == "request":
        return _request_bodies()
    if name in ("asset_ids",):
        return st.one_of(st.lists(st.one_of(ODD_STRINGS, HOSTILE), max_size=3), HOSTILE)
    if name == "on_progress":
        return st.one_of(st.none(), st.just(print), HOSTILE)
    if name == "timeout":
        return st.one_of(st.just(httpx.Timeout(1.0)), NUMBERS, HOSTILE)
    return st.one_of(HOSTILE, ODD_STRINGS)


@st.composite
def _arguments(draw: st.DrawFn, signature: inspect.Signature) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in list(signature.parameters.values())[1:]:  # skip self
        if param.kind is param.VAR_KEYWORD:
            extra = draw(st.dictionaries(st.one_of(ODD_STRINGS, ODD_TEXT), HOSTILE, max_size=2))
            kwargs.update({k: v for k, v in extra.items() if k not in signature.parameters})
            continue
        if param.default is not param.empty and draw(st.booleans()):
            continue  # leave it at its default
        value = draw(_value_for(param.name))
        if param.kind is param.POSITIONAL_ONLY or param.kind is param.POSITIONAL_OR_KEYWORD:
            args.append(value)
        else:
            kwargs[param.name] = value
    return args, kwargs


def _check(error: BaseException | None, sent: int) -> None:
    if error is None:
        return
    assert isinstance(error, OrcaError), f"untyped {type(error).__name__}: {error}"
    if isinstance(error, ValidationError):
        assert sent == 0, f"ValidationError after {sent} request(s): {error}"
    assert "\ud800" not in str(error).encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _no_row_left_submitting(ledger: Ledger) -> None:
    _, rows = ledger.database.query("SELECT COUNT(*) FROM submissions WHERE status = 'submitting'")
    assert rows[0][0] == 0


@pytest.mark.parametrize(("resource", "method", "signature"), _SYNC_METHODS, ids=_IDS)
def test_sync_calls_raise_only_the_error_tree(
    resource: str, method: str, signature: inspect.Signature, ledger: Ledger, workdir: Path
) -> None:
    @FUZZ
    @given(_arguments(signature))
    def run(call: tuple[list[Any], dict[str, Any]]) -> None:
        transport = Counting()
        http = httpx.Client(transport=transport)
        client = Orca(
            KEY, base_url=BASE, ledger=ledger, max_retries=0, http_client=http, sleep=lambda _s: 0
        )
        error: BaseException | None = None
        try:
            result = getattr(getattr(client, resource), method)(*call[0], **call[1])
            if inspect.isgenerator(result) or isinstance(result, Iterator):
                list(itertools.islice(result, 3))
        except Exception as exc:
            error = exc
        _check(error, transport.count)
        _no_row_left_submitting(ledger)

    run()


_ASYNC_METHODS = _methods(AsyncOrca(KEY, base_url=BASE, ledger=None))


@pytest.mark.parametrize(
    ("resource", "method", "signature"),
    _ASYNC_METHODS,
    ids=[f"{r}.{m}" for r, m, _ in _ASYNC_METHODS],
)
def test_async_calls_raise_only_the_error_tree(
    resource: str, method: str, signature: inspect.Signature, ledger: Ledger, workdir: Path
) -> None:
    async def call_once(
        args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[BaseException | None, int]:
        transport = AsyncCounting()

        async def no_sleep(_s: float) -> None:
            return None

        client = AsyncOrca(KEY, base_url=BASE, ledger=ledger, max_retries=0, sleep=no_sleep,
                           http_client=httpx.AsyncClient(transport=transport))  # fmt: skip
        try:
            result = getattr(getattr(client, resource), method)(*args, **kwargs)
            if isinstance(result, AsyncIterator):
                async for _ in result:
                    break
            elif inspect.isawaitable(result):
                await result
        except Exception as exc:
            return exc, transport.count
        return None, transport.count

    @settings(FUZZ, max_examples=20)
    @given(_arguments(signature))
    def run(call: tuple[list[Any], dict[str, Any]]) -> None:
        error, sent = asyncio.run(call_once(*call))
        _check(error, sent)
        _no_row_left_submitting(ledger)

    run()


CONSTRUCTOR_ARGS = st.fixed_dictionaries(
    {},
    optional={
        "api_key": st.one_of(ODD_STRINGS, ODD_TEXT, HOSTILE, st.just("sk-orca-é")),
        "timeout": st.one_of(NUMBERS, HOSTILE),
        "max_retries": st.one_of(NUMBERS, HOSTILE),
        "seed": st.one_of(NUMBERS, HOSTILE),
        "gather_threads": st.one_of(NUMBERS, HOSTILE),
        "sleep": HOSTILE,
        "clock": HOSTILE,
        "http_client": HOSTILE,
        "ledger": HOSTILE,
    },
)
BASE_URLS = st.one_of(ODD_STRINGS, ODD_TEXT, st.just(BASE)).filter(lambda u: u is not None)


@FUZZ
@given(CONSTRUCTOR_ARGS, BASE_URLS, st.sampled_from(["timeout", "max_retries"]), HOSTILE)
def test_constructors_and_with_options_raise_only_the_error_tree(
    kwargs: dict[str, Any], base_url: str, option: str, value: Any
) -> None:
    kwargs = {"api_key": KEY, **kwargs, "base_url": base_url}
    if kwargs.get("ledger") is None:
        kwargs["ledger"] = None
    for cls in (Orca, AsyncOrca):
        if cls is AsyncOrca:
            kwargs.pop("gather_threads", None)  # the blocking client's option only
        try:
            client = cls(**kwargs)
        except Exception as exc:
            _check(exc, 0)
            continue
        try:
            client.with_options(**{option: value})
        except Exception as exc:
            _check(exc, 0)


@pytest.mark.parametrize("bad_key", ["sk-orca-\u00e9t\u00e9", "sk-orca-\x00", "sk-orca-\ud800"])
def test_a_key_that_cannot_travel_in_a_header_is_refused_without_echoing_it(bad_key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Orca(bad_key, base_url=BASE, ledger=None)
    assert caught.value.param == "api_key"
    assert bad_key not in str(caught.value)
