"""Verify-a-person state: start a real-human session, show its link (and QR) while pending,
follow it until the person's group exists, then drop the link."""

from __future__ import annotations

import segno

from orca_nb.widgets.state.base import Observable
from orca_nb.widgets.store import LiveStore, StoreChange

CONSENT_NOTE = (
    "Only the person in the photos may complete this check, on their own phone, after agreeing "
    "that their likeness is used for video generation. Do not verify anyone else."
)


def qr_data_uri(link: str) -> str:
    """A QR code of ``link`` as an SVG data URI (made in the kernel, shown as an image)."""
    return str(segno.make(link, error="m").svg_data_uri(scale=4, border=2))


class VerifyState(Observable):
    """One verification at a time; the link lives only while the session is pending."""

    def __init__(self, store: LiveStore) -> None:
        super().__init__()
        self.store = store
        self.session_id: str | None = None
        self.starting = False

    @property
    def status(self) -> str:
        """``""`` (not started), ``pending``, ``success``, ``failed`` or ``expired``."""
        s = self.store.sessions.get(self.session_id or "")
        return s.status if s is not None else ""

    @property
    def link(self) -> str:
        """The verification link while pending, else empty."""
        s = self.store.sessions.get(self.session_id or "")
        return s.h5_link if s is not None and s.status == "pending" else ""

    @property
    def group_id(self) -> str:
        """The new real-human group, once verified."""
        s = self.store.sessions.get(self.session_id or "")
        return s.group_id if s is not None else ""

    async def start(self) -> bool:
        """Start a session (one at a time); False with ``error`` on failure."""
        if self.starting or self.status == "pending":
            return False
        self.starting = True
        self.changed()
        try:
            row = await self.store.gateway.start_session()
        except Exception as exc:
            self.starting = False
            self.fail(exc)
            return False
        self.starting = False
        self.session_id = row.id
        self.store.track_session(row)
        self.clear_error()
        self.changed()
        return True

    def on_store(self, change: StoreChange) -> None:
        """Store listener: the session moved (the link goes away when it settles)."""
        if change.table == "sessions" and self.session_id in change.diff.touched:
            self.changed()
