"""Real Jupyter servers (Voilà, JupyterLab) for browser tests: on loopback, always stopped.

Each server runs in its own process group with a private Jupyter config/runtime/data dir and the
embedded sandbox's database in a temp file, so nothing of the user's set-up leaks in or out.
Every wait is bounded; `stop()` terminates the group, then kills what is left (kernels included,
since Jupyter starts each kernel in a session of its own).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import psutil  # type: ignore[import-untyped]  # ships with ipykernel

from orca_nb.widgets.servers import CULL_FLAGS

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def isolated_env(home: Path, sandbox_db: Path) -> dict[str, str]:
    """The environment for a server and its kernels: private Jupyter dirs, a temp sandbox DB,
    the repository importable, and no real OrcaRouter credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "ORCAROUTER_"))}
    dirs = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTER_DATA_DIR": home / "data",
        "IPYTHONDIR": home / "ipython",
    }
    for name, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    # Lab renders only visible cells by default; tests read every cell's prompt.
    settings = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}\n')
    # Skip Lab's "receive news?" prompt, which would cover the menu bar.
    news = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)
    (news / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}\n'
    )
    env["ORCA_NB_SANDBOX_DB"] = str(sandbox_db)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ServerProcess:
    """One Jupyter server process (and everything it starts), logging to a file."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        *,
        port: int,
        cwd: Path,
        env: Mapping[str, str],
        log_path: Path,
    ) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("wb")
        self._proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        """The server's process id (also its process group id)."""
        return self._proc.pid

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log, for failure messages."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_for_port(self, timeout: float) -> None:
        """Block until the server accepts connections; fail with its log if it dies or is slow."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self._proc.returncode}:\n{self.log_tail()}"
                )
            if port_open(self.port):
                return
            time.sleep(0.2)
        raise TimeoutError(
            f"{self.name} did not open port {self.port} in {timeout}s:\n{self.log_tail()}"
        )

    def descendants(self) -> list[psutil.Process]:
        """Every live process this server started (kernels included)."""
        try:
            found: list[psutil.Process] = psutil.Process(self._proc.pid).children(recursive=True)
            return found
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server, its process group and its kernels; kill what ignores SIGTERM."""
        procs = self.descendants()
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGTERM)
        for p in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.terminate()
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=timeout)
        _gone, alive = psutil.wait_procs(procs, timeout=timeout)
        for p in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        psutil.wait_procs(alive, timeout=timeout)
        self._log.close()


def start_voila(
    root: Path, env: Mapping[str, str], log_dir: Path, extra_args: Sequence[str] = ()
) -> ServerProcess:
    """Voilà serving every notebook under ``root`` at ``/voila/render/NAME.ipynb``, as the
    launcher runs it (``orca_nb.widgets.servers``: kernels end with their page, idle ones are
    culled); ``extra_args`` come last, so they override the launcher's flags."""
    port = free_port()
    args = [
        "-m",
        "orca_nb.widgets.servers",
        str(root),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        "--show_tracebacks=True",
        "--Voila.token=",
        *extra_args,
    ]
    return ServerProcess(
        "voila", args, port=port, cwd=root, env=env, log_path=log_dir / "voila.log"
    )


def start_lab(root: Path, env: Mapping[str, str], log_dir: Path) -> ServerProcess:
    """JupyterLab on ``root`` with no token and no browser."""
    port = free_port()
    args = [
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--IdentityProvider.token=",
        *CULL_FLAGS,
    ]
    if os.geteuid() == 0:  # containers and CI often run as root; Jupyter refuses without this
        args.append("--allow-root")
    return ServerProcess("lab", args, port=port, cwd=root, env=env, log_path=log_dir / "lab.log")
