"""The one-file offline HTML export: everything escaped, nothing fetched, posters embedded,
failures and marks shown. One sandbox experiment (2 prompts x 2 seeds, one task failed, one
hostile prompt) is exported several ways."""

from __future__ import annotations

import base64
import io
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from orca_nb.cli import main
from orca_nb.client import Orca
from orca_nb.experiments import Experiment, ExperimentRun, export_html, start
from orca_nb.experiments.export import tokens_text
from orca_nb.sandbox import Backend, SandboxServer
from tests.experiments.conftest import BODY

HOSTILE_PROMPT = (
    "<script>alert('p')</script> a \"storm\" & <img src=x onerror=alert(1)> "
    "see https://evil.example/track.png"
)
HOSTILE_TAG = "<b onmouseover=alert(2)>bold</b>"
HOSTILE_NOTE = "</div><script>alert(3)</script>\nsecond line http://evil.example/x.gif"
#: Elements that would load or run something.
ACTIVE = {"script", "link", "iframe", "frame", "object", "embed", "video", "audio", "source",
          "base", "form", "svg", "math", "track", "input", "button"}  # fmt: skip


class Page(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)

    def with_id(self, ident: str) -> int:
        return next(i for i, (_, a) in enumerate(self.tags) if a.get("id") == ident)


def card_of(raw: str, variant_id: str) -> str:
    """The HTML of one variant's card (from its opening div to the end of its details)."""
    at = raw.index(f"id='variant-{variant_id}'")
    begin = raw.rindex("<div class='card", 0, at)
    return raw[begin : raw.index("</details>", at)]


def parse(path: os.PathLike[str] | str) -> tuple[str, Page]:
    raw = Path(path).read_text(encoding="utf-8")
    page = Page()
    page.feed(raw)
    page.close()
    return raw, page


@pytest.fixture
def finished(client: Orca, fast: dict[str, Any], sandbox_backend: Backend) -> ExperimentRun:
    """2 prompts x 2 seeds, the first task failed; marks on two succeeded variants."""
    sandbox_backend.fail_next_tasks(1)
    exp = Experiment.grid(
        BODY, name="export me", prompts=[HOSTILE_PROMPT, "a calm sea"], seed=[1, 2]
    )
    run = start(exp, client, concurrency=1, per_minute=600, **fast)
    assert run.wait(60).finished == 4
    ledger = run.ledger()
    assert ledger is not None
    good = [v.variant_id for v in run.variants() if v.status == "succeeded"]
    assert len(good) == 3
    ledger.mark_variant(run.experiment_id, good[0], pinned=True, rating=4,
                        tags=[HOSTILE_TAG, "keep"], note=HOSTILE_NOTE)  # fmt: skip
    ledger.mark_variant(run.experiment_id, good[1], rating=2)
    return run


