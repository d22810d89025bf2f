"""Benchmark: the sandbox renderer at 480p and 720p, 5 s (plus the synth clips it builds on).

    .venv/bin/python benchmarks/bench_render.py [--repeat 3] [--seconds 5]

For each case prints the best and first wall time of ``render_video``, the least CPU time used
(all threads: drawing and x264; steadier than wall time on a busy machine), the output size,
and the process's peak RSS growth (streaming keeps it near a few frames, whatever the length).
Cases: text-only (seeded scene + generated audio), and a full reference set (first and last
frame, two images, a reference video, an mp3) as the sandbox's demos send.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orca_nb import wire  # noqa: E402
from orca_nb.sandbox import synth  # noqa: E402
from orca_nb.sandbox.render import RenderSpec, render_video  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, action: object, repeat: int) -> None:
    assert callable(action)
    before = peak_rss_mb()
    times: list[float] = []
    cpu: list[float] = []
    size = 0
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        size = len(action())
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    grown = peak_rss_mb() - before
    print(
        f"{label:<36} best {min(times):5.2f} s  first {times[0]:5.2f} s  "
        f"cpu {min(cpu):5.2f} s  "
        f"{size / 1e6:6.2f} MB  peak RSS +{grown:5.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()

    portrait = synth.image_bytes(1080, 1920, fmt="jpeg", seed=1, faces=["ada"])
    scene = synth.image_bytes(1920, 1080, fmt="jpeg", seed=2)
    closeup = synth.image_bytes(1080, 1350, fmt="png", seed=3, faces=["ben"], framing="closeup")
    clip = synth.video_bytes(1280, 720, seconds=3, seed=4, faces=["ben"])
    music = synth.audio_bytes(4.0, fmt="mp3")
    print(f"render benchmark: {args.seconds} s at {wire.OUTPUT_FPS} fps, repeat {args.repeat}")
    timed(
        "synth.video_bytes 720p 3 s (+AAC)",
        lambda: synth.video_bytes(1280, 720, seconds=3, audio=True),
        args.repeat,
    )
    for resolution in ("480p", "720p"):
        width, height = wire.OUTPUT_SIZES[(resolution, "16:9")]
        text_only = RenderSpec(width, height, args.seconds, generate_audio=True, prompt="a lake")
        references = RenderSpec(
            width,
            height,
            args.seconds,
            images=[portrait, closeup],
            videos=[clip],
            audios=[music],
            first_frame=scene,
            last_frame=closeup,
            prompt="[Image 1] walks over the hills, [Video 1] as motion reference",
        )
        timed(
            f"{resolution} {width}x{height} text only + audio",
            lambda s=text_only: render_video(s),
            args.repeat,
        )
        timed(
            f"{resolution} {width}x{height} 5 refs + mp3",
            lambda s=references: render_video(s),
            args.repeat,
        )


if __name__ == "__main__":
    main()
