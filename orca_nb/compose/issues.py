"""Validation findings: :class:`Issue` and the stable codes it carries.

Codes are part of the public contract (widgets key icons and help on them); messages are for
people and say what to do. ``position``/``end`` are character offsets into the prompt when the
issue is about a piece of it; ``item`` is the selection position when it is about one reference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Level = Literal["error", "warning"]

# prompt text
EMPTY_PROMPT: Final = "empty_prompt"
UNKNOWN_REFERENCE: Final = "unknown_reference"  # token points at nothing
REMOVED_REFERENCE: Final = "removed_reference"  # marker left by renumber() for a removed item
NONCANONICAL_TOKEN: Final = "noncanonical_token"  # [image1] -> [Image 1] (warning)
RAW_ASSET_ID: Final = "raw_asset_id"
ASSET_URL_IN_PROMPT: Final = "asset_url_in_prompt"
URL_IN_PROMPT: Final = "url_in_prompt"  # a selected URL written into the prompt
ASSET_NAME_IN_PROMPT: Final = "asset_name_in_prompt"  # (warning) the model never sees names
UNUSED_REFERENCE: Final = "unused_reference"  # (warning) selected, never mentioned
# selection
TOO_MANY_IMAGES: Final = "too_many_images"
TOO_MANY_VIDEOS: Final = "too_many_videos"
TOO_MANY_AUDIO: Final = "too_many_audio"
TOO_MANY_MEDIA: Final = "too_many_media"
AUDIO_WITHOUT_VISUAL: Final = "audio_without_visual"
MIXED_MODES: Final = "mixed_modes"
FRAME_COUNT: Final = "frame_count"
REFERENCE_VIDEO_TOO_LONG: Final = "reference_video_too_long"
REFERENCE_AUDIO_TOO_LONG: Final = "reference_audio_too_long"
ASSET_NOT_ACTIVE: Final = "asset_not_active"
DUPLICATE_REFERENCE: Final = "duplicate_reference"  # (warning)
# model and parameters
UNKNOWN_MODEL: Final = "unknown_model"
MODEL_NOT_ROUTABLE: Final = "model_not_routable"
MODEL_CAPABILITY: Final = "model_capability"
INVALID_DURATION: Final = "invalid_duration"
INVALID_RATIO: Final = "invalid_ratio"
INVALID_RESOLUTION: Final = "invalid_resolution"
INVALID_SEED: Final = "invalid_seed"

CODES: Final = (
    EMPTY_PROMPT,
    UNKNOWN_REFERENCE,
    REMOVED_REFERENCE,
    NONCANONICAL_TOKEN,
    RAW_ASSET_ID,
    ASSET_URL_IN_PROMPT,
    URL_IN_PROMPT,
    ASSET_NAME_IN_PROMPT,
    UNUSED_REFERENCE,
    TOO_MANY_IMAGES,
    TOO_MANY_VIDEOS,
    TOO_MANY_AUDIO,
    TOO_MANY_MEDIA,
    AUDIO_WITHOUT_VISUAL,
    MIXED_MODES,
    FRAME_COUNT,
    REFERENCE_VIDEO_TOO_LONG,
    REFERENCE_AUDIO_TOO_LONG,
    ASSET_NOT_ACTIVE,
    DUPLICATE_REFERENCE,
    UNKNOWN_MODEL,
    MODEL_NOT_ROUTABLE,
    MODEL_CAPABILITY,
    INVALID_DURATION,
    INVALID_RATIO,
    INVALID_RESOLUTION,
    INVALID_SEED,
)


@dataclass(frozen=True)
class Issue:
    """One problem found by :func:`~orca_nb.compose.validate.validate`."""

    level: Level
    code: str
    message: str
    position: int | None = None
    end: int | None = None
    item: int | None = None

    def __str__(self) -> str:
        return f"{self.level}: {self.message}"


def errors(issues: Iterable[Issue]) -> list[Issue]:
    """Only the issues that block a request."""
    return [i for i in issues if i.level == "error"]


class CompositionError(ValueError):
    """A request could not be built because validation found errors (see ``.issues``)."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        lines = "\n".join(f"- {i.message}" for i in errors(issues))
        super().__init__(f"the video request is not valid; fix these first:\n{lines}")
