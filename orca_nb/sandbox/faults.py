"""Fault injection per route: latency, error statuses, dropped connections, slow bodies.

A route is ``"METHOD /path"`` with the wire's path templates (``"POST /asset/files"``,
``"GET /asset/files/{asset_id}"``), a path alone (any method), or ``"*"`` (every ``/v1`` route).
Each request to a route takes the next action of its scripted sequence; when the sequence is
used up the route behaves normally again (or repeats it, with ``repeat=True``).
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["ok", "status", "drop_before", "drop_after", "latency", "slow_body"]


@dataclass(frozen=True)
class Fault:
    """One scripted action. Build with the class methods or :meth:`parse`."""

    kind: FaultKind
    status: int = 0
    retry_after: float | None = None
    seconds: float = 0.0

    @classmethod
    def ok(cls) -> Fault:
        """Serve the request normally."""
        return cls("ok")

    @classmethod
    def error(cls, status: int, *, retry_after: float | None = None) -> Fault:
        """Answer ``status`` (429 gets ``Retry-After``, default 1 s) without running the route."""
        if not 400 <= status <= 599:
            raise ValueError(f"a fault status must be 4xx or 5xx, not {status}")
        if status == 429 and retry_after is None:
            retry_after = 1.0
        return cls("status", status=status, retry_after=retry_after)

    @classmethod
    def drop_before(cls) -> Fault:
        """Close the connection before reading the request: nothing happens, no response."""
        return cls("drop_before")

    @classmethod
    def drop_after(cls) -> Fault:
        """Run the request (it takes effect), then close the connection without a response."""
        return cls("drop_after")

    @classmethod
    def latency(cls, seconds: float) -> Fault:
        """Wait ``seconds`` (real time) before serving normally."""
        return cls("latency", seconds=_non_negative(seconds))

    @classmethod
    def slow_body(cls, seconds: float) -> Fault:
        """Serve normally but trickle the response body out over ``seconds``."""
        return cls("slow_body", seconds=_non_negative(seconds))

    @classmethod
    def parse(cls, spec: str | int | Fault) -> Fault:
        """``"ok"``, ``429``/``"503"``, ``"drop_before"``, ``"drop_after"``,
        ``"latency:0.5"``, ``"slow_body:2"`` or a :class:`Fault`."""
        if isinstance(spec, Fault):
            return spec
        text = str(spec).strip()
        if text.isascii() and text.isdigit() and len(text) <= 3:
            return cls.error(int(text))
        name, _, arg = text.partition(":")
        if name == "ok":
            return cls.ok()
        if name == "drop_before":
            return cls.drop_before()
        if name == "drop_after":
            return cls.drop_after()
        if name in ("latency", "slow_body"):
            try:
                seconds = float(arg)
            except ValueError:
                raise ValueError(f"{name} needs seconds, e.g. '{name}:0.5'") from None
            return cls.latency(seconds) if name == "latency" else cls.slow_body(seconds)
        raise ValueError(
            f"unknown fault {spec!r}; use ok, a status like 429 or 503, drop_before, drop_after, "
            "latency:<s> or slow_body:<s>"
        )


MAX_FAULT_SECONDS = 3600.0  # a scripted wait is at most an hour


def _non_negative(seconds: float) -> float:
    if not 0 <= seconds <= MAX_FAULT_SECONDS:  # also refuses NaN
        raise ValueError(f"fault seconds must be from 0 to {MAX_FAULT_SECONDS:g}")
    return float(seconds)


class _Rule:
    def __init__(self, route: str, actions: list[Fault], repeat: bool, latency: float) -> None:
        self.route = route
        self.method, self.pattern = _compile(route)
        self.script = list(actions)
        self.pending: deque[Fault] = deque(actions)
        self.repeat = repeat
        self.latency = latency

    def matches(self, method: str, path: str) -> bool:
        return (self.method in (None, method.upper())) and bool(self.pattern.fullmatch(path))

    def take(self) -> Fault | None:
        if not self.pending and self.repeat:
            self.pending.extend(self.script)
        return self.pending.popleft() if self.pending else None


def _compile(route: str) -> tuple[str | None, re.Pattern[str]]:
    route = route.strip()
    if route == "*":
        return None, re.compile(r".*")
    method, _, path = route.partition(" ")
    if not path:
        method, path = "", method
    if not path.startswith("/"):
        raise ValueError(f"route {route!r} must look like 'POST /asset/files' or '/asset/files'")
    parts = re.split(r"(\{[^}]+\})", path.rstrip("/"))
    regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return (method.upper() or None), re.compile(regex + "/?")


@dataclass(frozen=True)
class Decision:
    """What to do with one request: wait ``latency`` s, then ``fault`` (``None``: serve)."""

    latency: float
    fault: Fault | None


class Faults:
    """The fault table of one backend (thread-safe, in memory only)."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def add(
        self,
        route: str,
        *actions: str | int | Fault,
        repeat: bool = False,
        latency: float = 0.0,
    ) -> None:
        """Script ``actions`` for ``route`` (paths relative to ``/v1``), replacing its rule.

        ``latency`` (real seconds) is added to every request of the route until cleared.
        """
        parsed = [Fault.parse(a) for a in actions]
        rule = _Rule(route, parsed, repeat, _non_negative(latency))
        with self._lock:
            self._rules = [r for r in self._rules if r.route != route]
            self._rules.append(rule)

    def clear(self, route: str | None = None) -> None:
        """Remove the rule of ``route``, or every rule."""
        with self._lock:
            self._rules = [] if route is None else [r for r in self._rules if r.route != route]

    def decide(self, method: str, path: str) -> Decision:
        """The action for one request to ``path`` (relative to ``/v1``); consumes the script."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    return Decision(rule.latency, rule.take())
        return Decision(0.0, None)

    def describe(self) -> list[dict[str, object]]:
        """The current rules, for the admin route."""
        with self._lock:
            return [
                {
                    "route": r.route,
                    "pending": [f.__dict__ for f in r.pending],
                    "repeat": r.repeat,
                    "latency": r.latency,
                }
                for r in self._rules
            ]
