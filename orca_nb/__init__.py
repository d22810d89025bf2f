"""orca_nb: a Jupyter toolkit for OrcaRouter's Seedance asset library and video generation.

``Orca`` / ``AsyncOrca`` talk to OrcaRouter, or to the embedded sandbox when no API key is set.
Heavy parts (widgets, sandbox, reports) load only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from orca_nb.client import AsyncOrca, Orca

__all__ = ["AsyncOrca", "Orca", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("Orca", "AsyncOrca"):
        from orca_nb import client

        return getattr(client, name)
    raise AttributeError(f"module 'orca_nb' has no attribute {name!r}")
