"""Every person the sandbox's verification page offers has sample looks to upload."""

from __future__ import annotations

import pytest

from orca_nb.sandbox import faces
from orca_nb.sandbox.samples import SAMPLES, sample_bytes


@pytest.mark.parametrize("person", list(faces.PEOPLE))
def test_every_h5_person_has_a_full_body_and_a_close_up_look(person: str) -> None:
    looks = [s for s in SAMPLES.values() if s.valid and s.person == person]
    assert any("full body" in s.title for s in looks), person
    assert any("close-up" in s.title for s in looks), person
    for sample in looks:
        assert sample.faces == (person,)
        assert sample.filename.startswith(person + "_")
        if sample.asset_type == "Image":
            assert faces.detect_faces(sample_bytes(sample.filename)) == [person]
