"""One post read (once), hashed, parsed and extracted: what the index and the catalog get for it.

It runs in the bulk workers too, so it never raises: a post it cannot use becomes a problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.catalog import CatalogEntry, PostRow
from index.engine import IndexDoc
from index.extract import CAPPED_NOTE, capped, extract, index_terms
from index.posts import PostFile, PostProblem, load_post


@dataclass(frozen=True, slots=True)
class Prepared:
    """A post parsed and extracted, ready for the index and the catalog (picklable for the pool)."""

    doc: IndexDoc
    entry: CatalogEntry


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def prepare(root: Path, found: PostFile) -> Prepared | PostProblem:
    """Read (once), hash, parse and extract one post; never raises (runs in worker processes)."""
    loaded = load_post(root, found)
    if isinstance(loaded, PostProblem):
        return loaded
    warnings = list(loaded.warnings)
    try:
        mentions = extract(loaded.body)
        terms = index_terms(mentions)
        if capped(mentions):
            warnings.append(CAPPED_NOTE)
    except Exception as error:  # a bug in extraction must not lose the post from the index
        mentions, terms = [], {}
        warnings.append(f"entity extraction failed: {type(error).__name__}")
    by_kind: dict[str, list[str]] = {"ACTOR": [], "VICTIM": [], "TECHNIQUE": [], "MALWARE": [], "VULN": []}
    for mention in mentions:
        if mention.kind in by_kind:
            technique_id = mention.ref if mention.kind == "TECHNIQUE" else ""
            by_kind[mention.kind].append(technique_id or mention.canonical)
    row = PostRow(
        post_id=loaded.post_id,
        title=loaded.title,
        date=loaded.date,
        url=loaded.url,
        source=loaded.source,
        tags=loaded.tags,
        actors=_unique(by_kind["ACTOR"]),
        victims=_unique(by_kind["VICTIM"]),
        techniques=_unique(by_kind["TECHNIQUE"]),
        content_hash=loaded.content_hash,
        malware=_unique(by_kind["MALWARE"]),
        vulns=_unique(by_kind["VULN"]),
    )
    doc = IndexDoc(loaded.post_id, loaded.title, loaded.body, loaded.tags, loaded.date, loaded.source, terms)
    return Prepared(doc, CatalogEntry(row, found.size, found.mtime_ns, tuple(warnings)))
