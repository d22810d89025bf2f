"""The rendered videos' caption fits every output size: sized to the frame, wrapped, inside."""

from __future__ import annotations

import io
import unicodedata

import av
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from orca_nb import wire
from orca_nb.sandbox import render_caption
from orca_nb.sandbox.render import RenderSpec, render_video
from orca_nb.sandbox.render_caption import caption_image, caption_layout

WORDS = (
    "a slow cinematic dolly shot through a rain-soaked neon market at night, vendors under "
    "striped awnings, steam rising from noodle stalls, a girl in a yellow raincoat smiles, "
)
LATIN_500 = (WORDS * 4)[:500]
MIXED_500 = (
    "雨夜的霓虹市场里，女孩转身微笑 🌧️✨👩‍🎤 café Ærø straße — Москва ночью, "
    "Ελληνικά, 東京の夜 4K HDR; "
) * 8
MIXED_500 = MIXED_500[:500]
UNBROKEN_500 = "https://example.com/" + "W" * 480  # no space to wrap at, the widest letter
PROMPTS = {"short": "a calm lake at sunrise", "latin": LATIN_500, "mixed": MIXED_500}
PROMPTS["unbroken"] = UNBROKEN_500
SIZES = sorted(wire.OUTPUT_SIZES.items())
BACKGROUND = render_caption.STRIP_RGBA


def text_box(strip: Image.Image) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pixels that are not the strip's background."""
    pixels = np.asarray(strip)
    rows, cols = np.nonzero((pixels != np.array(BACKGROUND, dtype=np.uint8)).any(axis=2))
    assert rows.size, "the caption drew no text"
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


def size_id(item: tuple[tuple[str, str], tuple[int, int]]) -> str:
    (resolution, ratio), _ = item
    return f"{resolution}-{ratio}"


@pytest.mark.parametrize("name", sorted(PROMPTS))
@pytest.mark.parametrize("item", SIZES, ids=size_id)
def test_caption_text_lies_inside_the_frame_with_margins(
    item: tuple[tuple[str, str], tuple[int, int]], name: str
) -> None:
    _, (width, height) = item
    strip = caption_image(PROMPTS[name], width, height)
    assert strip is not None
    assert strip.width == width
    assert strip.height <= 0.2 * height  # the picture stays the main thing
    left, top, right, bottom = text_box(strip)
    side = 0.025 * width
    assert left >= side, (left, width)
    assert right <= width - side, (right, width)
    assert top >= 3, top
    assert bottom <= strip.height - 3, (bottom, strip.height)


@pytest.mark.parametrize("resolution", wire.RESOLUTIONS)
def test_caption_size_follows_the_frame_not_one_side(resolution: str) -> None:
    # one letter height for every ratio of a resolution, however tall or wide the frame
    heights = {}
    for (res, ratio), (width, height) in wire.OUTPUT_SIZES.items():
        if res == resolution:
            strip = caption_image("HHHH", width, height)
            assert strip is not None
            _, top, _, bottom = text_box(strip)
            heights[ratio] = bottom - top
    assert max(heights.values()) <= 1.2 * min(heights.values()), heights
    if resolution == "480p":
        assert min(heights.values()) >= 12, heights  # capitals readable on the smallest frames


@pytest.mark.parametrize("item", SIZES, ids=size_id)
def test_long_prompt_wraps_at_words_and_ends_in_an_ellipsis(
    item: tuple[tuple[str, str], tuple[int, int]],
) -> None:
    _, (width, height) = item
    layout = caption_layout(LATIN_500, width, height)
    assert layout is not None
    assert len(layout.lines) >= 2  # a long prompt gets more than one line everywhere
    assert layout.lines[-1].endswith(render_caption.ELLIPSIS)
    shown = " ".join(layout.lines)[: -len(render_caption.ELLIPSIS)]
    assert len(shown) >= 60  # enough of the prompt to recognise it, even on a 480p portrait
    assert LATIN_500.startswith(shown)  # the words in order, none dropped or split
    at = 0
    for line in (*layout.lines[:-1], layout.lines[-1][: -len(render_caption.ELLIPSIS)]):
        assert LATIN_500.startswith(line, at)
        at += len(line)
        assert LATIN_500[at] in " ,", (line, LATIN_500[at : at + 5])  # ends at a word's end
        at += 1
    for line, (x, _) in zip(layout.lines, layout.origins, strict=True):
        assert x + layout.font.getlength(line) <= width - x  # same margin on both sides


def test_short_prompt_keeps_a_one_line_strip() -> None:
    long_layout = caption_layout(LATIN_500, 864, 496)
    layout = caption_layout("a calm lake at sunrise", 864, 496)
    assert layout is not None
    assert long_layout is not None
    assert layout.lines == ("a calm lake at sunrise",)
    assert layout.height < long_layout.height


def test_unbroken_text_is_cut_inside_the_line() -> None:
    layout = caption_layout(UNBROKEN_500, 496, 864)
    assert layout is not None
    assert "".join(layout.lines)[:-1] == UNBROKEN_500[: len("".join(layout.lines)) - 1]


def has_glyph(char: str) -> bool:
    font = render_caption.caption_font(24)
    missing = font.getmask("\U0010fffd")
    mask = font.getmask(char)
    return (mask.size, bytes(mask)) != (missing.size, bytes(missing))


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("café crème — Ærø straße", "cafe creme - AEro strasse"),
        ("ＦＵＬＬ ｗｉｄｔｈ", "FULL width"),
        ("sunset over 東京 in 4K 🌅", "sunset over ? in 4K ?"),
        ("雨夜的霓虹市场 🌧️✨", render_caption.UNDRAWABLE),
    ],
)
def test_characters_the_font_lacks_never_draw_as_boxes(prompt: str, expected: str) -> None:
    assert render_caption.drawable_text(prompt) == expected
    assert not has_glyph("中")  # the bundled font lacks these: why the stand-ins matter
    assert not has_glyph("é")


@pytest.mark.parametrize("item", SIZES, ids=size_id)
def test_every_drawn_character_is_in_the_font(
    item: tuple[tuple[str, str], tuple[int, int]],
) -> None:
    _, (width, height) = item
    layout = caption_layout(MIXED_500, width, height)
    assert layout is not None
    drawn = "".join(layout.lines)
    missing = {c for c in drawn if not has_glyph(c)}
    assert not missing, [unicodedata.name(c, hex(ord(c))) for c in missing]
    assert "cafe" in drawn  # transliterated, not boxed


def first_frame(spec: RenderSpec) -> NDArray[np.int16]:
    with av.open(io.BytesIO(render_video(spec)), mode="r") as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24").astype(np.int16)


@pytest.mark.parametrize(("width", "height"), [(496, 864), (992, 432)])
def test_rendered_caption_stays_in_its_strip_in_the_video(width: int, height: int) -> None:
    spec = RenderSpec(width, height, 1 / 24, seed=3, prompt=MIXED_500 + LATIN_500)
    plain = first_frame(RenderSpec(width, height, 1 / 24, seed=3))
    captioned = first_frame(spec)
    strip = caption_image(spec.prompt, width, height)
    assert strip is not None
    top = height - strip.height
    assert np.abs(captioned[: top - 2] - plain[: top - 2]).mean() < 1  # picture untouched
    bright = captioned[top:] > plain[top:] + 60  # white text over a darkened picture
    assert bright.any()
    rows, cols = np.nonzero(bright.any(axis=2))
    assert cols.min() >= 0.02 * width
    assert cols.max() < 0.98 * width
    assert rows.max() < strip.height - 2
