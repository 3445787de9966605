"""Helpers shared by tests in several folders: the repository root, post-writing and folder snapshots.

Test modules never import each other; whatever two of them share lives here or in a folder's helpers.py.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

#: The repository root, for subprocesses that import the project from source.
REPO = Path(__file__).resolve().parents[1]

WritePost = Callable[[Path, str, str | bytes], Path]

#: path relative to the folder → (kind, bytes of a small regular file or None, size, mtime_ns, mode)
FolderSnapshot = dict[str, tuple[str, bytes | None, int, int, int]]
SnapshotFolder = Callable[[Path], FolderSnapshot]


def source_env() -> dict[str, str]:
    """The environment for a child Python that must import this checkout (not an installed copy)."""
    return {**os.environ, "PYTHONPATH": str(REPO)}


def write_post(root: Path, name: str, content: str | bytes) -> Path:
    """Write ``content`` to ``root / name`` (creating parent folders); str is encoded as UTF-8 verbatim."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.write_bytes(data)
    return path


def snapshot_folder(root: Path) -> FolderSnapshot:
    """Everything under ``root`` without following links or opening anything but small regular files."""
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
