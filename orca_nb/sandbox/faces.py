"""The sandbox's face rule: what a "face" is, who it belongs to, and how it is found.

The sandbox cannot run real face recognition, so it uses a documented, deterministic stand-in that
our own sample media follow (drawn by :mod:`orca_nb.sandbox.synth`):

* **A face** is a disk of one flat *identity colour* enclosed by a ring of the *marker colour*
  (a saturated magenta, :data:`MARKER_RGB`), with two small dark eyes and a smile inside. The
  ring is about a fifth of the face radius wide.
* **A person** is one identity colour: each of the sample people in :data:`PEOPLE` (``ada``,
  ``ben``, ``chen``, ``dara``, ``eli``) has one. A face whose colour lies within
  :data:`MATCH_DISTANCE` (Euclidean RGB) of a person's colour is that person. Any other face gets
  the stable label ``face-rrggbb``: its colour with each channel rounded to a multiple of 17
  (``synth`` draws such a face when asked for that label).
* **Detection** (:func:`detect_faces`): decode the image (or the first frame of a video), shrink
  it so its longer side is at most :data:`WORK_SIDE` px, mark the pixels of marker colour, group
  them into 8-connected blobs, and keep each blob of at least :data:`MIN_RING_PIXELS` pixels that
  is ring-shaped: a roughly round bounding box whose centre is mostly *not* marker colour. The
  face's colour is the median of the pixels inside the ring. Labels come back ordered left to
  right (by the centre of each face).

So a photo, a drawing without marker rings, or a filled magenta shape has no face (``[]``); a
two-person sample has two labels; and the rule survives JPEG/WebP/HEIC compression, palette
(GIF) reduction and scaling, because a ring of a few pixels and the median of a flat disk do.
Asset checks built on it: no face -> ``NoFaceDetected``, more than one -> ``MultipleFaces``, a
face other than the verified person's -> ``FaceMismatch`` (codes in :mod:`orca_nb.wire`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Person:
    """One sandbox sample person: a name (the face label) and the identity colour of their face."""

    name: str
    display_name: str
    colour: RGB
    description: str


PEOPLE: Final[Mapping[str, Person]] = MappingProxyType(
    {
        p.name: p
        for p in (
            Person("ada", "Ada", (241, 200, 160), "light peach face"),
            Person("ben", "Ben", (198, 140, 96), "tan face"),
            Person("chen", "Chen", (226, 180, 110), "golden face"),
            Person("dara", "Dara", (141, 92, 62), "brown face"),
            Person("eli", "Eli", (92, 60, 44), "deep brown face"),
        )
    }
)

MARKER_RGB: Final[RGB] = (230, 20, 210)  # the ring colour that makes a disk a face
RING_FRACTION: Final = 0.22  # ring width / face radius
MATCH_DISTANCE: Final = 24.0  # RGB distance within which a face is a known person
LABEL_STEP: Final = 17  # unknown-face colour channels are rounded to multiples of this
WORK_SIDE: Final = 400  # detection works on images shrunk to this longer side
MIN_RING_PIXELS: Final = 30  # smaller marker blobs (at WORK_SIDE) are noise, not faces
UNKNOWN_PREFIX: Final = "face-"
_UNKNOWN_RE: Final = re.compile(r"^face-([0-9a-f]{6})$")


def face_colour(label: str) -> RGB:
    """The identity colour to draw for a face label: a person's name or ``face-rrggbb``."""
    person = PEOPLE.get(label)
    if person is not None:
        return person.colour
    match = _UNKNOWN_RE.match(label)
    if match is None:
        raise ValueError(
            f"unknown face {label!r}: use one of {', '.join(PEOPLE)} "
            f"or a colour label like 'face-3366cc'"
        )
    value = int(match.group(1), 16)
    return (value >> 16, (value >> 8) & 0xFF, value & 0xFF)


def label_for_colour(colour: RGB) -> str:
    """The label of an identity colour: the nearest person within reach, else ``face-rrggbb``."""
    best, best_distance = None, MATCH_DISTANCE
    for person in PEOPLE.values():
        distance = float(np.linalg.norm(np.subtract(colour, person.colour, dtype=np.float64)))
        if distance < best_distance:
            best, best_distance = person.name, distance
    if best is not None:
        return best
    rounded = [min(255, round(c / LABEL_STEP) * LABEL_STEP) for c in colour]
    return UNKNOWN_PREFIX + "".join(f"{c:02x}" for c in rounded)


