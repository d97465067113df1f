"""DESIGN.md's one-way layers, checked on the source: the engine never imports streamlit or the ui layer, a page's
folder under explorer/ui is imported only by that page, and nothing unpickles."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> set[str]:
    """Dotted names of every module ``path`` imports (``from a.b import c`` gives a.b and a.b.c)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _page_folders(root: Path) -> set[str]:
    ui = root / "explorer" / "ui"
    return {p.name for p in ui.iterdir() if p.is_dir() and (p / "__init__.py").exists()}


def _page_of(module: str, pages: set[str]) -> str | None:
    """The page folder a dotted module name lies in (``explorer.ui.attention.heads`` -> ``attention``)."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["explorer", "ui"] and parts[2] in pages:
        return parts[2]
    return None


def cross_page_imports(root: Path) -> list[str]:
    """Imports of one page's ui folder from outside it: another page's folder, a shared ui module, or another
    page's view. Each offender as 'file -> module'."""
    pages = _page_folders(root)
    offenders = []
    files = [*(root / "explorer" / "ui").rglob("*.py"), *(root / "views").glob("*.py")]
    for path in files:
        rel = path.relative_to(root)
        if rel.parts[0] == "views":
            own = path.stem if path.stem in pages else None
        else:
            own = rel.parts[2] if len(rel.parts) > 3 else None  # explorer/ui/<page>/<file>.py
        reached: dict[str, str] = {}  # page -> the shortest module name of it imported here
        for module in _imported_modules(path):
            page = _page_of(module, pages)
            if page is not None and page != own and len(module) < len(reached.get(page, module + "_")):
                reached[page] = module
        offenders += [f"{rel} -> {module}" for module in reached.values()]
    return sorted(offenders)


def streamlit_outside_ui(root: Path) -> list[str]:
    return sorted(
        str(path.relative_to(root))
        for path in (root / "explorer").rglob("*.py")
        if path.relative_to(root / "explorer").parts[0] != "ui"
        and any(m.split(".")[0] == "streamlit" for m in _imported_modules(path))
    )


def test_engine_does_not_import_streamlit() -> None:
    assert streamlit_outside_ui(ROOT) == []


def test_engine_does_not_import_the_ui_layer() -> None:
    offenders = []
    for path in (ROOT / "explorer").rglob("*.py"):
        rel = path.relative_to(ROOT / "explorer")
        if rel.parts[0] != "ui":
            source = path.read_text(encoding="utf-8")
            if "explorer.ui" in source or "from views" in source:
                offenders.append(str(rel))
    assert offenders == []


def test_no_page_imports_another_pages_folder() -> None:
    assert len(_page_folders(ROOT)) >= 6  # train, lstm, attention, circuits, positions, embeddings
    assert cross_page_imports(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"explorer/ui/__init__.py": "", "explorer/ui/attention/__init__.py": "",
                       "explorer/ui/lstm/__init__.py": "", "explorer/analysis/__init__.py": "",
                       "views/lstm.py": "from explorer.ui.lstm.step import render\n", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_the_layering_check_catches_a_cross_page_import(tmp_path: Path) -> None:
    """The check is not vacuous: a tree in which one page reaches into another fails it, in each form."""
    clean = _tree(tmp_path / "clean", {"explorer/ui/lstm/step.py": "from explorer.ui.state import get_state\n"})
    assert cross_page_imports(clean) == []
    bad = _tree(tmp_path / "bad", {
        "explorer/ui/lstm/step.py": "from explorer.ui.attention.heads import render_heads\n",
        "explorer/ui/lstm/units.py": "from explorer.ui.attention import inputs\n",
        "explorer/ui/figure.py": "import explorer.ui.lstm.step\n",
        "views/attention.py": "from explorer.ui.lstm.player import render_stepper\n",
    })
    assert cross_page_imports(bad) == [
        "explorer/ui/figure.py -> explorer.ui.lstm.step",
        "explorer/ui/lstm/step.py -> explorer.ui.attention.heads",
        "explorer/ui/lstm/units.py -> explorer.ui.attention",
        "views/attention.py -> explorer.ui.lstm.player",
    ]


def test_the_streamlit_check_catches_an_engine_import(tmp_path: Path) -> None:
    bad = _tree(tmp_path, {"explorer/analysis/gates.py": "import streamlit as st\n",
                           "explorer/analysis/heads.py": "from streamlit.runtime import exists\n",
                           "explorer/ui/state.py": "import streamlit as st\n"})
    assert streamlit_outside_ui(bad) == ["explorer/analysis/gates.py", "explorer/analysis/heads.py"]


def test_nothing_unpickles() -> None:
    hits = []
    for folder in ("explorer", "views"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "pickle.load" in text or ("torch.load(" in text and "weights_only=True" not in text):
                hits.append(str(path.relative_to(ROOT)))
    assert hits == []
