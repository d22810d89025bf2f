"""Rows built from client models: the fast Asset path writes what the generic path writes."""

from __future__ import annotations

from orca_nb.client.models import Asset
from orca_nb.widgets.rows import asset_from

WIRE = {
    "Id": "asset-20260318033332-abcde",
    "Name": "look 1",
    "GroupId": "group-20260318033332-abcde",
    "AssetType": "Image",
    "Status": "Failed",
    "URL": "",
    "Error": {"Code": "InvalidParameter", "Message": "bad"},
    "CreateTime": "2026-03-18T03:33:32Z",
    "UpdateTime": "2026-03-18T03:34:00.250000Z",
}


def test_model_row_equals_the_row_of_its_wire_dict_fields() -> None:
    row = asset_from(Asset.model_validate(WIRE))
    assert (row.id, row.name, row.group_id, row.asset_type, row.status) == (
        WIRE["Id"], "look 1", WIRE["GroupId"], "Image", "Failed",
    )  # fmt: skip
    assert (row.error_code, row.error_message) == ("InvalidParameter", "bad")
    assert row.create_time == "2026-03-18T03:33:32+00:00"
    assert row.update_time == "2026-03-18T03:34:00.250000+00:00"


def test_equal_instants_in_other_zones_keep_their_own_text() -> None:
    utc = asset_from(Asset.model_validate(WIRE))
    east = asset_from(Asset.model_validate({**WIRE, "CreateTime": "2026-03-18T11:33:32+08:00"}))
    assert utc.create_time == "2026-03-18T03:33:32+00:00"
    assert east.create_time == "2026-03-18T11:33:32+08:00"
    assert asset_from(Asset.model_validate({**WIRE, "CreateTime": None})).create_time == ""
