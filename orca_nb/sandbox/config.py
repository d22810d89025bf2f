"""The sandbox's settings: where state lives, how fast things progress, which shapes it serves."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from orca_nb import wire
from orca_nb.sandbox.clock import Clock

Processing = Literal["instant", "manual", "timed"]
PROCESSING_MODES: tuple[str, ...] = ("instant", "manual", "timed")
#: Shapes of ``GET /video/generations/{id}``, the default first (see ``shapes.TASK_VIEWS``):
#: the documented new-api wrapper without / with the inner Ark object, raw Ark, OpenAI video.
TASK_SHAPES: tuple[str, ...] = ("newapi", "newapi_ark", "ark", "openai")


@dataclass
class SandboxConfig:
    """Settings of one sandbox backend.

    ``processing`` decides how assets and video tasks progress: ``instant`` (settled as soon as
    they are created), ``manual`` (only on ``Backend.step()``) or ``timed`` (after the given
    seconds on the backend's clock). ``db_path=None`` (or ``":memory:"``) keeps state in memory.
    """

    db_path: str | None = None
    processing: Processing = "timed"
    processing_seconds: float = 2.0  # timed: Processing -> Active/Failed after this long
    task_queue_seconds: float = 1.0  # timed: queued -> running after this long
    task_seconds: float = 6.0  # timed: running -> succeeded after this long
    task_steps: int = 3  # manual: steps from queued to succeeded
    asset_cap: int = wire.DEFAULT_ASSET_CAP
    task_shape: str = "newapi"  # DOC-other 12.1: the wrapper is the documented shape
    url_ttl: float = float(wire.SIGNED_URL_TTL_SECONDS)
    video_url_ttl: float = float(wire.VIDEO_URL_TTL_SECONDS)
    session_ttl: float = float(wire.SESSION_TTL_SECONDS)
    seed: int = 0
    clock: Clock | None = field(default=None, repr=False)
    fetch_timeout: float = 10.0  # seconds for fetching a loopback upload URL
    fetch_max_bytes: int = 64 * wire.MB  # larger downloads fail as DownloadFailed
    seed_demo: bool = True  # give wire.DEFAULT_SANDBOX_KEY demo groups/assets on first use
    # The play balance (see ``billing``): each account's USD before spending, and the price.
    play_balance_usd: float = 100.0  # GUESS: enough for ~130 five-second 720p videos
    usd_per_million_tokens: float = 7.0  # GUESS: no published OrcaRouter price per token
    # GET /models: list the not-yet-routable models too (routable false, no endpoint types),
    # or only the routable ones as a new-api group listing would (NEWAPI).
    list_unroutable_models: bool = True  # GUESS
    # Per-account limits (None: no limit, the default). GUESS, like Ark: tasks above the running
    # cap are accepted and stay ``queued`` until a running one ends (first come, first served);
    # ``refuse_over_running_cap`` answers 429 instead while the account's queued + running tasks
    # fill the cap. ``submits_per_minute``: task creates in any rolling 60 s (DOC 1.2: 429 with
    # Retry-After; a refused create makes and charges nothing).
    max_running_tasks: int | None = None
    refuse_over_running_cap: bool = False
    submits_per_minute: int | None = None
    # Load tests: render one MP4 per text-only request shape (size, duration, audio) and serve it
    # to every such task, instead of ~0.5 s of CPU per task (requests with references and the
    # token figures are unchanged; the picture ignores seed and prompt).
    render_once: bool = False

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the setting when a value is out of range."""
        _check_types(self)
        if self.processing not in PROCESSING_MODES:
            raise ValueError(
                f"processing must be one of {PROCESSING_MODES}, not {self.processing!r}"
            )
        if self.task_shape not in TASK_SHAPES:
            raise ValueError(f"task_shape must be one of {TASK_SHAPES}, not {self.task_shape!r}")
        for name in ("processing_seconds", "task_queue_seconds", "task_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("play_balance_usd", "usd_per_million_tokens"):  # finite: _check_types
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("url_ttl", "video_url_ttl", "session_ttl", "fetch_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if self.task_steps < 1:
            raise ValueError("task_steps must be >= 1")
        if self.asset_cap < 0:
            raise ValueError("asset_cap must be >= 0")
        for name in ("max_running_tasks", "submits_per_minute"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1 (or None: no limit)")

    def updated(self, **changes: Any) -> SandboxConfig:
        """A validated copy with ``changes`` applied (unknown names raise ``ValueError``)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown sandbox setting(s): {', '.join(unknown)}")
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return SandboxConfig(**values)


MAX_SETTING_NUMBER = 1e10  # seconds, counts and prices beyond this are refused (NaN/inf too)


def _check_types(config: SandboxConfig) -> None:
    """Every ``float`` setting a finite number, every ``int`` one an integer, every ``bool`` /
    ``str`` one of its type, within +-``MAX_SETTING_NUMBER`` (so a setting can never break
    later arithmetic on dates and timeouts). Raises ``ValueError`` naming the setting."""
    for f in fields(config):
        value, kind = getattr(config, f.name), str(f.type)
        if kind.endswith(" | None"):
            if value is None:
                continue
            kind = kind.removesuffix(" | None")
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{f.name} must be a number, not {type(value).__name__}")
            if not math.isfinite(value) or abs(value) > MAX_SETTING_NUMBER:
                raise ValueError(
                    f"{f.name} must be a finite number of at most {MAX_SETTING_NUMBER:g}"
                )
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{f.name} must be an integer, not {type(value).__name__}")
            if abs(value) > MAX_SETTING_NUMBER:
                raise ValueError(f"{f.name} must be an integer of at most {MAX_SETTING_NUMBER:g}")
        elif kind == "bool" and not isinstance(value, bool):
            raise ValueError(f"{f.name} must be true or false")
        elif kind == "str" and not isinstance(value, str):
            raise ValueError(f"{f.name} must be a string")


#: Settings the embedded sandbox reads from the environment (``ORCA_NB_SANDBOX_<NAME>``), e.g.
#: ``ORCA_NB_SANDBOX_MAX_RUNNING_TASKS=3`` or ``ORCA_NB_SANDBOX_TASK_SECONDS=20``.
ENV_SETTINGS: tuple[str, ...] = (
    "task_shape",
    "task_queue_seconds",
    "task_seconds",
    "max_running_tasks",
    "refuse_over_running_cap",
    "submits_per_minute",
    "render_once",
)
ENV_PREFIX = "ORCA_NB_SANDBOX_"


def env_name(setting: str) -> str:
    """The environment variable of one setting: ``ORCA_NB_SANDBOX_<SETTING>``."""
    return ENV_PREFIX + setting.upper()


def from_env(config: SandboxConfig, environ: Mapping[str, str]) -> SandboxConfig:
    """``config`` with the :data:`ENV_SETTINGS` set in ``environ`` applied (an empty value is
    unset; ``none`` clears a limit). A bad value raises ``ValueError`` naming the variable."""
    types = {f.name: str(f.type) for f in fields(config)}
    changes: dict[str, Any] = {}
    for name in ENV_SETTINGS:
        raw = environ.get(env_name(name), "").strip()
        if not raw:
            continue
        kind = types[name]
        try:
            if kind.endswith(" | None") and raw.lower() == "none":
                value: Any = None
            elif kind.startswith("int"):
                value = int(raw)
            elif kind.startswith("float"):
                value = float(raw)
            elif kind == "bool":
                if raw.lower() not in ("1", "true", "yes", "0", "false", "no"):
                    raise ValueError("use 1/true/yes or 0/false/no")
                value = raw.lower() in ("1", "true", "yes")
            else:
                value = raw
            changes[name] = value
            config.updated(**{name: value})
        except ValueError as exc:
            raise ValueError(f"{env_name(name)}={raw!r}: {exc}") from None
    return config.updated(**changes) if changes else config
