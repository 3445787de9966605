"""A first build: the posts can be browsed and opened before the catalog is committed, and the catalog's list
replaces the preview with the cursor on the same post."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import Popen
from typing import Any

import pytest

import index.engine.store as store_module
import tui.screens.main as main_module
from index.corpus import ENGINE_FOLDER
from index.engine.contract import open_engine
from index.paths import index_dir_for
from index.preview import preview_files
from tests.index.helpers import hold_writer
from tests.tui.helpers import main_screen, post_list, screen_lines, settle, write_corpus
from tui.app import SpyglassApp

pytestmark = pytest.mark.usefixtures("no_read_timer")


@contextmanager
def build_held_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Popen[str]]]:
    """A folder of posts whose first build cannot commit: an empty index whose write lock another process
    (also given: killing it lets the build go on) holds until the block ends."""
    posts = write_corpus(tmp_path / "posts")
    monkeypatch.setattr(store_module, "WRITER_TIMEOUT", 0.1)
    folder = index_dir_for(posts) / ENGINE_FOLDER
    engine = open_engine("whoosh", folder)
    engine.recreate().cancel()
    engine.close()
    holder = hold_writer(folder)
    try:
        yield posts, holder
    finally:
        holder.kill()
        holder.wait()


def _listed_text(app: SpyglassApp) -> str:
    return "\n".join(screen_lines(app))


async def test_posts_browsable_before_the_first_build_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with build_held_back(tmp_path, monkeypatch) as (posts, holder):
        app = SpyglassApp.for_folder(posts)
        async with app.run_test(size=(160, 45)) as pilot:
            screen = main_screen(app)
            listed = post_list(app)

            def previewed() -> bool:
                return len(listed.ids) == 6 and listed.row(listed.ids[-1]) is not None

            await settle(app, pilot, previewed)
            assert len(screen.corpus) == 0  # nothing committed: the rows come from the files
            assert [post_id.split("/")[-1][:10] for post_id in listed.ids] == [
                "2018-07-11",
                "2018-06-02",
                "2018-05-30",
                "2018-05-01",
                "2018-04-15",
                "2018-03-01",
            ]
            lazarus = listed.ids[1]
            row = listed.row(lazarus)
            assert row is not None and row.title == "North Korean hackers target banks"
            assert row.actors == ()  # front matter only: no entities yet
            assert "North Korean hackers target banks" in _listed_text(app)
            assert "6 posts listed · index not ready" in _listed_text(app)
            assert not re.search(r"\d+\+? hits?\b", _listed_text(app))  # nothing searched: no count beside it

            await pilot.press("down", "enter")
            await settle(app, pilot, lambda: "went after banks in Asia" in _listed_text(app))
            assert listed.current == lazarus

            holder.kill()
            holder.wait()
            await pilot.press("ctrl+r")
            await settle(app, pilot, lambda: len(screen.corpus) == 6)
            assert list(listed.ids) == screen.corpus.search("").ids  # the catalog's list
            assert listed.current == lazarus  # the cursor stayed on the open post
            catalog_row = listed.row(lazarus)
            assert catalog_row is not None and "Lazarus Group" in catalog_row.actors


async def test_the_preview_says_so_in_full_at_80_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with build_held_back(tmp_path, monkeypatch) as (posts, _):  # the preview stays
        app = SpyglassApp.for_folder(posts)
        async with app.run_test(size=(80, 24)) as pilot:
            listed = post_list(app)
            await settle(app, pilot, lambda: len(listed.ids) == 6 and listed.row(listed.ids[-1]) is not None)
            assert "6 posts listed · index not ready" in _listed_text(app)  # whole, not cut at 80 columns
            assert not re.search(r"\d+\+? hits?\b", _listed_text(app))


async def test_no_hit_count_while_the_posts_are_still_being_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing = threading.Event()

    def held_listing(folder: Path) -> list[Any]:
        listing.wait(10)  # the scan of a big folder takes a while: the first (empty) answer comes before it
        return preview_files(folder)

    monkeypatch.setattr(main_module, "preview_files", held_listing)
    with build_held_back(tmp_path, monkeypatch) as (posts, _):
        try:
            app = SpyglassApp.for_folder(posts)
            async with app.run_test(size=(80, 24)) as pilot:
                screen = main_screen(app)
                while screen.result is None or not screen.result.complete:
                    await pilot.pause(0.05)
                await pilot.pause()
                assert len(screen.corpus) == 0 and not post_list(app).ids
                assert "listing posts…" in _listed_text(app)
                assert not re.search(r"\d+\+? hits?\b", _listed_text(app))
                listing.set()
                await settle(app, pilot, lambda: "6 posts listed · index not ready" in _listed_text(app))
        finally:
            listing.set()
