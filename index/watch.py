"""Noticing that a posts folder changed, so a running reader can bring its index up to date.

The watch itself is ``watchfiles`` (native file events where the system has them). This module decides
which events matter (a post's file, or a folder that may hold posts; hidden names never) and turns a
burst of them into one wake-up, so an editor saving or a ``git pull`` writing a hundred posts costs one
incremental update rather than a hundred.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path, PurePath

from watchfiles import Change, watch

from index.posts import POST_SUFFIXES

#: Longest a burst is gathered (milliseconds) before the changes are reported.
DEBOUNCE_MS = 1200
#: Quiet time (milliseconds) that ends a burst early.
QUIET_MS = 200


def matters(root: Path, path: str) -> bool:
    """Whether a change at ``path`` can change the posts below ``root``: a post's file, or a name without a
    suffix (a folder, possibly deleted, so it cannot be asked); nothing inside a hidden folder."""
    try:
        parts = PurePath(path).relative_to(root).parts
    except ValueError:
        return False
    if not parts or any(part.startswith(".") for part in parts):
        return False
    name = parts[-1].lower()
    return name.endswith(POST_SUFFIXES) or "." not in name


class _Stop:
    """The ``stop_event`` watchfiles polls between its steps, answered by the caller's ``cancelled``."""

    def __init__(self, cancelled: Callable[[], bool]) -> None:
        self._cancelled = cancelled

    def is_set(self) -> bool:
        return self._cancelled()


def watch_posts(root: Path, cancelled: Callable[[], bool]) -> Iterator[int]:
    """Block until posts below ``root`` change and yield how many paths changed in the burst; again and
    again until ``cancelled()`` (checked every few tens of milliseconds) says stop."""
    root = Path(root).resolve()

    def keep(_change: Change, path: str) -> bool:
        return matters(root, path)

    for changes in watch(
        root,
        watch_filter=keep,
        debounce=DEBOUNCE_MS,
        step=QUIET_MS,
        stop_event=_Stop(cancelled),
        raise_interrupt=False,
    ):
        if cancelled():
            return
        yield len({path for _change, path in changes})
