"""The whoosh schema and the stamp that says which version of it built an index.

The TOC of a whoosh index pickles the schema, so an index built by an older Spyglass
would silently keep old field definitions. The stamp file lets us notice and rebuild.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from whoosh.fields import DATETIME, ID, KEYWORD, TEXT, Schema

from index.engine.pairs import PAIR_FIELDS
from index.engine.words import PairsAnalyzer, WordsAnalyzer
from index.vocabulary import ENTITY_FIELDS

#: Bump whenever a field, analyzer or the meaning of a stored value changes (2: word pair fields). An index
#: stamped with another version is rebuilt, never read.
SCHEMA_VERSION = 2
STAMP_NAME = "spyglass-schema.json"
#: Fields whose values are comma-joined lists of lower-case terms.
KEYWORD_FIELDS = ("tags", "source", *ENTITY_FIELDS)
TEXT_FIELDS = ("title", "tags", "body")


def _keyword(scorable: bool = False) -> KEYWORD:
    return KEYWORD(lowercase=True, commas=True, scorable=scorable)


def build_schema() -> Schema:
    """Fields per docs/design.md §3; the body is not stored: highlights are made from the post file. The
    title and body each have a twin of word pairs (pairs.py) analysed the same way, for phrases; both are
    whoosh's stemming analysis, run once per post for the two (words.py)."""
    boosts = {"title": 2.0, "body": 1.0}
    return Schema(
        id=ID(unique=True, stored=True, sortable=True),
        **{name: TEXT(analyzer=WordsAnalyzer(), field_boost=boosts[name]) for name in PAIR_FIELDS},
        **{twin: TEXT(analyzer=PairsAnalyzer(), field_boost=boosts[name]) for name, twin in PAIR_FIELDS.items()},
        tags=_keyword(scorable=True),
        date=DATETIME(sortable=True),
        source=_keyword(),
        **{name: _keyword() for name in ENTITY_FIELDS},
    )


def read_stamp(folder: Path, engine: str = "whoosh") -> int | None:
    """The schema version recorded in ``folder`` by ``engine``; ``None`` when missing, unreadable or written
    by another engine (a stamp without an engine name was written by whoosh)."""
    try:
        data = json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))
        version = data.get("version") if isinstance(data, dict) else None
        built_by = data.get("engine", "whoosh") if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None
    return version if isinstance(version, int) and built_by == engine else None


def write_stamp(folder: Path, engine: str = "whoosh") -> None:
    """Record the current schema version and the engine atomically (write a temp file, then rename)."""
    target = folder / STAMP_NAME
    temporary = target.with_suffix(".tmp")
    payload = {
        "version": SCHEMA_VERSION,
        "engine": engine,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    temporary.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(temporary, target)
