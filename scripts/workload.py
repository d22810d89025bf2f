"""Seed a ledger with a realistic month of video submissions, for the usage report and demos.

    python scripts/workload.py --ledger sqlite:///tmp/demo.sqlite3 [--days 30]

What goes through the sandbox and what does not, plainly:

1. **Library, through the sandbox.** A real :class:`~orca_nb.sandbox.SandboxServer` on loopback
   (in-memory, its clock driven by this script) and the real client ``Orca(ledger=...)``:
   groups are created and the sandbox's sample media uploaded, invalid samples included, so
   some assets end ``Failed``. Their snapshots go into the ledger.
2. **History, straight into the ledger.** The month of submissions before today is written
   through the same hook methods the client calls (``before_submit``/``after_submit``/
   ``on_task``) with timestamps along the month, referencing those real assets. Rendering
   a month of real videos would take hours on a laptop; the ledger rows are the same.
3. **Today, through the sandbox.** A few real submissions (small renders) go through the
   client to the sandbox: some succeed, some fail, one is refused with 402, all recorded by the
   ledger hooks exactly as in normal use.

``--no-sandbox`` skips 1 and 3 and invents the library instead (fast, no server).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from orca_nb import wire
from orca_nb.client.hooks import key_label
from orca_nb.ledger import Ledger, open_ledger

#: The sandbox account the workload uses.
WORKLOAD_KEY = "sk-orca-sandbox-workload"
#: People submitting in the synthetic history (labels come from these fake test keys).
SUBMITTERS: tuple[str, ...] = ("sk-orca-test-alice", "sk-orca-test-bob", "sk-orca-test-carol")
#: (group name, sample files) uploaded through the sandbox.
LIBRARY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Ada", ("ada_portrait.jpg", "ada_closeup.png", "ada_wave.mp4")),
    ("Ben", ("ben_portrait.webp", "ben_closeup.heic", "tiny_200.png")),
    ("Scenes", ("scene_16x9.jpg", "prop_1x1.png", "scene_pan.mov", "panorama_3x1.jpg")),
    ("Sound", ("theme.wav", "chime.mp3", "long_20s.wav")),
)
#: How history submissions end (share), and the codes their failures carry.
OUTCOMES: tuple[tuple[str, float], ...] = (
    ("succeeded", 0.86), ("failed", 0.08), ("rejected", 0.04), ("running", 0.02),
)  # fmt: skip
FAILURE_CODES: tuple[str, ...] = ("InternalServiceError", "SensitiveContent", "Timeout")
REJECTION_CODES: tuple[str, ...] = (wire.CODE_QUOTA_INSUFFICIENT, wire.CODE_RATE_LIMITED)


_ITEM_TYPE = {"Image": "image_url", "Video": "video_url", "Audio": "audio_url"}


class StepClock:
    """A settable clock (unix seconds) shared by the ledger and, when used, the sandbox."""

    def __init__(self, start: float) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value

    def now(self) -> float:
        """The sandbox's ``Clock`` protocol."""
        return self.value

    def advance(self, seconds: float) -> float:
        """Move forward (never back)."""
        self.value += max(0.0, seconds)
        return self.value


@dataclass
class Workload:
    """What was seeded."""

    ledger_url: str
    start: datetime
    end: datetime
    history: int = 0
    through_sandbox: int = 0
    assets: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.history + self.through_sandbox} submissions ({self.through_sandbox} through "
            f"the sandbox) from {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}, "
            f"{len(self.assets)} assets in {len(self.groups)} groups -> {self.ledger_url}"
        )


