"""The render worker: turns a queued task into a real MP4 from its referenced media.

Runs on the backend's single render thread, never on the server's event loop. Media comes from
the caller's assets, ``data:`` URIs, and loopback URLs (fetched like uploads); other hosts are
not contacted, so their items only shape the prompt.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orca_nb import wire
from orca_nb.sandbox import billing
from orca_nb.sandbox.processing import DownloadError, fetch, is_loopback_host

if TYPE_CHECKING:
    from orca_nb.sandbox.assets import Assets

log = logging.getLogger(__name__)


def render_task(backend: Assets, task_id: str) -> None:
    """Render ``task_id`` and store the result (``render_state`` done or failed)."""
    with backend.db.tx() as db:
        row = db.task(task_id)
        if row is None or row["render_state"] != "pending":
            return
        params = json.loads(row["params"])
        media: list[tuple[str, str, bytes | None]] = [
            (ref["kind"], ref["role"], db.asset_media(ref["asset_id"]) if ref["asset_id"] else None)
            for ref in params["refs"]
        ]
    try:
        from orca_nb.sandbox.render import RenderSpec, render_video

        resolved = [
            (kind, role, data if data is not None else _url_bytes(backend, ref["url"]))
            for (kind, role, data), ref in zip(media, params["refs"], strict=True)
        ]
        ratio = params["ratio"]
        if ratio == "adaptive":
            ratio = _first_ratio(resolved, nearest_ratio) or "16:9"
        width, height = wire.OUTPUT_SIZES[(params["resolution"], ratio)]
        audios = [d for k, _, d in resolved if k == "audio" and d]
        spec = RenderSpec(
            width=width,
            height=height,
            seconds=params["duration"],
            fps=wire.OUTPUT_FPS,
            images=[d for k, r, d in resolved if k == "image" and r == "reference_image" and d],
            videos=[d for k, _, d in resolved if k == "video" and d],
            audios=audios,
            first_frame=next((d for k, r, d in resolved if r == "first_frame" and d), None),
            last_frame=next((d for k, r, d in resolved if r == "last_frame" and d), None),
            generate_audio=bool(params["generate_audio"]),
            seed=int(params["seed_used"]),
            prompt=str(params["prompt"]),
        )
        # render_once: one MP4 (and last frame) per text-only shape, shared by every such task
        shared = (
            f"once_{width}x{height}_{params['duration']}s_{int(spec.generate_audio)}"
            if backend.config.render_once and not params["refs"]
            else None
        )
        video, last_frame = b"", None
        if shared is None or not _have_blob(backend, "frame_" + shared):
            video = render_video(spec)
            if params["return_last_frame"] or shared is not None:
                last_frame = _last_frame_png(video)
    except DownloadError as exc:
        _store_failure(backend, task_id, wire.ASSET_ERROR_DOWNLOAD_FAILED, str(exc))
        return
    except Exception as exc:  # a render bug must fail the task, not hang it
        log.exception("sandbox render of %s failed", task_id)
        _store_failure(backend, task_id, wire.TASK_ERROR_INTERNAL, f"rendering failed: {exc}")
        return
    params.update(
        ratio_used=ratio,
        size_used=[width, height],
        # what upstream reports: the section 12.4 rule at the size rendered, every reference
        # video's real length counted (asset lengths are stored; URL videos are measured)
        usage_tokens=billing.task_tokens(
            params, ratio=ratio, input_seconds=_video_seconds(params["refs"], resolved)
        ),
    )
    with backend.db.tx() as db:
        if db.task(task_id) is None:
            return  # reset while rendering
        name = shared or task_id
        blob_id, frame_id = "video_" + name, "frame_" + name
        if video:  # a shared pair is stored once: the video first, the frame (its mark) last
            db.insert_blob(blob_id, "video/mp4", video)
            if last_frame is not None:
                db.insert_blob(frame_id, "image/png", last_frame)
        db.render_done(task_id, blob_id, frame_id if params["return_last_frame"] else None, params)


def _have_blob(backend: Assets, blob_id: str) -> bool:
    with backend.db.tx() as db:
        return db.blob(blob_id) is not None


def _store_failure(backend: Assets, task_id: str, code: str, message: str) -> None:
    with backend.db.tx() as db:
        db.render_failed(task_id, code, message)


def _url_bytes(backend: Assets, url: str) -> bytes | None:
    if url.startswith("data:"):
        try:
            return base64.b64decode(url.split(",", 1)[1], validate=False)
        except ValueError:
            return None
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if not is_loopback_host(host):
        return None  # the sandbox never contacts other hosts
    return fetch(
        url,
        internal=backend.internal_bytes,
        timeout=backend.config.fetch_timeout,
        max_bytes=backend.config.fetch_max_bytes,
    )


def _first_ratio(
    media: list[tuple[str, str, bytes | None]], nearest: Callable[[int, int], str]
) -> str | None:
    from orca_nb.media import MediaUnreadableError, probe_bytes

    for kind, _, data in media:
        if kind in ("image", "video") and data:
            try:
                info = probe_bytes(data)
            except MediaUnreadableError:
                continue
            if info.width and info.height:
                return nearest(info.width, info.height)
    return None


def _video_seconds(
    refs: list[dict[str, Any]], media: list[tuple[str, str, bytes | None]]
) -> dict[str, float]:
    """Lengths of the reference videos whose length the request does not carry, by URL."""
    from orca_nb.media import MediaUnreadableError, probe_bytes

    lengths: dict[str, float] = {}
    for ref, (kind, _, data) in zip(refs, media, strict=True):
        if kind != "video" or ref.get("seconds") is not None or not data:
            continue
        try:
            seconds = probe_bytes(data, decode=False).seconds
        except MediaUnreadableError:
            continue
        if seconds:
            lengths[ref["url"]] = seconds
    return lengths


def _last_frame_png(video: bytes) -> bytes:
    import av
    from PIL import Image

    last: Image.Image | None = None
    with av.open(io.BytesIO(video), mode="r") as container:
        for frame in container.decode(video=0):
            last = frame.to_image()  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    (last or Image.new("RGB", (16, 16))).save(out, format="PNG")
    return out.getvalue()


def nearest_ratio(width: int, height: int) -> str:
    """The output ratio (of ``wire.RATIOS`` except adaptive) closest to ``width:height``."""
    target = math.log(width / height)

    def distance(ratio: str) -> float:
        a, b = ratio.split(":")
        return abs(math.log(int(a) / int(b)) - target)

    return min((r for r in wire.RATIOS if r != "adaptive"), key=distance)
