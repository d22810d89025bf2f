"""Hooks the client calls around video submissions, so a usage ledger can follow every task.

The client knows nothing about storage: it calls a :class:`VideoLedger` if one is configured
(by default the one :mod:`orca_nb.client.default_ledger` opens). A ledger that also has
:class:`AssetSnapshots`' method is told about the assets and groups the client reads.
``orca_nb.ledger`` provides the implementations (SQLite, PostgreSQL).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable


def key_label(api_key: str) -> str:
    """A stable, non-reversible label for an API key: ``key-`` + 12 hex chars of its SHA-256.

    Used to say who submitted a task without ever storing the key itself.
    """
    return "key-" + hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:12]


@runtime_checkable
class VideoLedger(Protocol):
    """What the client tells a ledger about each video submission.

    ``before_submit`` runs before the request is sent and must be durable when it returns;
    the other calls record what happened. None of them may raise into the caller's request:
    the client logs and swallows ledger errors.
    """

    def before_submit(
        self, body: Mapping[str, Any], *, submitter: str, base_url: str
    ) -> str | None:
        """Record an intended submission; return the ledger's submission id (``None``: not
        recorded, and the other calls for this submission are skipped). ``submitter`` is the
        key label, ``base_url`` the client's service name (``client.ledger_service``: its
        base URL, or ``sandbox:local`` for a sandbox on this machine)."""
        ...

    def after_submit(self, submission_id: str, task: Mapping[str, Any]) -> None:
        """Record the task the server created (``task`` is the normalised task as a dict)."""
        ...

    def submit_failed(self, submission_id: str, *, code: str | None, message: str) -> None:
        """Record that the server refused the submission (it proved nothing was created). A
        ledger without :class:`UnknownOutcomes` is told about unknown outcomes here too."""
        ...

    def on_task(self, task: Mapping[str, Any]) -> None:
        """Record a fetched task state (status, progress, times, usage, result URL + expiry)."""
        ...


@runtime_checkable
class AssetDeletions(Protocol):
    """Optional ledger method: record at once that assets or groups were deleted through the
    client, so reports stop counting them (their snapshots stay, to name them)."""

    def mark_deleted(self, *, asset_ids: Iterable[str] = (), group_ids: Iterable[str] = ()) -> None:
        """Record deletions (deleting a group deletes its assets)."""
        ...


@runtime_checkable
class AssetSnapshots(Protocol):
    """Optional ledger method: remember assets' and groups' name, kind and status.

    The client calls it once per page listed, per asset or group fetched, and with the asset
    ``assets.wait`` returns, so reports still name assets after they are deleted. Items are the
    client's ``Asset``/``Group`` models. Errors are logged and swallowed like the others.
    """

    def snapshot_assets(self, assets: Iterable[Any] = (), groups: Iterable[Any] = ()) -> object:
        """Record snapshots of ``assets`` and ``groups``."""
        ...


@runtime_checkable
class UnknownOutcomes(Protocol):
    """Optional ledger method: record a submission whose outcome cannot be known.

    Called instead of ``submit_failed`` when the request may have reached the server but no
    usable reply came back (reply lost, read timeout, ambiguous 5xx, or the call was
    interrupted while the request was in flight): the task may exist, so this is not a refusal.
    """

    def submit_unknown(self, submission_id: str, *, code: str | None, message: str) -> None:
        """Record that the submission's outcome is unknown (the task may exist)."""
        ...
