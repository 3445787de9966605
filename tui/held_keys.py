"""Keys typed while the app starts: held until the first page of posts is on screen, then replayed in order.

Until the first search answers, the list is empty: ``j`` has no row to move to and ``s`` no post to
star, so those keys would be lost. A burst such as ``/ransomware`` has a second problem: the app
hands every key of the burst to the focused list before ``/`` has moved the focus to the search box,
so the letters would triage instead of being typed. Replaying the held keys one at a time, each once
the app has finished with the one before, gives what typing them on a ready screen gives.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Any

from textual import events
from textual.app import App
from textual.message_pump import MessagePump

PASS_THROUGH = frozenset({"ctrl+q", "ctrl+c"})
"""Keys never held: leaving must work even while the first page is slow to come."""
TYPED_AHEAD_ENTER = "ctrl+j"
"""How ``enter`` typed before the app has set up the terminal arrives: the terminal, still in line mode,
turns its carriage return into a line feed. No key of the app is ``ctrl+j``, so a held one means ``enter``."""
QUIET_ROUNDS = 20
"""At most this many rounds of waiting for the app's message queues after one replayed key."""
ROUND_TIMEOUT = 1.0
"""Seconds one round may wait for a busy widget before the next key is replayed anyway."""


class HeldKeys:
    """The keys held since start-up; :meth:`replay` lets them through and stops holding."""

    def __init__(self) -> None:
        self._keys: deque[events.Key] = deque()
        self._holding = True
        self._replaying = False
        self._passing: events.Key | None = None

    @property
    def holding(self) -> bool:
        """Whether keys are still held (the first page is not on screen, or held keys are being replayed)."""
        return self._holding

    def hold(self, event: events.Event) -> bool:
        """Keep ``event`` for later when it is a key typed before the list is ready; False lets it through."""
        if not self._holding or not isinstance(event, events.Key) or event.is_forwarded:
            return False
        if event is self._passing or event.key in PASS_THROUGH:
            return False
        if event.key == TYPED_AHEAD_ENTER:
            self._keys.append(events.Key("enter", "\r"))
        else:
            self._keys.append(events.Key(event.key, event.character))
        return True

    def release(self) -> bool:
        """The list is ready: stop holding at once when no key was typed; True when keys wait for
        :meth:`replay` (which stops holding once they are through)."""
        if not self._keys and not self._replaying:
            self._holding = False
        return self._holding and not self._replaying

    async def replay(self, app: App[Any]) -> None:
        """Send the held keys to ``app`` in order (and those typed meanwhile), then stop holding."""
        if self._replaying or not self._holding:
            return
        self._replaying = True
        while self._keys:
            key = self._passing = self._keys.popleft()
            app.post_message(key)
            await quiet(app)
        self._passing = None
        self._holding = False  # no await since the queue was seen empty: no key can slip in between


async def quiet(app: App[Any]) -> None:
    """Wait until the app and every widget of its screen have handled what was queued for them, including
    what handling it queued (a key hops from the app to the focused widget, up to the app's bindings,
    then on to the messages and focus changes its action posts)."""
    for _ in range(QUIET_ROUNDS):
        if not await _one_round([app, *app.screen.walk_children(with_self=True)]):
            return  # a widget is busy for long (a prompt waiting for an answer): go on
        if all(node.message_queue_size == 0 for node in [app, *app.screen.walk_children(with_self=True)]):
            return


async def _one_round(nodes: Sequence[MessagePump]) -> bool:
    """Wait for each of ``nodes`` to reach the end of its queue as it is now; False after a timeout."""
    done = asyncio.Event()
    waiting = 0

    def one_done() -> None:
        nonlocal waiting
        waiting -= 1
        if waiting == 0:
            done.set()

    for node in nodes:
        if node.call_later(one_done):
            waiting += 1
    if not waiting:
        return True
    try:
        await asyncio.wait_for(done.wait(), ROUND_TIMEOUT)
    except TimeoutError:
        return False
    return True
