"""The posts folder is watched while the app runs: new, changed and deleted posts show up without a key."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from index.watch import matters
from tests.tui.helpers import main_screen, post_list, settle, titles, write_corpus
from tui.app import SpyglassApp

NEW_POST = """---
title: Fresh campaign against shipping firms
date: 2019-01-05
---
A new phishing campaign went after shipping firms.
"""


async def wait_until(pilot: Pilot[Any], holds: Any, seconds: float = 20) -> None:
    """Poll ``holds()`` while the app runs (a bounded wait: file events arrive when the system sends them)."""
    deadline = time.monotonic() + seconds
    while not holds():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        await pilot.pause(0.1)


def notes(app: SpyglassApp) -> list[str]:
    return [str(note.message) for note in app._notifications]


async def test_a_new_post_shows_up_without_a_key(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: len(post_list(app).ids) == 6)
        await pilot.press("j", "j")
        chosen = post_list(app).current
        write_corpus(posts_dir, {"_posts/2019-01-05-fresh-campaign.md": NEW_POST})
        await wait_until(pilot, lambda: len(post_list(app).ids) == 7)
        await settle(app, pilot)
        assert titles(app)[0] == "Fresh campaign against shipping firms"
        assert post_list(app).current == chosen  # the same post, one row further down
        assert "1 new post" in notes(app)


async def test_changed_and_deleted_posts_are_picked_up(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot, lambda: len(post_list(app).ids) == 6)
        (posts_dir / "_posts/2018-03-01-patch-tuesday.md").unlink()
        post = posts_dir / "_posts/2018-05-30-ransomware-hits-hospital.md"
        post.write_text(post.read_text(encoding="utf-8").replace("a hospital", "a clinic"), encoding="utf-8")
        await wait_until(pilot, lambda: "Ransomware hits a clinic" in titles(app) and len(titles(app)) == 5)
        await settle(app, pilot)
        assert any("1 changed" in note and "1 removed" in note for note in notes(app))


async def test_ctrl_r_rescans_and_keeps_the_scroll(tmp_path: Path) -> None:
    posts = {f"_posts/2017-01-{day:02d}-post.md": f"---\ntitle: Post {day}\n---\nBody {day}.\n" for day in range(1, 29)}
    root = write_corpus(tmp_path / "posts", posts)
    app = SpyglassApp.for_folder(root)
    async with app.run_test(size=(160, 24)) as pilot:
        await settle(app, pilot, lambda: len(post_list(app).ids) == 28)
        listed = post_list(app)
        for _ in range(20):
            await pilot.press("j")
        chosen, row = listed.current, listed.cursor - round(listed.scroll_y)
        assert listed.scroll_y > 0
        screen = main_screen(app)
        screen.workers.cancel_group(screen, "watch")  # only the key may bring the new post in
        write_corpus(root, {"_posts/2017-02-01-newest.md": "---\ntitle: Newest\n---\nNew.\n"})
        await pilot.press("ctrl+r")
        await settle(app, pilot, lambda: len(listed.ids) == 29)
        assert listed.current == chosen
        assert listed.cursor - round(listed.scroll_y) == row
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert "No changes in the folder" in notes(app)


def test_only_posts_and_folders_matter(tmp_path: Path) -> None:
    assert matters(tmp_path, str(tmp_path / "a" / "post.md"))
    assert matters(tmp_path, str(tmp_path / "folder"))
    assert not matters(tmp_path, str(tmp_path / "notes.txt"))
    assert not matters(tmp_path, str(tmp_path / ".git" / "x.md"))
    assert not matters(tmp_path, str(tmp_path.parent / "elsewhere.md"))
