"""The rooms of ``orca_nb`` (ARCHITECTURE.md): a lower room never imports a higher one.

Every module under ``orca_nb/`` is parsed (never imported): ``import`` and ``from ... import``
statements anywhere in the file (inside functions and ``TYPE_CHECKING`` blocks too), relative
imports resolved, and string literals naming an ``orca_nb`` module (``importlib.import_module``
arguments, lazy-export tables, f-string prefixes) count as imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "orca_nb"

#: Rooms, lowest first. A room may import its own modules and any room of a lower layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("wire",),
    ("compose", "media", "ledger"),
    ("sandbox",),
    ("client",),
    ("experiments",),
    ("widgets", "reports"),
)
#: The one sideways edge inside a layer: the ledger records compose's token estimate.
SIDEWAYS = frozenset({("ledger", "compose")})
#: Entry points above every room (``orca_nb/__init__.py`` and the ``orca-nb`` command).
TOP = frozenset({"<package>", "cli"})

RANK = {room: level for level, rooms in enumerate(LAYERS) for room in rooms}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def room_of(module: str) -> str:
    """``orca_nb.client._core`` -> ``client``; ``orca_nb`` -> ``<package>``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "<package>"


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported orca_nb module) for every import the file can make."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # ``from orca_nb import client`` imports the submodule orca_nb.client
            found += [
                (node.lineno, f"{target}.{alias.name}")
                for alias in node.names
                if f"{target}.{alias.name}" in MODULES
            ]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if text in MODULES or (text.endswith(".") and text.rstrip(".") in MODULES):
                found.append((node.lineno, text.rstrip(".")))
    return [(line, target) for line, target in found if target.split(".")[0] in _OURS]


#: Top-level names checked: the package, and what must never be imported by it.
_OURS = frozenset({"orca_nb", "scripts", "tests"})


def violations() -> list[str]:
    """One line per import that points up or sideways (outside :data:`SIDEWAYS`)."""
    bad: list[str] = []
    for module, path in MODULES.items():
        mine = room_of(module)
        if mine in TOP:
            continue
        assert mine in RANK, f"{module}: room {mine!r} is not drawn in ARCHITECTURE.md / LAYERS"
        for line, target in imports_of(path, module):
            if target.split(".")[0] != "orca_nb":
                bad.append(f"{path}:{line}: {mine} imports {target} (development code)")
                continue
            theirs = room_of(target)
            if theirs == mine or theirs == "<package>":  # the package's __init__ runs first anyway
                continue
            if theirs == "cli" or theirs not in RANK:
                bad.append(f"{path}:{line}: {mine} imports {target} (an entry point)")
            elif RANK[theirs] > RANK[mine]:
                bad.append(f"{path}:{line}: {mine} imports the higher room {target}")
            elif RANK[theirs] == RANK[mine] and (mine, theirs) not in SIDEWAYS:
                bad.append(f"{path}:{line}: {mine} imports its sibling {target}")
    return bad


def test_every_room_is_drawn() -> None:
    rooms = {room_of(m) for m in MODULES} - TOP
    assert rooms == set(RANK), "a room was added or removed: update LAYERS and ARCHITECTURE.md"


def test_no_lower_room_imports_a_higher_one() -> None:
    assert violations() == []


def test_the_architecture_page_draws_the_same_layers() -> None:
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for room in RANK:
        assert f"`{room}" in text, f"ARCHITECTURE.md does not mention the room {room}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from orca_nb.widgets import studio\n", "orca_nb.widgets"),
        ("def f():\n    from orca_nb.client import Orca\n", "orca_nb.client"),
        (
            "import importlib\nimportlib.import_module('orca_nb.reports.usage')\n",
            "orca_nb.reports.usage",
        ),
        ("import importlib\nimportlib.import_module(f'orca_nb.client.{x}')\n", "orca_nb.client"),
        ("from ..widgets import store\n", "orca_nb.widgets"),
        ("from .. import client\n", "orca_nb.client"),
        ("def f():\n    from scripts.workload import seed_month\n", "scripts.workload"),
    ],
)
def test_the_checker_sees_every_kind_of_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, expected: str
) -> None:
    fake = PACKAGE / "media" / "_fake_for_architecture_test.py"
    monkeypatch.setitem(MODULES, "orca_nb.media._fake_for_architecture_test", fake)
    path = tmp_path / "media_mod.py"
    path.write_text(source, encoding="utf-8")
    targets = [t for _, t in imports_of(path, "orca_nb.media._fake_for_architecture_test")]
    assert expected in targets
    # and each of these points up from media, or out of the package
    assert any(
        not t.startswith("orca_nb") or RANK.get(room_of(t), -1) > RANK["media"] for t in targets
    )


def test_rooms_above_the_client_reach_the_sandbox_only_through_its_package() -> None:
    """Widgets, reports and experiments use ``orca_nb.sandbox``'s public names (e.g.
    ``sample_catalogue()``), never its modules (the emulator's insides may move)."""
    bad = [
        f"{path}:{line}: {target}"
        for module, path in MODULES.items()
        if room_of(module) in {"experiments", "widgets", "reports"}
        for line, target in imports_of(path, module)
        if target.startswith("orca_nb.sandbox.")
    ]
    assert bad == []


def test_the_sample_catalogue_is_the_sandbox_samples() -> None:
    from orca_nb.sandbox import sample_catalogue
    from orca_nb.sandbox.samples import SAMPLES

    catalogue = sample_catalogue()
    assert dict(catalogue) == dict(SAMPLES)
    assert any(not s.valid and s.expected_error for s in catalogue.values())
    with pytest.raises(TypeError):
        catalogue["x.jpg"] = next(iter(catalogue.values()))  # type: ignore[index]


def test_browser_tests_live_in_one_place() -> None:
    tests = PACKAGE.parent / "tests"
    elsewhere = [
        str(path.relative_to(tests))
        for path in tests.rglob("test_*.py")
        if path.parent.name != "browser"
        and path.resolve() != Path(__file__).resolve()
        and "mark.browser" in path.read_text(encoding="utf-8")
    ]
    assert elsewhere == [], "browser tests belong in tests/browser/"
