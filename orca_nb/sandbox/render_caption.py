"""The caption strip :mod:`orca_nb.sandbox.render` lays over the bottom of every frame.

The strip shows the prompt in Pillow's bundled font, sized from the frame's area so one
resolution (480p, 720p, 1080p) has one caption size in every ratio, landscape or portrait. The
prompt is word-wrapped onto up to :data:`MAX_LINES_LANDSCAPE` lines (:data:`MAX_LINES_PORTRAIT`
on tall frames), never more than :data:`MAX_STRIP_SHARE` of the frame's height; what does not
fit ends in an ellipsis, at a word boundary when one is near. Side margins keep the text off
the frame's edges.

The bundled font draws ASCII and a little punctuation only. Characters it lacks are shown
transliterated where that keeps the meaning (``café`` as ``cafe``, ``—`` as ``-``), else each
run of them as ``?``; a prompt with nothing drawable left shows :data:`UNDRAWABLE` instead of a
row of empty boxes.

>>> layout = caption_layout("a calm lake at sunrise", 864, 496)
>>> layout is not None and layout.lines
('a calm lake at sunrise',)
"""

from __future__ import annotations

import functools
import math
import unicodedata
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageDraw, ImageFont

FONT_SHARE: Final = 0.033  # font size (px) per px of the frame's mean side, sqrt(width*height)
MIN_FONT_PX: Final = 8
LINE_SPACING: Final = 1.12  # line pitch as a multiple of the font's ascent + descent
PAD_Y_SHARE: Final = 0.45  # space above and below the text, as a share of the font size
PAD_X_SHARE: Final = 0.03  # side margins as a share of the frame width ...
MIN_PAD_X_EM: Final = 0.75  # ... and at least this many font sizes
MAX_LINES_LANDSCAPE: Final = 2  # frames at least as wide as tall
MAX_LINES_PORTRAIT: Final = 3
MAX_STRIP_SHARE: Final = 0.2  # of the frame's height, at most (one line always shows)
MIN_TEXT_COLUMNS: Final = 8  # a frame narrower than this many font sizes of room gets no caption
ELLIPSIS: Final = "…"
UNDRAWABLE: Final = "(prompt in a script the caption font lacks)"
STRIP_RGBA: Final = (15, 20, 30, 150)
TEXT_RGBA: Final = (250, 250, 250, 255)

# Transliterations of letters and marks that do not decompose (NFKD handles accents).
_ASCII_STANDINS: Final = {
    "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l",
    "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ı": "i",
    "—": "-", "–": "-", "‐": "-", "‑": "-", "−": "-", "•": "·", "„": '"', "‚": "'",
    "′": "'", "″": '"', "×": "x", "÷": "/", "€": "EUR", "£": "GBP", "¥": "JPY",
}  # fmt: skip


@dataclass(frozen=True)
class CaptionLayout:
    """Where the caption goes: a strip the frame's width at its bottom, and its text lines.

    ``origins`` are each line's left/top corner inside the strip (Pillow anchor ``"la"``);
    the strip's top is ``frame height - height``.
    """

    width: int
    height: int
    font_size: int
    lines: tuple[str, ...]
    origins: tuple[tuple[int, int], ...]

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        """The font the lines are drawn in."""
        return caption_font(self.font_size)


