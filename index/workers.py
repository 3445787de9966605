"""Worker processes that die with the process that started them and never hold its locks.

A bulk build parses posts on a pool of forked processes (forking shares the loaded entity knowledge,
which takes seconds to load afresh). A forked child inherits every open descriptor, the index's write
lock and the triage owner lock included, and ``flock`` locks stay held while any copy is open: a worker
that outlived a killed parent kept "another Spyglass is writing this index" true for good. So a worker,
as it starts, closes its copies of the lock descriptors registered with :func:`keep_private`, asks Linux
to kill it when its parent dies (``PR_SET_PDEATHSIG``) and, on every platform, watches its parent's pid.

The triage state registers its lock here in every process, the app's included, so the process machinery
(``multiprocessing``, ``ctypes``) is imported only when a pool or a worker needs it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

#: ``prctl`` option: the signal this process gets when the thread that forked it exits.
_PR_SET_PDEATHSIG = 1
#: Seconds between two looks at the parent's pid (the fallback where the signal is not available).
WATCH_EVERY = 0.5

#: Objects holding a lock descriptor → the name of their descriptor attribute (``None`` when released).
_private: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def keep_private(holder: object, attribute: str = "fd") -> None:
    """Keep the lock descriptor ``holder.<attribute>`` out of worker processes started while it is held."""
    _private[holder] = attribute


def _close_private() -> None:
    """In a new worker: close the inherited lock descriptors, so the worker never holds a lock."""
    for holder, attribute in list(_private.items()):
        fd = getattr(holder, attribute, None)
        if isinstance(fd, int):
            with suppress(OSError):
                os.close(fd)
            setattr(holder, attribute, None)  # nothing in the worker may unlock the parent's lock later
    _private.clear()


def _watch(parent: int) -> None:
    while True:
        time.sleep(WATCH_EVERY)
        if os.getppid() != parent:
            os._exit(1)


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        with suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _start_worker(parent: int, initializer: Callable[..., object] | None, initargs: tuple[Any, ...]) -> None:
    _close_private()
    _die_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def worker_pool(
    max_workers: int, initializer: Callable[..., object] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A process pool whose workers share this process's memory (fork, where there is one), hold none of
    its locks and die with it; ``initializer(*initargs)`` then runs in each (shared memory passes only
    this way)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork") if "fork" in methods else None
    return ProcessPoolExecutor(
        max_workers=max_workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(), initializer, initargs),
    )
