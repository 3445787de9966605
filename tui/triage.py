"""Triage as plain operations on :class:`TriageState`, each returning what changed and how to undo it.

Textual-free on purpose: the screen runs these in a thread worker, because one write can wait seconds
for another process's lock and the event loop must keep answering keys meanwhile. Writes run one at a
time and in order (:class:`WriteQueue`), so two quick presses of ``s`` land as pressed.

Every operation *sets* values (the value the user saw flipped, or an explicit one), never a blind
toggle of what is stored, so a key always does what the mark on screen promises.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from index.sanitize import one_line
from index.state import Flag, TriageState

#: What each flag's key says when it sets (True) or clears (False) the flag on one post.
_SAID: Mapping[Flag, tuple[str, str]] = {
    "read": ("Marked read", "Marked unread"),
    "starred": ("Starred", "Unstarred"),
    "flagged": ("Flagged", "Unflagged"),
    "archived": ("Archived", "Restored from the archive"),
}
#: The same for many posts at once ({count} is filled in).
_SAID_MANY: Mapping[Flag, tuple[str, str]] = {
    "read": ("Marked {count:,} posts read", "Marked {count:,} posts unread"),
    "starred": ("Starred {count:,} posts", "Unstarred {count:,} posts"),
    "flagged": ("Flagged {count:,} posts", "Unflagged {count:,} posts"),
    "archived": ("Archived {count:,} posts", "Restored {count:,} posts from the archive"),
}


@dataclass(frozen=True)
class SetFlags:
    """Set ``flag`` on each post to its own value (one post, a bulk change, or the undo of either)."""

    flag: Flag
    values: Mapping[str, bool]
    hashes: Mapping[str, str] = field(default_factory=dict)
    """Content hashes to record for single posts (they let a renamed post keep its state)."""


@dataclass(frozen=True)
class SetTags:
    """Add and remove own tags on one post."""

    post_id: str
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    content_hash: str = ""


@dataclass(frozen=True)
class SetNote:
    """Replace one post's note ("" clears it)."""

    post_id: str
    note: str
    content_hash: str = ""


Operation = SetFlags | SetTags | SetNote


@dataclass(frozen=True)
class Change:
    """What one operation changed: the posts, a sentence for the user, and the operation that undoes it."""

    operation: Operation
    undo: Operation
    ids: tuple[str, ...]
    message: str


class Triage:
    """The triage actions on one :class:`TriageState`; every method is one committed transaction."""

    def __init__(self, state: TriageState) -> None:
        self.state = state

    def set_flag(self, post_id: str, flag: Flag, value: bool, content_hash: str = "") -> Change:
        """Set one flag on one post."""
        return self.apply(SetFlags(flag, {post_id: value}, {post_id: content_hash} if content_hash else {}))

    def toggle(self, post_id: str, flag: Flag, shown: bool, content_hash: str = "") -> Change:
        """Flip the flag the user *sees* (``shown``): the stored value may have changed elsewhere meanwhile."""
        return self.set_flag(post_id, flag, not shown, content_hash)

    def set_many(self, post_ids: Sequence[str], flag: Flag, value: bool) -> Change:
        """Set one flag on many posts ("mark all read", "archive all", and their opposites)."""
        return self.apply(SetFlags(flag, dict.fromkeys(post_ids, value)))

    def tag(self, post_id: str, add: Sequence[str] = (), remove: Sequence[str] = (), content_hash: str = "") -> Change:
        """Add and remove own tags on one post."""
        return self.apply(SetTags(post_id, tuple(add), tuple(remove), content_hash))

    def note(self, post_id: str, note: str, content_hash: str = "") -> Change:
        """Replace one post's note."""
        return self.apply(SetNote(post_id, note, content_hash))

    def undo(self, change: Change) -> Change:
        """Put back what ``change`` changed; the result undoes the undo."""
        undone = self.apply(change.undo)
        return Change(undone.operation, undone.undo, undone.ids, f"Undone: {change.message}")

    def apply(self, operation: Operation) -> Change:
        """Carry out ``operation`` and describe it (raises :class:`~index.state.StateError` on failure)."""
        if isinstance(operation, SetFlags):
            return self._flags(operation)
        if isinstance(operation, SetTags):
            return self._tags(operation)
        return self._note(operation)

    def _flags(self, operation: SetFlags) -> Change:
        flag, values = operation.flag, operation.values
        before = {post_id: getattr(state, flag) for post_id, state in self.state.get_many(values).items()}
        if len(values) == 1:
            ((post_id, value),) = values.items()
            self.state.set_flag(post_id, flag, value, operation.hashes.get(post_id, ""))
            message = _SAID[flag][0 if value else 1]
        else:
            self.state.set_flag_values(flag, values)
            distinct = set(values.values())
            said = _SAID_MANY[flag][0 if distinct == {True} else 1]
            message = said.format(count=len(values)) if len(distinct) == 1 else f"Changed {len(values):,} posts"
        return Change(operation, SetFlags(flag, before), tuple(values), message)

    def _tags(self, operation: SetTags) -> Change:
        post_id = operation.post_id
        had = {tag.casefold(): tag for tag in self.state.tags_of(post_id)}
        for tag in operation.add:
            self.state.add_tag(post_id, tag, operation.content_hash)
        for tag in operation.remove:
            self.state.remove_tag(post_id, tag)
        added = tuple(tag for tag in operation.add if " ".join(tag.split()).casefold() not in had)
        removed = tuple(had[key] for tag in operation.remove if (key := " ".join(tag.split()).casefold()) in had)
        parts = []
        if added:
            parts.append("Tagged: " + ", ".join(one_line(tag, 40) for tag in added))
        if removed:
            parts.append("Removed tag: " + ", ".join(one_line(tag, 40) for tag in removed))
        message = "; ".join(parts) or "Tags unchanged"
        return Change(operation, SetTags(post_id, add=removed, remove=added), (post_id,), message)

    def _note(self, operation: SetNote) -> Change:
        before = self.state.get(operation.post_id).note
        self.state.set_note(operation.post_id, operation.note, operation.content_hash)
        message = "Note saved" if operation.note else "Note cleared"
        return Change(operation, SetNote(operation.post_id, before), (operation.post_id,), message)


Job = Callable[[], None]


class WriteQueue:
    """Jobs run one at a time, in the order given, on whichever thread drains the queue.

    :meth:`put` says whether the caller must start a drainer (none is running), so exactly one
    worker drains at a time and it ends when the queue is empty: no idle thread waits around.
    """

    def __init__(self) -> None:
        self._jobs: deque[Job] = deque()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._draining = False

    def put(self, job: Job) -> bool:
        """Queue ``job``; True when the caller must start :meth:`drain` in a thread."""
        with self._lock:
            self._jobs.append(job)
            if self._draining:
                return False
            self._draining = True
            return True

    def drain(self) -> None:
        """Run jobs until none is left (call in a thread, after :meth:`put` returned True)."""
        while True:
            with self._lock:
                if not self._jobs:
                    self._draining = False
                    self._idle.notify_all()
                    return
                job = self._jobs.popleft()
            try:
                job()
            except BaseException:
                with self._lock:  # the next put starts a new drainer for what is left
                    self._draining = False
                    self._idle.notify_all()
                raise

    @property
    def busy(self) -> bool:
        """Whether a job is queued or running."""
        with self._lock:
            return self._draining

    def wait(self, timeout: float) -> bool:
        """Wait until every queued job has run; False if ``timeout`` seconds passed first."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._draining, timeout)
