"""Where Spyglass keeps its own files: never inside the posts folder.

Each location comes from platformdirs and can be overridden by an environment variable
(and, for the index, by ``--index-dir``), so tests and users can isolate them.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import platformdirs

APP_NAME = "spyglass"
CACHE_DIR_ENV = "SPYGLASS_CACHE_DIR"
DATA_DIR_ENV = "SPYGLASS_DATA_DIR"
CONFIG_DIR_ENV = "SPYGLASS_CONFIG_DIR"
POSTS_DIR_ENV = "SPYGLASS_POSTS"


def _from_env(variable: str) -> Path | None:
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else None


def cache_root() -> Path:
    """The folder that holds one index per corpus."""
    return _from_env(CACHE_DIR_ENV) or Path(platformdirs.user_cache_dir(APP_NAME))


def data_dir() -> Path:
    """The folder that holds the triage state database."""
    return _from_env(DATA_DIR_ENV) or Path(platformdirs.user_data_dir(APP_NAME))


def config_dir() -> Path:
    """The folder that holds the user's configuration (key map, saved queries)."""
    return _from_env(CONFIG_DIR_ENV) or Path(platformdirs.user_config_dir(APP_NAME))


def corpus_key(posts_dir: Path) -> str:
    """A stable, readable folder name for a corpus: its name plus a hash of its real path."""
    real = Path(posts_dir).resolve()
    digest = hashlib.sha256(str(real).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", real.name)[:40] or "root"
    return f"{name}-{digest}"


def index_dir_for(posts_dir: Path, override: Path | None = None) -> Path:
    """The index folder for ``posts_dir``: ``override`` when given, else one under :func:`cache_root`."""
    if override is not None:
        return Path(override)
    return cache_root() / corpus_key(posts_dir)
