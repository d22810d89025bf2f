"""An experiment's HTML export in real headless Chromium, opened from a file: no request
leaves the page, every poster draws under the page's Content-Security-Policy, hostile text
runs nothing, and the page does not scroll sideways. (Browser tests live in tests/browser/.)"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from orca_nb.experiments.db import ExperimentRow
from orca_nb.experiments.export import Poster, render_html
from orca_nb.experiments.results import results_frame
from orca_nb.ledger import VariantMark
from orca_nb.media import poster_data_uri
from orca_nb.sandbox import synth
from tests.experiments.test_results import T, variant

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script> https://evil.example/a.png"


@pytest.mark.browser
def test_the_export_opens_offline_and_draws_every_poster(tmp_path: Path, browser: Browser) -> None:
    clip = synth.video_bytes(320, 180, seconds=0.5, fps=12, seed=5)
    uri = poster_data_uri(clip)
    rows = []
    for i, prompt in enumerate([HOSTILE, "a calm sea", "a storm at dawn"]):
        for seed in (1, 2):
            vid = f"v{i}{seed}"
            failed = (i, seed) == (1, 2)
            rows.append(
                variant(
                    vid,
                    "failed" if failed else "succeeded",
                    task_id=f"t-{vid}",
                    values={"prompt": prompt, "seed": seed},
                    sent_at=T,
                    finished_at=T + 9000,
                    tokens=None if failed else 40_594,
                    error_code="InternalServiceError" if failed else None,
                    error_message="boom" if failed else None,
                )
            )
    marks = {
        "v01": VariantMark("exp", "v01", True, 5, (HOSTILE[:40], "keep"), HOSTILE, None),
        "v11": VariantMark("exp", "v11", False, 2, (), "", None),
    }
    frame = results_frame(rows, marks=marks)
    posters = {v.variant_id: Poster(uri=uri) for v in rows if v.status == "succeeded"}
    posters["v22"] = Poster(error="could not read task t-v22: 404")
    experiment = ExperimentRow(
        "exp", "browser export", "key-1", "http://127.0.0.1:1/v1",
        {"base": {"model": "m", "prompt": HOSTILE, "metadata": {"ratio": "16:9"}}}, "active",
        T, T,
    )  # fmt: skip
    page_file = tmp_path / "export.html"
    page_file.write_text(render_html(experiment, rows, frame, posters), encoding="utf-8")

    requests: list[str] = []
    problems: list[str] = []
    with closing(browser.new_context(viewport={"width": 1280, "height": 900})) as context:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        drawn = page.evaluate(
            "() => [...document.images].map(i => i.complete && i.naturalWidth > 0)"
        )
        assert drawn == [True] * 4  # 5 succeeded, one of whose posters failed
        missing = page.locator(".poster.missing").all_text_contents()
        assert missing == ["No poster: could not read task t-v22: 404"]
        assert HOSTILE in page.locator("#base .prompt").inner_text()
        assert page.locator(".card.winner .badge").inner_text() == "★ winner"
        widths = page.evaluate(
            "() => ({page: document.documentElement.scrollWidth, view: innerWidth})"
        )
        assert widths["page"] <= widths["view"]
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "experiment-export.png"), full_page=True)
    assert problems == []
    assert requests == [page_file.as_uri()]  # the file itself, nothing else
