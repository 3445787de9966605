"""Extraction quality on the labelled gold set must meet its targets (docs/extraction.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT / "sample_posts" / "gold"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("extraction_quality", ROOT / "bench" / "extraction_quality.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not GOLD.is_dir(), reason="no gold set in sample_posts/gold")
def test_overlap_f1_meets_targets() -> None:
    bench = _bench()
    scores, posts = bench.evaluate(GOLD, ROOT / "sample_posts")
    assert posts > 0
    report = bench.report(scores, posts)
    assert bench.below_target(scores) == [], report


def test_gold_spans_resolve_whole_words_only() -> None:
    bench = _bench()
    body = "APT40 and APT400; APT40."
    spans = bench.resolve(body, {"kind": "ACTOR", "text": "APT40", "canonical": "APT40"})
    assert [(s.start, s.end) for s in spans] == [(0, 5), (18, 23)]
    second = bench.resolve(body, {"kind": "ACTOR", "text": "APT40", "canonical": "APT40", "occurrences": [1]})
    assert [(s.start, s.end) for s in second] == [(18, 23)]
