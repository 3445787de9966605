"""The user's keys.toml: read when good, ignored with a warning when not, never a crash."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from textual.app import App
from textual.binding import Binding, BindingType

from index.paths import CONFIG_DIR_ENV
from tui.keymap import config_path, load_config, load_keymap, load_saved_queries, unknown_binding_ids


def write_config(content: str | bytes) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_config_path_follows_the_config_dir(isolated_dirs: dict[str, Path]) -> None:
    assert config_path() == isolated_dirs[CONFIG_DIR_ENV] / "keys.toml"


def test_good_file() -> None:
    write_config(
        """
        [keys]
        star = "ctrl+s"
        "article.next_entity" = "n, right_square_bracket"

        [queries]
        "China-nexus" = "actor:APT40 OR actor:APT41"
        """
    )
    keymap, warning = load_keymap()
    assert keymap == {"star": "ctrl+s", "article.next_entity": "n,right_square_bracket"}
    assert warning is None
    assert load_saved_queries() == [("China-nexus", "actor:APT40 OR actor:APT41")]


def test_missing_file_is_normal() -> None:
    assert load_keymap() == ({}, None)
    assert load_saved_queries() == []


@pytest.mark.parametrize(
    "content",
    [
        "[keys\nstar = 'ctrl+s'",
        "[keys]\nstar = ",
        "keys = [1, 2",
        b"[keys]\nstar = '\xff\xfe'\n",
        b"\x00\x01\x02binary",
    ],
)
def test_bad_file_gives_empty_keymap_and_a_warning(content: str | bytes) -> None:
    path = write_config(content)
    keymap, warning = load_keymap()
    assert keymap == {}
    assert warning is not None and str(path) in warning


def test_bad_entries_are_skipped_with_a_warning() -> None:
    write_config(
        """
        keys = "not a table"
        """
    )
    assert load_keymap()[0] == {}
    assert "must be a table" in (load_keymap()[1] or "")
    write_config(
        """
        [keys]
        star = "ctrl+s"
        flag = 3
        read = ""
        archive = "ctrl + a"
        note = "\\u001b[31m"

        [queries]
        good = "is:unread"
        bad = 42
        """
    )
    config = load_config()
    assert config.keys == {"star": "ctrl+s"}
    assert config.queries == [("good", "is:unread")]
    assert config.warning is not None
    assert "'flag'" in config.warning and "1 saved query" in config.warning


def test_unreadable_locations() -> None:
    path = config_path()
    path.mkdir(parents=True)  # a folder where the file should be
    keymap, warning = load_keymap()
    assert keymap == {} and warning is not None and "folder" in warning


def test_oversized_file_is_refused() -> None:
    write_config("# " + "x" * 300_000)
    keymap, warning = load_keymap()
    assert keymap == {} and warning is not None and "larger" in warning


def test_unknown_binding_ids() -> None:
    assert unknown_binding_ids({"star": "s", "stra": "x"}, ["star", "flag"]) == ["stra"]


class KeyedApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "star", "Star post", id="star")]

    stars = 0

    def action_star(self) -> None:
        self.stars += 1


async def test_keymap_rebinds_the_app() -> None:
    write_config('[keys]\nstar = "ctrl+s"\n')
    app = KeyedApp()
    keymap, warning = load_keymap()
    assert warning is None
    app.set_keymap(keymap)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+s", "s")
        assert app.stars == 1
