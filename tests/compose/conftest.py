"""Shared references for the compose tests (ids shaped like upstream ones)."""

from __future__ import annotations

import pytest

from orca_nb.compose import Ref, Selection

IMG1 = "asset-20260318071009-xy98z"
IMG2 = "asset-20260318071010-ab12c"
VID1 = "asset-20260318071011-vv001"
AUD1 = "asset-20260318080000-a1b2c"
OUTFIT_URL = "https://cdn.example.com/outfit.png"


@pytest.fixture
def mixed() -> Selection:
    """[Image 1] asset, [Image 2] URL, [Video 1] asset, [Audio 1] asset; all Active."""
    return Selection(
        [
            Ref(IMG1, "image", name="ada_full_body", status="Active"),
            Ref.from_url(OUTFIT_URL),
            Ref(VID1, "video", status="Active", seconds=5.0),
            Ref(AUD1, "audio", status="Active", seconds=4.0),
        ]
    )
