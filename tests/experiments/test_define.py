"""Experiment definition: expansion counts, stable unique ids, validation reasons, dry runs."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orca_nb import wire
from orca_nb.compose import Ref, Selection, build_request, validate
from orca_nb.experiments import (
    INVALID_PARAMETER,
    BaseRequest,
    Experiment,
    experiment_id_for,
    template_fields,
)

A = Ref("asset-20260318071009-aaaaa", "image", name="ada")
B = Ref("asset-20260318071009-bbbbb", "image", name="ben")
V = Ref("asset-20260318071009-vvvvv", "video", name="walk")
BOTH = Selection([A, B])
BASE = build_request(wire.SEEDANCE_2, "[Image 1] meets [Image 2]", BOTH, ratio="16:9", duration=5)


def test_base_request_round_trips_a_body() -> None:
    base = BaseRequest.from_body(BASE)
    assert base.model == wire.SEEDANCE_2
    assert base.selection.tokens() == ["[Image 1]", "[Image 2]"]
    assert base.mode == "reference"
    assert base.body() == BASE


def test_base_request_keeps_frame_roles_and_extra_fields() -> None:
    sel = Selection([A, B])
    body = build_request(
        wire.SEEDANCE_2, "from [Image 1] to [Image 2]", sel, mode="first_last", extra={"x": 1}
    )
    base = BaseRequest.from_body(body)
    assert base.mode == "first_last"
    assert base.extra == {"x": 1}
    assert base.body() == body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"prompt": "x"}, "no model"),
        ({"model": wire.SEEDANCE_2}, "no prompt"),
        ({"model": wire.SEEDANCE_2, "prompt": "x", "metadata": {"content": [{"type": "text"}]}},
         "not a media item"),
    ],
)  # fmt: skip
def test_bad_base_bodies_say_what_is_wrong(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Experiment.grid(body, name="x", seed=[1])


def test_grid_is_the_product_in_argument_order() -> None:
    exp = Experiment.grid(
        BASE, name="g", prompts=["[Image 1] runs", "[Image 2] sits"], seed=[1, 2, 3],
        ratio=["16:9", "9:16"],
    )  # fmt: skip
    assert len(exp) == 12
    assert exp.dimensions == ["prompt", "seed", "ratio"]
    first = exp.variants[0]
    assert dict(first.values) == {"prompt": "[Image 1] runs", "seed": 1, "ratio": "16:9"}
    assert first.body is not None
    assert first.body["metadata"]["seed"] == 1
    assert first.body["metadata"]["duration"] == 5  # kept from the base
    assert all(v.valid for v in exp.variants)


def test_ids_are_stable_across_expansions_and_orders() -> None:
    one = Experiment.grid(BASE, name="same", seed=[1, 2], ratio=["16:9", "1:1"])
    two = Experiment.grid(BASE, name="same", ratio=["1:1", "16:9"], seed=[2, 1])
    assert {v.variant_id: dict(v.values) for v in one.variants} == {
        v.variant_id: dict(v.values) for v in two.variants
    }
    other = Experiment.grid(BASE, name="another", seed=[1, 2], ratio=["16:9", "1:1"])
    assert not {v.variant_id for v in one.variants} & {v.variant_id for v in other.variants}
    assert one.variants[0].workflow_id == f"{one.experiment_id}.{one.variants[0].variant_id}"


def test_experiment_ids_are_safe_and_named() -> None:
    assert experiment_id_for("Rain test: 3 prompts!").startswith("exp-rain-test-3-prompts-")
    assert experiment_id_for("a") != experiment_id_for("A")
    with pytest.raises(ValueError, match="non-blank name"):
        experiment_id_for("  ")


def test_template_rows_fill_prompts_and_vary_by_their_fields() -> None:
    table = pd.DataFrame({"animal": ["cat", "dog"], "place": ["rain", "snow"]})
    exp = Experiment.grid(
        BASE, name="t", template="[Image 1] and a {animal} in the {place} with [Image 2]",
        table=table, seed=[7],
    )  # fmt: skip
    assert [v.body["prompt"] for v in exp.variants if v.body] == [
        "[Image 1] and a cat in the rain with [Image 2]",
        "[Image 1] and a dog in the snow with [Image 2]",
    ]
    assert dict(exp.variants[1].values) == {"animal": "dog", "place": "snow", "seed": 7}
    assert template_fields("{a} {b} {a}") == ["a", "b"]
    with pytest.raises(ValueError, match="plain name"):
        template_fields("{a:>3}")
    with pytest.raises(ValueError, match="no value for place"):
        Experiment.grid(BASE, name="t", template="{animal} {place}", table=[{"animal": "cat"}])


def test_reference_sets_renumber_tokens_and_report_removed_ones() -> None:
    only_b = Selection([B])
    with_video = Selection([V, B, A])
    exp = Experiment.grid(
        BASE, name="r", references={"both": BOTH, "only ben": only_b, "video first": with_video}
    )
    by_set = {v.values["references"]: v for v in exp.variants}
    assert by_set["both"].body is not None
    assert by_set["both"].body["prompt"] == "[Image 1] meets [Image 2]"
    moved = by_set["video first"]
    assert moved.valid
    assert moved.body is not None
    assert moved.body["prompt"] == "[Image 2] meets [Image 1]"  # A is now the second image
    assert [c["role"] for c in moved.body["metadata"]["content"]] == [
        "reference_video", "reference_image", "reference_image",
    ]  # fmt: skip
    gone = by_set["only ben"]
    assert not gone.valid
    assert gone.body is not None
    assert gone.body["prompt"] == "[removed Image 1] meets [Image 1]"  # a body carries no names
    assert any("removed" in r for r in gone.reasons)
    assert exp.invalid == [gone]


def test_reference_set_ids_follow_content_not_list_position() -> None:
    one = Experiment.grid(BASE, name="s", references=[BOTH, Selection([B, A])])
    two = Experiment.grid(BASE, name="s", references=[Selection([B, A]), BOTH])
    assert {v.variant_id for v in one.variants} == {v.variant_id for v in two.variants}


def test_invalid_values_are_listed_with_compose_reasons() -> None:
    exp = Experiment.grid(BASE, name="bad", duration=[5, 99], ratio=["16:9", "2:1"])
    assert len(exp.valid) == 1
    reasons = {tuple(sorted(v.values.items())): v.reasons for v in exp.invalid}
    assert any("duration 99" in r for r in reasons[(("duration", 99), ("ratio", "16:9"))])
    assert len(reasons[(("duration", 99), ("ratio", "2:1"))]) == 2
    rows = exp.dry_run()
    assert len(rows) == 4
    assert all(r["body"] is not None for r in rows)  # previews of invalid ones too


def test_wrong_types_make_an_invalid_variant_not_a_crash() -> None:
    exp = Experiment.from_rows(
        BASE, [{"seed": 1}, {"generate_audio": "yes"}, {"model": 3}], name="types"
    )
    assert [v.valid for v in exp.variants] == [True, False, False]
    assert exp.variants[1].body is None
    assert exp.variants[1].issues[0].code == INVALID_PARAMETER
    assert "True or False" in exp.variants[1].reasons[0]


def test_rows_from_a_dataframe_with_gaps_keep_base_values() -> None:
    frame = pd.DataFrame(
        {"prompt": ["[Image 1] waves at [Image 2]", None], "seed": [1, 2], "duration": [None, 8]}
    )
    exp = Experiment.from_rows(BASE, frame, name="rows")
    first, second = exp.variants
    assert dict(first.values) == {"prompt": "[Image 1] waves at [Image 2]", "seed": 1}
    assert dict(second.values) == {"seed": 2, "duration": 8}
    assert isinstance(second.values["duration"], int)
    assert second.body is not None
    assert second.body["prompt"] == "[Image 1] meets [Image 2]"
    assert exp.to_frame()["seed"].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sed": [1]}, TypeError, "did you mean 'seed'"),
        ({"seed": 1}, TypeError, "list of values"),
        ({"seed": []}, ValueError, "is empty"),
        ({"seed": [1, 1]}, ValueError, "are the same"),
        ({"prompts": "one"}, TypeError, "list of prompt texts"),
        ({"prompts": ["a"], "template": "{x}", "table": [{"x": 1}]}, TypeError, "not both"),
        ({"table": [{"x": 1}]}, TypeError, "pass template"),
        ({"references": {"x": [A]}}, TypeError, "Selection"),
        ({"seeds": [1], "seed": [2]}, TypeError, "not both"),
    ],
)
def test_bad_grids_raise_clear_errors(kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Experiment.grid(BASE, name="x", **kwargs)


def test_bad_rows_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="did you mean 'seed'"):
        Experiment.from_rows(BASE, [{"sead": 1}], name="x")
    with pytest.raises(ValueError, match="no reference set 'z'"):
        Experiment.from_rows(BASE, [{"references": "z"}], name="x", references={"a": BOTH})
    with pytest.raises(ValueError, match="vary the same values"):
        Experiment.from_rows(BASE, [{"seed": 1}, {"seed": 1.0}], name="x")
    with pytest.raises(ValueError, match="no rows"):
        Experiment.from_rows(BASE, pd.DataFrame({"seed": []}), name="x")


# --------------------------------------------------------------------------- properties
PROMPTS = st.lists(
    st.sampled_from(
        ["[Image 1] runs", "[Image 2] jumps", "[Image 1] and [Image 2] dance", "a storm",
         "[Image 3]"]
    ),
    min_size=1, max_size=3, unique=True,
)  # fmt: skip
SEEDS = st.lists(st.integers(min_value=-3, max_value=2**33), min_size=1, max_size=3, unique=True)
RATIOS = st.lists(st.sampled_from([*wire.RATIOS, "2:1"]), min_size=1, max_size=3, unique=True)
DURATIONS = st.lists(st.integers(min_value=-2, max_value=20), min_size=1, max_size=3, unique=True)
SETS = st.lists(st.sampled_from(["both", "a", "ba", "none"]), min_size=1, max_size=3, unique=True)
NAMED = {"both": BOTH, "a": Selection([A]), "ba": Selection([B, A]), "none": Selection()}


@settings(max_examples=60, deadline=None)
@given(prompts=PROMPTS, seeds=SEEDS, ratios=RATIOS, durations=DURATIONS, sets=SETS)
def test_expansion_properties(
    prompts: list[str], seeds: list[int], ratios: list[str], durations: list[int], sets: list[str]
) -> None:
    refs = {k: NAMED[k] for k in sets}
    exp = Experiment.grid(
        BASE, name="prop", prompts=prompts, references=refs, seed=seeds, ratio=ratios,
        duration=durations,
    )  # fmt: skip
    # counts = product of the dimensions
    assert len(exp) == math.prod(map(len, (prompts, sets, seeds, ratios, durations)))
    # ids unique and stable
    ids = [v.variant_id for v in exp.variants]
    assert len(set(ids)) == len(ids)
    again = Experiment.grid(
        BASE, name="prop", prompts=prompts, references=refs, seed=seeds, ratio=ratios,
        duration=durations,
    )  # fmt: skip
    assert [v.variant_id for v in again.variants] == ids
    # every body is valid by compose's own rules, or listed with reasons
    for v in exp.variants:
        assert v.body is not None
        meta = v.body["metadata"]
        found = validate(
            v.body["prompt"], refs[v.values["references"]], model=v.body["model"],
            ratio=meta.get("ratio"), duration=meta.get("duration"), seed=meta.get("seed"),
        )  # fmt: skip
        has_errors = any(i.level == "error" for i in found)
        assert v.valid is not has_errors
        if not v.valid:
            assert v.reasons
            assert v in exp.invalid
        else:
            assert build_request(  # strict: raises if compose disagrees
                v.body["model"], v.body["prompt"], refs[v.values["references"]],
                **{k: meta[k] for k in ("ratio", "duration", "seed")},
            ) == v.body  # fmt: skip
    assert len(exp.valid) + len(exp.invalid) == len(exp)
    assert len(exp.dry_run()) == len(exp)