def test_the_export_is_one_escaped_self_contained_file(
    finished: ExperimentRun, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "exp.html"
    done = finished.export_html(out)
    assert done.path == out
    assert Path(done) == out
    assert [p.name for p in out.parent.iterdir()] == ["exp.html"]  # one file, nothing beside
    assert (done.variants, done.posters, done.poster_failures) == (4, 3, 0)
    assert done.bytes == out.stat().st_size
    raw, page = parse(out)
    # Nothing that runs or loads: no active element, no external reference of any kind.
    assert not [t for t, _ in page.tags if t in ACTIVE]
    for tag, attrs in page.tags:
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        for name, value in attrs.items():
            if name == "src":
                assert tag == "img"
                assert value.startswith("data:image/jpeg;base64,")
            if name == "href":
                assert value.startswith("#"), value
            assert not re.search(r"https?://", value), (tag, name, value)
    assert not re.search(r"url\(|@import", raw)
    assert re.search(r"content=\"default-src 'none'", raw)
    # User text is text: the hostile prompt, tag and note come back verbatim as text...
    text = page.all_text
    assert HOSTILE_PROMPT in text
    assert HOSTILE_TAG in text
    assert "</div><script>alert(3)</script>" in text
    # ...and never as markup.
    assert not re.search(r"<script|<b onmouseover|<img src=x", raw)
    assert "&lt;script&gt;alert(&#x27;p&#x27;)&lt;/script&gt;" in raw
    # URLs a user wrote stay plain text.
    assert "https://evil.example/track.png" in text


def test_posters_are_embedded_jpegs(finished: ExperimentRun, tmp_path: Path) -> None:
    _, page = parse(finished.export_html(tmp_path / "p.html", poster_side=200))
    images = [a["src"] for t, a in page.tags if t == "img"]
    assert len(images) == 3  # one per succeeded variant
    for src in images:
        picture = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        assert picture.format == "JPEG"
        assert max(picture.size) == 200


def test_failed_variant_and_marks_are_shown(finished: ExperimentRun, tmp_path: Path) -> None:
    raw, page = parse(finished.export_html(tmp_path / "m.html"))
    frame = finished.results().set_index("variant_id")
    failed_id = str(frame.index[frame["status"] == "failed"][0])
    winner_id = str(frame.index[frame["pinned"]][0])
    # The failed variant's card: its status, why, and no poster.
    card = card_of(raw, failed_id)
    assert "status failed" in card
    assert "failed: no video" in card
    assert str(frame.loc[failed_id, "error_code"]) in card
    assert "<img" not in card
    # The winner: badge, stars, tags, note; the summary links to it.
    card = card_of(raw, winner_id)
    assert "★ winner" in card
    assert card.startswith("<div class='card winner'")
    assert "★★★★☆" in card
    assert "<span class='tag'>keep</span>" in card
    assert "&lt;b onmouseover=alert(2)&gt;bold&lt;/b&gt;" in card
    assert f"href='#variant-{winner_id}'" in raw
    assert "2 variant(s) rated, mean 3.00 of 5" in page.all_text
    # Two varied dimensions: a matrix with the values as headers.
    assert "<table class='matrix' id='variants'>" in raw
    assert {"seed: 1", "seed: 2"} <= {t.strip() for t in page.text}
    # The table lists every variant with its tokens, estimates marked.
    table = raw[raw.index("id='table-variants'") :]
    assert table.count("<tr>") == 5  # header + 4 variants
    assert "tokens (reported)" in table or "tokens (estimate)" in table


def test_the_base_request_and_parameters_are_shown(finished: ExperimentRun, tmp_path: Path) -> None:
    _, page = parse(finished.export_html(tmp_path / "b.html", posters=False))
    text = page.all_text
    assert "Experiment: export me" in text
    assert "Varied: prompt, seed." in text
    assert BODY["prompt"] in text
    for value in ("480p", "1:1", BODY["model"]):
        assert value in text


def test_without_posters_no_video_is_fetched(
    finished: ExperimentRun, tmp_path: Path, sandbox_backend: Backend
) -> None:
    done = finished.export_html(tmp_path / "n.html", posters=False)
    _, page = parse(done)
    assert done.posters == 0
    assert not [t for t, _ in page.tags if t == "img"]


def test_a_poster_that_cannot_be_made_is_said_in_its_cell(
    finished: ExperimentRun, tmp_path: Path, sandbox_server: SandboxServer, exp_db: str
) -> None:
    # Another account cannot read these tasks: every poster fails, the export still succeeds.
    with Orca("sk-orca-sandbox-stranger", base_url=sandbox_server.base_url) as stranger:
        done = export_html("export me", tmp_path / "s.html", client=stranger, database_url=exp_db)
    assert (done.posters, done.poster_failures) == (0, 3)
    raw, page = parse(done)
    assert raw.count("class='poster missing'") == 3
    assert "could not read task" in page.all_text
    assert "the experiment belongs to" in page.all_text


def test_module_function_finds_by_name_or_id_and_refuses_unknown(
    finished: ExperimentRun, tmp_path: Path, exp_db: str
) -> None:
    by_id = export_html(finished.experiment_id, tmp_path / "i.html", posters=False,
                        database_url=exp_db)  # fmt: skip
    assert by_id.variants == 4
    with pytest.raises(KeyError, match="known: 'export me'"):
        export_html("nope", tmp_path / "x.html", posters=False, database_url=exp_db)
    with pytest.raises(FileNotFoundError, match="no experiments database"):
        export_html("export me", tmp_path / "y.html", posters=False,
                    database_url=f"sqlite:///{tmp_path / 'missing.sqlite3'}")  # fmt: skip
    assert not (tmp_path / "missing.sqlite3").exists()


def test_cli_lists_and_exports(
    finished: ExperimentRun,
    tmp_path: Path,
    exp_db: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["experiment", "list", "--db", exp_db]) == 0
    listed = capsys.readouterr().out
    assert finished.experiment_id in listed
    line = next(x for x in listed.splitlines() if finished.experiment_id in x)
    assert line.split("\t")[2] == "done"  # every variant ended: not "active"
    target = tmp_path / "cli.html"
    assert main(["experiment", "export", "export me", "-o", str(target), "--db", exp_db,
                 "--no-posters"]) == 0  # fmt: skip
    assert "wrote" in capsys.readouterr().out
    assert "Experiment: export me" in parse(target)[1].all_text
    monkeypatch.chdir(tmp_path)
    assert main(["experiment", "export", "export me", "--db", exp_db, "--no-posters"]) == 0
    assert (tmp_path / "export-me.html").exists()
    assert main(["experiment", "export", "nope", "--db", exp_db, "--no-posters"]) == 2
    assert "no experiment 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("tokens", "source", "text"),
    [(108900, "reported", "108,900 tokens (reported)"),
     (108900, "estimated", "~108,900 tokens (estimate)"),
     (5, "estimated_min", "at least 5 tokens (estimate, lower bound)"),
     (None, None, "")],
)  # fmt: skip
def test_token_figures_say_whether_they_are_estimates(
    tokens: int | None, source: str | None, text: str
) -> None:
    assert tokens_text(tokens, source) == text


