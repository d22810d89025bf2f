"""Shared sandbox fixtures (owned by the sandbox): a real loopback server on an in-memory
backend with a manual clock and instant processing, reset before every test.

Also: every test run records into a throwaway usage ledger (``$ORCA_NB_LEDGER`` points at a
temp SQLite file for the whole session, inherited by servers and kernels tests start), never
the user's real one.

And: the run ends when its tests do (``pytest_unconfigure``'s exit watchdog).
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from orca_nb.sandbox import Backend, ManualClock, SandboxConfig, SandboxServer

SANDBOX_TEST_KEY = "sk-orca-sandbox-test"
LEDGER_ENV = "ORCA_NB_LEDGER"
#: How long the interpreter may take to exit after the last test before the watchdog ends it.
EXIT_GRACE_SECONDS = 120.0


def pytest_unconfigure(config: pytest.Config) -> None:
    """Turn a hang at exit into a failure that says why.

    Python waits for every non-daemon thread before it exits (DBOS's workflow threads among
    them). A thread that never ends once kept a CI run alive, silently, until its time limit. A
    daemon watchdog lives only as long as that wait: when it outlasts the grace period, it prints
    every thread's stack and ends the process with status 3.
    """

    def watchdog() -> None:
        time.sleep(EXIT_GRACE_SECONDS)
        names = [t.name for t in threading.enumerate() if not t.daemon and t.is_alive()]
        err = sys.__stderr__ or sys.stderr
        err.write(
            f"\n[tests] the tests ended but the process did not exit after "
            f"{EXIT_GRACE_SECONDS:.0f}s; threads still running: {names}\n"
        )
        faulthandler.dump_traceback(file=err, all_threads=True)
        err.flush()
        os._exit(3)

    threading.Thread(target=watchdog, name="tests-exit-watchdog", daemon=True).start()


@pytest.fixture(scope="session", autouse=True)
def _throwaway_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Point the default usage ledger at a temp file for the session (restored afterwards).

    Session-scoped so it is in place before session fixtures start servers and kernels; a test
    wanting its own ledger sets ``ORCA_NB_LEDGER`` with ``monkeypatch.setenv``.
    """
    url = f"sqlite://{tmp_path_factory.mktemp('ledger') / 'ledger.sqlite3'}"
    saved = os.environ.get(LEDGER_ENV)
    os.environ[LEDGER_ENV] = url
    try:
        yield url
    finally:
        if saved is None:
            os.environ.pop(LEDGER_ENV, None)
        else:
            os.environ[LEDGER_ENV] = saved


@pytest.fixture(scope="session")
def _sandbox_session_server() -> Iterator[SandboxServer]:
    backend = Backend(SandboxConfig(processing="instant", clock=ManualClock()))
    server = SandboxServer(backend).start()
    try:
        yield server
    finally:
        server.close()
        backend.close()


@pytest.fixture
def sandbox_backend(_sandbox_session_server: SandboxServer) -> Backend:
    """The test sandbox's backend, freshly reset: in-memory, ``ManualClock``, instant processing.

    Change settings with ``sandbox_backend.configure(processing="manual")``; the next test
    starts from the defaults again.
    """
    backend = _sandbox_session_server.backend
    backend.wait_for_renders()
    backend.reset()
    return backend


@pytest.fixture
def sandbox_server(
    _sandbox_session_server: SandboxServer, sandbox_backend: Backend
) -> SandboxServer:
    """A real loopback sandbox server (``.base_url``, ``.root_url``) on ``sandbox_backend``."""
    return _sandbox_session_server


@pytest.fixture
def sandbox_key() -> str:
    """The sandbox account tests use (``sk-orca-sandbox-test``)."""
    return SANDBOX_TEST_KEY
