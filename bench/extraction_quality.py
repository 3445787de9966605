"""Extraction quality on the labelled gold set (docs/annotation.md), and extraction speed.

    .venv/bin/python bench/extraction_quality.py [--gold sample_posts/gold] [--posts sample_posts]
                                                 [--check] [--details] [--speed]

Per kind (ACTOR, VICTIM, TECHNIQUE): precision/recall/F1 with exact spans and with overlapping spans
(kinds must match), plus how often overlapping pairs agree on the canonical name/ID. ``--check``
exits 1 when an overlap F1 is under its target.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from index.extract import Mention, extract  # noqa: E402
from index.posts import Post, PostFile, load_post  # noqa: E402

KINDS = ("ACTOR", "VICTIM", "TECHNIQUE")
TARGETS = {"ACTOR": 0.9, "TECHNIQUE": 0.75, "VICTIM": 0.7}


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """One resolved gold occurrence."""

    kind: str
    start: int
    end: int
    canonical: str


@dataclass
class Score:
    """Counts for one kind."""

    predicted: int = 0
    gold: int = 0
    exact: int = 0
    pred_overlapping: int = 0
    gold_overlapped: int = 0
    pairs: int = 0
    agreeing: int = 0
    misses: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)

    @staticmethod
    def _f1(p: float, r: float) -> float:
        return 2 * p * r / (p + r) if p + r else 0.0

    def exact_prf(self) -> tuple[float, float, float]:
        p = self.exact / self.predicted if self.predicted else 0.0
        r = self.exact / self.gold if self.gold else 0.0
        return p, r, self._f1(p, r)

    def overlap_prf(self) -> tuple[float, float, float]:
        p = self.pred_overlapping / self.predicted if self.predicted else 0.0
        r = self.gold_overlapped / self.gold if self.gold else 0.0
        return p, r, self._f1(p, r)

    def agreement(self) -> float:
        return self.agreeing / self.pairs if self.pairs else 0.0


def _whole_word(body: str, start: int, end: int) -> bool:
    before = body[start - 1] if start > 0 else " "
    after = body[end] if end < len(body) else " "
    left_ok = not (before.isalnum() or before == "_") or not (body[start].isalnum() or body[start] == "_")
    right_ok = not (after.isalnum() or after == "_") or not (body[end - 1].isalnum() or body[end - 1] == "_")
    return left_ok and right_ok


def resolve(body: str, entry: dict[str, object]) -> list[GoldSpan]:
    """Every whole-word, case-sensitive occurrence of the entry's text (or the listed ones)."""
    text = str(entry.get("text", ""))
    if not text:
        return []
    found: list[tuple[int, int]] = []
    position = body.find(text)
    while position >= 0:
        if _whole_word(body, position, position + len(text)):
            found.append((position, position + len(text)))
        position = body.find(text, position + 1)
    wanted = entry.get("occurrences")
    if isinstance(wanted, list):
        found = [found[i] for i in wanted if isinstance(i, int) and 0 <= i < len(found)]
    kind, canonical = str(entry.get("kind", "")), str(entry.get("canonical", ""))
    return [GoldSpan(kind, start, end, canonical) for start, end in found]


def load_body(posts_dir: Path, name: str) -> str | None:
    """The body of a post, read the way the app reads it."""
    path = posts_dir / name
    try:
        info = os.stat(path)
    except OSError:
        return None
    loaded = load_post(posts_dir, PostFile(name, info.st_size, info.st_mtime_ns))
    return loaded.body if isinstance(loaded, Post) else None


def _agrees(gold: GoldSpan, mention: Mention) -> bool:
    expected = gold.canonical.casefold()
    return expected in (mention.canonical.casefold(), mention.ref.casefold())


def score_post(body: str, gold: list[GoldSpan], mentions: list[Mention], scores: dict[str, Score]) -> None:
    """Add one post's counts to ``scores``."""
    for kind in KINDS:
        score = scores[kind]
        golds = [g for g in gold if g.kind == kind]
        preds = [m for m in mentions if m.kind == kind]
        score.gold += len(golds)
        score.predicted += len(preds)
        exact = {(g.start, g.end) for g in golds}
        score.exact += sum(1 for m in preds if (m.start, m.end) in exact)
        for m in preds:
            hits = [g for g in golds if g.start < m.end and m.start < g.end]
            if hits:
                score.pred_overlapping += 1
                score.pairs += 1
                score.agreeing += any(_agrees(g, m) for g in hits)
            else:
                score.spurious.append(f"{m.text!r} → {m.canonical} {m.ref}".strip())
        for g in golds:
            if any(g.start < m.end and m.start < g.end for m in preds):
                score.gold_overlapped += 1
            else:
                score.misses.append(f"{body[g.start : g.end]!r} ({g.canonical})")


