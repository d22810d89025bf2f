"""A person on a Voilà studio page settles a video submit whose reply was lost (issue 10 item 3).

The page's kernel drops the reply of its next video create after the sandbox read it (see
``notebooks/studio_unknown_outcome.ipynb``): the person sees the run as "Outcome unknown" with
its two actions, presses "It was not created", confirms once, and the kernel's ledger row
becomes ``rejected`` / ``not_created``.
"""

from __future__ import annotations

import time

import pytest

from orca_nb.ledger import open_ledger
from tests.browser.conftest import Web
from tests.browser.pages import open_voila, voila_problems
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser

NOTEBOOK = "studio_unknown_outcome.ipynb"


def test_person_sees_an_unknown_run_and_settles_it_as_not_created(
    web: Web, voila_server: ServerProcess, server_env: dict[str, str]
) -> None:
    page = web.page
    open_voila(page, voila_server, NOTEBOOK, "References and prompt")
    prompt_text = f"an owl over a frozen lake {time.time_ns()}"
    prompt = page.locator(".orca-prompt textarea").first
    prompt.click()
    prompt.fill(prompt_text)
    page.get_by_role("button", name="Submit").click()

    unknown = page.locator(".orca-unknown", has_text=prompt_text)
    unknown.wait_for(state="visible", timeout=90_000)
    assert "Outcome unknown: the service may have created this video" in unknown.inner_text()
    status = page.locator(".orca-task-status").inner_text()
    assert status.startswith("Outcome unknown: the service may have created this video")
    run = page.locator(".orca-run").first.inner_text()
    assert "Outcome unknown" in run
    attach = unknown.get_by_role("button", name="Attach task id")
    not_created = unknown.get_by_role("button", name="It was not created")
    assert attach.is_visible()
    assert not_created.is_visible()
    assert unknown.locator(".orca-attach-id input").is_visible()
    assert "orca_nb." not in page.locator(".orca-studio").inner_text()  # words, not Python
    web.shot("unknown")

    not_created.click()
    yes = unknown.get_by_role("button", name="Yes, it was not created")
    yes.wait_for(state="visible")
    web.shot("asks-once")
    yes.click()
    page.locator(".orca-unknown[data-state='not_created']", has_text=prompt_text).wait_for(
        state="visible", timeout=30_000
    )
    assert attach.count() == 0  # settled: no more actions
    web.shot("settled")

    with open_ledger(server_env["ORCA_NB_LEDGER"]) as ledger:
        _, rows = ledger.database.query(
            "SELECT status, task_id, error_code FROM submissions WHERE prompt = ?",
            (prompt_text,),
        )
    assert [tuple(r) for r in rows] == [("rejected", None, "not_created")]
    assert voila_problems(page) == []
    assert web.page_errors == []
    assert web.serious_console_errors() == []
