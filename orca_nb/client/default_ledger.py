"""The ledger a client records into when the caller did not pass ``ledger=``: the one place
that decides it.

``Orca()``/``AsyncOrca()`` without ``ledger=`` record into the default ledger
(``$ORCA_NB_LEDGER``, else a SQLite file in the user data dir; see :mod:`orca_nb.ledger`),
opened lazily on the first video submission or snapshot, so constructing a client stays cheap
and ``import orca_nb`` never imports the ledger. ``ledger=None`` records nothing;
``ORCA_NB_LEDGER=off`` turns the default off. If the default ledger cannot be opened, one
warning is logged (per ledger location, per process) and the client carries on without it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from orca_nb.client._redact import redact_text
from orca_nb.client.hooks import AssetDeletions, AssetSnapshots, UnknownOutcomes, VideoLedger

log = logging.getLogger("orca_nb.client")

_lock = threading.Lock()
_opened: dict[str, VideoLedger | None] = {}


def open_default_ledger() -> VideoLedger | None:
    """The process's default ledger for the current ``$ORCA_NB_LEDGER`` (opened once per value),
    or ``None`` when it is ``off`` or could not be opened (a warning says why)."""
    # Local imports: ``import orca_nb`` (and building a client) never loads the ledger.
    from orca_nb.ledger import location, open_ledger

    key = os.environ.get(location.LEDGER_ENV, "").strip()
    with _lock:
        if key in _opened:
            return _opened[key]
        ledger: VideoLedger | None = None
        if not location.default_ledger_disabled():
            try:
                ledger = open_ledger()
            except Exception as exc:
                where = redact_text(key) if key else "the user data directory"
                log.warning(
                    "orca_nb: could not open the default usage ledger (%s): %s. Video "
                    "submissions are NOT being recorded; set %s to a writable path or URL, "
                    "or to 'off' to silence this.",
                    where,
                    redact_text(str(exc)),
                    location.LEDGER_ENV,
                )
        _opened[key] = ledger
        return ledger


class DefaultLedger:
    """A :class:`VideoLedger` that opens the default ledger on its first call and forwards to
    it (or records nothing if there is none)."""

    def __init__(self) -> None:
        self._resolved = False
        self._target: VideoLedger | None = None

    def resolve(self) -> VideoLedger | None:
        """The ledger calls go to (opening it now if needed), or ``None``."""
        if not self._resolved:
            self._target = open_default_ledger()
            self._resolved = True
        return self._target

    def before_submit(
        self, body: Mapping[str, Any], *, submitter: str, base_url: str
    ) -> str | None:
        """Forward to the default ledger; ``None`` (no submission id) when there is none."""
        target = self.resolve()
        if target is None:
            return None
        return target.before_submit(body, submitter=submitter, base_url=base_url)

    def after_submit(self, submission_id: str, task: Mapping[str, Any]) -> None:
        """Forward to the default ledger."""
        target = self.resolve()
        if target is not None:
            target.after_submit(submission_id, task)

    def submit_failed(self, submission_id: str, *, code: str | None, message: str) -> None:
        """Forward to the default ledger."""
        target = self.resolve()
        if target is not None:
            target.submit_failed(submission_id, code=code, message=message)

    def submit_unknown(self, submission_id: str, *, code: str | None, message: str) -> None:
        """Forward to the default ledger (as ``submit_failed`` if it cannot record unknowns)."""
        target = self.resolve()
        if isinstance(target, UnknownOutcomes):
            target.submit_unknown(submission_id, code=code, message=message)
        elif target is not None:
            target.submit_failed(submission_id, code=code, message=message)

    def on_task(self, task: Mapping[str, Any]) -> None:
        """Forward to the default ledger."""
        target = self.resolve()
        if target is not None:
            target.on_task(task)

    def snapshot_assets(self, assets: Iterable[Any] = (), groups: Iterable[Any] = ()) -> object:
        """Forward to the default ledger if it keeps snapshots."""
        target = self.resolve()
        if isinstance(target, AssetSnapshots):
            return target.snapshot_assets(assets, groups)
        return None

    def mark_deleted(self, *, asset_ids: Iterable[str] = (), group_ids: Iterable[str] = ()) -> None:
        """Forward to the default ledger if it records deletions."""
        target = self.resolve()
        if isinstance(target, AssetDeletions):
            target.mark_deleted(asset_ids=asset_ids, group_ids=group_ids)

    def __repr__(self) -> str:
        state = repr(self._target) if self._resolved else "not opened yet"
        return f"DefaultLedger({state})"
