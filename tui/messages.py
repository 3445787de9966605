"""Messages the app's workers post back to the UI thread.

Small dataclasses: workers run in threads and hand results over as messages, so the
widgets are only ever touched on the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from index.corpus import SearchResult, UpdateProgress, UpdateReport
from index.posts import Post, PostProblem


@dataclass
class IndexProgress(Message):
    """Indexing moved on; bursts coalesce, only the newest matters."""

    progress: UpdateProgress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, IndexProgress)


@dataclass
class IndexFinished(Message):
    """``corpus.update`` returned (``report`` is None when it was cancelled or failed)."""

    report: UpdateReport | None


@dataclass
class SearchFinished(Message):
    """A search completed; ``serial`` lets the screen drop answers to superseded queries."""

    serial: int
    result: SearchResult
    labels: dict[str, str]
    """Readable names for facet values that are codes (technique IDs → ATT&CK names)."""


@dataclass
class PostLoaded(Message):
    """A post was read from disk for the article pane."""

    post_id: str
    post: Post | PostProblem
