"""Kernel-made media previews: audio data URIs carry the wire MIME type of their format."""

from __future__ import annotations

import base64

import pytest

from orca_nb import wire
from orca_nb.sandbox import synth
from orca_nb.widgets.thumbs import audio_data_uri


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_audio_data_uri_plays_back_the_same_bytes(fmt: str) -> None:
    data = synth.audio_bytes(0.5, fmt=fmt)
    uri = audio_data_uri(data, f"voice.{fmt}")
    head, payload = uri.split(",", 1)
    assert head == f"data:{wire.FORMAT_MIME_TYPES[fmt]};base64"
    assert base64.b64decode(payload) == data


def test_audio_data_uri_judges_wav_by_content_without_a_name() -> None:
    assert audio_data_uri(synth.audio_bytes(0.5, fmt="wav")).startswith("data:audio/wav;")
