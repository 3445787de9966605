"""Shared fixtures: every test runs with its own home, config, data, cache and index folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

WritePost = Callable[[Path, str, str | bytes], Path]

_ISOLATED_DIRS: dict[str, str] = {
    "HOME": "home",
    "XDG_CACHE_HOME": "xdg-cache",
    "XDG_DATA_HOME": "xdg-data",
    "XDG_CONFIG_HOME": "xdg-config",
    "SPYGLASS_CACHE_DIR": "spyglass-cache",
    "SPYGLASS_DATA_DIR": "spyglass-data",
    "SPYGLASS_CONFIG_DIR": "spyglass-config",
}


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point HOME, XDG and SPYGLASS_* folders at fresh per-test folders, so no test touches the real home.

    The folders live outside ``tmp_path`` (which tests use for their posts folder) and are created empty.
    Returns the mapping of variable name to folder for tests that want to look inside.
    """
    base = tmp_path_factory.mktemp("env")
    dirs: dict[str, Path] = {}
    for var, name in _ISOLATED_DIRS.items():
        folder = base / name
        folder.mkdir()
        monkeypatch.setenv(var, str(folder))
        dirs[var] = folder
    return dirs


def _write_post(root: Path, name: str, content: str | bytes) -> Path:
    """Write ``content`` to ``root / name`` (creating parent folders); str is encoded as UTF-8 verbatim."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.write_bytes(data)
    return path


@pytest.fixture
def write_post() -> WritePost:
    """Helper ``write_post(tmp_path, name, text_or_bytes) -> Path``; writes bytes exactly (no newline translation)."""
    return _write_post


#: path relative to the folder → (kind, bytes of a small regular file or None, size, mtime_ns, mode)
FolderSnapshot = dict[str, tuple[str, bytes | None, int, int, int]]


def _snapshot_folder(root: Path) -> FolderSnapshot:
    """Everything under ``root`` without following links or opening anything but small regular files."""
    import os
    import stat

    result: FolderSnapshot = {}
    for folder, dirs, files in os.walk(os.fsencode(root), followlinks=False):
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                kind = "file"
            elif stat.S_ISDIR(info.st_mode):
                kind = "dir"
            elif stat.S_ISLNK(info.st_mode):
                kind = "link:" + os.fsdecode(os.readlink(path))
            else:
                kind = "other"
            data = None
            if kind == "file" and info.st_size <= 1 << 20 and os.access(path, os.R_OK):
                with open(path, "rb") as handle:
                    data = handle.read()
            key = os.fsdecode(os.path.relpath(path, os.fsencode(root)))
            result[key] = (kind, data, info.st_size, info.st_mtime_ns, info.st_mode)
    return result


@pytest.fixture
def snapshot_folder() -> Callable[[Path], FolderSnapshot]:
    """``snapshot_folder(root)``: compare before/after to prove nothing in a posts folder was modified."""
    return _snapshot_folder
