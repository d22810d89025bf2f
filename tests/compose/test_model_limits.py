"""compose.validate follows per-model limits when the caller passes them (from client.models)."""

from __future__ import annotations

from dataclasses import replace

from orca_nb import wire
from orca_nb.compose import Ref, Selection, build_request, validate
from orca_nb.compose import issues as codes

TWO_FIVE = wire.PEER_MODELS["dreamina-seedance-2-5-260628"]


def images(n: int) -> Selection:
    return Selection([Ref(f"asset-20260318071009-im{i:03d}", "image") for i in range(n)])


def test_duration_limit_comes_from_the_given_spec() -> None:
    sel = images(1)
    prompt = "[Image 1] runs"
    without = validate(prompt, sel, model=TWO_FIVE.name, duration=25)
    assert any(i.code == codes.UNKNOWN_MODEL for i in without)
    routable = replace(TWO_FIVE, routable=True)
    found = validate(prompt, sel, model=TWO_FIVE.name, duration=25, spec=routable)
    assert [i for i in found if i.level == "error"] == []
    too_long = validate(prompt, sel, model=TWO_FIVE.name, duration=31, spec=routable)
    assert [i.code for i in too_long if i.level == "error"] == [codes.INVALID_DURATION]


def test_reference_counts_and_resolutions_come_from_the_given_spec() -> None:
    narrow = replace(wire.MODELS[wire.SEEDANCE_2], max_ref_images=2, resolutions=("480p",))
    prompt = "[Image 1] [Image 2] [Image 3]"
    found = validate(prompt, images(3), resolution="720p", spec=narrow)
    assert {i.code for i in found if i.level == "error"} == {
        codes.TOO_MANY_IMAGES,
        codes.INVALID_RESOLUTION,
    }
    assert validate(prompt, images(3), resolution="720p") == []  # the wire table allows it


def test_a_spec_saying_not_routable_is_an_error() -> None:
    closed = replace(wire.MODELS[wire.SEEDANCE_2], routable=False)
    found = validate("[Image 1] waves", images(1), spec=closed)
    assert [i.code for i in found] == [codes.MODEL_NOT_ROUTABLE]


def test_build_request_passes_the_spec_on() -> None:
    routable = replace(TWO_FIVE, routable=True)
    body = build_request(TWO_FIVE.name, "[Image 1] runs", images(1), duration=20, spec=routable)
    assert body["metadata"]["duration"] == 20