def is_marker(rgb: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """Which pixels of an ``(..., 3)`` uint8 array are marker colour (the face ring)."""
    r = rgb[..., 0].astype(np.int16)
    g = rgb[..., 1].astype(np.int16)
    b = rgb[..., 2].astype(np.int16)
    return (r >= 165) & (b >= 145) & (g <= 95) & (r - g >= 110) & (b - g >= 90)


class FaceDetectionError(ValueError):
    """The bytes are neither an image nor a video with a frame, so no face check is possible."""


def detect_faces(data: bytes) -> list[str]:
    """Face labels found in an image or in the first frame of a video (see the module rule)."""
    return detect_faces_in_array(_work_pixels(data))


def detect_faces_in_array(rgb: NDArray[np.uint8]) -> list[str]:
    """Face labels in an ``(h, w, 3)`` uint8 RGB array already shrunk to about WORK_SIDE px."""
    mask = is_marker(rgb)
    found: list[tuple[int, int, str]] = []
    for y0, y1, x0, x1, count in _blobs(mask):
        label = _ring_label(rgb, mask, y0, y1, x0, x1, count)
        if label is not None:
            found.append(((x0 + x1) // 2, (y0 + y1) // 2, label))
    found.sort()
    return [label for _, _, label in found]


def _ring_label(
    rgb: NDArray[np.uint8], mask: NDArray[np.bool_], y0: int, y1: int, x0: int, x1: int, count: int
) -> str | None:
    """The label of the face whose ring blob has this bounding box, or None if it is no ring."""
    height, width = y1 - y0 + 1, x1 - x0 + 1
    if count < MIN_RING_PIXELS or min(height, width) < 6:
        return None
    if not 0.6 <= width / height <= 1.65:
        return None
    radius = min(height, width) / 2
    inner = radius * (1 - RING_FRACTION) * 0.75
    cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
    ys, xs = np.ogrid[y0 : y1 + 1, x0 : x1 + 1]
    disk = (ys - cy) ** 2 + (xs - cx) ** 2 <= inner**2
    inside = mask[y0 : y1 + 1, x0 : x1 + 1][disk]
    if inside.size < 4 or inside.mean() > 0.1:
        return None
    pixels = rgb[y0 : y1 + 1, x0 : x1 + 1][disk]
    median = np.median(pixels.astype(np.float64), axis=0)
    red, green, blue = (round(float(c)) for c in median)
    colour: RGB = (red, green, blue)
    return label_for_colour(colour)


def _blobs(mask: NDArray[np.bool_]) -> list[tuple[int, int, int, int, int]]:
    """8-connected blobs of a mask as ``(y0, y1, x0, x1, pixel_count)``, via row runs."""
    runs: list[tuple[int, int, int]] = []  # (row, start, end) with end exclusive
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    starts = np.nonzero(edges == 1)
    ends = np.nonzero(edges == -1)
    for row, start, end in zip(
        starts[0].tolist(), starts[1].tolist(), ends[1].tolist(), strict=True
    ):
        runs.append((row, start, end))
    parent = list(range(len(runs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    previous: list[int] = []  # run indices on the row above
    current: list[int] = []
    row_of_current = -2
    for index, (row, start, end) in enumerate(runs):
        if row != row_of_current:
            previous = current if row == row_of_current + 1 else []
            current, row_of_current = [], row
        for other in previous:
            _, o_start, o_end = runs[other]
            if o_start <= end and start <= o_end:  # touching, diagonals included
                parent[find(index)] = find(other)
        current.append(index)
    boxes: dict[int, list[int]] = {}
    for index, (row, start, end) in enumerate(runs):
        box = boxes.setdefault(find(index), [row, row, start, end - 1, 0])
        box[0], box[1] = min(box[0], row), max(box[1], row)
        box[2], box[3] = min(box[2], start), max(box[3], end - 1)
        box[4] += end - start
    return [(b[0], b[1], b[2], b[3], b[4]) for b in boxes.values()]


def _work_pixels(data: bytes) -> NDArray[np.uint8]:
    """Decode an image or a video's first frame, shrunk to at most WORK_SIDE px, as RGB."""
    try:
        image = _open_image(data)
    except (UnidentifiedImageError, OSError, ValueError):
        image = _first_video_frame(data)
    factor = max(image.size) // WORK_SIDE
    if factor > 1:
        image = image.reduce(factor)  # a fast box average by a whole factor
    if max(image.size) > WORK_SIDE:
        scale = WORK_SIDE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BOX)
    return np.asarray(image, dtype=np.uint8)


def _open_image(data: bytes) -> Image.Image:
    from orca_nb.sandbox.synth import register_heif

    register_heif()
    image = Image.open(io.BytesIO(data))
    if image.format == "JPEG":
        image.draft("RGB", (WORK_SIDE, WORK_SIDE))  # decode at a reduced DCT scale: much faster
    image.load()
    return image if image.mode == "RGB" else image.convert("RGB")


def _first_video_frame(data: bytes) -> Image.Image:
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise FaceDetectionError("no face check possible: the media has no picture")
            for frame in container.decode(video=0):
                pixels = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
                return Image.fromarray(pixels, "RGB")
    except av.FFmpegError as exc:
        raise FaceDetectionError(
            "no face check possible: the bytes are neither a readable image nor a video "
            f"({exc.__class__.__name__}); upload a jpeg/png/webp/heic image or an mp4/mov video"
        ) from exc
    raise FaceDetectionError("no face check possible: the video has no decodable frame")
