"""A few snapshots of the main screen on the six-post corpus, at fixed terminal sizes.

Update after a deliberate visual change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVGs before committing them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Protocol

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from index.corpus import SearchResult
from tests.tui.helpers import indexed_posts, settle
from tui.app import SpyglassApp

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_read_timer")]


class SnapCompare(Protocol):
    def __call__(
        self, app: SpyglassApp, press: tuple[str, ...] = (), terminal_size: tuple[int, int] = ..., run_before: Any = ...
    ) -> bool: ...


def steady_app(posts_dir: Path) -> SpyglassApp:
    """The app with everything time-dependent pinned: search timings and the mark-as-read delay."""
    app = SpyglassApp.for_folder(posts_dir)
    search = app.corpus.search

    def timeless(query: str, **kwargs: Any) -> SearchResult:
        return dataclasses.replace(search(query, **kwargs), elapsed=0.0)

    app.corpus.search = timeless  # type: ignore[method-assign]
    return app


async def ready(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, SpyglassApp)
    await settle(app, pilot)
    await pilot.pause(0.3)  # late refreshes (the index update starts after the first screen) land too
    await settle(app, pilot)
    for box in app.screen.query(Input):
        box.cursor_blink = False


def test_main_screen_120x36(tmp_path: Path, snap_compare: SnapCompare) -> None:
    app = steady_app(indexed_posts(tmp_path))
    assert snap_compare(app, terminal_size=(120, 36), run_before=ready)


def test_main_screen_80x24(tmp_path: Path, snap_compare: SnapCompare) -> None:
    app = steady_app(indexed_posts(tmp_path))
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_filtered_and_starred_120x36(tmp_path: Path, snap_compare: SnapCompare) -> None:
    app = steady_app(indexed_posts(tmp_path))

    async def filtered(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("s", "j", "f", "shift+tab", "down", "enter")
        await ready(pilot)
        pilot.app.clear_notifications()  # toasts time out: keep them out of the picture
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=filtered)