def seed_month(
    ledger_url: str,
    *,
    days: int = 30,
    per_day: float = 30.0,
    sandbox: bool = True,
    live_videos: int = 6,
    seed: int = 0,
    end: datetime | None = None,
    usage_reported: float = 1.0,
) -> Workload:
    """Fill the ledger at ``ledger_url`` with ``days`` of activity ending at ``end`` (now).

    ``usage_reported`` is the share of succeeded history tasks whose reply carries usage; the
    others answer as the documented wrapped fetch does, without usage, so the ledger records
    the estimate (``tokens_source`` ``estimated``)."""
    if not 0.0 <= usage_reported <= 1.0:
        raise ValueError("usage_reported must be a share from 0 to 1")
    if days < 1 or per_day <= 0:
        raise ValueError("days must be >= 1 and per_day > 0")
    stop = (end or datetime.now(UTC)).astimezone(UTC)
    begin = stop - timedelta(days=days)
    clock = StepClock(begin.timestamp())
    rng = random.Random(seed)
    result = Workload(ledger_url, begin, stop)
    with open_ledger(ledger_url, clock=clock, durable=False) as ledger:
        if sandbox:
            _through_sandbox(
                ledger, clock, result, rng, stop.timestamp(), live_videos, per_day, usage_reported
            )
        else:
            result.groups, result.assets = synthetic_library(begin.timestamp(), rng)
            ledger.snapshot_assets(result.assets, result.groups)
            result.history = seed_history(
                ledger,
                clock,
                result.assets,
                until=stop.timestamp(),
                per_day=per_day,
                rng=rng,
                usage_reported=usage_reported,
            )
    return result