def evaluate(gold_dir: Path, posts_dir: Path) -> tuple[dict[str, Score], int]:
    """Scores per kind over every gold file, and the number of posts evaluated."""
    scores = {kind: Score() for kind in KINDS}
    posts = 0
    for gold_file in sorted(gold_dir.glob("*.json")):
        try:
            data = json.loads(gold_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            print(f"skipped {gold_file.name}: unreadable", file=sys.stderr)
            continue
        name = str(data.get("post") or gold_file.stem + ".md")
        body = load_body(posts_dir, name)
        if body is None:
            print(f"skipped {gold_file.name}: post {name} not loadable", file=sys.stderr)
            continue
        gold = [
            span for entry in data.get("mentions") or [] if isinstance(entry, dict) for span in resolve(body, entry)
        ]
        score_post(body, gold, extract(body), scores)
        posts += 1
    return scores, posts


def report(scores: dict[str, Score], posts: int, details: bool = False) -> str:
    """A plain-text table."""
    lines = [
        f"posts: {posts}",
        f"{'kind':<10} {'gold':>5} {'pred':>5} | {'exact P':>7} {'R':>5} {'F1':>5} | {'overlap P':>9} {'R':>5} "
        f"{'F1':>5} | {'canon':>5} | target",
    ]
    for kind in KINDS:
        s = scores[kind]
        ep, er, ef = s.exact_prf()
        op, orr, of = s.overlap_prf()
        lines.append(
            f"{kind:<10} {s.gold:>5} {s.predicted:>5} | {ep:>7.2f} {er:>5.2f} {ef:>5.2f} | {op:>9.2f} {orr:>5.2f} "
            f"{of:>5.2f} | {s.agreement():>5.2f} | {TARGETS[kind]:.2f}"
        )
        if details:
            lines.extend(f"    miss     {item}" for item in s.misses)
            lines.extend(f"    spurious {item}" for item in s.spurious)
    return "\n".join(lines)


def below_target(scores: dict[str, Score]) -> list[str]:
    """Kinds whose overlap F1 misses its target."""
    return [kind for kind in KINDS if scores[kind].overlap_prf()[2] < TARGETS[kind]]


def speed(posts_dir: Path, megabytes: float = 8.0) -> str:
    """Throughput of extract() on the corpus bodies, repeated to ``megabytes`` (one core)."""
    bodies = [b for p in sorted(posts_dir.glob("*.md")) if (b := load_body(posts_dir, p.name))]
    if not bodies:
        return "no posts"
    extract("warm up the knowledge")
    corpus = "\n\n".join(bodies)
    size = len(corpus.encode("utf-8"))
    rounds = max(1, int(megabytes * 1e6 / size))
    begin = time.process_time()
    mentions = sum(len(extract(body)) for _ in range(rounds) for body in bodies)
    elapsed = time.process_time() - begin
    total = size * rounds / 1e6
    return (
        f"{total:.1f} MB in {elapsed:.2f} CPU s = {total / elapsed:.1f} MB/s ({mentions} mentions, {len(bodies)} posts)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", type=Path, default=ROOT / "sample_posts" / "gold")
    parser.add_argument("--posts", type=Path, default=ROOT / "sample_posts")
    parser.add_argument("--check", action="store_true", help="exit 1 when an overlap F1 is below its target")
    parser.add_argument("--details", action="store_true", help="list misses and spurious mentions")
    parser.add_argument("--speed", action="store_true", help="also measure extraction throughput")
    args = parser.parse_args(argv)
    if not args.gold.is_dir():
        print(f"no gold folder at {args.gold}", file=sys.stderr)
        return 2
    scores, posts = evaluate(args.gold, args.posts)
    print(report(scores, posts, args.details))
    if args.speed:
        print("speed:", speed(args.posts))
    failing = below_target(scores)
    if args.check and failing:
        print("below target: " + ", ".join(failing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
