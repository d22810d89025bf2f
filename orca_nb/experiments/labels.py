"""How a variant reads in one line: its varied values, in the same words on every surface.

The Sweep tab's plan, the progress widget's errors, the compare grid's cells, the HTML
export's cards and the studio's run history all call :func:`variant_label`
(``"a cat in the rain · seed 7 · 5 s · 16:9"``).
Pure: no database, no DBOS (widgets import it without the ``experiments`` extra).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

from orca_nb import wire

#: Characters of one value's text in a label (a long prompt is cut with an ellipsis).
LABEL_VALUE_CHARS: Final = 48
#: Dimensions whose value reads alone (``16:9``, ``720p``, a model's name).
_BARE: Final = frozenset({"ratio", "resolution", "model"})


def value_text(value: Any) -> str:
    """A value as a person reads it (``None`` is "—", booleans "on"/"off", others JSON)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_VALUE_CHARS else text[: LABEL_VALUE_CHARS - 1] + "…"


def _words(dim: str, value: Any) -> str:
    if dim == "seed":  # the lowest seed asks the service to pick one
        return "random seed" if value == wire.SEED_MIN else f"seed {value_text(value)}"
    if dim == "duration":
        return f"{value_text(value)} s"
    if dim == "generate_audio":
        return "audio" if value else "silent"
    text = _cut(value_text(value))
    return text if dim == "prompt" or dim in _BARE else f"{dim}={text}"


def variant_label(
    values: Mapping[str, Any],
    dims: Sequence[str] | None = None,
    *,
    skip: Collection[str] = (),
) -> str:
    """A variant's varied values in a few words, joined by " · " ("" when none).

    ``dims``: which dimensions, in this order (default: every one in ``values``, in its
    order); ``skip``: dimensions left out (e.g. a grid's axes, already in its headers).
    A prompt (or any long text) is cut to :data:`LABEL_VALUE_CHARS` characters.
    """
    order = list(values) if dims is None else dims
    return " · ".join(_words(d, values.get(d)) for d in order if d not in skip)
