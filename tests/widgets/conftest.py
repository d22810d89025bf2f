"""Widget test helpers: comm message capture and closing every widget a test made."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from ipywidgets import Widget
from ipywidgets.widgets.widget import _instances


@dataclass
class CommLog:
    """Sizes of the state messages widgets send to the browser."""

    messages: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(n for _, n in self.messages)

    def clear(self) -> None:
        self.messages.clear()


@pytest.fixture
def comm_log(monkeypatch: pytest.MonkeyPatch) -> CommLog:
    """Record the JSON size of every message any widget sends (state, buffers included)."""
    log = CommLog()
    original = Widget._send

    def send(self: Widget, msg: dict[str, Any], buffers: Any = None) -> None:
        size = len(json.dumps(msg, default=str)) + sum(len(b) for b in buffers or [])
        log.messages.append((type(self).__name__, size))
        original(self, msg, buffers)

    monkeypatch.setattr(Widget, "_send", send)
    return log


@pytest.fixture(autouse=True)
def _close_new_widgets() -> Iterator[None]:
    """Close the widgets a test made (not ipyvue's shared ones made at import)."""
    before = set(_instances)
    yield
    for key in set(_instances) - before:
        widget = _instances.get(key)
        if widget is not None:
            widget.close()
