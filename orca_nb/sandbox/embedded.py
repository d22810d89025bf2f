"""The embedded sandbox: one loopback server per process, started on first use, used by
``orca_nb.Orca()`` when no API key is configured."""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass

from orca_nb import wire
from orca_nb.sandbox.config import SandboxConfig, env_name, from_env
from orca_nb.sandbox.server import SandboxServer

DB_ENV = "ORCA_NB_SANDBOX_DB"
#: The embedded sandbox's task shape (``config.TASK_SHAPES``), e.g. to run the notebooks against
#: each shape: ``ORCA_NB_SANDBOX_TASK_SHAPE=ark``. Unset: the documented default.
TASK_SHAPE_ENV = env_name("task_shape")


@dataclass(frozen=True)
class Embedded:
    """The running embedded sandbox: where it is and the demo key to use."""

    base_url: str
    api_key: str
    server: SandboxServer


_lock = threading.Lock()
_embedded: Embedded | None = None


def default_db_path() -> str:
    """``$ORCA_NB_SANDBOX_DB`` (``:memory:`` allowed), else the user data directory."""
    override = os.environ.get(DB_ENV)
    if override:
        return override
    return str(wire.data_file("sandbox.sqlite3"))


def ensure_embedded() -> Embedded:
    """Start the process-wide sandbox if needed and return it (thread-safe)."""
    global _embedded
    with _lock:
        if _embedded is not None and _embedded.server.running:
            return _embedded
        # ORCA_NB_SANDBOX_TASK_SHAPE, _TASK_SECONDS, _MAX_RUNNING_TASKS ... (config.ENV_SETTINGS);
        # a wrong value raises, naming the variable
        config = from_env(SandboxConfig(db_path=default_db_path()), os.environ)
        server = SandboxServer(config).start()
        _embedded = Embedded(server.base_url, wire.DEFAULT_SANDBOX_KEY, server)
        return _embedded


def shutdown_embedded() -> None:
    """Stop the embedded sandbox (it restarts on the next :func:`ensure_embedded`)."""
    global _embedded
    with _lock:
        if _embedded is not None:
            _embedded.server.close()
            _embedded = None


atexit.register(shutdown_embedded)
