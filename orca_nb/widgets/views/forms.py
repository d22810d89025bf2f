"""Upload form, verify-a-person and quota meter views."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from typing import Any

import traitlets
from ipywidgets import widget_serialization

from orca_nb import wire
from orca_nb.widgets.live import LiveStore, StoreChange
from orca_nb.widgets.servers import public_link
from orca_nb.widgets.state.quota import QuotaState
from orca_nb.widgets.state.upload import UploadState, sample_choices, sandbox_root
from orca_nb.widgets.state.verify import CONSENT_NOTE, VerifyState, qr_data_uri
from orca_nb.widgets.views.base import Panel, template

USAGE_EVERY = 30.0  # seconds between ledger reads of which assets videos used
BALANCE_EVERY = 5.0  # seconds between balance reads (on load and when tasks move)
log = logging.getLogger(__name__)
_VERIFIED_SUFFIX = re.compile(r"\s*\(verified\)\s*$", re.IGNORECASE)


def group_label(name: str, group_type: str) -> str:
    """``name · virtual (AIGC)`` or ``name · real-human (LivenessFace)``
    (:func:`orca_nb.wire.group_type_label`); a real-human group's name ending in "(verified)"
    (as the sandbox names a new person's group) drops that ending."""
    if group_type == "LivenessFace":
        name = _VERIFIED_SUFFIX.sub("", name) or name
    return f"{name} · {wire.group_type_label(group_type)}"


class UploadView(Panel):
    """URL or sample -> detected type -> pre-flight violations -> upload -> live status."""

    template_file = template("upload.vue")
    source = traitlets.Unicode("", allow_none=True).tag(sync=True)
    name = traitlets.Unicode("", allow_none=True).tag(sync=True)
    group_id = traitlets.Unicode("", allow_none=True).tag(sync=True)
    asset_type = traitlets.Unicode("", allow_none=True).tag(sync=True)
    detected = traitlets.Unicode("").tag(sync=True)
    violations: traitlets.List[Any] = traitlets.List().tag(sync=True)
    checked = traitlets.Bool(False).tag(sync=True)
    checking = traitlets.Bool(False).tag(sync=True)
    uploading = traitlets.Bool(False).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    status_advice = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    advice = traitlets.Unicode("").tag(sync=True)
    samples: traitlets.List[Any] = traitlets.List().tag(sync=True)
    purpose = traitlets.Unicode("").tag(sync=True)  # what the chosen sample is for
    blocked = traitlets.Unicode("").tag(sync=True)  # why Upload is disabled (the asset cap)
    face_note = traitlets.Unicode("").tag(sync=True)  # a real-human group: the face check
    group_choices: traitlets.List[Any] = traitlets.List().tag(sync=True)
    type_choices: traitlets.List[Any] = traitlets.List().tag(sync=True)

    def __init__(
        self,
        store: LiveStore,
        state: UploadState | None = None,
        *,
        group_id: str | None = None,
        **kw: Any,
    ) -> None:
        self.state = state or UploadState(store, group_id=group_id)
        self._rendering = False
        super().__init__(
            store,
            samples=sample_choices() if sandbox_root(store.client) else [],
            type_choices=[{"title": "Auto-detect", "value": ""}]
            + [{"title": t, "value": t} for t in wire.ASSET_TYPES],
            **kw,
        )
        self.listen(self.state.on_change(self.render))
        self.render()

    def render(self) -> None:
        """Re-read the upload state."""
        s = self.state
        status, status_advice = s.status_line()
        self._rendering = True
        try:
            with self.hold_sync():
                self.source, self.name = s.source, s.name
                self.group_id, self.asset_type = s.group_id or "", s.asset_type or ""
                self.detected = s.detected or ""
                self.purpose = s.purpose
                self.violations = list(s.violations)
                self.checked, self.checking, self.uploading = s.checked, s.checking, s.uploading
                self.status, self.status_advice = status, status_advice
                self.error, self.advice = s.error, s.advice
                self.group_choices = [
                    {"title": group_label(g.name or g.id, g.group_type), "value": g.id}
                    for g in sorted(self.store.groups.values(), key=lambda g: g.name.lower())
                ]
                self.blocked, self.face_note = s.blocked, s.face_note
        finally:
            self._rendering = False

    def on_store(self, change: StoreChange) -> None:
        """Groups or the uploaded asset changed (or the asset count, for the cap)."""
        self.state.on_store(change)
        if change.table == "groups":
            self.render()
        elif change.table == "assets":
            self.blocked = self.state.blocked

    @traitlets.observe("source")
    def _source(self, change: dict[str, Any]) -> None:
        if not self._rendering:
            self.state.set_source(change["new"] or "")

    @traitlets.observe("name", "group_id", "asset_type")
    def _fields(self, change: dict[str, Any]) -> None:
        if not self._rendering:
            self.state.set_fields(**{change["name"]: change["new"]})

    def vue_check(self, _data: Any = None) -> None:
        """Check button: media pre-flight."""
        self.run(self.state.check())

    def vue_upload(self, _data: Any = None) -> None:
        """Upload button (after pre-flight)."""
        self.run(self.state.upload())

    def vue_upload_anyway(self, _data: Any = None) -> None:
        """Upload despite the listed violations (the server will decide)."""
        self.run(self.state.upload(force=True))


class VerifyView(Panel):
    """Start a real-human session, show its link + QR with the consent note until it settles.

    The link and its QR code are secrets: they are never traits (widget state, which Lab and
    nbclient can save into the notebook) but go to the browser in a custom comm message, which
    no front end stores; a view that mounts later asks for them (``want_link``).
    """

    template_file = template("verify.vue")
    consent = traitlets.Unicode(CONSENT_NOTE).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    raw_status = traitlets.Unicode("").tag(sync=True)
    reason = traitlets.Unicode("").tag(sync=True)
    stale = traitlets.Bool(False).tag(sync=True)
    has_link = traitlets.Bool(False).tag(sync=True)
    group_id = traitlets.Unicode("").tag(sync=True)
    group_name = traitlets.Unicode("").tag(sync=True)
    done = traitlets.Bool(False).tag(sync=True)
    starting = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    advice = traitlets.Unicode("").tag(sync=True)
    uploader = traitlets.Instance(UploadView, allow_none=True).tag(
        sync=True, **widget_serialization
    )

    def __init__(self, store: LiveStore, state: VerifyState | None = None, **kw: Any) -> None:
        self.state = state or VerifyState(store)
        self._link = ""
        self._expires_at = 0.0
        self._page_url = ""  # the page's address, once a view sends it (vue_want_link)
        super().__init__(store, **kw)
        self.listen(self.state.on_change(self.render))
        self.render()

    @property
    def link(self) -> str:
        """The link the browser was last sent (kernel side only; empty when none)."""
        return self._link

    def render(self) -> None:
        """Re-read the session; the link and QR are withdrawn as soon as it is not pending."""
        s = self.state
        link = s.link if s.link.startswith(("https://", "http://")) else ""
        with self.hold_sync():
            self.status, self.raw_status, self.group_id = s.status, s.raw_status, s.group_id
            self.reason, self.stale = s.reason, s.stale
            group = self.store.groups.get(s.group_id)
            self.group_name = group_label(group.name, group.group_type) if group else ""
            self.done = s.status not in ("", "pending") or s.stale
            self.has_link = bool(link)
            self.starting, self.error, self.advice = s.starting, s.error, s.advice
        expires_at = s.session.expires_at if s.session is not None and link else 0.0
        if (link, expires_at) != (self._link, self._expires_at):  # (the expiry may come later)
            self._link, self._expires_at = link, expires_at
            self._send_link()
        if s.status == "success" and s.group_id and self.uploader is None:
            self.uploader = UploadView(self.store, group_id=s.group_id)

    def _send_link(self) -> None:
        """Hand the link (or its withdrawal) to the browser, outside the widget state."""
        if self.comm is None:
            return
        # on Binder/JupyterHub the loopback sandbox is reached through the notebook server
        link = public_link(self._link, page_url=self._page_url)
        left = self.state.expires_in
        qr = qr_data_uri(link) if link else ""
        # rounded up: the browser's countdown (which then offers "New link") must not run out
        # before the kernel holds the link stale, or :meth:`VerifyState.start` drops the click
        seconds = -1 if left is None else math.ceil(left)
        self.send({"method": "link", "args": [link, qr, seconds]})

    def vue_want_link(self, data: Any = None) -> None:
        """A view mounted (a new tab, a reload): send it the current link, if any. ``data``:
        the page's address, to reach the sandbox through a remote notebook server."""
        if isinstance(data, str) and data.startswith(("http://", "https://")):
            self._page_url = data
        self._send_link()

    def on_store(self, change: StoreChange) -> None:
        """The session moved (or the new group arrived)."""
        self.state.on_store(change)
        if change.table == "groups" and self.group_id:
            self.render()

    def vue_start(self, _data: Any = None) -> None:
        """Start verification (or New link) button."""
        if self.uploader is not None:
            self.uploader.close()
            self.uploader = None
        self.run(self.state.start())

    def close(self) -> None:
        """Close (and withdraw the link from the browser)."""
        if self._link:
            self._link = ""
            self._send_link()
        if self.uploader is not None:
            self.uploader.close()
        super().close()


class QuotaView(Panel):
    """Assets used of the cap, across both group types; orange near the cap, red at it, with
    the assets to delete first (failed, never used in a video per the ledger, oldest)."""

    template_file = template("quota.vue")
    message = traitlets.Unicode("").tag(sync=True)
    percent = traitlets.Float(0.0).tag(sync=True)
    level = traitlets.Unicode("ok").tag(sync=True)
    by_group_type = traitlets.Unicode("").tag(sync=True)  # "virtual (AIGC) 3 · real-human ..."
    candidates: traitlets.List[Any] = traitlets.List().tag(sync=True)
    balance = traitlets.Unicode("").tag(sync=True)  # what the service says is left ("": silent)

    def __init__(self, store: LiveStore, **kw: Any) -> None:
        self.state = QuotaState(store)
        self._usage_loaded_at = -USAGE_EVERY
        self._balance_asked_at = -BALANCE_EVERY
        self._balance_due = False
        super().__init__(store, **kw)
        self.render()
        self._ask_balance()

    def _ask_balance(self) -> None:
        """Read the balance again: now, or (asked within :data:`BALANCE_EVERY` seconds) once
        that much time has passed, so the last change is always reflected."""
        if self._balance_due:
            return
        self._balance_due = True
        try:
            self.run(self._load_balance())
        except RuntimeError:  # no loop (a plain script): no balance shown
            self._balance_due = False

    async def _load_balance(self) -> None:
        wait = self._balance_asked_at + BALANCE_EVERY - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._balance_due = False
        self._balance_asked_at = time.monotonic()
        try:
            found = await self.store.gateway.balance()
        except Exception as exc:  # the meter still counts assets; the balance is a bonus
            log.info("could not read the balance: %s", exc)
            return
        self.balance = found.describe() if found is not None else ""

    def render(self) -> None:
        """Re-read the figures."""
        q = self.state.quota()
        with self.hold_sync():
            self.message, self.level = q.message, q.level
            self.percent = round(min(1.0, q.fraction) * 100, 1)
            self.by_group_type = " · ".join(
                f"{wire.group_type_label(t)} {n}" for t, n in q.by_group_type.items()
            )
            shown = [
                {
                    "id": c.asset_id,
                    "name": c.name or c.asset_id,
                    "group": c.group_name,
                    "why": c.why,
                }
                for c in q.candidates
            ]
            if shown != self.candidates:
                self.candidates = shown
        now = time.monotonic()
        if q.level != "ok" and now - self._usage_loaded_at >= USAGE_EVERY:
            self._usage_loaded_at = now
            with contextlib.suppress(RuntimeError):  # no loop: the candidates skip the ledger
                self.run(self._load_usage())

    async def _load_usage(self) -> None:
        before = self.state.used_ids
        await self.state.load_usage()
        if self.state.used_ids != before:
            self.render()

    def on_store(self, change: StoreChange) -> None:
        """Assets or groups changed (or a task moved: the balance may have too)."""
        if change.table in ("assets", "groups"):
            self.render()
        elif change.table == "tasks":
            self._ask_balance()
