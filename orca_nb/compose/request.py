"""The full ``POST /video/generations`` body from a prompt, a selection and parameters."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Final

from orca_nb import wire
from orca_nb.compose.issues import CompositionError, Issue, errors
from orca_nb.compose.selection import Selection
from orca_nb.compose.validate import validate

_BOOL_FIELDS: Final = ("generate_audio", "watermark", "return_last_frame", "camera_fixed", "draft")


def _check_param_types(params: Mapping[str, Any]) -> None:
    for key in params:
        if key not in wire.VIDEO_METADATA_FIELDS:
            near = difflib.get_close_matches(key, wire.VIDEO_METADATA_FIELDS, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise TypeError(
                f"unknown video parameter {key!r}; {hint}known ones are "
                f"{', '.join(wire.VIDEO_METADATA_FIELDS)} (pass others in extra=)"
            )
    for key in _BOOL_FIELDS:
        value = params.get(key)
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"{key} must be True or False, got {value!r}")
    tier = params.get("service_tier")
    if tier is not None and tier not in wire.SERVICE_TIERS:
        raise ValueError(
            f"service_tier {tier!r} is not allowed; use one of {', '.join(wire.SERVICE_TIERS)}"
        )


def check_request(
    model: str,
    prompt: str,
    selection: Selection,
    *,
    mode: str = "reference",
    spec: wire.ModelSpec | None = None,
    **params: Any,
) -> list[Issue]:
    """What :func:`validate` finds in the request :func:`build_request` would make of these
    arguments (errors and warnings; nothing raised for them)."""
    return validate(
        prompt,
        selection,
        model=model,
        ratio=params.get("ratio"),
        duration=params.get("duration"),
        resolution=params.get("resolution"),
        mode=mode,
        seed=params.get("seed"),
        generate_audio=params.get("generate_audio"),
        spec=spec,
    )


def build_request(
    model: str,
    prompt: str,
    selection: Selection,
    *,
    mode: str = "reference",
    strict: bool = True,
    extra: Mapping[str, Any] | None = None,
    spec: wire.ModelSpec | None = None,
    **params: Any,
) -> dict[str, Any]:
    """``{model, prompt, metadata: {content, ratio, duration, ...}}`` ready to POST.

    ``params`` are the metadata fields of :data:`orca_nb.wire.VIDEO_METADATA_FIELDS`
    (``ratio``, ``duration``, ``resolution``, ``generate_audio``, ``watermark``, ``seed``, ...);
    ``None`` means unset and is omitted, as is an empty ``content``. ``extra`` adds fields the API
    forwards upstream unchecked. With ``strict`` (the default) any error that :func:`validate`
    finds raises :class:`CompositionError` (warnings do not); ``strict=False`` builds a preview
    body regardless. Misspelt parameter names raise TypeError either way. ``spec``: the model's
    limits from ``client.models`` (see :func:`validate`).
    """
    _check_param_types(params)
    if strict:
        found = check_request(model, prompt, selection, mode=mode, spec=spec, **params)
        if errors(found):
            raise CompositionError(found)
    metadata: dict[str, Any] = {}
    content = selection.content(mode)
    if content:
        metadata["content"] = content
    for key in wire.VIDEO_METADATA_FIELDS:
        if params.get(key) is not None:
            metadata[key] = params[key]
    for key, value in (extra or {}).items():
        if key in metadata:
            raise ValueError(f"{key!r} is given twice (as a parameter and in extra=); keep one")
        metadata[key] = value
    return {"model": model, "prompt": prompt.strip(), "metadata": metadata}
