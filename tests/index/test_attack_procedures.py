"""bench/attack_procedures.py: phrases mined from ATT&CK procedure examples, and their use by the build."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from index.knowledge import get_knowledge

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("attack_procedures", ROOT / "bench" / "attack_procedures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _write(folder: Path, procedures: list[tuple[str, str]]) -> None:
    patterns = [
        {"stix_id": "attack-pattern--1", "external_id": "T1057", "name": "Process Discovery"},
        {"stix_id": "attack-pattern--2", "external_id": "T1113", "name": "Screen Capture"},
    ]
    relations = [
        {"relationship_type": "uses", "target_ref": target, "description": text} for target, text in procedures
    ]
    (folder / "attack-patterns-lookup-v1.json").write_text(json.dumps({"attack_patterns": patterns}))
    (folder / "relationships-lookup-v1.json").write_text(json.dumps({"relationships": relations}))


def test_recurring_distinctive_phrases_are_mined_per_technique(tmp_path: Path) -> None:
    script = _script()
    procedures = [
        ("attack-pattern--1", f"[Tool{n}](https://example.invalid/S{n}) can enumerate running processes.")
        for n in range(9)
    ]
    procedures += [
        ("attack-pattern--2", f"[Tool{n}](https://example.invalid) can take screenshots (Citation: R{n})")
        for n in range(9)
    ]
    procedures += [("attack-pattern--2", "[Tool9](https://example.invalid) can enumerate running processes too.")]
    _write(tmp_path, procedures)
    table = script.mine(tmp_path)
    assert table["T1057"] == ["enumerate running processes"]  # the two-word parts give way to the longer phrase
    assert table["T1113"] == ["take screenshots"]
    assert "tool0" not in script.render(table).lower()  # names in links never become phrases


def test_phrases_below_the_precision_floor_are_dropped(tmp_path: Path) -> None:
    script = _script()
    procedures = [("attack-pattern--1", "[T](https://example.invalid) can take screenshots.")] * 5
    procedures += [("attack-pattern--2", "[T](https://example.invalid) can take screenshots.")] * 5
    _write(tmp_path, procedures)
    assert script.mine(tmp_path) == {}


def test_the_build_reads_the_mined_table() -> None:
    assert get_knowledge().technique_ids("dump password hashes") == ["T1003"]
