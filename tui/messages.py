"""The app's messages: workers post results back to the UI thread, widgets post what the user wants.

Small dataclasses: workers run in threads and hand results over as messages, so the
widgets are only ever touched on the UI thread; a widget says what the user asked for
(:class:`TriageRequested`) and the screen decides, instead of calling screen actions by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from textual.message import Message

from index.corpus import PostRow, SearchResult, UpdateProgress, UpdateReport
from index.posts import Post, PostProblem
from index.state import StateError
from index.unread import UnreadFacets
from tui.settings import Settings
from tui.triage import Change

TriageAction = Literal[
    "read",
    "star",
    "flag",
    "archive",
    "tag",
    "note",
    "undo",
    "all_read",
    "all_archive",
    "next_unread",
    "previous_unread",
    "open_url",
    "copy_url",
]
"""What a triage key asks for; the screen owns the state and carries it out."""


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
class PreviewListed(Message):
    """A first build's scan: the posts to browse before the catalog is committed, newest first by name."""

    ids: list[str]


@dataclass
class PreviewRead(Message):
    """Front-matter rows of previewed posts, in list order (a batch at a time)."""

    rows: list[PostRow]


@dataclass
class FolderChanged(Message):
    """Posts in the watched folder were added, changed or deleted (one message per burst)."""

    paths: int


@dataclass
class SearchFinished(Message):
    """A search completed; ``serial`` lets the screen drop answers to superseded queries."""

    serial: int
    result: SearchResult
    unread: UnreadFacets = field(default_factory=dict)
    """Unread posts per facet entry the sidebar shows, counted with a complete result."""


@dataclass
class UnreadCounted(Message):
    """The sidebar's unread counts of the search ``serial``, counted again after a triage change."""

    serial: int
    unread: UnreadFacets


@dataclass
class PostLoaded(Message):
    """A post was read from disk for the article pane."""

    post_id: str
    post: Post | PostProblem


@dataclass
class TriageRequested(Message):
    """A triage key was pressed on a pane showing ``post_id`` (None: no post there)."""

    post_id: str | None
    action: TriageAction


@dataclass
class TriageSaved(Message):
    """A triage write finished in the worker: ``change`` on success, ``error`` when it was not saved."""

    change: Change | None
    error: StateError | None = None
    ids: tuple[str, ...] = ()
    """The posts the write was about (to repaint their marks from the store after a failure)."""
    origin: Literal["key", "auto", "undo"] = "key"
    """A key (reported, and undoable with ``u``), the automatic "read after a moment" (quiet), or an undo."""
    refused: str = ""
    """Why the state refused the change (a tag too long), when it did; nothing was written."""


@dataclass
class SettingsChanged(Message):
    """A remembered setting changed (sort order, theme); the app saves it for the next run."""

    changes: Settings


@dataclass
class FeedsCounted(Message):
    """The sidebar's own sections, read in a worker: feeds with unread counts, and own tags with posts."""

    feeds: list[tuple[str, str, int | None]]  # name, query, unread (None: the query cannot be answered)
    own_tags: list[tuple[str, int]]


@dataclass
class StateMoved(Message):
    """The triage state changed since the last look: here or in another Spyglass on the same file."""

    def __init__(self, archived: bool) -> None:
        super().__init__()
        self.archived = archived  # posts were archived or restored: the result itself may have changed


class ListReady(Message):
    """The first page of posts is on screen: keys typed during start-up can now take effect."""
