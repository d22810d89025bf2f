"""Re-run notebooks on a fresh in-memory sandbox and save them the way they are committed.

    python -m tests.notebooks.refresh notebooks/quickstart.ipynb [...]

Only cells marked ``# NBVAL_CHECK_OUTPUT`` keep their outputs (nbval compares those); every
other cell is cleared, widget state (``metadata.widgets``) is dropped, and the run stops with an
error if any output holds an API key or a verification link.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
_SECRET = re.compile(r"sk-orca-[A-Za-z0-9._-]+|/sandbox/h5/|h5_link|session_id=")
_ROOT = Path(__file__).resolve().parents[2]


def is_checked(source: str) -> bool:
    """Whether nbval checks this cell's output (a comment line that is exactly the mark)."""
    return any(
        line.strip().startswith("#") and line.strip().lstrip("#").strip() == "NBVAL_CHECK_OUTPUT"
        for line in source.splitlines()
    )


def strip(nb: dict[str, Any]) -> dict[str, Any]:
    """The notebook as committed: outputs only on checked cells, no widget state, no cell ids."""
    nb["metadata"].pop("widgets", None)
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("widgets", None)
        cell.get("metadata", {}).pop("execution", None)
        if cell["cell_type"] != "code":
            continue
        if not is_checked("".join(cell["source"])):
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def secrets_in(nb: dict[str, Any]) -> list[str]:
    """Key-like or verification-link-like strings found in any output."""
    return [
        m.group(0)
        for cell in nb["cells"]
        for m in _SECRET.finditer(json.dumps(cell.get("outputs", [])))
    ]


def refresh(path: Path, timeout: int = 600) -> None:
    """Execute `path` top to bottom in its own folder, strip it, and write it back."""
    import nbformat
    from nbclient import NotebookClient

    os.environ["ORCA_NB_SANDBOX_DB"] = ":memory:"
    os.environ.pop("ORCAROUTER_API_KEY", None)
    os.environ.pop("ORCAROUTER_BASE_URL", None)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    nb = nbformat.reads(path.read_text(), as_version=4)  # type: ignore[no-untyped-call]
    where = {"metadata": {"path": str(path.parent)}}
    NotebookClient(nb, timeout=timeout, resources=where).execute()
    data: dict[str, Any] = json.loads(nbformat.writes(nb))  # type: ignore[no-untyped-call]
    data = strip(data)
    found = secrets_in(data)
    if found:
        raise SystemExit(f"{path}: outputs hold secrets {found}; fix the notebook, not the check")
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Command line: refresh each notebook given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    for path in parser.parse_args(argv).notebooks:
        print(f"refreshing {path}", file=sys.stderr)
        refresh(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
