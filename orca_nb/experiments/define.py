"""Define an experiment: a base request and what varies, expanded into validated variants.

Pure: nothing here sends, stores or sleeps. An :class:`Experiment` holds a base request (a body
as :func:`orca_nb.compose.build_request` makes it, or a :class:`BaseRequest`) and dimensions:

- prompts: a list of prompt texts, or a ``template`` whose ``{placeholders}`` are filled from the
  rows of a ``table`` (a DataFrame or a list of dicts; one prompt per row);
- parameters: ``model`` and the metadata fields of :data:`orca_nb.wire.VIDEO_METADATA_FIELDS`
  (``ratio``, ``duration``, ``resolution``, ``seed``, ``generate_audio``, ``watermark``, ...);
- reference sets: alternative :class:`~orca_nb.compose.Selection` objects, by name.

:meth:`Experiment.grid` takes the cartesian product; :meth:`Experiment.from_rows` takes explicit
rows (a DataFrame, one variant per row). Prompts are written for the base request's selection;
for each reference set their tokens are rewritten with :func:`orca_nb.compose.renumber` (a token
whose item the set lacks becomes a ``[removed ...]`` marker, which validation reports).

Every variant's body is checked with :func:`orca_nb.compose.validate`; a variant with errors is
kept (with its reasons) and never sent. Each variant has an id derived from the experiment id and
its varied values, so expanding the same definition again gives the same ids.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from orca_nb import wire
from orca_nb.compose import (
    Issue,
    Ref,
    Selection,
    build_request,
    check_request,
    errors,
    parse_kind,
    renumber,
)

#: Issue code for a variant whose parameters could not even make a body (wrong type, bad name).
INVALID_PARAMETER: Final = "invalid_parameter"
#: The dimension names besides the parameters.
PROMPT: Final = "prompt"
REFERENCES: Final = "references"
#: Parameters a variant may vary: the model and the video metadata fields.
PARAMETERS: Final[tuple[str, ...]] = ("model", *wire.VIDEO_METADATA_FIELDS)
_ID_CHARS: Final = 16
_NAME_RE: Final = re.compile(r"[^a-z0-9]+")


# --------------------------------------------------------------------------- base request
@dataclass(frozen=True)
class BaseRequest:
    """A request split into what experiments vary: model, prompt, selection, parameters.

    ``mode`` is the composition mode the selection is read in; ``extra`` holds metadata fields
    outside :data:`~orca_nb.wire.VIDEO_METADATA_FIELDS`, passed through unchanged.
    """

    model: str
    prompt: str
    selection: Selection = field(default_factory=Selection)
    params: Mapping[str, Any] = field(default_factory=dict)
    mode: str = "reference"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> BaseRequest:
        """Read a ``POST /video/generations`` body (``{model, prompt, metadata}``)."""
        if not isinstance(body, Mapping):
            raise TypeError(f"a base request is a body dict, got {type(body).__name__}")
        model = body.get("model")
        prompt = body.get("prompt")
        if not isinstance(model, str) or not model:
            raise ValueError("the base request has no model; build it with compose.build_request")
        if not isinstance(prompt, str):
            raise ValueError("the base request has no prompt text; pass prompt='...'")
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise TypeError("the base request's metadata must be a dict")
        refs: list[Ref] = []
        for i, item in enumerate(metadata.get("content") or ()):
            refs.append(_ref_from_item(i, item))
        roles = {r.role for r in refs if r.role}
        mode = "first_last" if "last_frame" in roles else "first_frame" if roles else "reference"
        params = {k: metadata[k] for k in wire.VIDEO_METADATA_FIELDS if k in metadata}
        extra = {
            k: v for k, v in metadata.items() if k != "content" and k not in params
        }  # fields the API forwards unchecked
        return cls(model, prompt, Selection(refs), params, mode, extra)

    def body(self) -> dict[str, Any]:
        """The body this base request sends as it is (not validated)."""
        return build_request(
            self.model,
            self.prompt,
            self.selection,
            mode=self.mode,
            strict=False,
            extra=self.extra,
            **dict(self.params),
        )


def _ref_from_item(i: int, item: Any) -> Ref:
    if not isinstance(item, Mapping):
        raise TypeError(f"content[{i}] must be a dict, got {type(item).__name__}")
    ctype = item.get("type")
    inner = item.get(ctype) if isinstance(ctype, str) else None
    url = inner.get("url") if isinstance(inner, Mapping) else None
    if not isinstance(ctype, str) or not isinstance(url, str):
        raise ValueError(
            f"content[{i}] is not a media item ({{'type': 'image_url', 'image_url': {{'url': "
            "...}}}}); text items do not belong in metadata.content"
        )
    kind = parse_kind(ctype)
    role = item.get("role")
    # Reference roles are what the mode gives anyway; only frame roles are kept explicit.
    keep = role if role in ("first_frame", "last_frame") else None
    return Ref(url, kind, role=keep)


def as_base(base: BaseRequest | Mapping[str, Any]) -> BaseRequest:
    """A :class:`BaseRequest` from itself or from a body dict."""
    return base if isinstance(base, BaseRequest) else BaseRequest.from_body(base)


# --------------------------------------------------------------------------- variants
@dataclass(frozen=True)
class Variant:
    """One expanded request: its id, the values that vary, its body and what is wrong with it.

    ``values`` maps dimension names (``prompt``, template fields, ``references``, parameters)
    to this variant's plain values. ``body`` is what would be sent (a preview when invalid;
    ``None`` only when no body could be built). ``issues`` holds compose's findings (errors and
    warnings); a variant is :attr:`valid` when none is an error.
    """

    experiment_id: str
    variant_id: str
    index: int
    values: Mapping[str, Any]
    body: dict[str, Any] | None
    issues: tuple[Issue, ...] = ()

    @property
    def valid(self) -> bool:
        """True when the body exists and validation found no error."""
        return self.body is not None and not errors(self.issues)

    @property
    def reasons(self) -> list[str]:
        """Why the variant cannot be sent (empty when valid)."""
        return [i.message for i in errors(self.issues)]

    @property
    def workflow_id(self) -> str:
        """The durable id of this variant's run: the same for every enqueue, in every process."""
        return f"{self.experiment_id}.{self.variant_id}"


