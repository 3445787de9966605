"""The tantivy index's fields: the whoosh schema's fields, holding terms the whoosh analysers made."""

from __future__ import annotations

from functools import cache
from typing import Any

import tantivy

from index.vocabulary import ENTITY_FIELDS

#: Fields indexed with positions (phrases), and keyword fields (``tags`` with frequencies: it is scored).
POSITIONED = ("title", "body")
KEYWORDS = ("tags", "source", *ENTITY_FIELDS)
TERM_FIELDS = frozenset({*POSITIONED, *KEYWORDS})


@cache
def tantivy_schema() -> Any:
    """``id`` (deletes, the key → id table; stored, for a key two ids share), ``key`` (a fast column hits
    carry), the text and keyword fields (tokens given already analysed, so the tokenizer name is never used),
    ``date`` as the number whoosh stores."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("key", fast=True)
    for name in POSITIONED:
        builder.add_text_field(name, tokenizer_name="raw", index_option="position")
    for name in KEYWORDS:
        builder.add_text_field(name, tokenizer_name="raw", index_option="freq" if name == "tags" else "basic")
    builder.add_integer_field("date", indexed=True, fast=True)
    return builder.build()
