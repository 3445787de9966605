"""Import boundaries: index/ never imports the UI, only index/engine/ imports whoosh (and only its tantivy_*
modules import tantivy), knowledge never imports extraction, the vocabulary imports nothing of ours, and no
test module imports another (shared helpers live in helpers.py modules)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO


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


def test_only_the_tantivy_engine_modules_import_tantivy() -> None:
    """tantivy is optional (the ``fast`` extra): it is imported by index/engine/tantivy_*.py only, and only
    when that engine is chosen, so whoosh users never need it."""
    sources = [*(REPO / "index").rglob("*.py"), *(REPO / "tui").rglob("*.py"), *(REPO / "bench").rglob("*.py")]
    importers = sorted(
        str(path.relative_to(REPO)) for path in sources if "tantivy" in top_level(imported_modules(path))
    )
    assert importers and all(name.startswith("index/engine/tantivy_") for name in importers), importers
    code = "import sys, index.corpus, index.engine.contract, tui.cli; sys.exit(1 if 'tantivy' in sys.modules else 0)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_importing_the_engine_side_loads_no_ui() -> None:
    code = (
        "import sys, index.corpus, index.query, index.catalog; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui')); "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_test_module_imports_another() -> None:
    offenders: dict[str, list[str]] = {}
    for path in (REPO / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                names += [module] + [module.rstrip(".") + "." + alias.name for alias in node.names]
        bad = sorted(name for name in names if name.rsplit(".", 1)[-1].startswith(("test_", "conftest")))
        if bad:
            offenders[str(path.relative_to(REPO))] = bad
    assert offenders == {}


def test_cited_documents_are_in_the_repository() -> None:
    """Code, tests and docs cite only documents this repository has: a docs/ page or a top-level one."""
    cited = re.compile(r"\b(?:docs/[\w.-]+\.md|[A-Z][A-Z_]+\.md)\b")
    sources = [
        REPO / "README.md",
        *(
            path
            for folder in ("index", "tui", "tests", "bench", "docs")
            for path in (REPO / folder).rglob("*")
            if path.suffix in (".py", ".md")
        ),
    ]
    missing = {
        f"{path.relative_to(REPO)}: {name}"
        for path in sources
        for name in cited.findall(path.read_text(encoding="utf-8"))
        if not (REPO / name).is_file()
    }
    assert sorted(missing) == []


def test_the_engine_package_imports_whoosh_only_when_its_names_are_used() -> None:
    """The no-change check and the engine contract need no whoosh; a name of the package imports its module on
    first use, and ``highlight`` stays the function although a module of that name is imported with it."""
    code = (
        "import sys, index.engine, index.engine.contract, index.corpus, index.indexing, index.searching\n"
        "assert 'whoosh' not in sys.modules, 'whoosh imported'\n"
        "from index.engine import highlight_spans\n"
        "from index.engine import highlight\n"
        "import index.engine.highlight\n"
        "from index.engine import highlight as again\n"
        "assert callable(highlight) and again is highlight, (highlight, again)\n"
        "assert 'whoosh' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
