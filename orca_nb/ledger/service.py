"""The ledger's name for the service a submission went to (the ``submissions.base_url`` column).

A client names its service once (``Orca.ledger_service``, from :func:`service_name`): the base
URL it talks to, except a sandbox on this machine, which is :data:`SANDBOX_SERVICE`
(``sandbox:local``). The embedded sandbox listens on a new loopback port in every process, so
its base URL would split one sandbox's runs by kernel, and a kernel after a restart could not
find (or reattach to) what the one before it submitted. The key label keeps different keys'
runs apart.

Versions before this name recorded the sandbox's loopback URL itself
(``http://127.0.0.1:<port>/v1``). Those rows are left as written; a reader asking for
:data:`SANDBOX_SERVICE` matches them too (:func:`service_condition`).
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from orca_nb import wire

#: The service name of a sandbox on a loopback host (the embedded one, or ``orca-nb sandbox``).
SANDBOX_SERVICE: Final = "sandbox:local"

#: How earlier versions' rows name a loopback service: ``<scheme>://`` plus one of these, then
#: anything (``http://127.0.0.1:8765/v1``, ``http://localhost:8000/v1``, ``http://[::1]:9/v1``).
_LOOPBACK_STARTS: Final = ("127.", "localhost:", "localhost/", "[::1]")


def service_name(base_url: str, *, is_sandbox: bool) -> str:
    """The ledger's name for a client's service: :data:`SANDBOX_SERVICE` for a sandbox on a
    loopback host (whatever its port), else ``base_url`` itself (a real service, or a sandbox
    on another machine, keeps its URL)."""
    if is_sandbox and wire.is_loopback_host(urlsplit(base_url).hostname or ""):
        return SANDBOX_SERVICE
    return base_url


def service_condition(column: str, service: str) -> tuple[str, list[Any]]:
    """An SQL condition (with its parameters) keeping the rows of ``service`` in ``column``.

    For :data:`SANDBOX_SERVICE` it also keeps rows earlier versions wrote with a loopback URL
    (a host ``localhost``, ``[::1]`` or starting ``127.``, on ``http`` or ``https``); any
    other name matches itself only. Portable to SQLite and PostgreSQL.
    """
    if service != SANDBOX_SERVICE:
        return f"{column} = ?", [service]
    schemes = ("http", "https")
    patterns = [f"{scheme}://{start}%" for scheme in schemes for start in _LOOPBACK_STARTS]
    exact = [service, "http://localhost", "https://localhost"]
    alternatives = [f"{column} IN (?, ?, ?)"] + [f"{column} LIKE ?" for _ in patterns]
    return "(" + " OR ".join(alternatives) + ")", [*exact, *patterns]
