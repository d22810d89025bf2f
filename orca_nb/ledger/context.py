"""Which experiment variant a submission belongs to, told to the ledger without the client.

The client's ledger hook (``before_submit``) receives only the request body; an experiment
wraps its submit in :func:`submission_context` and the ledger reads it from this context
variable when it writes the row (``submissions.experiment_id`` / ``variant_id``). A context
variable follows the call in its own thread or task, so concurrent variants never mix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_MAX_ID = 200


@dataclass(frozen=True)
class SubmissionContext:
    """The experiment and variant a submission is made for."""

    experiment_id: str
    variant_id: str


_CURRENT: ContextVar[SubmissionContext | None] = ContextVar(
    "orca_nb_submission_context", default=None
)


def _checked(name: str, value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_ID or not value.isprintable():
        raise ValueError(
            f"{name} must be a non-empty printable string of at most {_MAX_ID} characters, "
            f"got {value!r}"
        )
    return value


@contextmanager
def submission_context(experiment_id: str, variant_id: str) -> Iterator[SubmissionContext]:
    """Tag the submissions made inside the ``with`` block with an experiment variant."""
    context = SubmissionContext(
        _checked("experiment_id", experiment_id), _checked("variant_id", variant_id)
    )
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


def current_submission_context() -> SubmissionContext | None:
    """The experiment variant being submitted in this thread or task, if any."""
    return _CURRENT.get()
