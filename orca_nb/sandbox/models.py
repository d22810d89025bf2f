"""``GET /v1/models``: the model list in OpenAI's list shape as new-api serves it (PEER 12.5).

Every entry has OpenAI's ``id``, ``object: "model"``, ``created``, ``owned_by``; new-api's
``supported_endpoint_types``; OpenRouter-style ``architecture.input_modalities`` /
``output_modalities`` (PEER: video clients read them). Choices where nothing is documented:

* The routable model (``wire.SEEDANCE_2``) lists ``"openai-video"`` as its endpoint type. The
  models of the reference's table (8.1) that are not routable yet, and the ids seen upstream
  since (``wire.PEER_MODELS``, 12.5), are listed with ``"routable": false`` and **no** endpoint
  types (GUESS). A real new-api lists only what the key's group can route (NEWAPI), so a client
  that keeps entries whose ``supported_endpoint_types`` contains ``"openai-video"`` (the PEER
  rule) reads both the same way; ``SandboxConfig.list_unroutable_models = False`` serves the
  new-api listing exactly.
* ``limits`` (GUESS, sandbox-only: nothing says OrcaRouter publishes limits) carries the
  model's limits (:data:`LIMIT_FIELDS` names the :class:`orca_nb.wire.ModelSpec` field of
  each key); a client must fall back to ``wire.MODELS`` when it is absent.
"""

from __future__ import annotations

from typing import Any

from orca_nb import wire

MODEL_CREATED = 1_773_000_000  # GUESS: new-api serves one fixed ``created`` for every model
OWNED_BY = "byteplus"  # GUESS: the upstream's name, as the ids' prefix says
_MODALITIES = {
    "full": ["text", "image", "video", "audio"],  # DOC 8.1: any image + video + audio mix
    "image": ["text", "image"],  # DOC 8.1: image references only
}


#: ``limits`` key -> the :class:`orca_nb.wire.ModelSpec` field it states.
LIMIT_FIELDS: dict[str, str] = {
    "min_seconds": "min_seconds",
    "max_seconds": "max_seconds",
    "default_seconds": "default_seconds",
    "resolutions": "resolutions",
    "default_resolution": "default_resolution",
    "default_ratio": "default_ratio",
    "max_reference_images": "max_ref_images",
    "max_reference_videos": "max_ref_videos",
    "max_reference_audio": "max_ref_audio",
    "max_media_items": "max_media_items",
    "reference_media": "multimodal",  # "full" (image+video+audio) or "image"
    "first_last_frame": "first_last_frame",
    "native_audio": "native_audio",
}


def model_entry(spec: wire.ModelSpec) -> dict[str, Any]:
    """One entry of the list for ``spec``."""
    limits = {}
    for key, field_name in LIMIT_FIELDS.items():
        value = getattr(spec, field_name)
        limits[key] = list(value) if isinstance(value, tuple) else value
    return {
        "id": spec.name,
        "object": "model",
        "created": MODEL_CREATED,
        "owned_by": OWNED_BY,
        "supported_endpoint_types": [wire.VIDEO_ENDPOINT_TYPE] if spec.routable else [],
        "architecture": {
            "input_modalities": list(_MODALITIES[spec.multimodal]),
            "output_modalities": ["video"],
        },
        "routable": spec.routable,  # GUESS field
        "limits": limits,  # GUESS field
    }


def model_list(*, include_unroutable: bool = True) -> dict[str, Any]:
    """The ``GET /models`` body: the routable model first, then (optionally) the others."""
    specs = [*wire.MODELS.values(), *wire.PEER_MODELS.values()]
    specs.sort(key=lambda spec: not spec.routable)  # stable: routable first, table order kept
    data = [model_entry(s) for s in specs if include_unroutable or s.routable]
    return {"object": "list", "data": data, "success": True}  # NEWAPI adds ``success``
