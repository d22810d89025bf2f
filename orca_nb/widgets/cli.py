"""``orca-nb studio``: open the studio notebook on the embedded sandbox, in JupyterLab or Voilà.

The server listens on 127.0.0.1 only, with a fresh random token that is part of the printed URL.
Real OrcaRouter credentials (``ORCAROUTER_API_KEY``/``ORCAROUTER_BASE_URL``) are removed from the
server's environment, so the studio always talks to the sandbox. Ctrl+C stops the server (and its
kernels) within a bounded time. A Voilà page's kernel ends when the page is reloaded or closed,
and the server culls kernels no page is connected to (see ``orca_nb.widgets.servers``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import webbrowser
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from orca_nb import wire
from orca_nb.widgets.servers import CULL_FLAGS

STUDIO_NOTEBOOK = "studio.ipynb"
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 15.0
Mode = Literal["lab", "voila"]

_PACKAGE_DIR = Path(__file__).resolve().parent
_SEARCH = (
    _PACKAGE_DIR / STUDIO_NOTEBOOK,  # if a wheel ships the notebook inside the package
    _PACKAGE_DIR.parents[1] / "notebooks" / STUDIO_NOTEBOOK,  # a clone of the repository
)


@dataclass(frozen=True)
class Launch:
    """Everything needed to start the studio server: command, directory, environment, URL."""

    mode: Mode
    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]
    port: int
    url: str


def find_notebook(explicit: str | None = None) -> Path:
    """The studio notebook: `explicit` if given, else the package's or the repository's copy."""
    candidates = (Path(explicit),) if explicit else _SEARCH
    for path in candidates:
        if path.is_file():
            return path.resolve()
    where = ", ".join(str(p) for p in candidates)
    raise FileNotFoundError(
        f"studio notebook not found (looked at {where}); run from a clone of the orca_nb "
        "repository or pass --notebook PATH"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def studio_env(base: Mapping[str, str]) -> dict[str, str]:
    """`base` without real OrcaRouter credentials, with this package importable by kernels."""
    env = {k: v for k, v in base.items() if k not in (wire.API_KEY_ENV, wire.BASE_URL_ENV)}
    root = str(_PACKAGE_DIR.parents[1])
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        env["PYTHONPATH"] = os.pathsep.join([root, *paths])
    return env


def build_launch(
    mode: Mode,
    notebook: Path,
    *,
    port: int | None = None,
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Launch:
    """The command that serves `notebook` in `mode` on 127.0.0.1:`port` (free port if None)."""
    port = port or free_port()
    token = token if token is not None else secrets.token_urlsafe(24)
    env = studio_env(os.environ if environ is None else environ)
    query = f"?token={token}" if token else ""
    if mode == "voila":
        argv = [
            sys.executable, "-m", "orca_nb.widgets.servers", notebook.name, "--no-browser",
            f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
            f"--Voila.token={token}",
        ]  # fmt: skip
        url = f"http://127.0.0.1:{port}/{query}"
    else:
        argv = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={notebook.parent}", f"--IdentityProvider.token={token}",
            *CULL_FLAGS,
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.append("--allow-root")  # containers run as root; Jupyter refuses without it
        url = f"http://127.0.0.1:{port}/lab/tree/{notebook.name}{query}"
    return Launch(mode, tuple(argv), notebook.parent, env, port, url)


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _descendants(pid: int) -> list[int]:
    """Ids of every live process below `pid` (Linux /proc; empty elsewhere)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # the command name (field 2) may hold spaces; fields after its ")" are fixed
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent]
        found.extend(kids)
        frontier.extend(kids)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop(proc: subprocess.Popen[bytes]) -> int:
    """Stop the server's process group and the kernels it started (each in its own session):
    SIGTERM first, SIGKILL for whatever is still there after a bounded wait."""
    kernels = _descendants(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT_SECONDS)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        left = [pid for pid in kernels if _alive(pid)]
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 3.0
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = [pid for pid in left if _alive(pid)]
    return proc.returncode


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(launch: Launch, *, open_browser: bool = True) -> int:
    """Start the server, print its URL once it listens, open a browser, wait until it ends.

    Ctrl+C or SIGTERM stops the server and its kernels (bounded waits) and returns 0.
    """
    with contextlib.suppress(ValueError):  # only the main thread may set signal handlers
        signal.signal(signal.SIGTERM, _raise_interrupt)
    proc = subprocess.Popen(
        launch.argv,
        cwd=launch.cwd,
        env=dict(launch.env),
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _port_open(launch.port):
            if proc.poll() is not None:
                print(f"orca-nb studio: the {launch.mode} server exited", file=sys.stderr)
                return proc.returncode or 1
            if time.monotonic() > deadline:
                print(
                    f"orca-nb studio: no answer on port {launch.port} after "
                    f"{START_TIMEOUT_SECONDS:.0f}s; stopping",
                    file=sys.stderr,
                )
                _stop(proc)
                return 1
            time.sleep(0.2)
        name = "Voilà" if launch.mode == "voila" else "JupyterLab"
        print(
            f"\norca-nb studio ({name}, embedded sandbox: not the real OrcaRouter service)\n"
            f"    {launch.url}\n"
            "Open that URL in a browser (it is reachable from this machine only). Ctrl+C stops.\n",
            flush=True,
        )
        if open_browser:
            webbrowser.open(launch.url)
        return proc.wait()
    except KeyboardInterrupt:
        print("\norca-nb studio: stopping", file=sys.stderr)
        _stop(proc)
        return 0
    finally:
        if proc.poll() is None:
            _stop(proc)


def _main(args: argparse.Namespace) -> int:
    try:
        notebook = find_notebook(args.notebook)
    except FileNotFoundError as exc:
        return wire.command_failed("studio", exc)
    mode: Mode = "voila" if args.voila else "lab"
    launch = build_launch(mode, notebook, port=args.port)
    return run(launch, open_browser=not args.no_browser)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``studio`` on the top-level ``orca-nb`` parser (sets ``func(args) -> int``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "studio",
        help="open the studio notebook on the embedded sandbox (JupyterLab or Voilà)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--lab", action="store_true", help="open in JupyterLab (the default)")
    which.add_argument("--voila", action="store_true", help="open as a Voilà page (no code)")
    parser.add_argument(
        "--port", type=_port, default=None, help="port on 127.0.0.1 (default: free)"
    )
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    parser.add_argument("--notebook", default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=_main)
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, got {value}")
    return value


__all__ = ["Launch", "add_parser", "build_launch", "find_notebook", "run"]
