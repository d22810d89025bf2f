"""render_video makes real, playable MP4s of exactly the requested shape, from the given media."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace

import av
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from orca_nb import wire
from orca_nb.sandbox import faces, render, synth
from orca_nb.sandbox.render import RenderError, RenderSpec, render_video

PORTRAIT = synth.image_bytes(1080, 1920, fmt="jpeg", seed=1, faces=["ada"])
SCENE = synth.image_bytes(1920, 1080, fmt="png", seed=2)
CLOSEUP = synth.image_bytes(900, 900, fmt="webp", seed=9, faces=["chen"], framing="closeup")


def open_video(data: bytes) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
    container = av.open(io.BytesIO(data), mode="r")
    return container, container.streams.video[0]


def frames_of(data: bytes, wanted: set[int]) -> dict[int, NDArray[np.int16]]:
    found: dict[int, NDArray[np.int16]] = {}
    with av.open(io.BytesIO(data), mode="r") as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted or (-1 in wanted):
                found[index] = frame.to_ndarray(format="rgb24").astype(np.int16)
    return found


def covered(data: bytes, width: int, height: int) -> NDArray[np.int16]:
    synth.register_heif()
    with Image.open(io.BytesIO(data)) as image:
        fitted = render._cover(image.convert("RGB"), (width, height))
    return np.asarray(fitted).astype(np.int16)


def difference(a: NDArray[np.int16], b: NDArray[np.int16]) -> float:
    return float(np.abs(a - b).mean())


@pytest.mark.parametrize(
    ("resolution", "ratio", "seconds"),
    [("480p", "16:9", 5), ("480p", "9:16", 4), ("720p", "21:9", 2), ("720p", "1:1", 2)],
)
def test_output_has_exact_size_duration_and_codec(
    resolution: str, ratio: str, seconds: int
) -> None:
    width, height = wire.OUTPUT_SIZES[(resolution, ratio)]
    data = render_video(RenderSpec(width, height, seconds, images=[PORTRAIT, SCENE]))
    container, video = open_video(data)
    with container:
        assert (video.width, video.height) == (width, height)
        assert video.codec_context.name == "h264"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert video.average_rate == wire.OUTPUT_FPS
        assert video.frames == seconds * wire.OUTPUT_FPS
        assert video.duration is not None
        assert video.time_base is not None
        assert float(video.duration * video.time_base) == pytest.approx(seconds, abs=1 / 24)
        assert container.duration is not None
        assert container.duration / 1e6 == pytest.approx(seconds, abs=1 / 24)
        assert not container.streams.audio
        decoded = len(list(container.decode(video=0)))
    assert decoded == seconds * wire.OUTPUT_FPS
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # fast start: plays while downloading


def test_first_and_last_frames_show_their_images() -> None:
    spec = RenderSpec(864, 496, 4, images=[SCENE], first_frame=PORTRAIT, last_frame=CLOSEUP)
    data = render_video(spec)
    got = frames_of(data, {0, spec.frames - 1})
    first, last = covered(PORTRAIT, 864, 496), covered(CLOSEUP, 864, 496)
    assert difference(got[0], first) < 6
    assert difference(got[0], last) > 25
    assert difference(got[spec.frames - 1], last) < 6
    assert faces.detect_faces(data) == ["ada"]  # the face rule sees the first frame


def test_images_move_and_crossfade_rather_than_freeze() -> None:
    spec = RenderSpec(640, 640, 3, fps=24, images=[PORTRAIT, SCENE])
    got = frames_of(spec_bytes := render_video(spec), {0, 10, 35, 36, 71})
    assert spec_bytes
    assert difference(got[0], got[10]) > 0.5  # the slow pan/zoom
    middle = covered(PORTRAIT, 640, 640) * 0.5 + covered(SCENE, 640, 640) * 0.5
    assert difference(got[36], middle.astype(np.int16)) < difference(got[36], got[0])
    assert difference(got[71], covered(SCENE, 640, 640)) < 25


def test_text_only_prompt_renders_a_seeded_scene_with_caption() -> None:
    spec = RenderSpec(640, 360, 2, seed=5, prompt="a calm lake at sunrise, drone shot")
    plain = frames_of(render_video(replace(spec, prompt="")), {0})[0]
    captioned = frames_of(render_video(spec), {0})[0]
    strip = slice(int(360 * 0.93), 360)
    assert captioned[strip].mean() < plain[strip].mean() - 20  # the translucent strip
    assert difference(captioned[:300], plain[:300]) < 2  # the rest is the same picture
    assert np.asarray(plain).std() > 20  # a real picture, not a flat fill


def test_reference_video_frames_play_and_loop() -> None:
    clip = synth.video_bytes(1280, 720, seconds=1, fps=30, faces=["ben"], seed=4)
    data = render_video(RenderSpec(1280, 720, 3, videos=[clip]))
    container, video = open_video(data)
    with container:
        assert video.frames == 72
    assert faces.detect_faces(data) == ["ben"]
    with av.open(io.BytesIO(clip), mode="r") as source:
        clip_frames = [
            f.to_ndarray(format="rgb24").astype(np.int16) for f in source.decode(video=0)
        ]
    got = frames_of(data, {0, 12, 24 + 12, 48 + 12})
    assert difference(got[0], clip_frames[0]) < 6
    assert difference(got[12], clip_frames[15]) < 6  # 0.5 s in
    assert difference(got[36], clip_frames[13]) < 8  # looped: about 0.45 s into the 2nd pass
    assert difference(got[60], clip_frames[11]) < 8


def audio_track(data: bytes) -> NDArray[np.float32] | None:
    with av.open(io.BytesIO(data), mode="r") as container:
        if not container.streams.audio:
            return None
        assert container.streams.audio[0].codec_context.name == "aac"
        chunks = [f.to_ndarray() for f in container.decode(audio=0)]
    return np.concatenate(chunks, axis=1).astype(np.float32)


def test_referenced_audio_is_mixed_and_looped_to_length() -> None:
    short = synth.audio_bytes(2.0, fmt="mp3", freq=330.0)
    long = synth.audio_bytes(20.0, fmt="wav", freq=220.0)
    data = render_video(RenderSpec(640, 360, 5, audios=[short, long]))
    samples = audio_track(data)
    assert samples is not None
    seconds = samples.shape[1] / synth.AUDIO_RATE
    assert seconds == pytest.approx(5.0, abs=0.05)
    rate = synth.AUDIO_RATE
    assert np.sqrt((samples[:, 3 * rate : 4 * rate] ** 2).mean()) > 0.02  # looped, not silent
    assert np.abs(samples).max() <= 1.0


def test_generated_audio_only_when_asked() -> None:
    without = render_video(RenderSpec(480, 480, 2, images=[SCENE]))
    assert audio_track(without) is None
    generated = audio_track(render_video(RenderSpec(480, 480, 2, generate_audio=True, seed=3)))
    assert generated is not None
    assert generated.shape[1] / synth.AUDIO_RATE == pytest.approx(2.0, abs=0.05)
    assert np.sqrt((generated**2).mean()) > 0.02


def test_more_images_than_frames_still_gives_exact_frames() -> None:
    data = render_video(RenderSpec(320, 320, 0.25, images=[SCENE] * 9))
    container, video = open_video(data)
    with container:
        assert video.frames == 6


def test_same_spec_renders_the_same_video() -> None:
    spec = RenderSpec(480, 480, 1, images=[CLOSEUP], seed=7, prompt="hello")
    assert render_video(spec) == render_video(spec)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (RenderSpec(640, 360, 2, images=[b"junk"]), r"images\[0\] is not a readable image"),
        (RenderSpec(640, 360, 2, first_frame=b"junk"), "first_frame is not a readable image"),
        (RenderSpec(640, 360, 2, videos=[b"junk"]), r"videos\[0\] is not a readable video"),
        (RenderSpec(640, 360, 2, audios=[b"junk"]), r"audios\[0\] is not readable audio"),
        (
            RenderSpec(640, 360, 2, audios=[synth.video_bytes(320, 240, seconds=1)]),
            r"audios\[0\] has no audio stream",
        ),
        (RenderSpec(641, 360, 2), "even width and height"),
        (RenderSpec(640, 360, 0), "video length must be"),
    ],
)
def test_unusable_input_fails_with_a_message_naming_it(spec: RenderSpec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_video(spec)
    assert issubclass(RenderError, ValueError)


def test_frame_helper_thread_passes_errors_on_and_stops_when_abandoned() -> None:
    import threading

    def broken() -> Iterator[Image.Image]:
        yield Image.new("RGB", (2, 2))
        raise OSError("disk gone")

    frames = render._prefetch(broken(), depth=2)
    assert next(frames).size == (2, 2)
    with pytest.raises(OSError, match="disk gone"):
        next(frames)

    endless = render._prefetch(iter(lambda: Image.new("RGB", (2, 2)), None), depth=2)
    next(endless)
    endless.close()  # the consumer gives up early: the producer must not linger
    assert not [t for t in threading.enumerate() if t.name == "orca-render-frames"]
