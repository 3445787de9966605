"""Extraction quality on both gold sets must stay above its floors (docs/extraction.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("extraction_quality", ROOT / "bench" / "extraction_quality.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


BENCH = _bench()


@pytest.mark.slow
@pytest.mark.parametrize("name, gold, posts", [BENCH.DEV, BENCH.BLIND], ids=["dev", "blind"])
def test_f1_meets_floors(name: str, gold: Path, posts: Path) -> None:
    if not gold.is_dir():
        pytest.skip(f"no gold set at {gold}")
    evaluation = BENCH.evaluate(gold, posts, name)
    assert evaluation.posts > 0
    assert BENCH.below_floor(evaluation) == [], BENCH.report([evaluation])


def test_gold_spans_resolve_whole_words_only() -> None:
    body = "APT40 and APT400; APT40."
    spans = BENCH.resolve(body, {"kind": "ACTOR", "text": "APT40", "canonical": "APT40"})
    assert [(s.start, s.end) for s in spans] == [(0, 5), (18, 23)]
    second = BENCH.resolve(body, {"kind": "ACTOR", "text": "APT40", "canonical": "APT40", "occurrences": [1]})
    assert [(s.start, s.end) for s in second] == [(18, 23)]


def test_parent_ids_are_compared_as_sets_per_post() -> None:
    gold = [BENCH.GoldSpan("TECHNIQUE", 0, 4, "T1566.001"), BENCH.GoldSpan("TECHNIQUE", 9, 12, "T1566.002")]
    mention = BENCH.Mention("TECHNIQUE", 20, 25, "phish", "Phishing", "T1566")
    other = BENCH.Mention("TECHNIQUE", 30, 35, "wiped", "Disk Wipe", "T1561")
    counts = BENCH.Counts()
    missed, spurious = BENCH.score_parents(gold, [mention, other], counts)
    assert (counts.tp, counts.fp, counts.fn) == (1, 1, 0)
    assert (missed, spurious) == (set(), {"T1561"})
    assert BENCH.parent_id("T1566.001") == "T1566" and BENCH.parent_id("TA0001") == ""
