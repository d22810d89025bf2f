"""Fault tests: retries, waits honoured, no duplicate creates, the right error raised."""

from __future__ import annotations

import io
import random

import httpx
import pytest

from orca_nb.client import (
    APIConnectionError,
    APITimeoutError,
    AsyncOrca,
    AuthenticationError,
    NotFoundError,
    Orca,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
)
from orca_nb.client import defaults as d
from orca_nb.client.retries import (
    RETRY_STATUSES,
    backoff_delay,
    parse_retry_after,
    poller_retry_delay,
    retry_delay,
)
from tests.client.conftest import Sleeps, make_client, run
from tests.client.fakeapi import SIGNED, FakeAPI

Client = Orca | AsyncOrca
IMG = "https://cdn.example.com/a.png"


def status(code: int, retry_after: str | None = None) -> tuple[object, ...]:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    body = {"error": {"message": "busy", "type": "orcarouter_api_error", "code": str(code)}}
    return ("status", code, headers, body)


# --------------------------------------------------------------------------- reads
async def test_429_retry_after_is_honoured(client: Client, fake: FakeAPI, sleeps: Sleeps) -> None:
    fake.fault("GET", "groups", status(429, "3"), status(429, "1.5"))
    page = await run(client.groups.list(group_type="aigc"))
    assert page.items == []
    assert fake.count("GET", "groups") == 3
    assert sleeps == [3.0, 1.5]