def synthetic_library(
    start: float, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Groups and assets (wire dicts) shaped like :data:`LIBRARY`, for runs without a sandbox."""
    groups: list[dict[str, Any]] = []
    assets: list[dict[str, Any]] = []
    from orca_nb.sandbox.samples import SAMPLES

    created = datetime.fromtimestamp(start, tz=UTC)
    for g, (name, files) in enumerate(LIBRARY):
        group_id = f"group-{created:%Y%m%d%H%M%S}-{g:05d}"
        groups.append({"Id": group_id, "Name": name, "GroupType": "AIGC"})
        for f, filename in enumerate(files):
            sample = SAMPLES[filename]
            assets.append(
                {
                    "Id": f"asset-{created:%Y%m%d%H%M%S}-{g}{f:04d}",
                    "Name": filename,
                    "AssetType": sample.asset_type,
                    "Status": "Active" if sample.valid else "Failed",
                    "GroupId": group_id,
                    "Error": None if sample.valid else {"Code": sample.expected_error},
                    "CreateTime": (created + timedelta(minutes=rng.randint(1, 90))).isoformat(),
                }
            )
    return groups, assets


def seed_history(
    ledger: Ledger,
    clock: StepClock,
    assets: Sequence[dict[str, Any]],
    *,
    until: float,
    per_day: float,
    rng: random.Random,
    usage_reported: float = 1.0,
) -> int:
    """Submissions from the clock's time to ``until``, through the ledger's hook methods.

    Arrivals follow office hours (busier mid-day, quieter at weekends); queue and render times
    grow with resolution and duration; a few end failed, refused or still running.
    """
    active = [a for a in assets if a.get("Status") == "Active"]
    by_type = {t: [a for a in active if a["AssetType"] == t] for t in wire.ASSET_TYPES}
    labels = [key_label(k) for k in SUBMITTERS]
    count = 0
    # Thinning: candidates at the peak rate, kept with probability busyness(t). A weekday's
    # busyness integrates to about 8 peak hours, so per_day / 8 per hour gives per_day a day.
    peak_per_hour = per_day / 8
    while True:
        clock.advance(rng.expovariate(peak_per_hour) * 3600)
        if clock() >= until:
            return count
        if rng.random() >= _busyness(datetime.fromtimestamp(clock(), tz=UTC)):
            continue
        body = _random_body(rng, by_type)
        submitter = rng.choices(labels, (5, 3, 2))[0]
        _one_submission(ledger, clock, body, submitter, rng, count, usage_reported)
        count += 1


def _busyness(moment: datetime) -> float:
    """0..1: how likely people submit at this hour (UTC office hours, lighter weekends)."""
    hour = moment.hour + moment.minute / 60
    day = 0.35 if moment.weekday() >= 5 else 1.0
    return max(0.05, math.exp(-(((hour - 14) / 4.5) ** 2))) * day


def _random_body(rng: random.Random, by_type: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    mode = rng.choices(["text", "first_frame", "first_last", "reference"], (2, 3, 1, 4))[0]
    images, videos, audios = by_type["Image"], by_type["Video"], by_type["Audio"]
    content: list[dict[str, Any]] = []

    def item(asset: dict[str, Any], role: str) -> dict[str, Any]:
        kind = {"Image": "image_url", "Video": "video_url", "Audio": "audio_url"}[
            asset["AssetType"]
        ]
        return {"type": kind, kind: {"url": wire.ASSET_URL_SCHEME + asset["Id"]}, "role": role}

    if mode == "first_frame" and images:
        content.append(item(rng.choice(images), "first_frame"))
    elif mode == "first_last" and images:
        content += [item(rng.choice(images), "first_frame"), item(rng.choice(images), "last_frame")]
    elif mode == "reference":
        for asset in rng.sample(images, k=min(len(images), rng.randint(1, 3))):
            content.append(item(asset, "reference_image"))
        if videos and rng.random() < 0.3:
            content.append(item(rng.choice(videos), "reference_video"))
        if audios and rng.random() < 0.3:
            content.append(item(rng.choice(audios), "reference_audio"))
        if rng.random() < 0.15:
            url = "https://cdn.example.com/moodboard.png"
            content.append({"type": "image_url", "image_url": {"url": url},
                            "role": "reference_image"})  # fmt: skip
    metadata = {
        "content": content,
        "resolution": rng.choices(wire.RESOLUTIONS, (3, 5, 2))[0],
        "duration": rng.choices([4, 5, 8, 10, 15], (1, 5, 2, 2, 1))[0],
        "ratio": rng.choice(["16:9", "9:16", "1:1"]),
    }
    prompt = "[Image 1] walks through the rain" if content else "a quiet harbour at dawn"
    return {"model": wire.SEEDANCE_2, "prompt": prompt, "metadata": metadata}


def _one_submission(
    ledger: Ledger,
    clock: StepClock,
    body: dict[str, Any],
    submitter: str,
    rng: random.Random,
    number: int,
    usage_reported: float = 1.0,
) -> None:
    """One submission's life, with the clock set to when each step happens (restored after)."""
    at = clock()
    outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
    sid = ledger.before_submit(body, submitter=submitter, base_url=wire.DEFAULT_BASE_URL)
    if outcome == "rejected":
        code = rng.choice(REJECTION_CODES)
        ledger.submit_failed(sid, code=code, message=f"{code} (seeded)")
        return
    task_id = f"task_seeded{number:06d}"
    clock.value = at + rng.uniform(0.3, 1.5)
    ledger.after_submit(sid, {"id": task_id, "status": "queued", "progress": 0})
    metadata = body["metadata"]
    size = wire.OUTPUT_SIZES[(metadata["resolution"], metadata["ratio"])]
    scale = (size[0] * size[1] / (1280 * 720)) * (metadata["duration"] / 5)
    queue = rng.lognormvariate(2.3, 0.6)
    run = rng.lognormvariate(4.0, 0.35) * (0.5 + scale)
    clock.value = at + queue
    ledger.on_task({"id": task_id, "status": "running", "progress": 10})
    if outcome != "running":
        clock.value = at + queue + run
        state: dict[str, Any] = {"id": task_id, "status": outcome, "progress": 100}
        if outcome == "succeeded":
            # drawn apart from rng, so a seed gives the same month whatever usage_reported is
            if random.Random(number).random() < usage_reported:
                tokens = wire.usage_tokens(size[0], size[1], metadata["duration"])
                state["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
            state["video_url"] = f"https://example.invalid/{task_id}.mp4"
        else:
            state["error"] = {"code": rng.choice(FAILURE_CODES), "message": "seeded failure"}
        ledger.on_task(state)
    clock.value = at


def _through_sandbox(
    ledger: Ledger,
    clock: StepClock,
    result: Workload,
    rng: random.Random,
    until: float,
    live_videos: int,
    per_day: float,
    usage_reported: float = 1.0,
) -> None:
    from orca_nb.client import Orca
    from orca_nb.sandbox import SandboxConfig, SandboxServer

    config = SandboxConfig(
        processing="timed",
        processing_seconds=2.0,
        task_queue_seconds=8.0,
        task_seconds=45.0,
        clock=clock,
        seed=rng.randrange(2**31),
        seed_demo=False,
    )
    with (
        SandboxServer(config) as server,
        Orca(WORKLOAD_KEY, base_url=server.base_url, ledger=ledger, max_retries=0) as client,
    ):
        samples = server.root_url + "/sandbox/samples/"
        from orca_nb.sandbox.samples import SAMPLES

        uploaded: list[str] = []
        for name, files in LIBRARY:
            group_id = client.groups.create(name=name).id
            for filename in files:
                asset_type = cast(wire.AssetType, SAMPLES[filename].asset_type)
                created = client.assets.upload(
                    group_id=group_id, url=samples + filename, asset_type=asset_type, name=filename
                )
                uploaded.append(created.id)
                clock.advance(rng.uniform(20, 300))
        clock.advance(config.processing_seconds + 1)
        assets = [client.assets.get(a) for a in uploaded]
        groups = [g for g in client.groups.iter(group_type="aigc")]
        ledger.snapshot_assets(assets, groups)
        result.assets = [a.model_dump(by_alias=True, mode="json") for a in assets]
        result.groups = [g.model_dump(by_alias=True, mode="json") for g in groups]
        live_window = 2 * 3600.0
        result.history = seed_history(
            ledger,
            clock,
            result.assets,
            until=until - live_window,
            per_day=per_day,
            rng=rng,
            usage_reported=usage_reported,
        )
        clock.value = max(clock(), until - live_window)
        result.through_sandbox = _live(client, server, clock, result.assets, live_videos, rng)


def _live(
    client: Any,
    server: Any,
    clock: StepClock,
    assets: list[dict[str, Any]],
    videos: int,
    rng: random.Random,
) -> int:
    """Real submissions through the client: small renders, one failure, one 402 refusal."""
    from orca_nb.client.errors import OrcaError
    from orca_nb.sandbox import Fault

    images = [a for a in assets if a["AssetType"] == "Image" and a["Status"] == "Active"]
    backend = server.backend
    for n in range(videos):
        clock.advance(rng.uniform(60, 600))
        if n == 1:
            backend.fail_next_tasks(1, code="InternalServiceError")
        if n == 2:
            backend.faults.add("POST " + wire.VIDEOS_PATH, Fault.error(402))
        picked = rng.sample(images, k=min(2, len(images)))
        content = [
            {"type": "image_url", "image_url": {"url": wire.ASSET_URL_SCHEME + a["Id"]},
             "role": "reference_image"}
            for a in picked
        ]  # fmt: skip
        prompt = " and ".join(f"[Image {i + 1}]" for i in range(len(picked))) + " wave hello"
        try:
            task = client.videos.create(
                prompt=prompt, content=content, resolution="480p", duration=4, ratio="16:9"
            )
        except OrcaError:  # the refusal is recorded by the ledger hook
            continue
        clock.advance(10)
        client.videos.get(task.id)  # running
        clock.advance(rng.uniform(50, 120))
        backend.wait_for_renders([task.id])
        client.videos.get(task.id)  # finished
    return videos


def main(argv: Sequence[str] | None = None, *, out: Callable[[str], object] = print) -> int:
    """``python scripts/workload.py``: seed a ledger and say what was written."""
    parser = argparse.ArgumentParser(prog="python scripts/workload.py",
                                     description=__doc__.split("\n\n")[0])  # fmt: skip
    parser.add_argument("--ledger", required=True, help="ledger URL or path to fill")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=float, default=30.0, help="submissions per weekday")
    parser.add_argument("--live", type=int, default=6, help="real submissions through the sandbox")
    parser.add_argument("--no-sandbox", action="store_true", help="no server: invent the library")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--usage-reported",
        type=float,
        default=1.0,
        help="share of succeeded history tasks whose reply carries usage (the rest: estimated)",
    )
    args = parser.parse_args(argv)
    result = seed_month(
        args.ledger,
        days=args.days,
        per_day=args.per_day,
        sandbox=not args.no_sandbox,
        live_videos=args.live,
        seed=args.seed,
        usage_reported=args.usage_reported,
    )
    out(str(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
