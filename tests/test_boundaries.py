"""Import boundaries: index/ never imports the UI, only index/engine/ imports whoosh, knowledge never imports
extraction, and the vocabulary imports nothing of ours."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def top_level(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_index_never_imports_the_ui() -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(top_level(imported_modules(path)) & {"textual", "tui"})
        for path in (REPO / "index").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_knowledge_never_imports_extraction_and_the_vocabulary_is_a_leaf() -> None:
    """The data does not depend on the rules that read it; every layer may read the vocabulary."""
    knowledge = {
        str(path.relative_to(REPO)): sorted(name for name in imported_modules(path) if name.startswith("index.extract"))
        for path in (REPO / "index" / "knowledge").rglob("*.py")
    }
    assert {path: names for path, names in knowledge.items() if names} == {}
    vocabulary = REPO / "index" / "vocabulary.py"
    assert top_level(imported_modules(vocabulary)) & {"index", "tui", "textual", "whoosh"} == set()


def test_only_the_engine_imports_whoosh() -> None:
    engine = REPO / "index" / "engine"
    sources = [*(REPO / "index").rglob("*.py"), *(REPO / "tui").rglob("*.py")]
    offenders = [
        str(path.relative_to(REPO))
        for path in sources
        if engine not in path.parents and "whoosh" in top_level(imported_modules(path))
    ]
    assert offenders == []


def test_importing_the_engine_side_loads_no_ui() -> None:
    code = (
        "import sys, index.corpus, index.query, index.catalog; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui')); "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
