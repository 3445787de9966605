"""The system clipboard: which tool this desktop offers, and handing it text (Textual-free).

``y`` tries these first and falls back to the terminal's clipboard (OSC 52), which many terminals
ignore without saying so. Tools run without a shell, with the text on stdin and a short timeout;
their output goes nowhere (``xclip`` and ``wl-copy`` leave a child running that owns the selection,
and waiting for its pipes would wait for the next copy).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

TIMEOUT = 2.0
"""Seconds a clipboard tool may take before it counts as failed."""

#: (environment variable that must be set, or "" for none; platform prefix, or "" for any; command line).
_CANDIDATES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("WAYLAND_DISPLAY", "", ("wl-copy",)),
    ("DISPLAY", "", ("xclip", "-selection", "clipboard")),
    ("DISPLAY", "", ("xsel", "--clipboard", "--input")),
    ("", "darwin", ("pbcopy",)),
    ("WSL_DISTRO_NAME", "linux", ("clip.exe",)),
)


@dataclass(frozen=True)
class Tool:
    """One clipboard program, found on ``PATH``."""

    name: str
    argv: tuple[str, ...]
    """The full command line, the program's path first."""


@dataclass(frozen=True)
class Copied:
    """Where the text went: ``tool`` names the program that took it (None: none did), ``failures`` why
    the tools tried before or instead did not."""

    tool: str | None
    failures: tuple[str, ...] = ()


def clipboard_tools(
    environ: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    which: Callable[[str], str | None] = shutil.which,
) -> list[Tool]:
    """The clipboard programs to try, best first: Wayland, then X, then macOS, then WSL's ``clip.exe``.

    A tool counts only where its display is (``WAYLAND_DISPLAY``, ``DISPLAY``) and it is on ``PATH``.
    """
    env = os.environ if environ is None else environ
    tools = []
    for variable, platform_prefix, argv in _CANDIDATES:
        if variable and not env.get(variable):
            continue
        if platform_prefix and not platform.startswith(platform_prefix):
            continue
        path = which(argv[0])
        if path is not None:
            tools.append(Tool(argv[0], (path, *argv[1:])))
    return tools


def _run(tool: Tool, text: str) -> str | None:
    """Why ``tool`` did not take ``text``, or None when it did."""
    try:
        done = subprocess.run(
            tool.argv,
            input=text.encode("utf-8"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{tool.name} did not finish in {TIMEOUT:g} s"
    except OSError as error:
        return f"{tool.name} could not start ({error.strerror or error})"
    if done.returncode != 0:
        return f"{tool.name} failed (exit status {done.returncode})"
    return None


def copy_text(text: str, tools: list[Tool] | None = None) -> Copied:
    """Give ``text`` to the first clipboard tool that takes it (default: :func:`clipboard_tools`).

    Blocks for up to :data:`TIMEOUT` per tool tried: call it off the UI thread.
    """
    failures: list[str] = []
    for tool in clipboard_tools() if tools is None else tools:
        failure = _run(tool, text)
        if failure is None:
            return Copied(tool.name, tuple(failures))
        failures.append(failure)
    return Copied(None, tuple(failures))
