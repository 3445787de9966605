"""The start's background work begins only after the first frame holding the filled list is out.

Every piece of it (the complete answer, the first article, the feed counts, the folder watch, the start-up
update's scan) runs in a thread that holds the GIL against the main thread; begun while the first list is
still to be drawn, it holds that frame back (at 100k posts, by most of a second). The order is recorded as it
happens: the frames Textual hands to the terminal driver, the workers the screen starts, the complete search.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.geometry import Region
from textual.strip import Strip
from textual.worker import Worker

from tests.tui.helpers import first_search_waiting, main_screen, settle
from tui.app import SpyglassApp
from tui.screens.main import MainScreen
from tui.widgets.post_list import PostList

#: Worker groups the start sets going after its first list: each must wait for that list's frame.
AFTER_THE_FIRST_FRAME = ("load", "feeds", "watch", "index")


class Order:
    """What happened, in order (appended from the app's thread and its workers)."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self._lock = threading.Lock()
        self.rows_drawn = False

    def add(self, event: str) -> None:
        with self._lock:
            self.events.append(event)

    def first(self, event: str) -> int:
        assert event in self.events, f"{event!r} never happened: {self.events}"
        return self.events.index(event)


@pytest.fixture
def order(monkeypatch: pytest.MonkeyPatch) -> Order:
    """Records the first frame after the post list drew rows, and every worker a main screen starts."""
    seen = Order()
    render_lines = PostList.render_lines
    display = App._display
    run_worker = MainScreen.run_worker

    def render(widget: PostList, crop: Region) -> list[Strip]:
        seen.rows_drawn = seen.rows_drawn or bool(widget.ids)
        return render_lines(widget, crop)

    def shown(app: App[Any], screen: Any, renderable: Any) -> None:
        display(app, screen, renderable)
        if seen.rows_drawn and renderable is not None:
            seen.add("frame with the filled list")

    def worker(screen: MainScreen, *args: Any, **kwargs: Any) -> Worker[Any]:
        seen.add(f"worker {kwargs.get('group')}")
        return run_worker(screen, *args, **kwargs)

    monkeypatch.setattr(PostList, "render_lines", render)
    monkeypatch.setattr(App, "_display", shown)
    monkeypatch.setattr(MainScreen, "run_worker", worker)
    return seen


async def test_the_start_work_waits_for_the_first_frame_holding_the_filled_list(posts_dir: Path, order: Order) -> None:
    """The first list arrives once the empty screen is drawn and the app idle, as at 100k posts (where the
    catalog's date order takes a third of a second): the first search waits for the triage state's read lock,
    which the test holds until then."""
    app = SpyglassApp.for_folder(posts_dir)
    search = app.corpus.search

    def searched(query: str, **options: Any) -> Any:
        if options.get("complete", True):
            order.add("complete answer")
        return search(query, **options)

    app.corpus.search = searched  # type: ignore[method-assign]
    with first_search_waiting(app) as release:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert not main_screen(app).post_list.ids, "the list came before the screen was idle"
            release()
            await settle(app, pilot, lambda: bool(main_screen(app).article.mentions))
            painted = order.first("frame with the filled list")
            assert order.first("worker search") < painted  # the first list's own search: before, of course
            for group in AFTER_THE_FIRST_FRAME:
                assert order.first(f"worker {group}") > painted, order.events
            assert order.first("complete answer") > painted, order.events
            # The watch is set up before the update: a change is seen by one or the other.
            assert order.first("worker watch") < order.first("worker index")
            await app.action_quit()


async def test_the_start_work_begins_even_when_the_list_has_no_room_to_be_drawn(posts_dir: Path, order: Order) -> None:
    """On a terminal three rows high the list is below the bottom edge, never drawn: the start-up update and
    the complete answer still come, once the longest wait for the list's frame is over."""
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(120, 3)) as pilot:
        await settle(app, pilot)  # fails unless the update ran and the complete answer came
        screen = main_screen(app)
        assert screen.post_list.ids and screen.result is not None and screen.result.complete
        assert not order.rows_drawn, "the list was drawn: the test would prove nothing"
        await app.action_quit()
