"""``binder/``: the files Binder reads exist, and ``start`` sets up the sandbox-only studio."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"


def test_binder_files_are_there_and_scripts_are_executable() -> None:
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    for script in ("postBuild", "start"):
        path = BINDER / script
        assert path.read_text().startswith("#!/bin/bash")
        assert os.access(path, os.X_OK), f"binder/{script} must be executable"
    assert '-e ".[notebook]"' in (BINDER / "postBuild").read_text()


def test_launch_paths_in_the_readme_point_at_the_studio_notebook() -> None:
    text = (BINDER / "README.md").read_text()
    for prefix in ("voila%2Frender%2F", "lab%2Ftree%2F"):
        path = text.split(prefix, 1)[1].split("`", 1)[0].replace("%2F", "/")
        assert (ROOT / path).is_file(), path


def test_start_keeps_the_sandbox_in_home_and_drops_real_credentials(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "ORCAROUTER_API_KEY": "sk-orca-test-must-not-survive",
        "ORCAROUTER_BASE_URL": "https://example.invalid/v1",
    }
    out = subprocess.run(
        [str(BINDER / "start"), "env"], env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    seen = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    assert seen["ORCA_NB_SANDBOX_DB"] == str(tmp_path / ".orca-nb" / "sandbox.sqlite3")
    assert (tmp_path / ".orca-nb").is_dir()
    assert "ORCAROUTER_API_KEY" not in seen
    assert "ORCAROUTER_BASE_URL" not in seen


def test_start_respects_an_explicit_database(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    env["ORCA_NB_SANDBOX_DB"] = str(tmp_path / "elsewhere" / "db.sqlite3")
    out = subprocess.run(
        [str(BINDER / "start"), "printenv", "ORCA_NB_SANDBOX_DB"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.stdout.strip() == env["ORCA_NB_SANDBOX_DB"]
