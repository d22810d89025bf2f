"""Unknown outcomes are recorded as unknown, on a real loopback sandbox.

Each case sends one video create through the client into a fault, then lists the server's
true state (its tasks table) next to the ledger row: a create the server may have acted on is
``unknown`` (never ``rejected``), a create the server provably refused is ``rejected``, and an
unknown row is settled both ways (the task found, then followed by ``reattach``; or none).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orca_nb import wire
from orca_nb.client import AsyncOrca, Orca
from orca_nb.client.errors import (
    APIConnectionError,
    BadRequestError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
)
from orca_nb.ledger import Ledger, open_ledger, reattach, settle
from orca_nb.reports import failures_by_code, submissions, tokens_per_day
from orca_nb.sandbox import Backend, Fault, SandboxServer
from tests.client.slow_server import Mode, slow_sandbox, wait_until

VIDEO = "POST " + wire.VIDEOS_PATH
BODY = {"prompt": "a lighthouse at dusk", "duration": 4, "resolution": "480p"}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with open_ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def _server_tasks(backend: Backend, key: str) -> list[str]:
    account = backend.account_for_key(key)
    with backend.db.tx() as db:
        return [str(r[0]) for r in db.execute("SELECT id FROM tasks WHERE account = ?", (account,))]


def _rows(ledger: Ledger) -> list[tuple[object, ...]]:
    _, rows = ledger.database.query(
        "SELECT id, status, task_id, error_code FROM submissions ORDER BY submitted_at, id"
    )
    return [tuple(r) for r in rows]


@pytest.mark.parametrize(
    ("fault", "created"),
    [
        (Fault.drop_after(), True),  # the server made the task, the reply was lost
        (Fault.drop_before(), False),  # closed unread: the client cannot tell the two apart
        (Fault.error(500), False),  # an ambiguous 5xx
        (Fault.error(502), False),
        (Fault.error(504), False),
    ],
)
def test_a_lost_or_ambiguous_reply_is_unknown_never_rejected(
    sandbox_server: SandboxServer,
    sandbox_backend: Backend,
    sandbox_key: str,
    ledger: Ledger,
    fault: Fault,
    created: bool,
) -> None:
    sandbox_backend.faults.add(VIDEO, fault)
    client = Orca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger)
    with client, pytest.raises(OutcomeUnknownError) as caught:
        client.videos.create(**BODY)  # type: ignore[arg-type]
    tasks = _server_tasks(sandbox_backend, sandbox_key)
    assert len(tasks) == (1 if created else 0)  # the server's truth; never a retried duplicate
    [(sid, status, task_id, code)] = _rows(ledger)
    assert (status, task_id, code) == ("unknown", None, "outcome_unknown")
    error = caught.value
    assert error.submission_id == sid
    assert error.advice == error.how_to_check
    assert "may exist" in error.advice
    assert "do not submit again" in error.advice
    assert f"settle({sid!r}, task_id=" in error.advice
    assert f"settle({sid!r}, created=False)" in error.advice
    assert "Try again" not in str(error)
    assert ledger.unsettled()[0]["submission_id"] == sid


@pytest.mark.parametrize(
    ("fault", "error_class"),
    [
        (Fault.error(503), ServerError),  # refused before any work
        (Fault.error(429, retry_after=0), RateLimitError),
        (Fault.error(400), BadRequestError),
    ],
)
def test_a_provable_refusal_is_rejected(
    sandbox_server: SandboxServer,
    sandbox_backend: Backend,
    sandbox_key: str,
    ledger: Ledger,
    fault: Fault,
    error_class: type[Exception],
) -> None:
    sandbox_backend.faults.add(VIDEO, fault, repeat=True)
    client = Orca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger, max_retries=1,
                  sleep=lambda _s: None)  # fmt: skip
    with client, pytest.raises(error_class):
        client.videos.create(**BODY)  # type: ignore[arg-type]
    sandbox_backend.faults.clear()
    assert _server_tasks(sandbox_backend, sandbox_key) == []
    [(_, status, task_id, _)] = _rows(ledger)
    assert (status, task_id) == ("rejected", None)


def test_a_connect_failure_is_rejected(sandbox_key: str, ledger: Ledger) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Orca(sandbox_key, base_url=f"http://127.0.0.1:{port}/v1", ledger=ledger,
                  max_retries=1, sleep=lambda _s: None)  # fmt: skip
    with client, pytest.raises(APIConnectionError) as caught:
        client.videos.create(**BODY)  # type: ignore[arg-type]
    assert not isinstance(caught.value, OutcomeUnknownError)
    [(_, status, _, _)] = _rows(ledger)
    assert status == "rejected"


@pytest.mark.parametrize("mode", ["finish_late", "reply_late"])
def test_a_create_past_the_read_timeout_is_unknown_and_settles_to_its_task(
    sandbox_backend: Backend, sandbox_key: str, ledger: Ledger, mode: Mode
) -> None:
    paths = {"/v1" + wire.VIDEOS_PATH}
    with slow_sandbox(sandbox_backend, paths=paths, delay=0.6, mode=mode) as (url, app):
        client = Orca(sandbox_key, base_url=url, ledger=ledger,
                      timeout=httpx.Timeout(0.2, connect=5.0))  # fmt: skip
        with client, pytest.raises(OutcomeUnknownError) as caught:
            client.videos.create(**BODY)  # type: ignore[arg-type]
        wait_until(lambda: app.finished == app.started == 1, timeout=15)
        [task_id] = _server_tasks(sandbox_backend, sandbox_key)  # exactly one: no blind retry
        sid = caught.value.submission_id
        assert sid is not None
        assert _rows(ledger) == [(sid, "unknown", None, "outcome_unknown")]

        # Reports count it apart: not a failure, not rejected, not succeeded.
        assert failures_by_code(ledger).empty
        daily = tokens_per_day(ledger)
        assert (int(daily["videos"].sum()), int(daily["unknown"].sum())) == (1, 1)
        assert int(daily["succeeded"].sum()) == 0
        assert list(submissions(ledger)["status"]) == ["unknown"]

        # The user found the task (dashboard): settle attaches it, reattach follows it.
        record = settle(sid, task_id=task_id, ledger=ledger)
        assert (record["status"], record["task_id"], record["error_code"]) == (
            "unknown", task_id, None,
        )  # fmt: skip
        assert ledger.unsettled() == []
        with Orca(sandbox_key, base_url=url, ledger=ledger) as follower:
            assert reattach(follower, ledger, wait=False) == {task_id: "succeeded"}
    assert _rows(ledger) == [(sid, "succeeded", task_id, None)]
    assert int(tokens_per_day(ledger)["unknown"].sum()) == 0


def test_settle_as_not_created_and_the_rules_of_settling(
    sandbox_server: SandboxServer, sandbox_backend: Backend, sandbox_key: str, ledger: Ledger
) -> None:
    sandbox_backend.faults.add(VIDEO, Fault.drop_before())
    with Orca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            client.videos.create(**BODY)  # type: ignore[arg-type]
        done = client.videos.create(**BODY)  # type: ignore[arg-type]
    sid = caught.value.submission_id
    assert sid is not None
    assert _server_tasks(sandbox_backend, sandbox_key) == [done.id]
    with pytest.raises(ValueError, match="task_id="):
        ledger.settle(sid)
    with pytest.raises(ValueError, match="not both"):
        ledger.settle(sid, task_id="t", created=False)
    with pytest.raises(ValueError, match="already belongs"):
        ledger.settle(sid, task_id=done.id)  # that task is another submission's
    with pytest.raises(KeyError):
        ledger.settle("sub-nope", created=False)
    record = ledger.settle(sid, created=False)
    assert (record["status"], record["error_code"]) == ("rejected", "not_created")
    assert [s for s, _ in record["events"]] == ["submitting", "unknown", "rejected"]
    with pytest.raises(ValueError, match="nothing to settle"):
        ledger.settle(sid, created=False)  # already settled
    failures = failures_by_code(ledger)
    assert list(zip(failures["status"], failures["error_code"], strict=True)) == [
        ("rejected", "not_created")
    ]


def test_an_interrupted_create_is_unknown_not_left_submitting(
    sandbox_server: SandboxServer, sandbox_key: str, ledger: Ledger
) -> None:
    """Ctrl-C while the request is in flight: the task may exist, the row says so."""

    class Interrupting(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            raise KeyboardInterrupt

    http = httpx.Client(transport=Interrupting())
    client = Orca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger, http_client=http)
    with client, pytest.raises(KeyboardInterrupt):
        client.videos.create(**BODY)  # type: ignore[arg-type]
    [(_, status, _, _)] = _rows(ledger)
    assert status == "unknown"


def test_a_cancelled_async_create_is_unknown_and_its_task_is_listed(
    sandbox_backend: Backend, sandbox_key: str, ledger: Ledger
) -> None:
    """An asyncio cancellation while the request is at the server: ``unknown``, and the server
    indeed made the task (listed afterwards)."""
    paths = {"/v1" + wire.VIDEOS_PATH}

    async def submit_then_cancel(url: str) -> None:
        async with AsyncOrca(sandbox_key, base_url=url, ledger=ledger) as client:
            pending = asyncio.create_task(client.videos.create(**BODY))  # type: ignore[arg-type]
            await asyncio.sleep(0.3)
            pending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await pending

    with slow_sandbox(sandbox_backend, paths=paths, delay=1.0, mode="reply_late") as (url, app):
        asyncio.run(submit_then_cancel(url))
        wait_until(lambda: app.finished == app.started == 1, timeout=15)
    assert len(_server_tasks(sandbox_backend, sandbox_key)) == 1
    [(_, status, task_id, code)] = _rows(ledger)
    assert (status, task_id, code) == ("unknown", None, "outcome_unknown")
