"""Notebook runs (``pytest --nbval-lax tests notebooks`` from the repository root, as ``./dev test``
does) on a fresh in-memory sandbox, never the user's. It lives at the root so ``notebooks/`` holds
only notebooks a user opens; its environment hooks act on items under ``notebooks/`` only.
It also tells pytest-xdist how to share the run between workers (``./dev test`` uses two).

While notebook cells run, kernels inherit this environment: the embedded sandbox keeps its state
in memory (each notebook starts from the demo library), real OrcaRouter credentials are dropped,
and the repository is importable even when the package is not installed. The previous
environment comes back after the last notebook, so other tests in the same run are unaffected.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

_ROOT = str(Path(__file__).resolve().parent)
_NOTEBOOKS = Path(_ROOT) / "notebooks"
_SAVED: dict[str, str | None] = {}
_SETTINGS = {
    "ORCA_NB_SANDBOX_DB": ":memory:",
    "ORCA_NB_LEDGER": os.path.join(
        tempfile.gettempdir(), f"orca_nb-nbval-ledger-{os.getpid()}.sqlite3"
    ),
    # experiments' system database: this run's own (the in-memory sandbox forgets its tasks)
    "ORCA_NB_EXPERIMENTS_DB": "sqlite:///"
    + os.path.join(tempfile.gettempdir(), f"orca_nb-nbval-experiments-{uuid.uuid4().hex}.sqlite3"),
    "ORCAROUTER_API_KEY": None,
    "ORCAROUTER_BASE_URL": None,
    "PYTHONPATH": os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH", "")) if p),
}


def _is_notebook_item(item: pytest.Item | None) -> bool:
    return item is not None and _NOTEBOOKS in Path(str(item.path)).resolve().parents


#: Under ``pytest -n N --dist loadfile`` (``./dev test``), a worker takes whole units: every
#: browser test as one (they share one Voila, one JupyterLab and one Chromium), each notebook (its
#: cells run in order in one kernel), each other test file. Longest first: browser, notebooks.
_BROWSER_UNIT = "tests/browser/"


def _unit(nodeid: str) -> str:
    return _BROWSER_UNIT if nodeid.startswith(_BROWSER_UNIT) else nodeid.split("::", 1)[0]


def _rank(item: pytest.Item) -> int:
    if item.nodeid.startswith(_BROWSER_UNIT):
        return 0
    return 1 if _is_notebook_item(item) else 2


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's ``loadfile`` scheduling, with every browser test in one unit, handed out
    in collection order (which `pytest_collection_modifyitems` puts longest first)."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Units(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    config.option.loadscopereorder = False
    return Units(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker: browser tests first, then notebooks, then the rest (file order kept
    within each), so the longest units start first and no worker is left with a long tail."""
    if hasattr(config, "workerinput"):
        items.sort(key=_rank)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before the first notebook's kernel starts: switch to the notebook environment."""
    if _SAVED or not _is_notebook_item(item):
        return
    for name, value in _SETTINGS.items():
        _SAVED[name] = os.environ.get(name)
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last notebook cell: put the environment back."""
    if not _SAVED or _is_notebook_item(nextitem):
        return
    for name, old in _SAVED.items():
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old
    _SAVED.clear()
