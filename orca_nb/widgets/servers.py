"""Settings for the Jupyter servers orca_nb starts: a kernel ends with its Voilà page, and
kernels nobody is connected to are culled.

* **Voilà's shutdown beacon.** Voilà 0.5 shuts a page's kernel down when the page unloads: a
  ``beforeunload`` handler posts ``/voila/api/shutdown/<kernel>`` with the ``_xsrf`` value it
  reads from the page's cookie. But Voilà's page handler never asks for an xsrf token, so the
  cookie is never set, the beacon carries an empty ``_xsrf``, the server answers ``403 '_xsrf'
  argument missing from POST`` and the kernel (300-400 MB with its own sandbox) stays. The
  fix at its cause is :func:`set_xsrf_cookie`, a Voilà ``prelaunch_hook`` that asks for the
  token (Tornado then sets the cookie on the page's response); xsrf checks stay on.
* **Culling.** :data:`CULL_FLAGS` make the server shut down kernels idle for
  :data:`CULL_IDLE_SECONDS` that no page is connected to (a closed tab, a crashed browser);
  Voilà's after :data:`VOILA_CULL_IDLE_SECONDS` (a page reloaded before its beacon was set up).
  Widget traffic (``comm_*``) does not count as use: a live panel's refresher in a kernel
  nobody watches would otherwise keep it alive for ever. Connected kernels are never culled.
  Jupyter Server still counts a message whose *parent* is tracked, and a refresher's widget
  updates carry the ``execute_request`` that started it (the studio's full refresh every 60 s
  kept an abandoned Voilà kernel "active" for ever), so Voilà's kernel manager
  (:func:`page_kernel_manager`) ends a kernel that no page has been connected to, and that has
  not been executing, for :data:`VOILA_CULL_IDLE_SECONDS` on end, whatever its traffic.

* **Remote notebooks.** On Binder or JupyterHub the kernel's loopback sandbox cannot be reached
  from a phone, but the notebook server can: :func:`public_link` turns a loopback link (the
  sandbox's verification page) into the same page through ``jupyter-server-proxy`` at the
  notebook server's own address (``<origin><prefix>proxy/<port>/<path>``), so the QR code works
  in a remote demo. Local use is unchanged.

``python -m orca_nb.widgets.servers VOILA-ARGS...`` runs Voilà with both.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from orca_nb import wire

#: A kernel nobody is connected to is shut down after this long without activity.
CULL_IDLE_SECONDS = 600
#: How often the server looks for such kernels.
CULL_INTERVAL_SECONDS = 60
#: Voilà: a page's kernel without a page is useless, and a page unloaded before its widget
#: manager set up the shutdown beacon (a fast reload) leaves one: culled after this long.
VOILA_CULL_IDLE_SECONDS = 60
VOILA_CULL_INTERVAL_SECONDS = 10

# jupyter_server's default untracked types (2.x), plus widget traffic: not a person's activity.
_UNTRACKED = (
    "comm_info_request", "comm_info_reply", "kernel_info_request", "kernel_info_reply",
    "shutdown_request", "shutdown_reply", "interrupt_request", "interrupt_reply",
    "debug_request", "debug_reply", "stream", "display_data", "update_display_data",
    "execute_input", "execute_result", "error", "status", "clear_output", "debug_event",
    "input_request", "input_reply", "comm_open", "comm_msg", "comm_close",
)  # fmt: skip


def cull_flags(idle: int, interval: int) -> tuple[str, ...]:
    """Command-line flags: cull kernels idle for ``idle`` s that no page is connected to."""
    return (
        f"--MappingKernelManager.cull_idle_timeout={idle}",
        f"--MappingKernelManager.cull_interval={interval}",
        "--MappingKernelManager.cull_connected=False",
        *(f"--MappingKernelManager.untracked_message_types={t}" for t in _UNTRACKED),
    )


#: The flags for a JupyterLab server (kernels outlive closed tabs for a while there).
CULL_FLAGS: tuple[str, ...] = cull_flags(CULL_IDLE_SECONDS, CULL_INTERVAL_SECONDS)
#: The flags for Voilà (see :data:`VOILA_CULL_IDLE_SECONDS`).
VOILA_CULL_FLAGS: tuple[str, ...] = cull_flags(VOILA_CULL_IDLE_SECONDS, VOILA_CULL_INTERVAL_SECONDS)


#: The notebook server's public address (``https://host/prefix/``) when it cannot be inferred.
PUBLIC_URL_ENV = "ORCA_NB_PUBLIC_URL"


def public_link(link: str, *, page_url: str = "", environ: Mapping[str, str] | None = None) -> str:
    """``link`` as a phone can open it when the notebook runs on a remote server.

    A link to a loopback port (the embedded sandbox) is rewritten to go through the notebook
    server's ``jupyter-server-proxy`` (``/proxy/<port>/...``) when the server is remote:
    ``$ORCA_NB_PUBLIC_URL`` names its address, or JupyterHub/Binder (``JUPYTERHUB_SERVICE_PREFIX``)
    runs it, the origin then taken from ``page_url`` (the page showing the widget). Any other
    link, or local use, is returned unchanged.
    """
    env = os.environ if environ is None else environ
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not wire.is_loopback_host(parts.hostname or ""):
        return link
    base = env.get(PUBLIC_URL_ENV, "").strip()
    if not base:
        prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "").strip()
        page = urlsplit(page_url)
        if not prefix or page.scheme not in ("http", "https") or not page.netloc:
            return link
        base = f"{page.scheme}://{page.netloc}/{prefix.strip('/')}"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{base.rstrip('/')}/proxy/{port}{tail}"


def set_xsrf_cookie(handler: Any, notebook: Any = None, cwd: str | None = None) -> None:
    """Voilà ``prelaunch_hook``: set the page's ``_xsrf`` cookie (Tornado sets it when the
    handler's token is first read), so the page's shutdown beacon is accepted on unload.
    Returns None: the notebook is left as it is."""
    _ = handler.xsrf_token


def page_kernel_manager() -> type:
    """Voilà's kernel manager: Jupyter Server's, plus an end for kernels no page watches.

    Every cull round, a kernel with no websocket connection that is not executing is timed;
    after ``cull_idle_timeout`` seconds in that state on end it is shut down, whatever messages
    it still sends (a page's kernel without its page serves nobody). A connection or an
    execution resets the clock; Voilà executes the notebook before the page connects, so a page
    still loading is never ended.
    """
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

    class PageKernelManager(AsyncMappingKernelManager):
        async def cull_kernel_if_idle(self, kernel_id: str) -> None:
            unwatched: dict[str, float] = self.__dict__.setdefault("_unwatched_since", {})
            for gone in [k for k in unwatched if k not in self._kernels]:
                del unwatched[gone]
            kernel = self._kernels.get(kernel_id)
            if kernel is None:
                return
            connected = self._kernel_connections.get(kernel_id, 0) > 0
            executing = getattr(kernel, "execution_state", None) in ("busy", "starting")
            if connected or executing:
                unwatched.pop(kernel_id, None)
            else:
                since = unwatched.setdefault(kernel_id, time.monotonic())
                if time.monotonic() - since >= self.cull_idle_timeout:
                    self.log.warning(
                        "Culling kernel %s: no page connected for %d s",
                        kernel_id,
                        int(time.monotonic() - since),
                    )
                    unwatched.pop(kernel_id, None)
                    await self.shutdown_kernel(kernel_id)  # type: ignore[no-untyped-call]
                    return
            await super().cull_kernel_if_idle(kernel_id)  # type: ignore[no-untyped-call]

    return PageKernelManager


def voila_config() -> Any:
    """The traitlets config that installs :func:`set_xsrf_cookie` and
    :func:`page_kernel_manager` in Voilà."""
    from traitlets.config import Config

    config = Config()
    config.VoilaConfiguration.prelaunch_hook = set_xsrf_cookie
    config.VoilaConfiguration.multi_kernel_manager_class = page_kernel_manager()
    return config


def main(argv: list[str] | None = None) -> None:
    """Run Voilà with ``argv`` (default: this process's), the xsrf cookie hook and culling
    (a cull flag given in ``argv`` replaces the launcher's)."""
    from voila.app import Voila  # type: ignore[import-untyped]

    args = list(sys.argv[1:] if argv is None else argv)
    Voila.launch_instance(
        argv=[*with_defaults(args, VOILA_CULL_FLAGS), *args], config=voila_config()
    )


def with_defaults(args: Sequence[str], defaults: Sequence[str]) -> list[str]:
    """The ``--Name=value`` flags of ``defaults`` whose name ``args`` does not give."""
    given = {arg.split("=", 1)[0] for arg in args}
    return [flag for flag in defaults if flag.split("=", 1)[0] not in given]


if __name__ == "__main__":
    main()
