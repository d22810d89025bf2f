"""Usage ledger: a durable record of every video submission, on SQLite or PostgreSQL.

>>> ledger = open_ledger("sqlite:///tmp/ledger.sqlite3")    # doctest: +SKIP
>>> client = Orca(ledger=ledger)                             # doctest: +SKIP

``open_ledger()`` without a URL uses ``$ORCA_NB_LEDGER`` or a SQLite file in the user data dir.
Clients record into that default ledger unless given ``ledger=`` (``None``: record nothing) or
``$ORCA_NB_LEDGER`` is ``off``.
"""

from __future__ import annotations

from orca_nb.ledger.ledger import (
    TERMINAL_STATUSES,
    Ledger,
    Unfinished,
    open_ledger,
    readable_ledger,
)
from orca_nb.ledger.location import (
    LEDGER_ENV,
    LEDGER_OFF,
    connect,
    default_ledger_disabled,
    default_ledger_url,
)
from orca_nb.ledger.marks import VariantMark
from orca_nb.ledger.reattach import reattach, settle
from orca_nb.ledger.snapshots import SyncResult, sync_snapshots

__all__ = [
    "LEDGER_ENV",
    "LEDGER_OFF",
    "TERMINAL_STATUSES",
    "Ledger",
    "SyncResult",
    "Unfinished",
    "VariantMark",
    "connect",
    "default_ledger_disabled",
    "default_ledger_url",
    "open_ledger",
    "readable_ledger",
    "reattach",
    "settle",
    "sync_snapshots",
]
