"""``y`` and the system clipboard: which tool is chosen, the real tool run with the URL on stdin, and
OSC 52 with an honest message when no tool is here or the one here fails."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

import tui.clipboard as clipboard
from tests.tui.helpers import post_list, settle
from tui.app import SpyglassApp
from tui.clipboard import Tool, clipboard_tools, copy_text

URL = "https://www.cyberscoop.com/cambodia-election-apt40/"


def tool_script(folder: Path, name: str, body: str) -> Path:
    """An executable ``name`` in ``folder`` running ``body`` (POSIX sh, with the system's own tools)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\nPATH=/usr/bin:/bin\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def recording_tool(folder: Path, name: str, record: Path) -> Path:
    """A clipboard tool that writes its arguments and then its stdin to ``record``."""
    return tool_script(folder, name, f'printf "%s\\n" "$*" > "{record}"\ncat >> "{record}"')


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder that is the whole ``PATH``: only the tools a test puts there exist."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


# ---------------------------------------------------------------------------------- which tool


def test_each_tool_counts_only_where_its_display_is(bin_dir: Path) -> None:
    for name in ("wl-copy", "xclip", "xsel", "pbcopy", "clip.exe"):
        tool_script(bin_dir, name, "cat > /dev/null")

    def names(environ: dict[str, str], platform: str = "linux") -> list[str]:
        return [tool.name for tool in clipboard_tools(environ, platform)]

    assert names({}) == []
    assert names({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}) == ["wl-copy", "xclip", "xsel"]
    assert names({"DISPLAY": ":0"}) == ["xclip", "xsel"]
    assert names({}, "darwin") == ["pbcopy"]
    assert names({"WSL_DISTRO_NAME": "Ubuntu"}) == ["clip.exe"]
    assert names({"WSL_DISTRO_NAME": "Ubuntu"}, "darwin") == ["pbcopy"]


def test_a_tool_not_on_path_is_not_offered_and_the_path_is_kept(bin_dir: Path) -> None:
    xsel = tool_script(bin_dir, "xsel", "cat > /dev/null")
    assert clipboard_tools({"DISPLAY": ":0"}, "linux") == [Tool("xsel", (str(xsel), "--clipboard", "--input"))]


# ---------------------------------------------------------------------------------- running it


def test_the_text_goes_to_the_tool_on_stdin_as_one_argument_list(bin_dir: Path, tmp_path: Path) -> None:
    record = tmp_path / "record"
    recording_tool(bin_dir, "xclip", record)
    text = "https://example.com/a;$(touch pwned)`id`"  # a shell would run these; stdin carries them as text
    copied = copy_text(text, clipboard_tools({"DISPLAY": ":0"}, "linux"))
    assert copied == clipboard.Copied("xclip")
    assert record.read_text(encoding="utf-8") == f"-selection clipboard\n{text}"
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_a_failing_tool_gives_way_to_the_next(bin_dir: Path, tmp_path: Path) -> None:
    record = tmp_path / "record"
    tool_script(bin_dir, "xclip", "cat > /dev/null; echo 'Error: cannot open display' >&2; exit 1")
    recording_tool(bin_dir, "xsel", record)
    copied = copy_text(URL, clipboard_tools({"DISPLAY": ":0"}, "linux"))
    assert copied == clipboard.Copied("xsel", ("xclip failed (exit status 1)",))
    assert record.read_text(encoding="utf-8").endswith(f"\n{URL}")


def test_a_tool_that_hangs_is_stopped(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clipboard, "TIMEOUT", 0.2)
    tool_script(bin_dir, "wl-copy", "exec sleep 30")
    copied = copy_text(URL, clipboard_tools({"WAYLAND_DISPLAY": "wayland-0"}, "linux"))
    assert copied == clipboard.Copied(None, ("wl-copy did not finish in 0.2 s",))


def test_a_tool_that_leaves_a_child_holding_the_selection_does_not_hang(bin_dir: Path, tmp_path: Path) -> None:
    record = tmp_path / "record"
    # What xclip and wl-copy do: read stdin, then fork a child that stays to serve the selection.
    tool_script(bin_dir, "xclip", f'cat > "{record}"\n(sleep 30 &)\nexit 0')
    copied = copy_text(URL, clipboard_tools({"DISPLAY": ":0"}, "linux"))
    assert copied == clipboard.Copied("xclip")
    assert record.read_text(encoding="utf-8") == URL


# ---------------------------------------------------------------------------------- y in the app


@pytest.mark.slow
async def test_y_copies_with_the_system_tool_and_says_which(
    posts_dir: Path, bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "record"
    recording_tool(bin_dir, "xclip", record)
    monkeypatch.setenv("DISPLAY", ":0")
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot, lambda: record.exists())
        messages = [str(n.message) for n in app._notifications]
        assert record.read_text(encoding="utf-8") == f"-selection clipboard\n{URL}"
        assert f"Copied to the clipboard (xclip): {URL}" in messages
        assert app.clipboard == ""  # the terminal was not asked as well
        post_list(app).cursor = len(post_list(app).ids) - 1  # an ftp:// source is refused before any tool runs
        record.unlink()
        await pilot.press("y")
        await settle(app, pilot)
        assert not record.exists()
        assert any("Refused" in str(n.message) and "ftp://" in str(n.message) for n in app._notifications)


@pytest.mark.slow
async def test_y_without_a_tool_sends_osc_52_and_says_it_may_not_work(posts_dir: Path, bin_dir: Path) -> None:
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot, lambda: app.clipboard != "")
        (message,) = [str(n.message) for n in app._notifications]
        assert app.clipboard == URL
        assert message.startswith("Sent to the terminal (OSC 52) — the terminal may not support it")
        assert message.endswith(URL)


@pytest.mark.slow
async def test_y_with_a_failing_tool_says_so_and_falls_back_to_osc_52(
    posts_dir: Path, bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool_script(bin_dir, "wl-copy", "cat > /dev/null; exit 3")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    app = SpyglassApp.for_folder(posts_dir)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot, lambda: app.clipboard != "")
        (notification,) = list(app._notifications)
        assert app.clipboard == URL
        assert str(notification.message).startswith("wl-copy failed (exit status 3). Sent to the terminal (OSC 52)")
        assert notification.severity == "warning"
