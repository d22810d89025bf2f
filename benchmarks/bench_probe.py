"""Media pre-flight speed: how long ``probe_bytes`` takes on typical uploads.

Pre-flight runs before every upload (in the notebook) and inside the sandbox's processing, so
it must stay in the milliseconds. Prints size, median and worst of 15 runs per file.

    python benchmarks/bench_probe.py
"""

from __future__ import annotations

import statistics
import time

from orca_nb.media import probe_bytes
from orca_nb.sandbox import synth

RUNS = 15


def main() -> None:
    """Generate one file per case with our own synthesiser, then time the probe."""
    cases = {
        "mp4 1280x720 3 s": synth.video_bytes(1280, 720, seconds=3.0),
        "jpeg 4000x3000": synth.image_bytes(4000, 3000, fmt="jpeg"),
        "png 4000x3000": synth.image_bytes(4000, 3000, fmt="png"),
        "heic 4000x3000": synth.image_bytes(4000, 3000, fmt="heic"),
        "wav 15 s": synth.audio_bytes(15.0),
        "mp3 15 s": synth.audio_bytes(15.0, fmt="mp3"),
    }
    print(f"{'file':<18} {'MB':>6} {'median ms':>10} {'max ms':>8}")
    for name, data in cases.items():
        probe_bytes(data)  # warm the decoders once
        runs = []
        for _ in range(RUNS):
            start = time.perf_counter()
            probe_bytes(data)
            runs.append((time.perf_counter() - start) * 1000)
        print(f"{name:<18} {len(data) / 1e6:6.2f} {statistics.median(runs):10.1f} {max(runs):8.1f}")


if __name__ == "__main__":
    main()
