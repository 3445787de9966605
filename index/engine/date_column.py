"""``date:`` ranges matched from the index's date column instead of its numeric terms.

whoosh answers a numeric range by reading the postings of every term that covers a part of it (up to a few
dozen terms at several precisions) and merging them into one list of documents, which at 100k posts costs
about as much as the words of the query. The ``date`` field is sortable, so each segment also holds every
document's date as one fixed-width column: read as one block, the documents in range are a comparison per
document. whoosh is handed that list in the very form its own range takes once compiled (a list of
documents, each scoring the range's constant), so the matches, their scores and their order are the same.
"""

from __future__ import annotations

import sys
from array import array
from typing import Any

from whoosh import query as wq
from whoosh.columns import NumericColumn
from whoosh.matching import ListMatcher, NullMatcher

DATE_FIELD = "date"


class ColumnDateRange(wq.NumericRange):  # type: ignore[misc]
    """A constant-score range on the date field whose matcher reads the date column of a segment. Its size
    estimate stays the range's own (the sum of its terms' document counts), so whoosh builds the same tree."""

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        reader = searcher.reader()
        if (context is not None and context.needs_current) or not reader.is_atomic():
            return super().matcher(searcher, context)  # whoosh keeps the terms' own matcher here
        found = self.in_segment(reader)
        if found is None:
            return super().matcher(searcher, context)
        if not found:
            return NullMatcher()
        return ListMatcher(found, all_weights=self.boost)

    def docs(self, searcher: Any) -> Any:
        return self.matcher(searcher).all_ids()

    def in_segment(self, reader: Any) -> array[int] | None:
        """The live documents of one segment in range, ascending; ``None`` when the column is not the
        fixed-width one this reads (then the terms answer)."""
        if not reader.has_column(self.fieldname):
            return None
        column = reader.column_reader(self.fieldname, translate=False)
        if not isinstance(column, NumericColumn.Reader):
            return None
        values = array(column._typecode)
        if values.itemsize != column._fixedlen:
            return None
        values.frombytes(column._dbfile.get(column._basepos, column._count * column._fixedlen))
        if sys.byteorder == "little":
            values.byteswap()  # whoosh writes the column big-endian
        field = reader.schema[self.fieldname]
        low = -1 if self.start is None else field.prepare_number(self.start) + (1 if self.startexcl else 0)
        high = None if self.end is None else field.prepare_number(self.end) - (1 if self.endexcl else 0)
        missing = column._default  # an undated document holds the default and has no date term
        found = array(
            "I",
            (
                docnum
                for docnum, value in enumerate(values)
                if value >= low and (high is None or value <= high) and value != missing
            ),
        )
        if reader.has_deletions():
            found = array("I", (docnum for docnum in found if not reader.is_deleted(docnum)))
        return found


def from_column(node: Any) -> Any:
    """``node`` with each constant-score range on the date field matched from the date column."""
    if type(node) in (wq.NumericRange, wq.DateRange) and node.fieldname == DATE_FIELD and node.constantscore:
        return ColumnDateRange(node.fieldname, node.start, node.end, node.startexcl, node.endexcl, node.boost)
    return node.apply(from_column)  # a leaf gives itself back