async def test_retry_after_beyond_the_cap_raises_instead_of_sleeping(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    fake.fault("GET", "groups", status(429, "600"))
    with pytest.raises(RateLimitError) as info:
        await run(client.groups.list())
    assert info.value.retry_after == 600
    assert sleeps == []
    assert fake.count("GET", "groups") == 1


@pytest.mark.parametrize("codes", [(500, 502, 503), (503, 503, 503)])
async def test_5xx_sequences_exhaust_retries(
    client: Client, fake: FakeAPI, sleeps: Sleeps, codes: tuple[int, ...]
) -> None:
    fake.fault("GET", "groups", *(status(c) for c in codes))
    with pytest.raises(ServerError) as info:
        await run(client.groups.list())
    assert fake.count("GET", "groups") == 3  # 1 + max_retries(2)
    assert info.value.status == codes[-1]
    assert len(sleeps) == 2
    assert 0.375 <= sleeps[0] <= 0.5
    assert 0.75 <= sleeps[1] <= 1.0


async def test_5xx_then_success(client: Client, fake: FakeAPI, sleeps: Sleeps) -> None:
    fake.fault("GET", "groups", status(502), status(500))
    await run(client.groups.list())
    assert fake.count("GET", "groups") == 3
    assert len(sleeps) == 2


async def test_max_retries_override_per_call_and_with_options(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    fake.fault("GET", "groups", *(status(503) for _ in range(10)))
    with pytest.raises(ServerError):
        await run(client.groups.list(max_retries=0))
    assert fake.count("GET", "groups") == 1
    with pytest.raises(ServerError):
        await run(client.with_options(max_retries=4).groups.list())
    assert fake.count("GET", "groups") == 6


async def test_non_retryable_status_is_not_retried(
    flavour: str, fake: FakeAPI, sleeps: Sleeps
) -> None:
    client = make_client(flavour, fake, sleeps, key="sk-orca-test-wrong")
    with pytest.raises(AuthenticationError):
        await run(client.groups.list())
    assert len(fake.calls) == 1
    assert sleeps == []


@pytest.mark.parametrize("fault", ["drop_before", "drop_after", "timeout_after", "connect_timeout"])
async def test_reads_retry_any_connection_failure(
    client: Client, fake: FakeAPI, sleeps: Sleeps, fault: str
) -> None:
    gid = (await run(client.groups.create(name="g"))).id
    fake.fault("GET", "group", fault, fault)
    assert (await run(client.groups.get(gid))).id == gid
    assert fake.count("GET", "group") == 3
    assert len(sleeps) == 2


async def test_read_timeouts_end_in_api_timeout_error(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    fake.fault("GET", "groups", "timeout_after", "timeout_after", "timeout_after")
    with pytest.raises(APITimeoutError) as info:
        await run(client.groups.list())
    assert "timeout=" in str(info.value)
    assert fake.count("GET", "groups") == 3


async def test_delete_after_a_dropped_reply_counts_as_done(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    gid = (await run(client.groups.create(name="g"))).id
    fake.fault("DELETE", "group", "drop_after")
    assert await run(client.groups.delete(gid)) is None  # retry saw 404: already deleted
    assert fake.count("DELETE", "group") == 2
    assert gid not in fake.groups


# --------------------------------------------------------------------------- downloads
VIDEO = f"https://cdn.fake.test/media/task_0001.mp4?{SIGNED}"


@pytest.mark.parametrize("code", sorted(RETRY_STATUSES))
async def test_downloads_retry_every_status_the_core_retries(
    client: Client, fake: FakeAPI, sleeps: Sleeps, code: int
) -> None:
    # 409 included: the download stream follows the core's policy, as the README promises
    fake.fault("GET", "media", status(code))
    buffer = io.BytesIO()
    written = await run(client.videos.download(VIDEO, buffer))
    assert written == len(buffer.getvalue()) > 100_000
    assert fake.count("GET", "media") == 2
    assert sleeps == [backoff_delay(0, random.Random(1))]


async def test_downloads_honour_retry_after_and_its_cap(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    fake.fault("GET", "media", status(503, "2.5"))
    await run(client.videos.download(VIDEO, io.BytesIO()))
    assert sleeps == [2.5]
    fake.fault("GET", "media", status(429, "600"))
    with pytest.raises(RateLimitError) as info:
        await run(client.videos.download(VIDEO, io.BytesIO()))
    assert info.value.retry_after == 600
    assert sleeps == [2.5]  # not slept through


async def test_downloads_do_not_retry_a_refusal_or_past_max_retries(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    fake.fault("GET", "media", status(404))
    with pytest.raises(NotFoundError):
        await run(client.videos.download(VIDEO, io.BytesIO()))
    assert fake.count("GET", "media") == 1
    fake.fault("GET", "media", status(502), status(502), status(502))
    with pytest.raises(ServerError):
        await run(client.videos.download(VIDEO, io.BytesIO()))
    assert fake.count("GET", "media") == 1 + 1 + d.DEFAULT_MAX_RETRIES
    assert len(sleeps) == d.DEFAULT_MAX_RETRIES


# --------------------------------------------------------------------------- creates
@pytest.mark.parametrize("fault", ["drop_after", "timeout_after", status(500), status(502)])
async def test_group_create_reconciles_instead_of_duplicating(
    client: Client, fake: FakeAPI, sleeps: Sleeps, fault: object
) -> None:
    fake.groups.clear()
    fake.fault("POST", "groups", fault)
    if isinstance(fault, tuple):  # a 5xx may or may not have landed; here it did not
        created = await run(client.groups.create(name="hero"))
        assert fake.count("POST", "groups") == 2  # reconciled (nothing there), then retried
    else:  # processed, reply lost: reconciliation finds it, no second POST
        created = await run(client.groups.create(name="hero"))
        assert fake.count("POST", "groups") == 1
    assert [g["Id"] for g in fake.groups.values()] == [created.id]


async def test_group_create_ignores_older_groups_with_the_same_name(
    client: Client, fake: FakeAPI
) -> None:
    old = (await run(client.groups.create(name="hero"))).id
    fake.fault("POST", "groups", "drop_after")
    new = (await run(client.groups.create(name="hero"))).id
    assert new != old
    assert len(fake.groups) == 2
    assert fake.count("POST", "groups") == 2


@pytest.mark.parametrize("fault", ["drop_before", "connect_timeout", status(429, "2"), status(503)])
async def test_create_retries_when_nothing_can_have_happened(
    client: Client, fake: FakeAPI, sleeps: Sleeps, fault: object
) -> None:
    fake.fault("POST", "groups", fault)
    await run(client.groups.create(name="hero"))
    assert fake.count("POST", "groups") == 2
    assert len(fake.groups) == 1
    assert fake.count("GET", "groups") == 1  # only the pre-create snapshot, no reconciliation
    if isinstance(fault, tuple) and fault[1] == 429:
        assert sleeps == [2.0]


async def test_create_that_keeps_failing_raises_the_last_error(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    fake.fault("POST", "groups", "drop_before", "drop_before", "drop_before")
    with pytest.raises(APIConnectionError) as info:
        await run(client.groups.create(name="hero"))
    assert not isinstance(info.value, OutcomeUnknownError)
    assert fake.groups == {}


async def test_asset_upload_with_name_reconciles(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    gid = (await run(client.groups.create(name="g"))).id
    await run(client.assets.upload(group_id=gid, url=IMG, asset_type="Image", name="front"))
    fake.fault("POST", "assets", "timeout_after")
    second = await run(
        client.assets.upload(group_id=gid, url=IMG, asset_type="Image", name="front")
    )
    assert fake.count("POST", "assets") == 2
    assert len(fake.assets) == 2
    assert second.id in fake.assets


async def test_asset_upload_without_name_raises_outcome_unknown(
    client: Client, fake: FakeAPI
) -> None:
    gid = (await run(client.groups.create(name="g"))).id
    fake.fault("POST", "assets", "drop_after")
    with pytest.raises(OutcomeUnknownError) as info:
        await run(client.assets.upload(group_id=gid, url=IMG, asset_type="Image"))
    assert fake.count("POST", "assets") == 1
    assert len(fake.assets) == 1
    assert "may have succeeded" in str(info.value)
    assert "client.assets.list" in str(info.value)
    assert "name=" in info.value.how_to_check


async def test_video_create_never_resubmits_an_unknown_outcome(
    client: Client, fake: FakeAPI
) -> None:
    fake.fault("POST", "videos", "drop_after")
    with pytest.raises(OutcomeUnknownError) as info:
        await run(client.videos.create(prompt="a cat"))
    assert fake.count("POST", "videos") == 1
    assert len(fake.tasks) == 1
    assert "ledger" in str(info.value)
    fake.fault("POST", "videos", status(500))
    with pytest.raises(OutcomeUnknownError):
        await run(client.videos.create(prompt="a dog"))
    assert fake.count("POST", "videos") == 2


async def test_video_create_retries_a_refused_submit(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    fake.fault("POST", "videos", status(429, "4"), "drop_before")
    task = await run(client.videos.create(prompt="a cat"))
    assert fake.count("POST", "videos") == 3
    assert list(fake.tasks) == [task.id]
    assert sleeps[0] == 4.0
    keys = {c.headers["idempotency-key"] for c in fake.calls if c.method == "POST"}
    assert len(keys) == 1  # the same key on every attempt of one create


async def test_reconciliation_failure_is_outcome_unknown(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    fake.fault("POST", "groups", "drop_after")
    fake.fault("GET", "groups", "ok", *(status(500) for _ in range(3)))  # snapshot passes
    with pytest.raises(OutcomeUnknownError) as info:
        await run(client.groups.create(name="hero"))
    assert "client.groups.list" in str(info.value)
    assert len(fake.groups) == 1


# --------------------------------------------------------------------------- math
def test_backoff_is_exponential_capped_and_jittered() -> None:
    rng = random.Random(3)
    for attempt in range(10):
        base = min(d.MAX_BACKOFF_SECONDS, d.INITIAL_BACKOFF_SECONDS * 2**attempt)
        delay = backoff_delay(attempt, rng)
        assert base * (1 - d.BACKOFF_JITTER) <= delay <= base
    assert retry_delay(0, 7.0, rng) == 7.0
    assert retry_delay(0, d.RETRY_AFTER_CAP_SECONDS + 1, rng) is None


def test_a_pollers_pause_doubles_to_its_cap_and_respects_retry_after() -> None:
    pauses = [poller_retry_delay(n, None, initial=0.5, cap=3.0) for n in range(1, 6)]
    assert pauses == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert poller_retry_delay(1, 2.5, initial=0.5, cap=3.0) == 2.5  # the server's wait wins
    assert poller_retry_delay(1, 90.0, initial=0.5, cap=3.0) == 3.0  # capped, never given up
    assert poller_retry_delay(3, 0.1, initial=0.5, cap=3.0) == 2.0  # never shorter than backoff


def test_retry_after_forms() -> None:
    assert parse_retry_after(httpx.Headers({"Retry-After": "5"})) == 5
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    date = httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"})
    assert parse_retry_after(date, now=1445412480.0) == 10.0
    assert parse_retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert parse_retry_after(httpx.Headers({"Retry-After": "-3"})) == 0
