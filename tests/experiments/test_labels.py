"""One wording of a variant's values for the Sweep tab, progress, the compare grid, the export."""

from __future__ import annotations

from orca_nb.experiments.labels import LABEL_VALUE_CHARS, value_text, variant_label


def test_values_read_as_text() -> None:
    assert [value_text(v) for v in (None, True, False, 7, "x", {"b": 1})] == [
        "—", "on", "off", "7", "x", '{"b": 1}',
    ]  # fmt: skip


def test_a_variant_reads_in_words_in_its_values_order() -> None:
    values = {
        "prompt": "a cat in the rain",
        "seed": 7,
        "duration": 5,
        "ratio": "16:9",
        "resolution": "720p",
        "model": "seedance-pro",
        "generate_audio": False,
        "animal": "cat",
        "camera_fixed": True,
    }
    assert variant_label(values) == (
        "a cat in the rain · seed 7 · 5 s · 16:9 · 720p · seedance-pro · silent · animal=cat"
        " · camera_fixed=on"
    )
    assert variant_label({"generate_audio": True}) == "audio"
    assert variant_label({"seed": -1, "watermark": True}) == "random seed · watermark=on"
    assert variant_label({}) == ""


def test_dims_choose_and_order_and_skip_leaves_out() -> None:
    values = {"prompt": "dawn", "seed": 42, "ratio": "1:1"}
    assert variant_label(values, ["seed", "prompt"]) == "seed 42 · dawn"
    assert variant_label(values, ["prompt", "seed", "ratio"], skip={"prompt", "seed"}) == "1:1"
    assert variant_label(values, ["prompt", "seed"], skip=["prompt", "seed"]) == ""
    assert variant_label(values, ["prompt", "references"]) == "dawn · references=—"


def test_a_long_text_is_cut_with_an_ellipsis() -> None:
    long = "a lighthouse on a cliff at dawn, waves breaking below, gulls overhead"
    cut = variant_label({"prompt": long})
    assert len(cut) == LABEL_VALUE_CHARS
    assert cut.endswith("…")
    assert long.startswith(cut[:-1])
    fits = "x" * LABEL_VALUE_CHARS
    assert variant_label({"prompt": fits}) == fits
    assert variant_label({"scene": long}) == "scene=" + cut
