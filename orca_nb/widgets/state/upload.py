"""Upload form state: a URL (or a sandbox sample), the detected type, pre-flight violations,
the upload itself, and the new asset's live status until it is Active or Failed."""

from __future__ import annotations

import asyncio
from typing import Any

from orca_nb import wire
from orca_nb.widgets.advice import asset_advice
from orca_nb.widgets.live import LiveStore, StoreChange
from orca_nb.widgets.ports import StudioClient
from orca_nb.widgets.rows import AssetRow
from orca_nb.widgets.state.base import Observable
from orca_nb.widgets.state.library import check_name
from orca_nb.widgets.state.quota import cap_block

FACE_NOTE = (
    "A real-human (LivenessFace) group: Check covers the file's requirements (format, size, "
    "length). The service compares each look's face with the verified person after upload; a "
    "different face, two faces or none then fail the asset (FaceMismatch, MultipleFaces, "
    "NoFaceDetected)."
)


def sandbox_root(client: StudioClient) -> str | None:
    """The sandbox server's root URL when ``client`` talks to the sandbox, else None."""
    if not client.is_sandbox:
        return None
    return client.base_url.rstrip("/").removesuffix("/v1") or None


def sample_names() -> list[str]:
    """Filenames of the sandbox's sample media (valid and deliberately invalid ones)."""
    try:
        from orca_nb.sandbox import sample_catalogue
    except ImportError:
        return []
    return sorted(sample_catalogue())


def sample_purpose(filename: str) -> str:
    """What a sandbox sample is for: valid (and what it is), or which rule it breaks on purpose
    and the error code the sandbox will give it; "" for a name that is not a sample."""
    try:
        from orca_nb.sandbox import sample_catalogue
    except ImportError:
        return ""
    sample = sample_catalogue().get(filename)
    if sample is None:
        return ""
    if sample.valid:
        return f"Valid {sample.asset_type.lower()}: {sample.description}"
    return (
        f"Breaks a rule on purpose ({sample.expected_error}): {sample.description}"
        if sample.expected_error
        else f"Breaks a rule on purpose: {sample.description}"
    )


def sample_choices() -> list[dict[str, str]]:
    """The samples as the upload form lists them: ``title`` (file), ``value``, ``purpose``;
    valid ones first."""
    names = sample_names()
    purposes = {n: sample_purpose(n) for n in names}
    return [
        {"title": n, "value": n, "purpose": purposes[n]}
        for n in sorted(names, key=lambda n: (not purposes[n].startswith("Valid"), n))
    ]


def name_from_source(source: str) -> str:
    """An asset name from a URL's file name (no query, no extension), within the name limit."""
    tail = source.split("?")[0].split("#")[0].rstrip("/").rsplit("/", 1)[-1]
    stem = tail.rsplit(".", 1)[0] if "." in tail else tail
    return stem[: wire.NAME_MAX_CHARS]


def _detect(source: str) -> str | None:
    try:
        from orca_nb.media import detect_asset_type
    except ImportError:  # pre-flight not installed: guess from the extension
        from orca_nb.compose import kind_from_url

        kind = kind_from_url(source)
        return kind.capitalize() if kind else None
    found = detect_asset_type(source)
    return str(found) if found else None


