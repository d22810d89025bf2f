"""Media the API does not accept (webm, ogg, flac, m4a, avi, ...), made with PyAV for the tests.

Accepted formats come from :mod:`orca_nb.sandbox.synth`; this covers the rest.
"""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Any

import av
import numpy as np


def av_bytes(
    container: str,
    *,
    video: str | None = None,
    audio: str | None = None,
    seconds: float = 3.0,
    fps: int = 24,
    size: tuple[int, int] = (640, 480),
    pix_fmt: str = "yuv420p",
    options: dict[str, str] | None = None,
) -> bytes:
    """A short clip in ``container`` with a ``video`` and/or ``audio`` codec."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container, options=options or {}) as out:
        vstream: Any = None
        astream: Any = None
        if video:
            vstream = out.add_stream(video, rate=fps)
            vstream.width, vstream.height = size
            vstream.pix_fmt = pix_fmt
        if audio:
            astream = out.add_stream(audio, rate=48_000)
        if vstream is not None:
            for index in range(round(seconds * fps)):
                pixels = np.full((size[1], size[0], 3), (index * 7) % 255, dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                frame.pts = index
                frame.time_base = Fraction(1, fps)
                for packet in vstream.encode(frame):
                    out.mux(packet)
            for packet in vstream.encode(None):
                out.mux(packet)
        if astream is not None:
            ctx = astream.codec_context
            chunk = ctx.frame_size or 1024
            total = round(seconds * 48_000)
            fmt = ctx.format.name
            layout = ctx.layout.name
            channels = ctx.layout.nb_channels
            for start in range(0, total, chunk):
                n = min(chunk, total - start)
                t = (np.arange(start, start + n) / 48_000).astype(np.float32)
                wave = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
                planar = fmt.endswith("p")
                if fmt.startswith("s16"):
                    wave = (wave * 32767).astype(np.int16)
                elif fmt.startswith("s32"):
                    wave = (wave * 2**31 - 1).astype(np.int32)
                samples = (
                    np.tile(wave, (channels, 1)) if planar else np.repeat(wave, channels)[None]
                )
                sound = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(samples), format=fmt, layout=layout
                )
                sound.sample_rate = 48_000
                sound.pts = start
                sound.time_base = Fraction(1, 48_000)
                for packet in astream.encode(sound):
                    out.mux(packet)
            for packet in astream.encode(None):
                out.mux(packet)
    return buffer.getvalue()


def with_cover_art(mp3: bytes, jpeg: bytes, size: tuple[int, int]) -> bytes:
    """``mp3`` remuxed with ``jpeg`` as an attached cover picture (a video stream, disposition
    ``attached_pic``), the way music files usually carry artwork."""
    import av.stream

    buffer = io.BytesIO()
    with av.open(io.BytesIO(mp3), mode="r") as source, av.open(buffer, "w", format="mp3") as out:
        audio: Any = out.add_stream_from_template(source.streams.audio[0])
        cover: Any = out.add_stream("mjpeg")
        cover.width, cover.height = size
        cover.pix_fmt = "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        for packet in source.demux(source.streams.audio[0]):
            if packet.dts is None:
                continue
            packet.stream = audio
            out.mux(packet)
        picture = av.Packet(jpeg)
        picture.stream = cover
        picture.pts = picture.dts = 0
        out.mux(picture)
    return buffer.getvalue()
