"""The embedded OrcaRouter sandbox: a local emulator of the Seedance asset library and video API.

``SandboxServer`` serves a ``Backend`` (state + rules, SQLite, injectable clock) over loopback
HTTP; ``ensure_embedded()`` is the process-wide instance ``orca_nb.Orca()`` uses without a key.
"""

from __future__ import annotations

from orca_nb.sandbox.app import create_app
from orca_nb.sandbox.backend import Backend
from orca_nb.sandbox.clock import ManualClock, SystemClock
from orca_nb.sandbox.config import SandboxConfig
from orca_nb.sandbox.embedded import Embedded, ensure_embedded, shutdown_embedded
from orca_nb.sandbox.errors import ApiError
from orca_nb.sandbox.faults import Fault, Faults
from orca_nb.sandbox.server import SandboxServer

__all__ = [
    "ApiError",
    "Backend",
    "Embedded",
    "Fault",
    "Faults",
    "ManualClock",
    "SandboxConfig",
    "SandboxServer",
    "SystemClock",
    "create_app",
    "ensure_embedded",
    "shutdown_embedded",
]
