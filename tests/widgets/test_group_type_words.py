"""One vocabulary for group types: the studio, the DataFrames and the reports say the same words
(values are the service's GroupType; ``wire.group_type_label`` adds the DOC's name)."""

from __future__ import annotations

from pathlib import Path

from orca_nb import wire
from orca_nb.reports.schemas import describe
from orca_nb.widgets.frames import assets_df, groups_df
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.views.forms import QuotaView, UploadView
from orca_nb.widgets.views.library import GroupsPanel
from tests.widgets.fakes import FakeOrca

TEMPLATES = Path(__file__).parents[2] / "orca_nb" / "widgets" / "views" / "templates"


async def test_studio_frames_and_reports_use_the_same_group_type_words() -> None:
    client = FakeOrca()
    person = client.add_group("ada (verified)", group_type="LivenessFace")
    props = client.add_group("props")
    client.add_asset(person, "face")
    client.add_asset(props, "chair")
    client.add_asset(props, "lamp")
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    await store.refresh()
    panel, meter, upload = GroupsPanel(store), QuotaView(store), UploadView(store)
    try:
        chips = {row.group_id: (row.group_type, row.type_label) for row in panel.rows}
        assert chips == {
            person: ("LivenessFace", "real-human (LivenessFace)"),
            props: ("AIGC", "virtual (AIGC)"),
        }
        assert meter.by_group_type == "virtual (AIGC) 2 · real-human (LivenessFace) 1"
        assert panel.new_label == "New virtual (AIGC) group"
        titles = {c["value"]: c["title"] for c in upload.group_choices}
        assert titles[person].endswith(" · real-human (LivenessFace)")
        frame = groups_df(store).set_index("id")
        assert frame.loc[person, "group_type"] == "LivenessFace"
        assert frame.loc[props, "group_type"] == "AIGC"
        assert set(assets_df(store)["group_type"].astype(str)) == {"AIGC", "LivenessFace"}
        assert "kind" not in frame.columns
        assert "group_kind" not in assets_df(store).columns
        meaning = describe("group_summary").set_index("column").loc["group_type", "meaning"]
        assert meaning == "virtual (AIGC) or real-human (LivenessFace)"
    finally:
        for view in (panel, meter, upload):
            view.close()


def test_templates_take_group_type_words_from_the_kernel() -> None:
    """No template spells a group type's name itself: the words come from wire's one table."""
    for f in sorted(TEMPLATES.glob("*.vue")):
        text = f.read_text().lower()
        assert "verified person" not in text, f.name
        assert "verified people" not in text, f.name
        for value in wire.GROUP_TYPES:
            name = wire.GROUP_TYPE_NAMES[value]
            assert name not in text, f.name  # not even inside a longer label


def test_group_type_label_words_each_value() -> None:
    assert [wire.group_type_label(t) for t in wire.GROUP_TYPES] == [
        "virtual (AIGC)",
        "real-human (LivenessFace)",
    ]
    assert wire.group_type_label("Other") == "Other"
    assert set(wire.GROUP_TYPE_NAMES) == set(wire.GROUP_TYPES)


def test_query_words_follow_the_wire_table() -> None:
    assert tuple(wire.GROUP_TYPE_QUERY_TO_WIRE) == wire.GROUP_TYPE_QUERIES
