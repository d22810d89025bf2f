"""Live notebook widgets for the asset library and the Seedance studio (ipyvuetify).

Every entry point takes an optional client (``orca_nb.client.AsyncOrca``; default: a new one,
which without a key uses the embedded sandbox) and shares one :class:`LiveStore` per client:

* :func:`studio` - the whole app: studio, assets, groups, upload, verify tabs and the quota;
* :func:`groups_panel`, :func:`assets_panel`, :func:`picker`, :func:`upload_form`,
  :func:`verify_person`, :func:`quota_meter` - single panels;
* :func:`groups_df`, :func:`assets_df` - DataFrames with a fixed schema (see ``frames``);
* :func:`experiment_progress` - an experiment's progress (``orca_nb.experiments``);
* :func:`compare` - an experiment's result videos side by side, played in sync, rated.

State (``orca_nb.widgets.state``) and the store hold everything; views only show it. Background
refresh runs on the kernel's asyncio loop and stops when the last panel is closed.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orca_nb.client import AsyncOrca, Orca
    from orca_nb.experiments import ExperimentRun
    from orca_nb.ledger import Ledger
    from orca_nb.widgets.frames import (
        ASSET_COLUMNS,
        GROUP_COLUMNS,
        aassets_df,
        agroups_df,
        assets_df,
        groups_df,
    )
    from orca_nb.widgets.live import LiveStore, StoreChange, StoreStatus
    from orca_nb.widgets.loops import settle
    from orca_nb.widgets.ports import StudioClient
    from orca_nb.widgets.state.compare import VariantSource
    from orca_nb.widgets.views.app import StudioApp
    from orca_nb.widgets.views.compare import CompareView
    from orca_nb.widgets.views.experiment import ExperimentProgressView
    from orca_nb.widgets.views.forms import QuotaView, UploadView, VerifyView
    from orca_nb.widgets.views.library import AssetsPanel, GroupsPanel
    from orca_nb.widgets.views.studio import PickerView

    Client = StudioClient | LiveStore  # what every entry point takes as its client

__all__ = [
    "ASSET_COLUMNS",
    "GROUP_COLUMNS",
    "LiveStore",
    "StoreChange",
    "StoreStatus",
    "aassets_df",
    "agroups_df",
    "assets_df",
    "assets_panel",
    "compare",
    "experiment_progress",
    "groups_df",
    "groups_panel",
    "live_store",
    "picker",
    "quota_meter",
    "settle",
    "studio",
    "upload_form",
    "verify_person",
]


# Loaded on first use, so ``orca-nb studio`` (orca_nb.widgets.cli) starts without pandas or the
# client: name -> module.
_LAZY = {
    **dict.fromkeys(
        ("ASSET_COLUMNS", "GROUP_COLUMNS", "aassets_df", "agroups_df", "assets_df", "groups_df"),
        "orca_nb.widgets.frames",
    ),
    **dict.fromkeys(("LiveStore", "StoreChange", "StoreStatus"), "orca_nb.widgets.live"),
    "settle": "orca_nb.widgets.loops",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def live_store(client: Client | None = None, **options: Any) -> LiveStore:
    """The shared store of ``client`` (None: a default ``AsyncOrca``, kept for the session).

    ``options`` (first call only): ``fast_interval``, ``slow_interval``, ``max_backoff``,
    ``concurrency``, ``page_size``, ``asset_cap``, ``watch_new`` (default True here: uploads
    made elsewhere show within ``fast_interval``; False polls only what this store follows).
    """
    options.setdefault("watch_new", True)
    global _DEFAULT_CLIENT
    if client is None:
        if _DEFAULT_CLIENT is None:
            from orca_nb.client import AsyncOrca

            # The views name the sandbox themselves (a "sandbox" chip), so the client's one-time
            # log note, which notebooks render as a red stderr block, is not repeated here.
            # (A filter, not ``disabled``: starting the sandbox's uvicorn re-enables loggers.)
            client_log = logging.getLogger("orca_nb.client")
            client_log.addFilter(_drop_record)
            try:
                _DEFAULT_CLIENT = AsyncOrca()
            finally:
                client_log.removeFilter(_drop_record)
        client = _DEFAULT_CLIENT
    from orca_nb.widgets.live import LiveStore

    if isinstance(client, LiveStore):
        return client
    return LiveStore.for_client(client, **options)


_DEFAULT_CLIENT: StudioClient | None = None


def _drop_record(record: logging.LogRecord) -> bool:
    return False


def studio(
    client: Client | None = None, *, body: Mapping[str, Any] | None = None, **options: Any
) -> StudioApp:
    """The whole studio: prompt + picker + parameters + Submit, library panels, upload,
    verification and the quota meter, over one live store. ``body``: a request to start from
    (e.g. an experiment variant's), loaded into the form as "Edit and re-run" does."""
    from orca_nb.widgets.views.app import StudioApp

    app = StudioApp(live_store(client, **options))
    if body is not None:
        app.studio.state.load_body(body)
    return app


def groups_panel(client: Client | None = None, **options: Any) -> GroupsPanel:
    """Groups with counts by status; create, rename, delete (confirmed). ``.frame()``."""
    from orca_nb.widgets.views.library import GroupsPanel

    return GroupsPanel(live_store(client, **options))


def assets_panel(
    client: Client | None = None,
    *,
    group_id: str | None = None,
    page_size: int | None = None,
    **options: Any,
) -> AssetsPanel:
    """Assets of one group (or all): thumbnails, status, filters, search, pages. ``.frame()``."""
    from orca_nb.widgets.views.library import AssetsPanel

    return AssetsPanel(live_store(client, **options), group_id=group_id, page_size=page_size)


def picker(client: Client | None = None, **options: Any) -> PickerView:
    """Asset picker: Active assets and URLs, tokens, live ``content[]`` (``.state``)."""
    from orca_nb.widgets.views.studio import PickerView

    return PickerView(live_store(client, **options))


def upload_form(
    client: Client | None = None, *, group_id: str | None = None, **options: Any
) -> UploadView:
    """Upload by URL (or sandbox sample) with pre-flight and live status."""
    from orca_nb.widgets.views.forms import UploadView

    return UploadView(live_store(client, **options), group_id=group_id)


def verify_person(client: Client | None = None, **options: Any) -> VerifyView:
    """Real-human verification: link + QR + consent note; the link is dropped when done."""
    from orca_nb.widgets.views.forms import VerifyView

    return VerifyView(live_store(client, **options))


def quota_meter(client: Client | None = None, **options: Any) -> QuotaView:
    """Assets used of the cap across both group types; warns near the cap."""
    from orca_nb.widgets.views.forms import QuotaView

    return QuotaView(live_store(client, **options))


def experiment_progress(
    run: ExperimentRun, client: Client | None = None, *, interval: float = 1.0
) -> ExperimentProgressView:
    """An experiment's progress (``run``: an ``orca_nb.experiments.ExperimentRun``): counts by
    status, a bar, ETA, tokens against the estimate, errors with advice; pause, resume,
    cancel. Refreshed on the live store's home loop of ``client`` (given: the studio's store),
    else on the loop of the cell that shows it."""
    from orca_nb.widgets.views.experiment import ExperimentProgressView

    home = live_store(client).home if client is not None else None
    return ExperimentProgressView(run, home=home, interval=interval)


def compare(
    run_or_experiment_id: ExperimentRun | str,
    *,
    rows: str | None = None,
    cols: str | None = None,
    client: Orca | Client | None = None,
    ledger: Ledger | None = None,
    interval: float = 2.0,
) -> CompareView:
    """An experiment's result videos in a grid (``orca_nb.experiments``): rows and columns
    chosen from its varied dimensions (default: the first two), poster frames first, videos on
    demand, played, paused and sought in sync; pin a winner, rate 1-5, tag, note (stored in the
    usage ledger); "Open in studio" loads a variant's exact request.

    ``run_or_experiment_id``: an ``ExperimentRun``, or an experiment's id or name (read from
    the experiments' database, ``$ORCA_NB_EXPERIMENTS_DB``; nothing is started). ``client``:
    the client whose account made the videos (``Orca`` or ``AsyncOrca``; default as the other
    widgets). ``ledger``: where marks are stored (default: the client's usage ledger). A wrong
    ``rows``/``cols`` raises ``ValueError`` naming the varied dimensions.
    """
    from orca_nb.widgets.views.compare import CompareView

    run: VariantSource
    if isinstance(run_or_experiment_id, str):
        from orca_nb.widgets.state.compare import stored_experiment

        run = stored_experiment(run_or_experiment_id)
    else:
        run = run_or_experiment_id
    store = live_store(_async_client(client))
    if ledger is None:
        from orca_nb.ledger import readable_ledger

        ledger = readable_ledger(store.client.ledger)
    view = CompareView(run, store, ledger=ledger, rows=rows, cols=cols, interval=interval)
    try:
        view.state.load_now()
    except BaseException:
        view.close()
        raise
    view.follow()
    return view


_ASYNC_TWINS: weakref.WeakKeyDictionary[Orca, AsyncOrca] = weakref.WeakKeyDictionary()


def _async_client(client: Orca | Client | None) -> Client | None:
    """The widgets' client for ``client``: a blocking ``Orca`` gets one ``AsyncOrca`` twin
    (same key, URL and ledger), kept while it lives so its widgets share one store."""
    from orca_nb.client import Orca

    if not isinstance(client, Orca):
        return client
    twin = _ASYNC_TWINS.get(client)
    if twin is None:
        twin = _ASYNC_TWINS[client] = client.asynchronous()
    return twin
