"""What a person does in Voilà and JupyterLab, as bounded steps the browser tests share."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Literal

from playwright.sync_api import Page

from tests.browser.servers import ServerProcess

# Voilà renders cell errors and broken widgets with these marks.
_VOILA_PROBLEMS_JS = """() => {
  const found = [];
  const marks = ['[data-mime-type="application/vnd.jupyter.error"]',
                 '.jupyter-widgets.widget-error'];
  for (const el of document.querySelectorAll(marks.join(', '))) {
    found.push(el.textContent.slice(0, 500));
  }
  const text = document.body.innerText;
  for (const phrase of ['Error displaying widget', 'There was an error when executing cell',
                        'Traceback (most recent call last)']) {
    if (text.includes(phrase)) found.push(phrase);
  }
  return found;
}"""

_LAB_PROMPTS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell'))
  .filter(cell => (cell.querySelector('.jp-InputArea-editor')?.textContent || '').trim() !== '')
  .map(cell => (cell.querySelector('.jp-InputPrompt')?.textContent || '').trim())"""


def open_voila(
    page: Page, server: ServerProcess, notebook: str, ready_text: str, timeout_s: float = 120.0
) -> None:
    """Open a notebook as a Voilà page and wait until `ready_text` is visible on it."""
    page.goto(f"{server.base_url}/voila/render/{notebook}", timeout=timeout_s * 1000)
    page.get_by_text(ready_text).first.wait_for(state="visible", timeout=timeout_s * 1000)


def voila_problems(page: Page) -> list[str]:
    """Cell errors, tracebacks and widget-rendering errors shown on a Voilà page."""
    found: list[str] = page.evaluate(_VOILA_PROBLEMS_JS)
    return found


def lab_prompts(page: Page) -> list[str]:
    """The input prompts (``[3]:``, ``[*]:``, ``[ ]:``) of every non-empty code cell in Lab."""
    prompts: list[str] = page.evaluate(_LAB_PROMPTS_JS)
    return prompts


def _all_ran(prompts: list[str]) -> bool:
    return bool(prompts) and all("*" not in p and any(ch.isdigit() for ch in p) for p in prompts)


def run_all_in_lab(
    page: Page,
    server: ServerProcess,
    root: Path,
    notebook: str,
    timeout_s: float = 240.0,
    *,
    app: Literal["lab", "notebook"] = "lab",
) -> dict[str, Any]:
    """Open `notebook` in JupyterLab (or Notebook 7 with ``app="notebook"``), choose
    Run > Run All Cells, wait until every code cell has an execution count and the kernel is idle,
    save, and return the saved notebook JSON.

    Raises TimeoutError naming the prompts still pending when the deadline passes.
    """
    path = f"/lab/tree/{notebook}?reset" if app == "lab" else f"/notebooks/{notebook}"
    page.goto(server.base_url + path, timeout=timeout_s * 1000)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout_s * 1000)
    page.locator(".jp-KernelName", has_text="Python 3").first.wait_for(timeout=timeout_s * 1000)
    if app == "lab":  # connected and idle: Lab's status bar says so (the toolbar says so earlier)
        page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\|\s*Idle")).first.wait_for(
            timeout=timeout_s * 1000
        )
    indicator = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")

    def run_all() -> None:
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    run_all()
    deadline = time.monotonic() + timeout_s
    retry_at = time.monotonic() + 30
    prompts = lab_prompts(page)
    while time.monotonic() < deadline:
        prompts = lab_prompts(page)
        if _all_ran(prompts) and indicator.count() > 0:
            break
        if retry_at and time.monotonic() > retry_at and all(p == "[ ]:" for p in prompts):
            run_all()  # the first request reached no kernel (it was still connecting); once more
            retry_at = 0.0
        time.sleep(0.5)
    else:
        raise TimeoutError(f"Run All did not finish in {timeout_s}s; prompts: {prompts}")

    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    path = root / notebook
    while time.monotonic() < deadline + 30:
        try:
            saved: dict[str, Any] = json.loads(path.read_text())
        except json.JSONDecodeError:  # caught mid-save: Lab writes the file in place
            time.sleep(0.5)
            continue
        code = [c for c in saved["cells"] if c["cell_type"] == "code" and "".join(c["source"])]
        if code and all(c.get("execution_count") for c in code):
            return saved
        time.sleep(0.5)
    raise TimeoutError(f"{notebook} was not saved with execution counts after Run All")


def error_outputs(notebook: dict[str, Any]) -> list[str]:
    """``ename: evalue`` of every error output in a saved notebook."""
    return [
        f"{out.get('ename')}: {out.get('evalue')}"
        for cell in notebook["cells"]
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