@functools.lru_cache(maxsize=16)
def caption_font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled font at ``size`` px (the same on every machine)."""
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow built without FreeType
        raise RuntimeError("the sandbox's caption needs Pillow with FreeType support")
    return font


def caption_layout(prompt: str, width: int, height: int) -> CaptionLayout | None:
    """Lay ``prompt`` out for a ``width`` x ``height`` frame; None for no caption.

    No caption when the prompt is blank or the frame is too small for a readable line.
    """
    text = drawable_text(prompt)
    if not text:
        return None
    size = max(MIN_FONT_PX, round(math.sqrt(width * height) * FONT_SHARE))
    font = caption_font(size)
    ascent, descent = font.getmetrics()
    pitch = round((ascent + descent) * LINE_SPACING)
    pad_y = round(size * PAD_Y_SHARE)
    pad_x = max(round(size * MIN_PAD_X_EM), round(width * PAD_X_SHARE))
    room = width - 2 * pad_x
    if room < size * MIN_TEXT_COLUMNS or 2 * pad_y + ascent + descent > height // 2:
        return None

    def strip_height(lines: int) -> int:
        return 2 * pad_y + (lines - 1) * pitch + ascent + descent

    most = MAX_LINES_PORTRAIT if height > width else MAX_LINES_LANDSCAPE
    while most > 1 and strip_height(most) > height * MAX_STRIP_SHARE:
        most -= 1
    lines = _wrap(text, font, room, most)
    return CaptionLayout(
        width=width,
        height=strip_height(len(lines)),
        font_size=size,
        lines=tuple(lines),
        origins=tuple((pad_x, pad_y + index * pitch) for index in range(len(lines))),
    )


def draw_caption(layout: CaptionLayout) -> Image.Image:
    """The translucent strip with its text (RGBA, ``layout.width`` x ``layout.height``)."""
    strip = Image.new("RGBA", (layout.width, layout.height), STRIP_RGBA)
    draw = ImageDraw.Draw(strip)
    for line, origin in zip(layout.lines, layout.origins, strict=True):
        draw.text(origin, line, font=layout.font, fill=TEXT_RGBA, anchor="la")
    return strip


def caption_image(prompt: str, width: int, height: int) -> Image.Image | None:
    """:func:`draw_caption` of :func:`caption_layout` (None when there is no caption)."""
    layout = caption_layout(prompt, width, height)
    return None if layout is None else draw_caption(layout)


def drawable_text(prompt: str) -> str:
    """``prompt`` on one line, with only characters the caption font draws (see module doc)."""
    out: list[str] = []
    for char in " ".join(prompt.split()):
        if _has_glyph(char):
            out.append(char)
            continue
        standin = _standin(char)
        if standin == "":
            continue
        if standin is None:
            if out and out[-1] == "?":
                continue  # one "?" per run of undrawable characters
            standin = "?"
        out.append(standin)
    text = "".join(out).strip()
    if text and not any(char.isalnum() for char in text):
        return UNDRAWABLE
    return text


def _standin(char: str) -> str | None:
    """What to draw for a character the font lacks: "" (drop), a transliteration, or None."""
    category = unicodedata.category(char)
    if category in ("Cc", "Cf", "Mn", "Me") or "\ufe00" <= char <= "\ufe0f":
        return ""  # controls, joiners, variation selectors, combining marks: nothing to show
    if char in _ASCII_STANDINS:
        return _ASCII_STANDINS[char]
    for form in ("NFKC", "NFKD"):  # full-width forms and ligatures, then accented letters
        plain = "".join(
            c for c in unicodedata.normalize(form, char) if unicodedata.category(c) != "Mn"
        )
        if plain and plain != char and all(_has_glyph(c) for c in plain):
            return plain
    return None


@functools.lru_cache(maxsize=4096)
def _has_glyph(char: str) -> bool:
    """Whether the bundled font has ``char`` (its mask differs from the missing-glyph box)."""
    font = caption_font(20)
    mask = font.getmask(char)
    return (mask.size, bytes(mask)) != _notdef()


@functools.cache
def _notdef() -> tuple[tuple[int, int], bytes]:
    mask = caption_font(20).getmask("\U0010fffd")  # a private-use code point: never in a font
    return mask.size, bytes(mask)


def _wrap(text: str, font: ImageFont.FreeTypeFont, room: int, most: int) -> list[str]:
    """``text`` in at most ``most`` lines of at most ``room`` px; an ellipsis ends a cut."""
    lines: list[str] = []
    rest = text
    while rest:
        fits = _fit(rest, font, room)
        if fits >= len(rest):
            lines.append(rest)
            break
        if len(lines) == most - 1:  # the last line: as much as fits before the ellipsis
            fits = _fit(rest, font, room, suffix=ELLIPSIS)
            cut = _at_word_end(rest, fits)
            lines.append(rest[:cut].rstrip(" ,;:-") + ELLIPSIS)
            break
        cut = _at_word_end(rest, fits)
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return lines


def _at_word_end(text: str, fits: int) -> int:
    """Where to break ``text`` whose first ``fits`` characters fit: at the last space in the
    latter half of them, else right there (a long word, or a script without spaces)."""
    if fits < len(text) and text[fits] == " ":
        return fits
    space = text.rfind(" ", 0, fits)
    return space if space > fits // 2 else fits


def _fit(text: str, font: ImageFont.FreeTypeFont, room: int, *, suffix: str = "") -> int:
    """The most leading characters of ``text`` (at least 1) that fit ``room`` px with
    ``suffix`` after them; a binary search, as widths grow with length."""
    narrowest = max(1.0, font.size * 0.15)  # no glyph of the font is narrower
    low, high = 1, min(len(text), int(room / narrowest) + 1)
    while low < high:
        middle = (low + high + 1) // 2
        if font.getlength(text[:middle].rstrip() + suffix) <= room:
            low = middle
        else:
            high = middle - 1
    return low
