"""The client against the shapes of reference section 12, sync and async: the documented wrapped
task (with and without the inner Ark object), FAILURE with fail_reason, "50%" progress, the
OpenAI-style alias and its usage, new-api's own error shape, model discovery, the balance, and
session status words."""

from __future__ import annotations

from typing import Any

import pytest

from orca_nb import wire
from orca_nb.client import (
    AsyncOrca,
    InsufficientBalanceError,
    NotFoundError,
    Orca,
    OutcomeUnknownError,
    PaymentRequiredError,
    PermissionDeniedError,
    ValidationError,
)
from orca_nb.compose import Ref, Selection, validate
from orca_nb.compose import issues as codes
from tests.client.conftest import Sleeps, make_client, run
from tests.client.fakeapi import FAIL_REASON, SIGNED, FakeAPI, ark_task, openai_video

Client = Orca | AsyncOrca
pytestmark = pytest.mark.usefixtures("flavour")


class Recorder:
    """A ledger that keeps what the client tells it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def before_submit(self, body: Any, *, submitter: str, base_url: str) -> str:
        self.events.append(("before", body))
        return "sub-1"

    def after_submit(self, submission_id: str, task: Any) -> None:
        self.events.append(("after", task))

    def submit_failed(self, submission_id: str, *, code: str | None, message: str) -> None:
        self.events.append(("failed", code))

    def submit_unknown(self, submission_id: str, *, code: str | None, message: str) -> None:
        self.events.append(("unknown", code))

    def on_task(self, task: Any) -> None:
        self.events.append(("task", task))


def alias_gets(fake: FakeAPI) -> int:
    return fake.count("GET", "alias_video")


# --------------------------------------------------------------------------- task shapes
async def test_documented_wrapper_without_inner_object(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    fake.task_shape = "wrapper"
    fake.alias_offered = False
    task = await run(client.videos.create(prompt="a harbour at dawn"))
    seen: list[tuple[str, int]] = []
    done = await run(
        client.videos.wait(task.id, on_progress=lambda t: seen.append((t.status, t.progress)))
    )
    assert seen == [
        ("queued", 10),
        ("queued", 10),
        ("running", 50),  # "50%" from IN_PROGRESS
        ("running", 50),
        ("succeeded", 100),
    ]
    assert (done.shape, done.status, done.id) == ("newapi", "succeeded", "task_0001")
    assert done.video_url == f"https://cdn.fake.test/media/task_0001.mp4?{SIGNED}"
    assert done.usage is None  # no usage anywhere: the ledger will estimate
    assert done.ratio is None
    assert done.upstream_id is None
    assert (done.started_at, done.completed_at) == (1773000005, 1773000120)


async def test_wrapper_with_inner_object_keeps_its_usage(client: Client, fake: FakeAPI) -> None:
    fake.task_shape = "newapi"
    task = await run(client.videos.create(prompt="a harbour at dawn"))
    done = await run(client.videos.wait(task.id))
    assert done.usage is not None
    assert done.usage.total_tokens == 108_900
    assert done.upstream_id == "cgt-20260708094649-mxfjc"
    assert alias_gets(fake) == 0  # usage was there: no extra read


@pytest.mark.parametrize("shape", ["wrapper", "newapi", "ark", "openai"])
async def test_failure_carries_the_reason(client: Client, fake: FakeAPI, shape: str) -> None:
    fake.task_shape = shape
    fake.task_outcome = "failed"
    task = await run(client.videos.create(prompt="a harbour at dawn"))
    done = await run(client.videos.wait(task.id))
    assert done.status == "failed"
    assert done.error is not None
    assert done.error.message == FAIL_REASON
    assert done.video_url is None
    # Every shape ends with the upstream code: the wrapper carries only fail_reason, so its
    # code is read once from the alias (which the other shapes already carry).
    assert done.error.code == "OutputVideoSensitiveContentDetected"
    assert alias_gets(fake) == (1 if shape == "wrapper" else 0)


async def test_failure_without_the_alias_keeps_the_reason(client: Client, fake: FakeAPI) -> None:
    fake.task_shape = "wrapper"
    fake.task_outcome = "failed"
    fake.alias_offered = False
    task = await run(client.videos.create(prompt="a harbour at dawn"))
    done = await run(client.videos.wait(task.id))
    assert done.status == "failed"
    assert done.error is not None
    assert done.error.message == FAIL_REASON
    assert done.error.code is None


def test_result_url_wins_over_the_inner_url() -> None:
    from orca_nb.client import VideoTask

    body = {
        "code": "success",
        "message": "",
        "data": {
            "task_id": "task_1",
            "status": "SUCCESS",
            "progress": "100%",
            "result_url": "https://gateway.example/task_1.mp4",
            "data": {
                "id": "cgt-1",
                "status": "succeeded",
                "content": {"video_url": "https://ark/x"},
            },
        },
    }
    assert VideoTask.from_wire(body).video_url == "https://gateway.example/task_1.mp4"


# --------------------------------------------------------------------------- the alias
async def test_usage_is_read_once_from_the_alias_when_the_fetch_has_none(
    flavour: str, fake: FakeAPI, sleeps: Sleeps
) -> None:
    fake.task_shape = "wrapper"
    ledger = Recorder()
    client = make_client(flavour, fake, sleeps, ledger=ledger)
    task = await run(client.videos.create(prompt="a harbour at dawn"))
    done = await run(client.videos.wait(task.id))
    assert done.usage is not None
    assert done.usage.total_tokens == 108_900
    assert done.shape == "newapi"  # still the documented fetch's task
    assert alias_gets(fake) == 1
    final = [t for k, t in ledger.events if k == "task"][-1]
    assert final["usage"]["total_tokens"] == 108_900  # the ledger gets the reported figure
    again = await run(client.videos.get(task.id))
    assert again.usage == done.usage
    assert alias_gets(fake) == 1  # remembered per task


async def test_alias_usage_can_be_switched_off(flavour: str, fake: FakeAPI, sleeps: Sleeps) -> None:
    fake.task_shape = "wrapper"
    client = make_client(flavour, fake, sleeps, usage_from_alias=False)
    task = await run(client.videos.create(prompt="a harbour at dawn"))
    done = await run(client.videos.wait(task.id))
    assert done.usage is None
    assert alias_gets(fake) == 0


async def test_alias_not_offered_is_asked_once_per_task(client: Client, fake: FakeAPI) -> None:
    fake.task_shape = "wrapper"
    fake.alias_offered = False
    task = await run(client.videos.create(prompt="a harbour at dawn"))
    await run(client.videos.wait(task.id))
    await run(client.videos.get(task.id))
    await run(client.videos.get(task.id))
    assert alias_gets(fake) == 1


async def test_alias_refusing_the_key_is_not_asked_again(client: Client, fake: FakeAPI) -> None:
    fake.task_shape = "wrapper"
    fake.fault("GET", "alias_video", ("status", 403, {}, {"code": "forbidden", "data": None}))
    first = await run(client.videos.create(prompt="one"))
    await run(client.videos.wait(first.id))
    second = await run(client.videos.create(prompt="two"))
    done = await run(client.videos.wait(second.id))
    assert done.usage is None
    assert alias_gets(fake) == 1


async def test_via_openai_reads_the_alias(client: Client, fake: FakeAPI) -> None:
    task = await run(client.videos.create(prompt="a harbour at dawn"))
    done = await run(client.videos.wait(task.id, via="openai"))
    assert done.shape == "openai"
    assert done.status == "succeeded"
    assert done.usage is not None
    assert done.usage.total_tokens == 108_900
    assert done.duration == 5
    assert fake.count("GET", "video") == 0
    with pytest.raises(ValidationError, match="via"):
        await run(client.videos.get(task.id, via="graphql"))  # type: ignore[arg-type]


async def test_client_setting_reads_every_task_from_the_alias(
    flavour: str, fake: FakeAPI, sleeps: Sleeps
) -> None:
    client = make_client(flavour, fake, sleeps, task_api="openai")
    assert client.task_api == "openai"
    task = await run(client.videos.create(prompt="a harbour at dawn"))
    seen: list[tuple[str, int]] = []
    await run(
        client.videos.wait(task.id, on_progress=lambda t: seen.append((t.status, t.progress)))
    )
    assert seen[-1] == ("succeeded", 100)
    assert ("running", 50) in seen
    assert fake.count("GET", "video") == 0
    assert fake.count("POST", "videos") == 1  # submitting stays on the documented route


def test_task_api_is_checked() -> None:
    with pytest.raises(ValidationError, match="task_api"):
        Orca("sk-orca-x", base_url="https://api.fake.test/v1", task_api="rest", ledger=None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- new-api errors
NO_BALANCE = {"code": wire.CODE_INSUFFICIENT_USER_QUOTA, "message": "余额不足", "data": None}


async def test_balance_refusal_is_its_own_error_and_not_an_unknown_outcome(
    flavour: str, fake: FakeAPI, sleeps: Sleeps
) -> None:
    ledger = Recorder()
    client = make_client(flavour, fake, sleeps, ledger=ledger)
    fake.fault("POST", "videos", ("status", 403, {}, NO_BALANCE))
    with pytest.raises(InsufficientBalanceError) as info:
        await run(client.videos.create(prompt="a harbour at dawn"))
    error = info.value
    assert not isinstance(error, OutcomeUnknownError | PermissionDeniedError)
    assert isinstance(error, PaymentRequiredError)
    assert error.status == 403
    assert error.code == wire.CODE_INSUFFICIENT_USER_QUOTA
    assert "top up" in str(error).lower()
    assert fake.count("POST", "videos") == 1  # not retried
    assert ("failed", wire.CODE_INSUFFICIENT_USER_QUOTA) in ledger.events  # refused, not unknown
    assert not [k for k, _ in ledger.events if k == "unknown"]


async def test_balance_error_is_not_the_asset_cap(client: Client, fake: FakeAPI) -> None:
    gid = (await run(client.groups.create(name="g"))).id
    fake.fault("POST", "assets", ("status", 403, {}, NO_BALANCE))
    with pytest.raises(InsufficientBalanceError):
        await run(
            client.assets.upload(group_id=gid, url="https://x.test/a.png", asset_type="Image")
        )


@pytest.mark.parametrize("shape", ["wrapper", "newapi"])
async def test_task_not_exist_is_not_found(client: Client, fake: FakeAPI, shape: str) -> None:
    fake.task_shape = shape
    with pytest.raises(NotFoundError) as info:
        await run(client.videos.get("task_missing"))
    assert info.value.status == 400
    assert info.value.code == wire.CODE_TASK_NOT_EXIST


# --------------------------------------------------------------------------- models
MODELS_REPLY = {
    "object": "list",
    "data": [
        {"id": "gpt-4o-mini", "object": "model", "supported_endpoint_types": ["openai"]},
        {
            "id": wire.SEEDANCE_2,
            "object": "model",
            "supported_endpoint_types": ["openai-video"],
            "architecture": {"input_modalities": ["text", "image", "video", "audio"]},
        },
        {
            "id": "dreamina-seedance-2-5-260628",
            "object": "model",
            "supported_endpoint_types": ["openai-video"],
            "routable": False,
        },
        {
            "id": "byteplus/new-video-model",
            "object": "model",
            "supported_endpoint_types": ["openai-video"],
            "limits": {
                "durations": [3, 6, 9],
                "resolutions": ["720p"],
                "max_reference_images": 4,
                "default_seconds": 6,
                "default_resolution": "720p",
                "reference_media": "image",
                "first_last_frame": False,
                "native_audio": False,
            },
        },
    ],
}


async def test_models_list_keeps_video_models_with_limits(client: Client, fake: FakeAPI) -> None:
    fake.models_reply = MODELS_REPLY
    models = await run(client.models.list())
    assert [m.id for m in models] == [
        wire.SEEDANCE_2,
        "byteplus/new-video-model",
        "dreamina-seedance-2-5-260628",
    ]  # routable first, then the service's order
    by_id = {m.id: m for m in models}
    seedance = by_id[wire.SEEDANCE_2]
    assert seedance.routable
    assert seedance.source == "service"
    assert seedance.spec == wire.MODELS[wire.SEEDANCE_2]  # nothing stated: the table's limits
    assert seedance.input_modalities == ("text", "image", "video", "audio")
    peer = by_id["dreamina-seedance-2-5-260628"]
    assert not peer.routable
    assert (peer.spec.min_seconds, peer.spec.max_seconds) == (4, 30)
    new = by_id["byteplus/new-video-model"]
    assert (new.spec.min_seconds, new.spec.max_seconds) == (3, 9)
    assert new.spec.resolutions == ("720p",)
    assert new.spec.max_ref_images == 4
    assert (new.spec.default_seconds, new.spec.default_resolution) == (6, "720p")
    assert (new.spec.multimodal, new.spec.first_last_frame, new.spec.native_audio) == (
        "image",
        False,
        False,
    )
    assert new.label == "new-video-model"


async def test_offer_falls_back_to_the_table(client: Client, fake: FakeAPI) -> None:
    offered = await run(client.models.offer())  # the fake serves no /v1/models: 404
    assert {m.source for m in offered} == {"table"}
    assert [m.id for m in offered if m.routable] == [wire.SEEDANCE_2]
    assert {m.id for m in offered} == set(wire.MODELS)
    fake.models_reply = {"object": "list", "data": [{"id": "gpt-4o", "object": "model"}]}
    assert {m.source for m in await run(client.models.offer())} == {"table"}  # no video model
    fake.models_reply = MODELS_REPLY
    assert {m.source for m in await run(client.models.offer())} == {"service"}


async def test_discovered_limits_drive_validation(client: Client, fake: FakeAPI) -> None:
    fake.models_reply = MODELS_REPLY
    new = next(m for m in await run(client.models.offer()) if m.id == "byteplus/new-video-model")
    refs = Selection([Ref(f"asset-20260318071009-im{i:03d}", "image") for i in range(5)])
    prompt = " ".join(refs.tokens())
    found = validate(prompt, refs, model=new.id, duration=9, resolution="720p", spec=new.spec)
    assert [i.code for i in found if i.level == "error"] == [codes.TOO_MANY_IMAGES]


# --------------------------------------------------------------------------- balance
async def test_balance_from_the_billing_routes(client: Client, fake: FakeAPI) -> None:
    fake.billing = (
        {
            "object": "billing_subscription",
            "has_payment_method": True,
            "soft_limit_usd": 25.0,
            "hard_limit_usd": 25.0,
            "system_hard_limit_usd": 25.0,
            "access_until": 1798761600,
        },
        {"object": "list", "total_usage": 1234.5},
    )
    balance = await run(client.billing.balance())
    assert balance is not None
    assert (balance.limit, balance.used, balance.remaining) == (25.0, 12.345, 12.655)
    assert balance.unit == "USD"
    assert balance.expires_at is not None
    assert balance.expires_at.year == 2027
    assert balance.describe() == "12.65 USD left"  # 12.655 rounds half to even
    assert balance.raw["usage"]["total_usage"] == 1234.5


async def test_balance_not_offered_is_none(client: Client, fake: FakeAPI) -> None:
    assert await run(client.billing.balance()) is None  # 404
    fake.billing = ({"hard_limit_usd": 5}, None)
    fake.fault("GET", "billing_subscription", ("status", 401, {}, {"error": {"code": "x"}}))
    assert await run(client.billing.balance()) is None


async def test_balance_unlimited_and_never_expiring(client: Client, fake: FakeAPI) -> None:
    fake.billing = ({"hard_limit_usd": 100_000_000, "access_until": 0}, {"total_usage": 50})
    balance = await run(client.billing.balance())
    assert balance is not None
    assert balance.unlimited
    assert balance.remaining is None
    assert balance.expires_at is None
    assert balance.describe() == "unlimited balance"


async def test_balance_without_the_usage_route(client: Client, fake: FakeAPI) -> None:
    fake.billing = ({"hard_limit_usd": 7.5}, None)
    balance = await run(client.billing.balance())
    assert balance is not None
    assert (balance.limit, balance.used, balance.remaining) == (7.5, None, None)


# --------------------------------------------------------------------------- sessions
@pytest.mark.parametrize(
    ("word", "extra", "status"),
    [
        ("pending", {}, "pending"),
        ("processing", {}, "pending"),
        ("verified", {}, "success"),
        ("completed", {}, "success"),
        ("succeeded", {}, "success"),
        ("success", {}, "success"),
        ("SUCCESS", {}, "success"),
        ("failed", {}, "failed"),
        ("expired", {}, "expired"),
        (None, {"result_code": "10000"}, "success"),
        ("something_new", {}, "pending"),
    ],
)
async def test_session_status_is_normalised(
    client: Client, fake: FakeAPI, word: str | None, extra: dict[str, Any], status: str
) -> None:
    started = await run(client.real_human.start_session())
    assert (started.status, started.status_raw) == ("pending", "pending")
    stored = fake.sessions[started.session_id]
    stored.update(extra)
    stored["status"] = word
    got = await run(client.real_human.get_session(started.session_id))
    assert got.status == status
    assert got.status_raw == word
    assert got.done == (status != "pending")


async def test_an_alias_still_running_is_asked_again_later(client: Client, fake: FakeAPI) -> None:
    fake.task_shape = "wrapper"
    lagging = openai_video("task_0001", ark_task("task_0001", "running"), usage=True)
    fake.fault("GET", "alias_video", ("status", 200, {}, lagging))
    task = await run(client.videos.create(prompt="a harbour at dawn"))
    done = await run(client.videos.wait(task.id))
    assert done.status == "succeeded"
    assert done.usage is None  # the alias had not caught up yet
    again = await run(client.videos.get(task.id))
    assert again.usage is not None
    assert again.usage.total_tokens == 108_900
    assert alias_gets(fake) == 2


def test_a_session_survives_a_round_trip_through_its_dump() -> None:
    from orca_nb.client import Session

    first = Session.model_validate(
        {"session_id": "s", "status": "verified", "result_code": "10000"}
    )
    again = Session.model_validate(first.model_dump())
    assert (again.status, again.status_raw) == ("success", "verified")
    edited = Session.model_validate({"session_id": "s", "status": "completed", "status_raw": "x"})
    assert (edited.status, edited.status_raw) == ("success", "x")