class InvalidVariantsError(ValueError):
    """Some variants cannot be sent; ``.variants`` lists them, each with ``.reasons``."""

    def __init__(self, variants: Sequence[Variant]) -> None:
        self.variants = list(variants)
        lines = "\n".join(
            f"- {v.variant_id} {_short(v.values)}: {'; '.join(v.reasons)}" for v in variants[:10]
        )
        more = f"\n... and {len(variants) - 10} more" if len(variants) > 10 else ""
        super().__init__(
            f"{len(variants)} variant(s) are not valid and would not be sent:\n{lines}{more}\n"
            "Fix them, or pass skip_invalid=True to run only the valid ones."
        )


def _short(values: Mapping[str, Any]) -> str:
    parts = []
    for k, v in values.items():
        text = str(v)
        parts.append(f"{k}={text[:30] + '...' if len(text) > 30 else text}")
    return "(" + ", ".join(parts) + ")"


# --------------------------------------------------------------------------- ids
def canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON: the same values always give the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_ID_CHARS]


def experiment_id_for(name: str) -> str:
    """The id of an experiment named ``name``: ``exp-<slug>-<hash>`` (stable, filesystem-safe)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("an experiment needs a non-blank name, e.g. name='rain, 3 prompts'")
    slug = _NAME_RE.sub("-", name.strip().lower()).strip("-")[:32] or "x"
    return f"exp-{slug}-{_digest(name.strip())[:8]}"


def selection_fingerprint(selection: Selection, mode: str) -> list[list[str]]:
    """What identifies a reference set: each item's kind, source and effective role."""
    return [
        [r.kind, r.source, role]
        for r, role in zip(selection.items, selection.roles(mode), strict=True)
    ]


