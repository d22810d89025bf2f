"""Verify-a-person state: start a real-human session, show its link (and QR) while pending,
follow it until the person's group exists, then drop the link."""

from __future__ import annotations

import time
from collections.abc import Callable

import segno

from orca_nb import wire
from orca_nb.widgets.live import LiveStore, StoreChange
from orca_nb.widgets.rows import SessionRow
from orca_nb.widgets.state.base import Observable

CONSENT_NOTE = (
    "Only the person in the photos may complete this check, on their own phone, after agreeing "
    "that their likeness is used for video generation. Do not verify anyone else."
)


def qr_data_uri(link: str) -> str:
    """A QR code of ``link`` as an SVG data URI (made in the kernel, shown as an image)."""
    return str(segno.make(link, error="m").svg_data_uri(scale=4, border=2))


#: What a failed session's code means, in the words the sandbox's H5 page uses, for services
#: that send a code without a message.
FAILURE_WORDS = {
    wire.ASSET_ERROR_NO_FACE: "No face was detected.",
    wire.ASSET_ERROR_MULTIPLE_FACES: "Two faces were in the frame.",
    wire.ASSET_ERROR_FACE_MISMATCH: "The face did not match.",
}
EXPIRED_REASON = "The link expired before the person finished; start a new one."


class VerifyState(Observable):
    """One verification at a time; the link lives only while the session is pending and fresh.

    ``clock`` (epoch seconds) decides when a link the service gave an ``expires_at`` is stale.
    """

    def __init__(self, store: LiveStore, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.session_id: str | None = None
        self.starting = False

    @property
    def session(self) -> SessionRow | None:
        """The followed session as the store last saw it."""
        return self.store.sessions.get(self.session_id or "")

    @property
    def status(self) -> str:
        """``""`` (not started), ``pending``, ``success``, ``failed`` or ``expired``."""
        s = self.session
        return s.status if s is not None else ""

    @property
    def raw_status(self) -> str:
        """The service's own status word when it differs from :attr:`status`, else ``""``."""
        s = self.session
        return s.raw_status if s is not None else ""

    @property
    def expires_in(self) -> float | None:
        """Seconds until a pending link expires (None: the service did not say)."""
        s = self.session
        if s is None or s.status != "pending" or not s.expires_at:
            return None
        return max(0.0, s.expires_at - self.clock())

    @property
    def stale(self) -> bool:
        """The link can no longer be used: the session expired (or is past its expiry)."""
        return self.status == "expired" or self.expires_in == 0.0

    @property
    def link(self) -> str:
        """The verification link while pending and not stale, else empty."""
        s = self.session
        return s.h5_link if s is not None and s.status == "pending" and not self.stale else ""

    @property
    def reason(self) -> str:
        """Why the verification did not succeed (the service's words when it sent any)."""
        s = self.session
        if s is None:
            return ""
        if self.stale:
            return EXPIRED_REASON
        if s.status != "failed":
            return ""
        text = s.error_message or FAILURE_WORDS.get(s.error_code, "")
        if s.error_code and s.error_code not in text:
            text = f"{text} ({s.error_code})" if text else s.error_code
        return text or "The service did not say why."

    @property
    def group_id(self) -> str:
        """The new real-human group, once verified."""
        s = self.session
        return s.group_id if s is not None else ""

    async def start(self) -> bool:
        """Start a session (one at a time; a stale one is replaced); False with ``error``."""
        if self.starting or (self.status == "pending" and not self.stale):
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
        old, self.session_id = self.session_id, row.id
        if old and old != row.id:
            self.store.forget_session(old)  # e.g. a stale link: stop following it
        self.store.track_session(row)
        self.clear_error()
        self.changed()
        return True

    def on_store(self, change: StoreChange) -> None:
        """Store listener: the session moved (the link goes away when it settles)."""
        if change.table == "sessions" and self.session_id in change.diff.touched:
            self.changed()
