"""Prompt tokens (``[Image 1]``): finding them, keeping them right when the selection changes.

Matching is tolerant of the way people type: case and spaces do not matter and leading zeros
are read as numbers, so ``[image 1]``, ``[Image1]``, ``[ IMAGE 01 ]`` all mean ``[Image 1]``.
Nothing else is a token (no ``[Img 1]``, ``[Image #1]``, ``Image 1`` without brackets).
Validation warns about non-canonical spellings; :func:`normalize_tokens` rewrites them.

When a referenced item is removed, :func:`renumber` does not leave its token in place (it would
silently point at whichever item took its number) but turns it into a marker such as
``[removed Image 2]`` or ``[removed Image 2: outfit]``, which is no token and which validation
reports as an error until the user edits it. Tokens that pointed at nothing before the change are
left exactly as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from orca_nb.compose.refs import Kind, parse_kind
from orca_nb.compose.selection import Selection, format_token

TOKEN_RE: Final = re.compile(r"\[\s*(image|video|audio)\s*(\d{1,4})\s*\]", re.IGNORECASE)
REMOVED_RE: Final = re.compile(r"\[removed (?:Image|Video|Audio) \d+(?::[^\[\]]*)?\]")
_NO_SPACE_BEFORE: Final = frozenset("([{\"'")
_NO_SPACE_AFTER: Final = frozenset(".,;:!?)]}\"'")


@dataclass(frozen=True)
class TokenMatch:
    """One token found in a prompt: where it is, what it says, and its canonical spelling."""

    start: int
    end: int
    kind: Kind
    number: int
    text: str

    @property
    def canonical(self) -> str:
        """The token spelled the standard way, e.g. ``[Image 1]``."""
        return format_token(self.kind, self.number)


def find_tokens(prompt: str) -> list[TokenMatch]:
    """Every token in ``prompt``, in order of position."""
    return [
        TokenMatch(m.start(), m.end(), parse_kind(m.group(1)), int(m.group(2)), m.group(0))
        for m in TOKEN_RE.finditer(prompt)
    ]


def parse_token(text: str) -> tuple[Kind, int]:
    """``"[image 2]"`` -> ``("image", 2)``; ValueError if ``text`` is not exactly one token."""
    m = TOKEN_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a prompt token; tokens look like [Image 1], [Video 2]")
    return parse_kind(m.group(1)), int(m.group(2))


def normalize_tokens(prompt: str) -> str:
    """``prompt`` with every token spelled canonically (``[image1]`` -> ``[Image 1]``)."""
    return TOKEN_RE.sub(lambda m: format_token(*parse_token(m.group(0))), prompt)


def removed_marker(kind: Kind, number: int, name: str = "") -> str:
    """What a removed item's token becomes: ``[removed Image 2]``, ``[removed Image 2: x]``."""
    label = re.sub(r"[\[\]\s]+", " ", name).strip()
    inner = format_token(kind, number)[1:-1]
    return f"[removed {inner}: {label}]" if label else f"[removed {inner}]"


def renumber(prompt: str, before: Selection, after: Selection) -> str:
    """Rewrite the tokens of ``prompt`` (written for ``before``) so they fit ``after``.

    Items are followed by identity ``(kind, source)``; when the same reference is selected twice,
    the k-th copy in ``before`` maps to the k-th copy in ``after``. Each token that pointed at an
    item is rewritten to that item's token in ``after`` (canonical spelling), or to a
    :func:`removed_marker` if the item is gone. Tokens that pointed at nothing stay untouched.
    """
    slots: dict[tuple[Kind, str], list[int]] = {}
    for pos, ref in enumerate(after):
        slots.setdefault(ref.key, []).append(pos)
    after_numbers = after.numbers()
    seen: dict[tuple[Kind, str], int] = {}
    target: dict[tuple[Kind, int], str] = {}
    for ref, number in zip(before, before.numbers(), strict=True):
        k = seen.get(ref.key, 0)
        seen[ref.key] = k + 1
        places = slots.get(ref.key, [])
        if k < len(places):
            target[(ref.kind, number)] = format_token(ref.kind, after_numbers[places[k]])
        else:
            target[(ref.kind, number)] = removed_marker(ref.kind, number, ref.name)

    def swap(m: re.Match[str]) -> str:
        return target.get(parse_token(m.group(0)), m.group(0))

    return TOKEN_RE.sub(swap, prompt)


def insert_token(prompt: str, cursor: int, token: str) -> tuple[str, int]:
    """Insert ``token`` at ``cursor`` with tidy spacing; return the new prompt and cursor.

    The cursor is clamped to the prompt; a cursor inside an existing token moves to its end.
    A space is added before the token unless it starts the prompt or follows whitespace or an
    opening bracket/quote, and after it unless it ends the prompt or is followed by whitespace
    or punctuation. The returned cursor sits after the token and any space added after it.
    """
    text = format_token(*parse_token(token))
    at = max(0, min(int(cursor), len(prompt)))
    for m in TOKEN_RE.finditer(prompt):
        if m.start() < at < m.end():
            at = m.end()
    before, after = prompt[:at], prompt[at:]
    lead = " " if before and not before[-1].isspace() and before[-1] not in _NO_SPACE_BEFORE else ""
    trail = " " if after and not after[0].isspace() and after[0] not in _NO_SPACE_AFTER else ""
    inserted = lead + text + trail
    return before + inserted + after, at + len(inserted)
