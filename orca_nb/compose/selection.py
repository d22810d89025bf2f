"""An ordered, immutable selection of references and the ``content[]`` it becomes.

Tokens are numbered per kind, 1-based, in array order (``[Image 1]``, ``[Video 1]``,
``[Image 2]``...), counting asset and URL items alike. Every change returns a new Selection, so
a caller can keep the old one and :func:`~orca_nb.compose.tokens.renumber` a prompt between them.

Modes decide the role of items that carry no explicit ``role``:

- ``"reference"``: every item is ``reference_image|video|audio`` (multimodal reference).
- ``"first_frame"``: images are ``first_frame`` (exactly one image is valid).
- ``"first_last"``: the first image is ``first_frame``, later images ``last_frame`` (exactly two
  images are valid). In both frame modes videos and audio keep reference roles, which
  validation reports as mixing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final, Literal, overload

from orca_nb.compose.refs import KIND_WIRE, Kind, Ref

Mode = Literal["reference", "first_frame", "first_last"]
MODES: Final[tuple[Mode, ...]] = ("reference", "first_frame", "first_last")


def parse_mode(mode: str) -> Mode:
    """Check a composition mode name."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    return mode


def format_token(kind: Kind, number: int) -> str:
    """The canonical prompt token: ``format_token("image", 2) == "[Image 2]"``."""
    return f"[{KIND_WIRE[kind].token_word} {number}]"


class Selection:
    """Ordered references; ``add``, ``remove``, ``move`` and ``replace`` return new Selections."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[Ref] = ()) -> None:
        refs = tuple(items)
        for ref in refs:
            if not isinstance(ref, Ref):
                raise TypeError(
                    f"a Selection holds Ref objects, got {type(ref).__name__}; "
                    "wrap ids and URLs with Ref(...) or Ref.from_url(...)"
                )
        self._items: tuple[Ref, ...] = refs

    # ---------------------------------------------------------------- sequence protocol
    @property
    def items(self) -> tuple[Ref, ...]:
        """The references, in array order."""
        return self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Ref]:
        return iter(self._items)

    @overload
    def __getitem__(self, index: int) -> Ref: ...
    @overload
    def __getitem__(self, index: slice) -> Selection: ...
    def __getitem__(self, index: int | slice) -> Ref | Selection:
        if isinstance(index, slice):
            return Selection(self._items[index])
        return self._items[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Selection) and other._items == self._items

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        inner = ", ".join(f"{t}={r.label}" for t, r in zip(self.tokens(), self._items, strict=True))
        return f"Selection({inner})"

    # ---------------------------------------------------------------- edits (new Selection)
    def _index(self, i: int, *, allow_end: bool = False) -> int:
        n = len(self._items)
        top = n if allow_end else n - 1
        j = i + n if i < 0 else i
        if not 0 <= j <= top:
            raise IndexError(f"position {i} is outside the selection (it has {n} items)")
        return j

    def add(self, ref: Ref, index: int | None = None) -> Selection:
        """A new Selection with ``ref`` appended, or inserted at ``index``."""
        items = list(self._items)
        items.insert(len(items) if index is None else self._index(index, allow_end=True), ref)
        return Selection(items)

    def remove(self, i: int) -> Selection:
        """A new Selection without the item at position ``i``."""
        j = self._index(i)
        return Selection(self._items[:j] + self._items[j + 1 :])

    def move(self, i: int, j: int) -> Selection:
        """A new Selection where the item at position ``i`` ends at position ``j``."""
        src, dst = self._index(i), self._index(j)
        items = list(self._items)
        items.insert(dst, items.pop(src))
        return Selection(items)

    def replace(self, i: int, ref: Ref) -> Selection:
        """A new Selection with the item at ``i`` replaced (e.g. by a refreshed status)."""
        j = self._index(i)
        return Selection((*self._items[:j], ref, *self._items[j + 1 :]))

    # ---------------------------------------------------------------- numbering
    def of_kind(self, kind: Kind) -> tuple[Ref, ...]:
        """The items of one kind, in array order."""
        return tuple(r for r in self._items if r.kind == kind)

    def count(self, kind: Kind) -> int:
        """How many items of ``kind`` are selected."""
        return sum(1 for r in self._items if r.kind == kind)

    def numbers(self) -> list[int]:
        """Each item's 1-based number among items of its kind."""
        seen: dict[Kind, int] = {}
        out = []
        for ref in self._items:
            seen[ref.kind] = seen.get(ref.kind, 0) + 1
            out.append(seen[ref.kind])
        return out

    def tokens(self) -> list[str]:
        """Each item's prompt token, aligned with :attr:`items`: ``["[Image 1]", ...]``."""
        return [format_token(r.kind, n) for r, n in zip(self._items, self.numbers(), strict=True)]

    def token(self, i: int) -> str:
        """The prompt token of the item at position ``i``."""
        return self.tokens()[self._index(i)]

    def find(self, kind: Kind, number: int) -> int | None:
        """Position of the item a token ``(kind, number)`` points at, or None."""
        for pos, (ref, n) in enumerate(zip(self._items, self.numbers(), strict=True)):
            if ref.kind == kind and n == number:
                return pos
        return None

    # ---------------------------------------------------------------- content
    def roles(self, mode: str = "reference") -> list[str]:
        """Each item's effective role: its own ``role`` if set, else the mode's choice."""
        chosen = parse_mode(mode)
        out = []
        images = 0
        for ref in self._items:
            if ref.kind == "image":
                images += 1
            if ref.role is not None:
                out.append(ref.role)
            elif ref.kind != "image" or chosen == "reference":
                out.append(KIND_WIRE[ref.kind].reference_role)
            elif chosen == "first_frame" or images == 1:
                out.append("first_frame")
            else:
                out.append("last_frame")
        return out

    def content(self, mode: str = "reference") -> list[dict[str, Any]]:
        """The ``metadata.content[]`` items, in order (no text item: the prompt travels apart)."""
        out: list[dict[str, Any]] = []
        for ref, role in zip(self._items, self.roles(mode), strict=True):
            ctype = KIND_WIRE[ref.kind].content_type
            out.append({"type": ctype, ctype: {"url": ref.url}, "role": role})
        return out
