"""Experiments: sweeps of one video request, run as durable, rate-limited batches on DBOS.

What exists:

- :mod:`~orca_nb.experiments.define` (pure): :class:`Experiment` expands a base request (a
  ``compose.build_request`` body) into variants: prompt lists or a template filled from a table,
  parameters, reference sets (tokens renumbered per set); a grid or explicit rows. Each variant
  is validated by the compose rules (invalid ones keep their reasons; ``dry_run()`` returns every
  body) and has an id derived from the experiment's name and its varied values.
- :mod:`~orca_nb.experiments.cost`: tokens per variant and in total from
  ``compose.cost.estimate_tokens``; refuses what a known balance cannot cover (given a price per
  million tokens) and asks for ``confirm=<tokens>`` above a threshold.
- :mod:`~orca_nb.experiments.run`: :func:`start` stores the experiment and puts each variant on
  its account's DBOS queue as a workflow with a fixed id (enqueuing again, another kernel, or a
  restart never makes a second task); :class:`ExperimentRun` gives progress (also
  ``progress_async`` for the kernel's loop), pause, resume, cancel, retry, wait, the queue's
  limits and a results DataFrame (varied values, status, task id, latency, tokens reported or
  estimated); :func:`open_experiment` reopens one after a restart and it continues.
- :mod:`~orca_nb.experiments.runtime`: DBOS launched once per process (SQLite beside the ledger by
  default, PostgreSQL for teams), one queue per account with a global concurrency cap and a
  submits-per-minute limit, heartbeats, and recovery of dead workers' variants.
- :mod:`~orca_nb.experiments.workflows`: the workflow of one variant (claim, submit through the
  client and so its ledger, follow to a terminal status, record; 429s close the account's gate
  for ``Retry-After``; an unknown outcome is recorded as ``unknown`` and never resent blindly).
- :mod:`~orca_nb.experiments.db`: the experiments' tables beside DBOS's;
  :mod:`~orca_nb.experiments.location`: where they live (``$ORCA_NB_EXPERIMENTS_DB``, else beside
  the ledger) and ``find_experiment`` (a stored one by name or id, for every reader).
- ``orca-nb worker`` (:mod:`~orca_nb.experiments.worker_cli`): more workers pulling from an
  account's queue, on this machine or others sharing a PostgreSQL system database.
- :mod:`~orca_nb.experiments.results`: ``run.results()`` joined with the usage ledger (the
  service's times, token figures and their source) and the compare grid's marks (pinned,
  rating, tags, note).
- :mod:`~orca_nb.experiments.labels`: how a variant's values read, one wording for the Sweep
  tab, the progress widget, the compare grid and the export (``variant_label``).
- :mod:`~orca_nb.experiments.export`: ``run.export_html(path)`` / :func:`export_html` one
  offline HTML file (poster frames embedded, parameters, tokens, ratings); ``orca-nb
  experiment list|export`` (:mod:`~orca_nb.experiments.experiment_cli`).

Names are imported lazily, so ``orca-nb`` and ``import orca_nb.experiments`` stay cheap; running
experiments needs the ``experiments`` extra (``dbos``, which brings SQLAlchemy).

Progress: :meth:`ExperimentRun.status` (:mod:`~orca_nb.experiments.progress`: counts, ETA, tokens
spent against the estimate, errors), ``run.track()`` / ``run.wait(progress=True)`` (a tqdm bar),
and ``orca_nb.widgets.experiment_progress(run)`` (a widget fed on the kernel's loop). The usage
ledger names each send's experiment and variant, so ``orca_nb.reports.experiment_summary`` and
every report's ``experiment=`` filter read them.

Above this package: the compare grid (``orca_nb.widgets.compare(run)``; pins, ratings, tags and
notes are kept in the ledger, ``Ledger.mark_variant``), the studio's Sweep tab (an experiment of
the studio's current request) and its ledger-backed run history. The sandbox plays the limits a
sweep meets (``orca_nb.sandbox.SandboxConfig``: a per-account running-task cap, a
submits-per-minute limit answered with 429 and ``Retry-After``, a settable render time). The
walk-through is ``notebooks/experiments.ipynb``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as type checkers see them; at run time they load on first use
    from orca_nb.experiments.cost import BalanceTooLowError, ConfirmationRequired, CostEstimate
    from orca_nb.experiments.db import ExperimentConflictError
    from orca_nb.experiments.define import (
        INVALID_PARAMETER,
        PARAMETERS,
        BaseRequest,
        Experiment,
        InvalidVariantsError,
        Variant,
        experiment_id_for,
        template_fields,
    )
    from orca_nb.experiments.export import HtmlExport, export_html
    from orca_nb.experiments.progress import RunStatus, VariantError
    from orca_nb.experiments.run import ExperimentRun, Progress, open_experiment, start
    from orca_nb.experiments.runtime import RuntimeConflictError, launch, shutdown

_EXPORTS = {
    "INVALID_PARAMETER": "define",
    "PARAMETERS": "define",
    "BaseRequest": "define",
    "Experiment": "define",
    "InvalidVariantsError": "define",
    "Variant": "define",
    "experiment_id_for": "define",
    "template_fields": "define",
    "BalanceTooLowError": "cost",
    "ConfirmationRequired": "cost",
    "CostEstimate": "cost",
    "HtmlExport": "export",
    "export_html": "export",
    "RunStatus": "progress",
    "VariantError": "progress",
    "ExperimentRun": "run",
    "Progress": "run",
    "open_experiment": "run",
    "start": "run",
    "RuntimeConflictError": "runtime",
    "launch": "runtime",
    "shutdown": "runtime",
    "ExperimentConflictError": "db",
}
__all__ = [
    "INVALID_PARAMETER",
    "PARAMETERS",
    "BalanceTooLowError",
    "BaseRequest",
    "ConfirmationRequired",
    "CostEstimate",
    "Experiment",
    "ExperimentConflictError",
    "ExperimentRun",
    "HtmlExport",
    "InvalidVariantsError",
    "Progress",
    "RunStatus",
    "RuntimeConflictError",
    "Variant",
    "VariantError",
    "experiment_id_for",
    "export_html",
    "launch",
    "open_experiment",
    "shutdown",
    "start",
    "template_fields",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'orca_nb.experiments' has no attribute {name!r}")
    return getattr(importlib.import_module(f"orca_nb.experiments.{module}"), name)