# --------------------------------------------------------------------------- values
def _plain(value: Any, where: str) -> Any:
    """A JSON-able Python value from a cell (numpy scalars, pandas NA become Python ones)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _plain(item(), where)
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    raise TypeError(f"{where}: {value!r} ({type(value).__name__}) is not a plain value")


def _check_param_name(name: str) -> None:
    if name not in PARAMETERS:
        near = difflib.get_close_matches(name, PARAMETERS, n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        raise TypeError(
            f"{name!r} cannot be varied; {hint}vary prompts, references or one of "
            f"{', '.join(PARAMETERS)}"
        )


def template_fields(template: str) -> list[str]:
    """The ``{placeholder}`` names of a prompt template, in order of first use."""
    out: list[str] = []
    for _, name, spec, conv in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            raise ValueError(
                f"template placeholder {{{name}{'!' + conv if conv else ''}"
                f"{':' + spec if spec else ''}}} is not a plain name; use {{animal}}-style "
                "placeholders and write literal braces as {{ and }}"
            )
        if name not in out:
            out.append(name)
    return out


def _table_rows(table: Any, fields: Sequence[str]) -> list[dict[str, Any]]:
    rows: list[Mapping[str, Any]]
    if hasattr(table, "to_dict") and hasattr(table, "columns"):
        rows = table.to_dict("records")
    elif isinstance(table, Iterable) and not isinstance(table, str | bytes | Mapping):
        rows = list(table)
    else:
        raise TypeError("table= must be a DataFrame or a list of dicts")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"table row {i} must be a dict, got {type(row).__name__}")
        missing = [f for f in fields if f not in row]
        if missing:
            raise ValueError(f"table row {i} has no value for {', '.join(missing)}")
        values = {f: _plain(row[f], f"table row {i}, {f}") for f in fields}
        empty = [f for f, v in values.items() if v is None or v == ""]
        if empty:
            raise ValueError(f"table row {i} leaves {', '.join(empty)} empty")
        out.append(values)
    if not out:
        raise ValueError("table= has no rows")
    return out


def _named_sets(
    references: Mapping[str, Selection] | Sequence[Selection] | None,
) -> dict[str, Selection]:
    if references is None:
        return {}
    if isinstance(references, Mapping):
        named = dict(references)
    elif isinstance(references, Sequence) and not isinstance(references, str):
        named = {f"set {i + 1}": s for i, s in enumerate(references)}
    else:
        raise TypeError("references= must be a dict of name -> Selection or a list of Selections")
    if not named:
        raise ValueError("references= is empty; leave it out to keep the base selection")
    for name, sel in named.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError("reference set names must be non-blank strings")
        if not isinstance(sel, Selection):
            raise TypeError(
                f"reference set {name!r} must be a compose Selection, got {type(sel).__name__}"
            )
    return named


def _unique(name: str, values: Sequence[Any]) -> list[Any]:
    seen: dict[str, int] = {}
    for i, v in enumerate(values):
        key = canonical_json(v)
        if key in seen:
            raise ValueError(
                f"{name} values {seen[key] + 1} and {i + 1} are the same ({v!r}); each variant "
                "must differ, so list each value once"
            )
        seen[key] = i
    return list(values)


# --------------------------------------------------------------------------- experiment
class Experiment:
    """A named set of variants of one base request (build with :meth:`grid` or :meth:`from_rows`).

    ``experiment_id`` derives from ``name``: defining the same name again (a re-run cell, another
    kernel) addresses the same experiment, and a variant keeps its id as long as its varied
    values are the same.
    """

    def __init__(
        self,
        base: BaseRequest | Mapping[str, Any],
        rows: Sequence[Mapping[str, Any]],
        *,
        name: str,
        template: str | None = None,
        references: Mapping[str, Selection] | Sequence[Selection] | None = None,
    ) -> None:
        self.base = as_base(base)
        self.name = name.strip() if isinstance(name, str) else name
        self.experiment_id = experiment_id_for(name)
        self.template = template
        self.reference_sets = _named_sets(references)
        self.fields = template_fields(template) if template is not None else []
        self._rows = [dict(r) for r in rows]
        self._check_rows()
        self.variants: list[Variant] = [self._expand(i, row) for i, row in enumerate(self._rows)]
        ids = [v.variant_id for v in self.variants]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            twins = [v.index + 1 for v in self.variants if v.variant_id == dup]
            raise ValueError(
                f"rows {twins[0]} and {twins[1]} vary the same values; each variant must differ"
            )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def grid(
        cls,
        base: BaseRequest | Mapping[str, Any],
        *,
        name: str,
        prompts: Sequence[str] | None = None,
        template: str | None = None,
        table: Any = None,
        references: Mapping[str, Selection] | Sequence[Selection] | None = None,
        seeds: Sequence[int] | None = None,
        **params: Sequence[Any],
    ) -> Experiment:
        """Every combination of the given dimensions (cartesian product, in argument order).

        ``prompts=[...]`` or ``template="a {animal} in [Image 1]"`` with ``table=`` (rows give
        the placeholders); ``references={"name": Selection, ...}``; parameters as lists, e.g.
        ``seed=[1, 2]`` (or ``seeds=``), ``ratio=["16:9", "9:16"]``, ``model=[...]``. A
        dimension left out keeps the base request's value. Count = product of the lengths.
        """
        if seeds is not None:
            if "seed" in params:
                raise TypeError("pass seeds= or seed=, not both")
            params["seed"] = seeds
        dims: list[list[dict[str, Any]]] = []
        if prompts is not None and template is not None:
            raise TypeError("pass prompts= or template= (with table=), not both")
        if prompts is not None:
            if isinstance(prompts, str) or not isinstance(prompts, Sequence):
                raise TypeError("prompts= must be a list of prompt texts")
            texts = [_plain(p, "prompts") for p in prompts]
            if not texts:
                raise ValueError("prompts= is empty; give at least one prompt")
            for t in texts:
                if not isinstance(t, str):
                    raise TypeError(f"each prompt must be text, got {t!r}")
            dims.append([{PROMPT: t} for t in _unique("prompt", texts)])
        if template is not None:
            if table is None:
                raise TypeError("template= needs table= (a DataFrame or list of dicts)")
            rows = _table_rows(table, template_fields(template))
            dims.append(_unique("table row", rows))
        elif table is not None:
            raise TypeError("table= fills a template; pass template= too")
        if references is not None:
            dims.append([{REFERENCES: n} for n in _named_sets(references)])
        for key, values in params.items():
            _check_param_name(key)
            if isinstance(values, str) or not isinstance(values, Sequence):
                raise TypeError(f"{key}= must be a list of values, e.g. {key}=[...]")
            if not values:
                raise ValueError(f"{key}= is empty; leave it out to keep the base value")
            plain = [_plain(v, key) for v in values]
            dims.append([{key: v} for v in _unique(key, plain)])
        combos = [
            {k: v for part in combo for k, v in part.items()} for combo in itertools.product(*dims)
        ]
        return cls(base, combos, name=name, template=template, references=references)

    @classmethod
    def from_rows(
        cls,
        base: BaseRequest | Mapping[str, Any],
        rows: Any,
        *,
        name: str,
        template: str | None = None,
        references: Mapping[str, Selection] | Sequence[Selection] | None = None,
    ) -> Experiment:
        """One variant per row of ``rows`` (a DataFrame or a list of dicts).

        Columns: ``prompt``, the template's placeholders (with ``template=``), ``references``
        (a name in ``references=``) and parameters. An empty cell (None/NaN) keeps the base
        value for that row.
        """
        if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
            records = rows.to_dict("records")
        elif isinstance(rows, Iterable) and not isinstance(rows, str | bytes | Mapping):
            records = list(rows)
        else:
            raise TypeError("rows must be a DataFrame or a list of dicts")
        out = []
        for i, row in enumerate(records):
            if not isinstance(row, Mapping):
                raise TypeError(f"row {i + 1} must be a dict, got {type(row).__name__}")
            values = {str(k): _plain(v, f"row {i + 1}, {k}") for k, v in row.items()}
            out.append({k: v for k, v in values.items() if v is not None})
        if not out:
            raise ValueError("rows has no rows")
        return cls(base, out, name=name, template=template, references=references)

    # ------------------------------------------------------------------ expansion
    def _check_rows(self) -> None:
        allowed = {PROMPT, REFERENCES, *PARAMETERS, *self.fields}
        for i, row in enumerate(self._rows):
            for key in row:
                if key not in allowed:
                    near = difflib.get_close_matches(key, sorted(allowed), n=1)
                    hint = f" (did you mean {near[0]!r}?)" if near else ""
                    raise ValueError(
                        f"row {i + 1}: {key!r} is not a dimension{hint}; use prompt, references,"
                        " a template placeholder or a parameter"
                    )
            if PROMPT in row and self.fields and any(f in row for f in self.fields):
                raise ValueError(f"row {i + 1} gives both a prompt and template placeholders")
            if self.fields and PROMPT not in row:
                missing = [f for f in self.fields if f not in row]
                if missing and len(missing) < len(self.fields):
                    raise ValueError(f"row {i + 1} has no value for {', '.join(missing)}")
            ref = row.get(REFERENCES)
            if ref is not None and ref not in self.reference_sets:
                known = ", ".join(map(repr, self.reference_sets)) or "none (pass references=)"
                raise ValueError(f"row {i + 1}: no reference set {ref!r}; known sets: {known}")

    def _id_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values a variant id hashes: reference sets by content, not by name."""
        out = dict(values)
        ref = values.get(REFERENCES)
        if ref is not None:
            out[REFERENCES] = selection_fingerprint(self.reference_sets[ref], self.base.mode)
        return out

    def _expand(self, index: int, values: dict[str, Any]) -> Variant:
        vid = "var-" + _digest(self.experiment_id + "\n" + canonical_json(self._id_values(values)))
        base = self.base
        if PROMPT in values:
            prompt = str(values[PROMPT])
        elif self.template is not None and all(f in values for f in self.fields):
            prompt = self.template.format_map({f: values[f] for f in self.fields})
        else:
            prompt = base.prompt
        selection = base.selection
        ref = values.get(REFERENCES)
        if ref is not None:
            selection = self.reference_sets[ref]
            prompt = renumber(prompt, base.selection, selection)
        params = dict(base.params)
        params.update({k: v for k, v in values.items() if k in wire.VIDEO_METADATA_FIELDS})
        model = values.get("model", base.model)
        try:
            if not isinstance(model, str):
                raise TypeError(f"model must be a model name, got {model!r}")
            body = build_request(
                model, prompt, selection, mode=base.mode, strict=False, extra=base.extra, **params
            )
            found = check_request(model, prompt, selection, mode=base.mode, **params)
        except (TypeError, ValueError) as exc:
            return Variant(
                self.experiment_id, vid, index, values, None,
                (Issue("error", INVALID_PARAMETER, str(exc)),),
            )  # fmt: skip
        return Variant(self.experiment_id, vid, index, values, body, tuple(found))

    # ------------------------------------------------------------------ views
    @property
    def dimensions(self) -> list[str]:
        """The names that vary across the variants, in first-seen order."""
        out: list[str] = []
        for row in self._rows:
            for key in row:
                if key not in out:
                    out.append(key)
        return out

    @property
    def valid(self) -> list[Variant]:
        """The variants that can be sent."""
        return [v for v in self.variants if v.valid]

    @property
    def invalid(self) -> list[Variant]:
        """The variants that cannot be sent, each with ``.reasons``."""
        return [v for v in self.variants if not v.valid]

    def variant(self, variant_id: str) -> Variant:
        """The variant with this id (KeyError naming the experiment otherwise)."""
        for v in self.variants:
            if v.variant_id == variant_id:
                return v
        raise KeyError(f"experiment {self.experiment_id} has no variant {variant_id!r}")

    def dry_run(self) -> list[dict[str, Any]]:
        """Every variant as it would be sent: id, values, valid, reasons, body (nothing sent)."""
        return [
            {
                "variant_id": v.variant_id,
                "values": dict(v.values),
                "valid": v.valid,
                "reasons": v.reasons,
                "body": v.body,
            }
            for v in self.variants
        ]

    def to_frame(self) -> Any:
        """A DataFrame: one row per variant, a column per dimension, ``valid`` and ``reasons``."""
        import pandas as pd

        dims = self.dimensions
        records = [
            {
                "variant_id": v.variant_id,
                **{d: v.values.get(d) for d in dims},
                "valid": v.valid,
                "reasons": "; ".join(v.reasons),
            }
            for v in self.variants
        ]
        return pd.DataFrame.from_records(records, columns=["variant_id", *dims, "valid", "reasons"])

    def definition(self) -> dict[str, Any]:
        """A JSON-able record of what was defined (stored with the experiment)."""
        return {
            "name": self.name,
            "experiment_id": self.experiment_id,
            "base": self.base.body(),
            "template": self.template,
            "reference_sets": {
                n: selection_fingerprint(s, self.base.mode) for n, s in self.reference_sets.items()
            },
            "dimensions": self.dimensions,
            "variants": len(self.variants),
        }

    def estimate(self, **kwargs: Any) -> Any:
        """Tokens per valid variant and in total (:func:`orca_nb.experiments.cost.estimate`)."""
        from orca_nb.experiments.cost import estimate

        return estimate(self.variants, **kwargs)

    def start(self, client: Any, **kwargs: Any) -> Any:
        """Check, store and enqueue this experiment (:func:`orca_nb.experiments.run.start`)."""
        from orca_nb.experiments.run import start

        return start(self, client, **kwargs)

    def __len__(self) -> int:
        return len(self.variants)

    def __repr__(self) -> str:
        bad = len(self.invalid)
        return (
            f"Experiment({self.name!r}, id={self.experiment_id}, variants={len(self.variants)}"
            f"{f', invalid={bad}' if bad else ''}, dimensions={self.dimensions})"
        )
