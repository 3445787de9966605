"""What the app remembers and explains: theme and sort across runs, the read delay setting, the key
map check, help for every pane, own tags and notes on screen, and source URLs leaving the app."""

from __future__ import annotations

import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from index.paths import config_dir
from tests.tui.helpers import main_screen, post_list, reopen_state, screen_lines, settle
from tui.app import SpyglassApp
from tui.key_help import binding_ids
from tui.settings import Settings, load_settings, save_settings, settings_path

#: Whole-app Pilot runs.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_read_timer")]


def test_settings_file_round_trip_and_damage(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    assert load_settings(path) == Settings()
    assert save_settings(Settings(theme="nord"), path) is None
    assert save_settings(Settings(sort="relevance"), path) is None  # merged, the theme stays
    assert load_settings(path) == Settings(theme="nord", sort="relevance")
    path.write_text('theme = 3\nsort = "sideways"\nread_delay = 1e9\n', encoding="utf-8")
    assert load_settings(path) == Settings()
    path.write_text("read_delay = [", encoding="utf-8")
    assert load_settings(path) == Settings()


async def test_theme_and_sort_persist_across_runs(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        app.theme = "nord"
        await pilot.press("S")
        await settle(app, pilot)
    assert load_settings() == Settings(theme="nord", sort="relevance")
    again = SpyglassApp.for_folder(posts_dir)
    async with again.run_test(size=(160, 45)) as pilot:
        await settle(again, pilot)
        assert again.theme == "nord"
        assert main_screen(again).sort == "relevance"


async def test_read_delay_setting(posts_dir: Path) -> None:
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text("read_delay = 0.1\n", encoding="utf-8")
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("j")
        await pilot.pause(0.5)
        await settle(app, pilot)
        with reopen_state() as state:
            assert state.ids_with("read") == {post_list(app).current}


async def test_unknown_binding_id_in_the_key_map_is_reported(posts_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / "keys.toml").write_text('[keys]\n"triage.star" = "asterisk"\n"triage.stra" = "x"\n', "utf-8")
    app = SpyglassApp.for_folder(posts_dir)
    warnings: list[str] = []  # recorded as sent: on a loaded machine the toast can time out before it is read
    notify = app.notify

    def record(message: str, **options: Any) -> None:
        if options.get("severity") == "warning":
            warnings.append(str(message))
        notify(message, **options)

    monkeypatch.setattr(app, "notify", record)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        assert any("'triage.stra'" in message for message in warnings), warnings
        assert not any("'triage.star'" in message for message in warnings)
        first = post_list(app).current
        await pilot.press("asterisk")  # the remapped key works
        await settle(app, pilot)
    with reopen_state() as state:
        assert state.ids_with("starred") == {first}


async def test_help_lists_every_pane_with_binding_ids(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 200)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        for pane in ("Everywhere", "Main screen", "Post list", "Article", "Sidebar", "Search box", "Note"):
            assert f"Keys: {pane}" in text, pane
        for binding_id in ("triage.undo", "article.next_entity", "article.half_down", "sidebar.down", "note.save"):
            assert binding_id in text, binding_id
        assert {"app.help", "main.sort", "triage.star", "confirm.no", "tags.cancel"} <= binding_ids(app.BINDINGS)


async def test_own_tags_and_notes_show_in_the_row_and_the_header(posts_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        first = post_list(app).current
        assert first is not None
        await pilot.press("t")
        await pilot.pause()
        await pilot.press(*"follow up, apt", "enter")
        await settle(app, pilot)
        assert post_list(app).marks(first).tagged
        header = str(app.screen.query_one("#article-header").render())
        assert "My tags apt, follow up" in header
        await pilot.press("N")
        await pilot.pause()
        await pilot.press(*"ask Bob", "ctrl+s")
        await settle(app, pilot)
        assert post_list(app).marks(first).noted
        assert "ask Bob" in str(app.screen.query_one("#article-header").render())
        await pilot.press("t")  # again: the tags are listed; untick one to remove it
        await pilot.pause()
        assert "follow up" in "\n".join(screen_lines(app))
        await pilot.press("shift+tab", "space", "tab", "enter")
        await settle(app, pilot)
    with reopen_state() as state:
        assert state.tags_of(first) == ["follow up"]


@contextmanager
def recorded(calls: list[str]) -> Iterator[None]:
    calls.append("suspend")
    yield
    calls.append("resume")


async def test_a_terminal_browser_runs_with_the_app_suspended(
    posts_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "termbrowser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n', encoding="utf-8")
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # read BROWSER again
    monkeypatch.setattr(webbrowser, "_browsers", {})
    app = SpyglassApp.for_folder(posts_dir)
    calls: list[str] = []
    async with app.run_test(size=(160, 45)) as pilot:
        monkeypatch.setattr(app, "suspend", lambda: recorded(calls))  # the headless driver cannot suspend
        await settle(app, pilot)
        await pilot.press("o", "y")
        await settle(app, pilot)
        assert calls == ["suspend", "resume"]
        assert opened.read_text(encoding="utf-8") == "https://www.cyberscoop.com/cambodia-election-apt40/"


async def test_copy_refuses_what_open_refuses_and_says_what_it_cannot_know(
    posts_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)  # the system clipboard is looked for in a worker first
        messages = [str(n.message) for n in app._notifications]
        assert copied == ["https://www.cyberscoop.com/cambodia-election-apt40/"]
        assert any("OSC 52" in m and "https://www.cyberscoop.com/cambodia-election-apt40/" in m for m in messages)
        post_list(app).cursor = len(post_list(app).ids) - 1  # the ftp:// source
        await pilot.press("y")
        assert len(copied) == 1
        assert any("Refused" in str(n.message) and "ftp://" in str(n.message) for n in app._notifications)
