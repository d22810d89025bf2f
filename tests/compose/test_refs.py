from __future__ import annotations

from dataclasses import dataclass

import pytest

from orca_nb.compose import Ref, kind_from_url, parse_kind
from tests.compose.conftest import IMG1


def test_asset_ref_carries_asset_url_and_strips_scheme() -> None:
    ref = Ref("asset://" + IMG1, "Image")  # type: ignore[arg-type]  # runtime accepts it
    assert ref.source == IMG1
    assert ref.kind == "image"
    assert ref.is_asset
    assert ref.url == "asset://" + IMG1
    assert ref.label == IMG1


def test_url_ref_passes_url_through() -> None:
    ref = Ref("https://cdn.example.com/a/b/outfit.png?sig=1", "image")
    assert not ref.is_asset
    assert ref.url == "https://cdn.example.com/a/b/outfit.png?sig=1"
    assert ref.label == "outfit.png"


@pytest.mark.parametrize(
    "source", ["", "outfit.png", "ftp://x.test/a.png", "asset-", "group-20260318033332-ab12c"]
)
def test_bad_source_is_rejected_with_advice(source: str) -> None:
    with pytest.raises(ValueError, match="neither an asset id"):
        Ref(source, "image")


def test_role_must_exist_and_fit_kind() -> None:
    assert Ref(IMG1, "image", role="last_frame").role == "last_frame"
    with pytest.raises(ValueError, match="unknown role"):
        Ref(IMG1, "image", role="hero")
    with pytest.raises(ValueError, match="is for images"):
        Ref(IMG1, "audio", role="first_frame")


def test_seconds_must_be_finite_non_negative() -> None:
    with pytest.raises(ValueError, match="seconds"):
        Ref(IMG1, "video", seconds=-1.0)
    with pytest.raises(ValueError, match="seconds"):
        Ref(IMG1, "video", seconds=float("nan"))


@pytest.mark.parametrize(
    ("value", "kind"),
    [("image", "image"), ("Video", "video"), ("audio_url", "audio"), (" AUDIO ", "audio")],
)
def test_parse_kind_accepts_wire_spellings(value: str, kind: str) -> None:
    assert parse_kind(value) == kind


def test_parse_kind_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="image, video, audio"):
        parse_kind("text")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://x.test/a.JPG", "image"),
        ("https://x.test/dir.v2/clip.mov?x=1.png", "video"),
        ("https://x.test/song.mp3", "audio"),
        ("https://x.test/clip.webm", None),
        ("https://x.test/noext", None),
        ("https://x.test/dir.png/", None),
    ],
)
def test_kind_from_url_reads_extension_of_path(url: str, kind: str | None) -> None:
    assert kind_from_url(url) == kind


def test_from_url_needs_kind_when_extension_is_unknown() -> None:
    with pytest.raises(ValueError, match="pass kind="):
        Ref.from_url("https://x.test/stream")
    assert Ref.from_url("https://x.test/stream", "video").kind == "video"


@dataclass
class FakeAsset:
    id: str
    asset_type: str
    status: str | None
    name: str | None
    group_id: str | None


def test_from_asset_copies_the_asset_facts() -> None:
    asset = FakeAsset(IMG1, "Image", "Processing", None, "group-20260318033332-ab12c")
    ref = Ref.from_asset(asset, seconds=None)
    assert ref == Ref(IMG1, "image", status="Processing", group_id="group-20260318033332-ab12c")


def test_from_asset_accepts_the_client_model() -> None:
    from orca_nb.client.models import Asset

    asset = Asset.model_validate(
        {"Id": IMG1, "AssetType": "Video", "Status": "Active", "Name": "walk", "GroupId": "g-1"}
    )
    ref = Ref.from_asset(asset, seconds=4.0)
    assert (ref.kind, ref.status, ref.name, ref.seconds, ref.url) == (
        "video",
        "Active",
        "walk",
        4.0,
        "asset://" + IMG1,
    )
    untyped = Asset.model_validate({"Id": IMG1, "Status": "Active"})
    with pytest.raises(ValueError, match="does not say its AssetType"):
        Ref.from_asset(untyped)
