"""Pilot helpers shared by the app tests: a six-post corpus, waiting for the app to settle, and
reading what is listed and what the screen shows."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed

from index.corpus import Corpus
from index.state import TriageState
from tui.app import SpyglassApp
from tui.screens.main import MainScreen
from tui.widgets.post_list import PostList
from tui.widgets.sidebar import Sidebar

POSTS: dict[str, str] = {
    "_posts/2018-07-11-chinese-group-breaches.md": """---
layout: post
title: Chinese group breaches Cambodian election bodies
date: 2018-07-11 00:02:8
tourl: https://www.cyberscoop.com/cambodia-election-apt40/
tags: [Group, China, FIREEYE, Attack, TEMP.Periscope]
---
Chinese hackers known as TEMP.Periscope breached the National Election Commission of Cambodia
with spear-phishing emails, FireEye said.
""",
    "_posts/2018-06-02-north-korean-hackers.md": """---
title: North Korean hackers target banks
date: 2018-06-02
tourl: https://example.org/lazarus-banks
tags: [North Korea, Lazarus, Banks]
---
The Lazarus Group went after banks in Asia with a watering hole attack.
""",
    "_posts/2018-05-30-ransomware-hits-hospital.md": """---
title: Ransomware hits a hospital
date: 2018-05-30
tourl: https://example.com/ransomware-hospital
tags: [Ransomware]
---
A ransomware outbreak shut down a hospital network for two days.
""",
    "_posts/2018-05-01-apt28-phishing.md": """---
title: APT28 phishing wave against ministries
date: 2018-05-01
tourl: https://example.net/apt28
tags: [Russia, Phishing]
---
APT28 sent phishing emails to the Ministry of Foreign Affairs.
""",
    "_posts/2018-04-15-watering-hole-in-asia.md": """---
title: Watering hole attacks in Asia
date: 2018-04-15
tourl: http://example.com/watering-hole
tags: [China, Espionage]
---
Websites of government agencies were compromised to serve malware to visitors.
""",
    "_posts/2018-03-01-patch-tuesday.md": """---
title: Patch Tuesday roundup
date: 2018-03-01
tourl: ftp://example.com/patches
tags: [Patches]
---
Microsoft fixed CVE-2018-0802 in Office this month.
""",
}


def write_corpus(root: Path, posts: dict[str, str] | None = None) -> Path:
    """Write the posts below ``root`` (created) and return it."""
    for name, text in (posts if posts is not None else POSTS).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def index_corpus(root: Path) -> None:
    """Index ``root`` for real, before the app starts (so start-up finds nothing to do)."""
    corpus = Corpus.open(root)
    corpus.update()
    close = getattr(corpus, "close", None)
    if callable(close):
        close()


def indexed_posts(tmp_path: Path) -> Path:
    """The six-post corpus in ``tmp_path/posts``, already indexed."""
    root = write_corpus(tmp_path / "posts")
    index_corpus(root)
    return root


async def workers_done(app: App[Any]) -> None:
    """Wait for every worker but the folder watch, which runs as long as the screen does."""
    others = [worker for worker in app.workers if worker.group != "watch"]
    if others:  # an empty list would mean "all workers" to Textual
        await app.workers.wait_for_complete(others)


def busy(app: App[Any]) -> bool:
    """Whether a worker other than the folder watch is still running."""
    return any(worker.is_running and worker.group != "watch" for worker in app.workers)


def main_screen(app: SpyglassApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    return screen


def post_list(app: SpyglassApp) -> PostList:
    return app.screen.query_one("#posts", PostList)


async def settle(app: SpyglassApp, pilot: Pilot[Any], until: Callable[[], bool] = lambda: True) -> None:
    """Let workers finish and their messages land, until ``until()`` holds (or fail after 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            await workers_done(app)
        except WorkerCancelled:  # a newer search replaced an older one: normal, wait for the newer
            continue
        except WorkerFailed:  # the app reports a failed worker itself (tests check how); it is done
            pass
        await pilot.pause()
        screen = app.screen
        idle = not isinstance(screen, MainScreen) or (
            screen.result is not None and screen.result.complete and not screen.indexing
        )
        if idle and not busy(app) and until():
            return
        if time.monotonic() > deadline:
            raise AssertionError("the app did not settle")
        await pilot.pause(0.05)


def titles(app: SpyglassApp) -> list[str]:
    """Titles of the listed posts, in order."""
    listed = post_list(app)
    return [row.title for row in main_screen(app).corpus.rows(list(listed.ids))]


def reopen_state() -> TriageState:
    """The user's triage database, opened again as a later run would."""
    return TriageState()


def screen_lines(app: App[Any]) -> list[str]:
    """The screen's text, line by line, from the SVG export."""
    svg = app.export_screenshot()
    rows: dict[str, list[tuple[float, str]]] = {}
    for match in re.finditer(r'<text[^>]*\bx="([\d.]+)"[^>]*\by="([\d.]+)"[^>]*>(.*?)</text>', svg, re.S):
        x, y, body = match.groups()
        rows.setdefault(y, []).append((float(x), html.unescape(body).replace("\xa0", " ")))
    return ["".join(text for _, text in sorted(parts)) for _, parts in sorted(rows.items(), key=lambda r: float(r[0]))]


async def written(app: SpyglassApp, pilot: Pilot[Any]) -> None:
    """Let the triage worker commit what the keys asked for (writes run in a worker, in order)."""
    await workers_done(app)
    await pilot.pause()


def burst(app: App[Any], *keys: str) -> None:
    """Keys as a terminal delivers a fast typist's or a paste's: all queued at once (``Pilot.press`` waits
    between keys, which hides the race)."""
    for key in keys:
        app.post_message(events.Key(key, {"slash": "/", "ctrl+j": "\n", "enter": "\r"}.get(key, key)))


def sidebar_rows(app: SpyglassApp, kind: str) -> list[str]:
    """The text of a sidebar section's entries (``feed``, ``own_tag``, ``tag``, …)."""
    sidebar = app.screen.query_one(Sidebar)
    found = []
    for index in range(sidebar.option_count):
        option = sidebar.get_option_at_index(index)
        if (option.id or "").startswith(f"{kind}:") and option.id != f"{kind}:head":
            found.append(" ".join(str(option.prompt).split()).lstrip("▸✓ "))
    return found


@contextmanager
def first_search_waiting(app: SpyglassApp) -> Iterator[Callable[[], None]]:
    """Hold the triage state's read lock from before the app starts, so the first search (which reads the state to
    hide archived posts) waits while the app runs; yields the function that lets go. The app's own thread shares
    the lock with the test, so its reads go through."""
    assert app.triage is not None
    lock = app.triage._read_lock
    lock.acquire()
    held = True

    def release() -> None:
        nonlocal held
        if held:
            held = False
            lock.release()

    try:
        yield release
    finally:
        release()
