"""A search's first screen held for one frame, so that a complete answer arriving within it replaces it.

Each answer the screen takes in costs a frame of painting (the list's rows, its scrollbar, the search status);
when the count and facets follow the first screen within a frame, painting both draws the list twice for one
change a person can see. Textual-free: the screen gives the function that posts the first screen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class HeldFirstScreen:
    """Posts the first screen after ``delay`` seconds (on a timer thread) unless :meth:`settle` comes first."""

    def __init__(self, post: Callable[[], None], delay: float) -> None:
        self._post = post
        self._lock = threading.Lock()
        self._settled = False
        self._timer = threading.Timer(delay, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:  # posted under the lock: a complete answer settled after this is posted after it
            if not self._settled:
                self._settled = True
                self._post()

    def settle(self) -> None:
        """The complete answer is ready: the first screen, unless already posted, never will be."""
        with self._lock:
            self._settled = True
        self._timer.cancel()
