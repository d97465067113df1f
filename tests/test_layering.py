"""The engine never imports streamlit: only explorer/ui may (DESIGN.md's one-way layers)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_engine_does_not_import_streamlit() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "explorer").rglob("*.py")
        if "ui" not in path.relative_to(ROOT / "explorer").parts[:1] and "streamlit" in _imports(path)
    ]
    assert offenders == []


def test_engine_does_not_import_the_ui_layer() -> None:
    offenders = []
    for path in (ROOT / "explorer").rglob("*.py"):
        rel = path.relative_to(ROOT / "explorer")
        if rel.parts[0] != "ui":
            source = path.read_text(encoding="utf-8")
            if "explorer.ui" in source or "from views" in source:
                offenders.append(str(rel))
    assert offenders == []


def test_nothing_unpickles() -> None:
    hits = []
    for folder in ("explorer", "views"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "pickle.load" in text or ("torch.load(" in text and "weights_only=True" not in text):
                hits.append(str(path.relative_to(ROOT)))
    assert hits == []
