"""The studio's run history read from the usage ledger (issue 12 item 7): it survives a kernel
restart (a new studio on the same ledger lists earlier runs with prompt, time, parameters,
status, duration and tokens, and plays one through a fresh read of its task), pages with "show
more", shows or hides experiments' runs, and without a ledger keeps this session's runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orca_nb.client import AsyncOrca
from orca_nb.ledger import open_ledger
from orca_nb.ledger.context import submission_context
from orca_nb.ledger.service import SANDBOX_SERVICE
from orca_nb.sandbox import SandboxServer
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.loops import settle
from orca_nb.widgets.state import studio as studio_state
from orca_nb.widgets.state.studio import NO_HISTORY_NOTE
from orca_nb.widgets.views.studio import StudioView

MP4_HEAD = b"\x00\x00\x00"  # every MP4 starts with a box size, then "ftyp"

Opener = Callable[..., Awaitable[StudioView]]


async def _until(check: Any, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


@pytest.fixture
async def open_studio(sandbox_server: SandboxServer, sandbox_key: str) -> AsyncIterator[Opener]:
    """``await open_studio(ledger_path | None)``: a studio view on its own client and store (a
    "kernel"); everything opened is closed at the end."""
    opened: list[tuple[StudioView, LiveStore, AsyncOrca, Any]] = []

    async def make(path: Path | None, base_url: str | None = None) -> StudioView:
        ledger = open_ledger(path) if path is not None else None
        url = base_url or sandbox_server.base_url
        client = AsyncOrca(sandbox_key, base_url=url, ledger=ledger)
        store = LiveStore(client, fast_interval=0.05, slow_interval=30)
        view = StudioView(store)
        opened.append((view, store, client, ledger))
        await settle()
        return view

    yield make
    for view, store, client, ledger in opened:
        view.close()
        await settle()
        await store.aclose()
        await client.close()
        if ledger is not None:
            ledger.close()


async def _submit(view: StudioView, prompt: str, **params: Any) -> str:
    """Submit ``prompt`` through the view; returns the task id once the task succeeded."""
    before = len(view.state.runs)
    view.picker.prompt = prompt
    for name, value in params.items():
        setattr(view, name, value)
    view.vue_submit()
    await _until(lambda: len(view.state.runs) > before and not view.state.submitting)
    tid = view.state.runs[-1].task_id
    assert tid, view.state.error
    await _until(lambda: (t := view.store.tasks.get(tid)) is not None and t.status == "succeeded")
    return tid


async def test_history_after_a_restart_lists_earlier_runs_and_plays_one(
    open_studio: Opener, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.sqlite3"
    first = await open_studio(path)
    one = await _submit(first, "a lighthouse at dawn", ratio="16:9", seed=7, duration=4)
    two = await _submit(first, "a lighthouse in a storm", ratio="9:16", seed=8, duration=6)
    first.close()  # the kernel restarts: nothing of this studio survives but the ledger

    view = await open_studio(path)
    await _until(lambda: len(view.runs) == 2)
    newest, oldest = view.runs
    assert [newest["task_id"], oldest["task_id"]] == [two, one]  # newest first
    assert newest["prompt"] == "a lighthouse in a storm"
    assert oldest["prompt"] == "a lighthouse at dawn"
    assert newest["params"].startswith("9:16 · 6 s · 720p · audio")
    assert "seed 8" in newest["params"]
    assert oldest["params"].startswith("16:9 · 4 s")
    assert "seed 7" in oldest["params"]
    assert oldest["label"] == "a lighthouse at dawn · 16:9 · 4 s · 720p · audio · seed 7"
    assert newest["at_ms"] > oldest["at_ms"] > 0
    for entry in view.runs:
        assert entry["earlier"]
        assert entry["number"] == 0
        assert entry["key"].startswith("sub-")
        assert entry["status"] == "succeeded"
        assert entry["took"].endswith(" s")
        assert "tokens" in entry["tokens"]
        assert entry["tokens"] != "tokens when it finishes"
        assert entry["playable"]
        assert '"seed"' in entry["request_json"]

    # play: the stored link has no signature and expires, so the task is read again first
    reads: list[str] = []
    get_video = view.store.gateway.get_video

    async def spy(task_id: str) -> Any:
        reads.append(task_id)
        return await get_video(task_id)

    view.store.gateway.get_video = spy  # type: ignore[method-assign]
    view.vue_play_run(oldest["key"])
    await _until(lambda: view.history_player is not None or bool(view.history_error))
    assert view.history_error == ""
    assert reads == [one]
    assert view.history_key == oldest["key"]
    assert bytes(view.history_player.value)[4:8] == b"ftyp"  # type: ignore[union-attr]

    # edit and re-run an earlier run: its prompt and parameters are back in the form
    view.vue_edit_run(newest["key"])
    assert view.picker.prompt == "a lighthouse in a storm"
    assert (view.ratio, view.seed, view.duration) == ("9:16", 8, 6)
    assert "That run's prompt" in view.notice

    # a run made now appears at once, on top, numbered, without a second entry for it later
    three = await _submit(view, "a lighthouse at night", seed=9)
    assert view.runs[0]["task_id"] == three
    assert view.runs[0]["number"] == 1
    view.vue_reload_history()
    await settle()
    await _until(lambda: len(view.state.earlier) == 3)
    assert [r["task_id"] for r in view.runs] == [three, two, one]


async def test_history_survives_a_restart_onto_a_new_sandbox_port(
    open_studio: Opener, tmp_path: Path, sandbox_server: SandboxServer
) -> None:
    """The embedded sandbox listens on a new loopback port in every kernel: the history of the
    kernel after a restart still lists (and plays) the runs made through the old port, and lists
    unsettled ones too. (It read them by base URL, so the history came back empty; now the
    client records and reads the sandbox as ``sandbox:local``.)"""
    path = tmp_path / "ledger.sqlite3"
    first = await open_studio(path)
    tid = await _submit(first, "a lighthouse at dawn", seed=7)
    first.close()
    with SandboxServer(sandbox_server.backend) as moved:  # the same sandbox, another port
        assert moved.base_url != sandbox_server.base_url
        view = await open_studio(path, moved.base_url)
        assert view.state.ledger() is not None
        await _until(lambda: [r["task_id"] for r in view.runs] == [tid])
        view.vue_play_run(view.runs[0]["key"])
        await _until(lambda: view.history_player is not None or bool(view.history_error))
        assert view.history_error == ""
        view.close()
        await settle()
    # both kernels name the sandbox alike, whatever its port; the run was recorded so
    assert view.store.gateway.client.ledger_service == SANDBOX_SERVICE
    assert first.store.gateway.client.ledger_service == SANDBOX_SERVICE
    with open_ledger(path) as ledger:
        assert [r["task_id"] for r in ledger.history(base_url=SANDBOX_SERVICE)] == [tid]
        assert ledger.history(base_url=moved.base_url) == []  # the port is not recorded
    # a real service keeps its base URL: its runs stay apart from another service's
    real = AsyncOrca("sk-live-example", base_url="https://api.example.com/v1", ledger=None)
    assert real.ledger_service == "https://api.example.com/v1"
    await real.close()


async def test_show_more_pages_through_the_ledger(
    open_studio: Opener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(studio_state, "HISTORY_PAGE", 2)
    path = tmp_path / "ledger.sqlite3"
    first = await open_studio(path)
    tids = [await _submit(first, f"shot {i}", seed=i) for i in range(3)]
    first.close()
    view = await open_studio(path)
    await _until(lambda: len(view.runs) == 2)
    assert [r["task_id"] for r in view.runs] == tids[:0:-1]
    assert view.history_more
    view.vue_more_history()
    await _until(lambda: len(view.runs) == 3)
    assert [r["task_id"] for r in view.runs] == tids[::-1]
    assert not view.history_more


async def test_experiment_runs_can_be_shown_or_left_out(
    open_studio: Opener, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.sqlite3"
    first = await open_studio(path)
    mine = await _submit(first, "by hand", seed=1)
    with submission_context("exp-rain-1234abcd", "var-00112233"):
        swept = await _submit(first, "from a sweep", seed=2)
    first.close()
    view = await open_studio(path)
    await _until(lambda: len(view.runs) == 2)
    by_task = {r["task_id"]: r for r in view.runs}
    assert by_task[swept]["experiment"] == "exp-rain-1234abcd"
    assert by_task[mine]["experiment"] == ""
    view.history_experiments = False  # the page's checkbox
    await _until(lambda: [r["task_id"] for r in view.runs] == [mine])
    view.history_experiments = True
    await _until(lambda: len(view.runs) == 2)


async def test_without_a_ledger_the_history_is_this_sessions(open_studio: Opener) -> None:
    view = await open_studio(None)
    assert view.state.ledger() is None
    assert view.history_note == NO_HISTORY_NOTE
    tid = await _submit(view, "no ledger here", seed=3)
    assert [(r["number"], r["task_id"]) for r in view.runs] == [(1, tid)]
    assert view.runs[0]["playable"]
    view.vue_play_run(1)
    await _until(lambda: view.history_player is not None or bool(view.history_error))
    assert view.history_run == 1
    assert view.history_error == ""


async def test_a_ledger_row_without_a_task_or_with_odd_params_still_reads() -> None:
    row = {
        "submission_id": "sub-x", "task_id": None, "status": "rejected", "model": "m",
        "prompt": "p", "params": "not json", "mode": "text", "error_code": "not_created",
        "error_message": "", "total_tokens": None, "estimated_tokens": 10, "tokens_source": None,
        "submitted_at_ms": 1_000, "finished_at_ms": None, "experiment_id": None,
        "variant_id": None, "items": [("Image", "reference_image", "not a url")],
    }  # fmt: skip
    run = studio_state.run_from_ledger(row)
    assert run.outcome == "not_created"
    assert run.mode == "reference"
    assert run.selection.items == ()  # the odd source stays in the JSON only
    assert run.request["metadata"]["content"][0]["image_url"]["url"] == "not a url"
    assert run.key == "sub-x"
    assert run.params_text().endswith("random seed")  # the defaults fill what is unreadable
    assert run.label().startswith("p · ")
    assert replace(run, prompt="").label().startswith("(no prompt) · ")
    watermarked = replace(run.params, watermark=True, generate_audio=False, seed=3)
    assert watermarked.text().endswith(" · silent · watermark=on · seed 3")
    assert run.recorded is not None
    assert run.recorded.estimated_tokens == 10


async def test_earlier_unfinished_runs_are_followed_only_if_the_service_has_them(
    open_studio: Opener, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.sqlite3"
    with open_ledger(path) as ledger:  # a kernel that died with a task the service forgot
        first = await open_studio(None)
        client = first.store.gateway.client
        sid = ledger.before_submit(  # the loopback URL, as versions before sandbox:local wrote
            first.state.preview(), submitter=client.key_label, base_url=client.base_url
        )
        ledger.after_submit(sid, {"id": "task-forgotten", "status": "queued"})
    view = await open_studio(path)
    await _until(lambda: len(view.runs) == 1)
    await settle()
    assert "task-forgotten" not in view.store.tasks  # not polled: it would fail every pass
    assert view.store.status.error == ""
    assert view.runs[0]["status"] == "queued"  # the ledger's last word, shown as such
    with pytest.raises(ValueError, match="no longer has task task-forgotten"):
        await view.state.history_video(view.runs[0]["key"])