class _Task:
    def __init__(self, url: str | None) -> None:
        self.video_url = url
        self.status = "succeeded"


class _Videos:
    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def get(self, task_id: str) -> _Task:
        if isinstance(self.answer, Exception):
            raise self.answer
        return _Task(self.answer)


class _Client:
    def __init__(self, answer: Any) -> None:
        self.videos = _Videos(answer)


def _succeeded(task_id: str) -> Any:
    from tests.experiments.test_results import variant

    return variant("v1", "succeeded", task_id=task_id)


@pytest.mark.parametrize(
    ("answer", "said"),
    [(RuntimeError("service down"), "could not read task t-1: service down"),
     (None, "the service gave no video link for task t-1")],
)  # fmt: skip
def test_each_poster_failure_is_kept_as_its_cells_text(answer: Any, said: str) -> None:
    from orca_nb.experiments.export import make_posters

    made = make_posters(_Client(answer), [_succeeded("t-1")])  # type: ignore[arg-type]
    assert made["v1"].uri is None
    assert said in str(made["v1"].error)


def test_a_video_link_that_fails_is_not_written_into_the_page(
    sandbox_server: SandboxServer,
) -> None:
    from orca_nb.experiments.export import make_posters

    link = f"{sandbox_server.root_url}/no/such/video.mp4?X-Tos-Signature=secret123"
    made = make_posters(_Client(link), [_succeeded("t-1")])  # type: ignore[arg-type]
    error = str(made["v1"].error)
    assert "404" in error
    assert "secret123" not in error
    assert "/no/such/video.mp4" not in error


def test_bytes_that_are_no_video_give_a_cell_error(sandbox_server: SandboxServer) -> None:
    from orca_nb.experiments.export import make_posters

    page = f"{sandbox_server.root_url}/healthz"  # public, answers 200 with text
    made = make_posters(_Client(page), [_succeeded("t-1")])  # type: ignore[arg-type]
    assert "no poster frame" in str(made["v1"].error)


def test_poster_side_out_of_range_is_refused_before_anything_is_read(
    finished: ExperimentRun, tmp_path: Path
) -> None:
    for side in (0, 5000, 1.5, True):
        with pytest.raises(ValueError, match="poster_side"):
            finished.export_html(tmp_path / "z.html", poster_side=side)  # type: ignore[arg-type]
        assert not (tmp_path / "z.html").exists()


def test_render_writes_no_image_source_but_an_embedded_jpeg() -> None:
    from orca_nb.experiments.db import ExperimentRow
    from orca_nb.experiments.export import Poster, render_html
    from orca_nb.experiments.results import results_frame
    from tests.experiments.test_results import T, variant

    rows = [variant("a", "succeeded", task_id="t-a"), variant("b", "succeeded", task_id="t-b")]
    posters = {
        "a": Poster(uri="https://evil.example/x.jpg"),
        "b": Poster(uri="data:image/jpeg;base64,AAAA' onerror='alert(1)"),
    }
    exp = ExperimentRow("exp", "n", "key-1", "http://127.0.0.1:1/v1", {}, "active", T, T)
    raw = render_html(exp, rows, results_frame(rows), posters)
    assert "<img" not in raw
    assert raw.count("the poster was not an embedded JPEG") == 2
    assert "evil.example" not in raw


def test_invalid_variants_show_their_reasons_and_one_dimension_is_a_card_grid() -> None:
    from orca_nb.experiments.db import ExperimentRow
    from orca_nb.experiments.export import render_html
    from orca_nb.experiments.results import results_frame
    from tests.experiments.test_results import T, variant

    rows = [
        variant("a", "succeeded", task_id="t-a", values={"seed": 1}),
        variant("b", "invalid", values={"seed": -5}, body=None, estimated_tokens=None,
                reasons=["seed must be -1 or 0..4294967295"]),
        variant("c", "queued", values={"seed": 3}),
    ]  # fmt: skip
    exp = ExperimentRow("exp", "one dim", "key-1", "http://127.0.0.1:1/v1", {}, "active", T, T)
    raw = render_html(exp, rows, results_frame(rows))
    assert "<div class='grid' id='variants'>" in raw
    assert "<table class='matrix'" not in raw
    card = card_of(raw + "</details>", "b")
    assert "not sent (invalid)" in card
    assert "invalid: seed must be -1 or 0..4294967295" in card
    assert "seed -5" in card  # the card's label: experiments.labels.variant_label
    assert "queued: no video yet" in card_of(raw, "c")
    assert "state running" in raw  # a variant still queued
    ended = render_html(exp, rows[:2], results_frame(rows[:2]))
    assert "state done" in ended  # the words of the progress widget, not "active"
    assert "state active" not in ended
