"""Picker state: the ordered references, their ``[Image N]`` tokens, the prompt and its cursor.

Built on :mod:`orca_nb.compose`: every reorder or removal renumbers the prompt's tokens so they
keep pointing at the same media; clicking a token inserts it at the prompt's cursor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from orca_nb.compose import Ref, Selection, insert_token, renumber
from orca_nb.widgets.rows import AssetRow
from orca_nb.widgets.state.base import Observable


@dataclass(frozen=True)
class PickedItem:
    """One selected reference as the picker lists it."""

    index: int
    token: str
    kind: str
    label: str
    source: str
    is_asset: bool


class PickerState(Observable):
    """Selection + prompt + cursor, with the actions the picker and studio views call."""

    def __init__(self, *, mode: str = "reference") -> None:
        super().__init__()
        self.selection = Selection()
        self.prompt = ""
        self.cursor = 0
        self.mode = mode
        self.touched = False  # messages about the prompt show after the first edit or submit

    def touch(self) -> None:
        """Show the prompt's messages from now on (a submit attempt, or the prompt was edited)."""
        if not self.touched:
            self.touched = True
            self.changed()

    # ------------------------------------------------------------------ selection
    def add_asset(self, asset: AssetRow) -> bool:
        """Add an asset; only ``Active`` assets can be referenced (else ``error`` says why)."""
        if asset.status != "Active":
            self.fail(
                ValueError(
                    f"{asset.name or asset.id} is {asset.status}: only Active assets can be "
                    "referenced; wait for it to finish processing or pick another."
                )
            )
            return False
        try:
            ref = Ref(
                asset.id,
                asset.asset_type.lower(),  # type: ignore[arg-type]
                name=asset.name,
                status=asset.status,
                group_id=asset.group_id or None,
            )
        except ValueError as exc:
            self.fail(exc)
            return False
        return self._set(self.selection.add(ref))

    def add_url(self, url: str, kind: str | None = None) -> bool:
        """Add a plain http(s) URL (kind from the file name unless given)."""
        try:
            ref = Ref.from_url(url.strip(), kind)
        except ValueError as exc:
            self.fail(exc)
            return False
        return self._set(self.selection.add(ref))

    def remove(self, index: int) -> bool:
        """Remove item ``index``; its tokens in the prompt become ``[removed ...]`` markers."""
        try:
            return self._set(self.selection.remove(index))
        except (IndexError, ValueError) as exc:
            self.fail(exc)
            return False

    def move(self, i: int, j: int) -> bool:
        """Move item ``i`` to position ``j``; the prompt's tokens are renumbered to follow."""
        try:
            return self._set(self.selection.move(i, j))
        except (IndexError, ValueError) as exc:
            self.fail(exc)
            return False

    def replace_all(self, selection: Selection, prompt: str) -> None:
        """Load a whole selection and prompt (re-run with edits)."""
        self.selection, self.prompt, self.cursor = selection, prompt, len(prompt)
        self.touched = True
        self.clear_error()
        self.changed()

    def _set(self, after: Selection) -> bool:
        self.prompt = renumber(self.prompt, self.selection, after)
        self.cursor = min(self.cursor, len(self.prompt))
        self.selection = after
        self.error = self.advice = ""
        self.changed()
        return True

    # ------------------------------------------------------------------ prompt
    def set_prompt(self, text: str, cursor: int | None = None) -> None:
        """The prompt as typed (and where the cursor is, when the browser says)."""
        self.touched = self.touched or text != self.prompt
        self.prompt = text
        self.cursor = len(text) if cursor is None else max(0, min(cursor, len(text)))
        self.changed()

    def insert(self, token: str, cursor: int | None = None) -> None:
        """Insert ``token`` (``"[Image 1]"``) at ``cursor`` (default: the last known cursor)."""
        at = self.cursor if cursor is None else cursor
        try:
            self.prompt, self.cursor = insert_token(self.prompt, at, token)
        except ValueError as exc:
            self.fail(exc)
            return
        self.touched = True
        self.changed()

    # ------------------------------------------------------------------ what views show
    def items(self) -> list[PickedItem]:
        """The selection in order with each item's token."""
        return [
            PickedItem(i, token, ref.kind, ref.label, ref.source, ref.is_asset)
            for i, (ref, token) in enumerate(
                zip(self.selection, self.selection.tokens(), strict=True)
            )
        ]

    def content(self) -> list[dict[str, Any]]:
        """``metadata.content[]`` for the current selection and mode."""
        return self.selection.content(self.mode)

    def content_json(self) -> str:
        """The content array as indented JSON text."""
        return json.dumps(self.content(), indent=2)
