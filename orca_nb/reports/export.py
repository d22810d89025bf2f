"""Write reports to CSV and Parquet files (one file per report, named after it)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd


def export_csv(frames: Mapping[str, pd.DataFrame], directory: str | os.PathLike[str]) -> list[Path]:
    """Write each report to ``<directory>/<name>.csv`` (UTF-8, ISO-8601 times); return the paths."""
    return _export(frames, Path(directory), "csv")


def export_parquet(
    frames: Mapping[str, pd.DataFrame], directory: str | os.PathLike[str]
) -> list[Path]:
    """Write each report to ``<directory>/<name>.parquet`` (dtypes kept); return the paths."""
    return _export(frames, Path(directory), "parquet")


def _export(frames: Mapping[str, pd.DataFrame], directory: Path, fmt: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, frame in frames.items():
        path = directory / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
        else:
            frame.to_parquet(path, index=False)
        written.append(path)
    return written