class UploadState(Observable):
    """Fields of the upload form and the upload's progress."""

    def __init__(self, store: LiveStore, *, group_id: str | None = None) -> None:
        super().__init__()
        self.store = store
        self.source = ""
        self.name = ""
        self.group_id = group_id
        self.asset_type: str | None = None  # None: use the detected type
        self.detected: str | None = None
        self.violations: list[str] = []
        self.checked = False
        self.checking = False
        self.uploading = False
        self.asset_id: str | None = None
        self.purpose = ""  # what the chosen sandbox sample is for ("" for other URLs)
        self._auto_name = ""  # the name last filled in from a file name (replaced by the next)

    # ------------------------------------------------------------------ fields
    def set_source(self, source: str) -> None:
        """A URL, or a sandbox sample's filename (turned into its sandbox URL)."""
        source = source.strip()
        root = sandbox_root(self.store.client)
        if source in sample_names() and root:
            source = f"{root}/sandbox/samples/{source}"
        self.source = source
        self.detected = _detect(source) if source else None
        prefix = f"{root}/sandbox/samples/" if root else None
        is_sample = prefix is not None and source.startswith(prefix)
        self.purpose = sample_purpose(source.removeprefix(prefix or "")) if is_sample else ""
        if source and (not self.name or self.name == self._auto_name):
            self.name = self._auto_name = name_from_source(source)
        self.violations, self.checked, self.asset_id = [], False, None
        self.clear_error()
        self.changed()

    def set_fields(self, **fields: Any) -> None:
        """Set ``name``, ``group_id`` or ``asset_type`` (None = auto-detected)."""
        for key in ("name", "group_id", "asset_type"):
            if key in fields:
                setattr(self, key, fields[key] or None if key != "name" else fields[key] or "")
        if self.asset_type is not None and self.asset_type not in wire.ASSET_TYPES:
            bad, self.asset_type = self.asset_type, None
            self.fail(ValueError(f"type must be one of {wire.ASSET_TYPES}, got {bad!r}"))
            return
        self.checked = False
        self.changed()

    @property
    def chosen_type(self) -> str | None:
        """The type to upload as: chosen, else detected."""
        return self.asset_type or self.detected

    @property
    def blocked(self) -> str:
        """Why no upload can be made now (the account is at its asset cap), else ``""``."""
        return cap_block(len(self.store.assets), self.store.asset_cap)

    @property
    def face_note(self) -> str:
        """For a real-human group: what is checked where (``""`` for other groups)."""
        group = self.store.groups.get(self.group_id or "")
        return FACE_NOTE if group is not None and group.group_type == "LivenessFace" else ""

    # ------------------------------------------------------------------ pre-flight
    async def check(self) -> bool:
        """Run the media pre-flight (in a worker thread: it downloads and probes); True if ok."""
        if not self.source.startswith(("http://", "https://")):
            self.fail(ValueError("Give a public http(s) URL (or pick a sandbox sample)."))
            return False
        try:
            from orca_nb.media import preflight
        except ImportError as exc:
            self.fail(exc)
            return False
        self.checking = True
        self.changed()
        try:
            report = await asyncio.to_thread(preflight, self.source, self.chosen_type)
        except Exception as exc:
            self.checking = False
            self.fail(exc)
            return False
        self.checking = False
        self.detected = report.asset_type or self.detected
        self.violations = [v.message for v in report.violations]
        self.checked = True
        self.clear_error()
        self.changed()
        return not self.violations

    # ------------------------------------------------------------------ upload
    async def upload(self, *, force: bool = False) -> str | None:
        """Upload (after pre-flight unless ``force``); returns the asset id, or None + ``error``."""
        if self.uploading:
            return None
        try:
            if self.blocked:
                raise ValueError(self.blocked)
            if not self.group_id:
                raise ValueError("Choose the group to upload into.")
            if self.chosen_type not in wire.ASSET_TYPES:
                raise ValueError("The type could not be detected: choose Image, Video or Audio.")
            name = check_name(self.name) if self.name.strip() else ""
            if not force and not self.checked and not await self.check():
                return None
            if self.violations and not force:
                raise ValueError(
                    "The media breaks the requirements listed above; fix it or upload anyway."
                )
            self.uploading = True
            self.changed()
            aid = await self.store.gateway.upload_asset(
                group_id=self.group_id, url=self.source, asset_type=self.chosen_type, name=name
            )
        except Exception as exc:
            self.uploading = False
            self.fail(exc)
            return None
        self.uploading = False
        self.asset_id = aid
        self.store.upsert_asset(
            AssetRow(aid, name, self.group_id, self.chosen_type, "Processing", url=self.source)
        )
        self.clear_error()
        self.changed()
        return aid

    # ------------------------------------------------------------------ live status
    def asset(self) -> AssetRow | None:
        """The uploaded asset as the store last saw it."""
        return self.store.assets.get(self.asset_id) if self.asset_id else None

    def status_line(self) -> tuple[str, str]:
        """``(status text, advice)`` of the uploaded asset."""
        a = self.asset()
        if a is None:
            return "", ""
        if a.status == "Failed":
            return f"Failed: {a.error_code} {a.error_message}".strip(), asset_advice(a.error_code)
        return a.status, ""

    def on_store(self, change: StoreChange) -> None:
        """Store listener: refresh the view when the uploaded asset changes."""
        if change.table == "assets" and self.asset_id in change.diff.touched:
            self.changed()
