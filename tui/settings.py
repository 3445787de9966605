"""Settings the app remembers between runs, in ``settings.toml`` in the config folder.

Spyglass writes this file itself when the theme or the sort order changes, so it holds only
plain ``key = value`` lines; a person may edit it too (``read_delay`` is only set by hand).
A missing or damaged file gives the defaults: settings are a comfort, never a reason to stop.

    # ~/.config/spyglass/settings.toml (or $SPYGLASS_CONFIG_DIR/settings.toml)
    theme = "textual-dark"
    sort = "date"          # or "relevance"
    read_delay = 1.5       # seconds a post you opened stays shown before it counts as read
    single_pane_width = 100  # narrower terminals show one pane at a time (0: never)
    engine = "tantivy"     # the search engine (set by hand): "whoosh" (default) or "tantivy" (spyglass[fast])
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Literal

from index.paths import config_dir

FILE_NAME = "settings.toml"
MAX_BYTES = 64 * 1024
MAX_READ_DELAY = 60.0
MAX_PANE_WIDTH = 1000

Sort = Literal["date", "relevance"]


@dataclass(frozen=True)
class Settings:
    """What is remembered; ``None`` means "not set": the app's own default applies."""

    theme: str | None = None
    sort: Sort | None = None
    read_delay: float | None = None
    single_pane_width: int | None = None
    engine: str | None = None


def settings_path() -> Path:
    """``config_dir()/settings.toml``."""
    return config_dir() / FILE_NAME


def load_settings(path: Path | None = None) -> Settings:
    """The saved settings; anything missing, unreadable or out of range is left unset."""
    path = settings_path() if path is None else path
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        document = tomllib.loads(raw.decode("utf-8")) if len(raw) <= MAX_BYTES else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return Settings()
    theme = document.get("theme")
    sort = document.get("sort")
    delay = document.get("read_delay")
    width = document.get("single_pane_width")
    engine = document.get("engine")
    return Settings(
        theme=theme if isinstance(theme, str) and theme.isprintable() and len(theme) <= 100 else None,
        sort="date" if sort == "date" else "relevance" if sort == "relevance" else None,
        read_delay=float(delay)
        if isinstance(delay, int | float)
        and not isinstance(delay, bool)
        and 0 <= delay <= MAX_READ_DELAY
        and math.isfinite(delay)
        else None,
        single_pane_width=width
        if isinstance(width, int) and not isinstance(width, bool) and 0 <= width <= MAX_PANE_WIDTH
        else None,
        engine=engine if isinstance(engine, str) and engine.isidentifier() and len(engine) <= 40 else None,
    )


def save_settings(changes: Settings, path: Path | None = None) -> str | None:
    """Merge the set fields of ``changes`` into the file (written whole, then renamed into place).

    Returns a message when the file could not be written, else None.
    """
    path = settings_path() if path is None else path
    merged = load_settings(path)
    merged = replace(
        merged, **{f.name: getattr(changes, f.name) for f in fields(changes) if getattr(changes, f.name) is not None}
    )
    lines = ["# Written by Spyglass; edit freely (see the README)."]
    for field in fields(merged):
        value = getattr(merged, field.name)
        if value is not None:
            lines.append(f"{field.name} = {json.dumps(value)}")  # a JSON string or number is valid TOML
    temporary = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        return f"{path}: {error.strerror or error}"
    return None
