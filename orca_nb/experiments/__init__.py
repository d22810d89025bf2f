"""Experiments: prompt and parameter sweeps of one base request (work in progress, see below).

What exists:

- :mod:`~orca_nb.experiments.define` (pure): :class:`Experiment` expands a base request into
  variants (grid or explicit rows), each validated by the compose rules, with stable ids.
"""

from __future__ import annotations

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

__all__ = [
    "INVALID_PARAMETER",
    "PARAMETERS",
    "BaseRequest",
    "Experiment",
    "InvalidVariantsError",
    "Variant",
    "experiment_id_for",
    "template_fields",
]
