"""Follow again the tasks a previous kernel submitted but never saw finish."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from orca_nb.ledger.ledger import TERMINAL_STATUSES, Ledger, Unfinished, open_ledger


class _Videos(Protocol):
    def get(self, task_id: str, /) -> Any: ...


class _Client(Protocol):
    @property
    def videos(self) -> _Videos: ...


def reattach(
    client: _Client,
    ledger: Ledger,
    *,
    wait: bool = True,
    submitter: str | None = None,
    base_url: str | None = None,
    timeout: float = 600.0,
    interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, str]:
    """Fetch every unfinished task in ``ledger`` with ``client.videos.get`` and record it.

    ``submitter`` (``client.key_label``) and ``base_url`` (the service name,
    ``client.ledger_service``) narrow a shared ledger to the tasks this client can fetch; on
    the embedded sandbox that name is ``sandbox:local`` whatever port this kernel's sandbox
    listens on, so a new kernel finds what the one before it submitted. With ``wait`` it
    keeps polling (every ``interval`` s, through ``sleep``) until all are terminal or
    ``timeout`` s pass. Returns ``{task_id: last status}``; submissions settled with a task
    id (:func:`settle`) are followed too; tasks the server no longer knows are reported as
    ``"error: <ErrorClass>"`` and stay unfinished in the ledger.
    """
    found = ledger.unfinished(submitter=submitter, base_url=base_url)
    pending: dict[str, Unfinished] = {u.task_id: u for u in found}
    statuses = {task_id: u.status for task_id, u in pending.items()}
    deadline = clock() + timeout
    while pending:
        for task_id in list(pending):
            try:
                task = _as_dict(client.videos.get(task_id))
            except Exception as exc:  # the server may have forgotten the task
                statuses[task_id] = f"error: {type(exc).__name__}"
                del pending[task_id]
                continue
            ledger.on_task(task)
            status = str(task.get("status") or "").lower()
            statuses[task_id] = status
            if status in TERMINAL_STATUSES:
                del pending[task_id]
        if not wait or not pending or clock() + interval > deadline:
            break
        sleep(interval)
    return statuses


def settle(
    submission_id: str,
    *,
    task_id: str | None = None,
    created: bool | None = None,
    ledger: Ledger | str | None = None,
) -> dict[str, Any]:
    """Settle a submission whose outcome was unknown: ``task_id=`` the task you found (then
    :func:`reattach` follows it), or ``created=False`` if none was created (``rejected``,
    ``not_created``). ``ledger`` is a :class:`Ledger`, a ledger URL, or ``None`` for the default
    ledger (the one ``Orca()`` records into). Returns the updated submission."""
    if isinstance(ledger, Ledger):
        return ledger.settle(submission_id, task_id=task_id, created=created)
    with open_ledger(ledger) as opened:
        return opened.settle(submission_id, task_id=task_id, created=created)


def _as_dict(task: Any) -> Mapping[str, Any]:
    if isinstance(task, Mapping):
        return task
    dump = getattr(task, "model_dump", None)
    if callable(dump):
        data = dump()
        if isinstance(data, Mapping):
            return data
    raise TypeError(f"client.videos.get returned {type(task)!r}, expected a task model or dict")
