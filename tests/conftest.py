"""Shared fixtures (every test runs with its own home, config, data, cache and index folders) and the
Hypothesis profiles: ``ci`` (derandomised, so a red run is reproducible) when ``CI`` is set, else ``dev``."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from index.knowledge.disk import cache_path, load_knowledge
from tests.helpers import SnapshotFolder, WritePost, snapshot_folder, write_post

settings.register_profile("ci", derandomize=True, database=None, max_examples=100, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("dev" if os.environ.get("CI", "").lower() in ("", "0", "false") else "ci")

_ISOLATED_DIRS: dict[str, str] = {
    "HOME": "home",
    "XDG_CACHE_HOME": "xdg-cache",
    "XDG_DATA_HOME": "xdg-data",
    "XDG_CONFIG_HOME": "xdg-config",
    "SPYGLASS_CACHE_DIR": "spyglass-cache",
    "SPYGLASS_DATA_DIR": "spyglass-data",
    "SPYGLASS_CONFIG_DIR": "spyglass-config",
}


@pytest.fixture(scope="session")
def built_knowledge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The entity knowledge cache file, built once per test run (building costs a process seconds).

    Under pytest-xdist the workers share the run's temporary folder: the first to take the lock builds the
    file there and the other waits for it, instead of both building at once on a two-core machine."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        folder = tmp_path_factory.mktemp("knowledge")
        load_knowledge(folder)
        return cache_path(folder)
    shared = tmp_path_factory.getbasetemp().parent  # this run's folder, parent of every worker's own
    folder = shared / "knowledge"
    with (shared / "knowledge.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cache_path(folder).exists():  # written whole (temporary file and rename) by the first worker
            load_knowledge(folder)
    return cache_path(folder)


def _isolate(monkeypatch: pytest.MonkeyPatch, base: Path, built_knowledge: Path) -> dict[str, Path]:
    """Point HOME, XDG and SPYGLASS_* folders at new empty folders under ``base``, but for the entity knowledge
    cache: a hard link to the one built for the run, so a child process started by a test loads it instead of
    building it (the product replaces that file whole, never writes into it)."""
    dirs: dict[str, Path] = {}
    for var, name in _ISOLATED_DIRS.items():
        folder = base / name
        folder.mkdir()
        monkeypatch.setenv(var, str(folder))
        dirs[var] = folder
    knowledge = dirs["SPYGLASS_CACHE_DIR"] / "knowledge"
    knowledge.mkdir()
    (knowledge / built_knowledge.name).hardlink_to(built_knowledge)
    monkeypatch.delenv("SPYGLASS_POSTS", raising=False)  # the app's default folder comes from the test
    for display in ("DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME"):  # y never reaches the desktop's clipboard
        monkeypatch.delenv(display, raising=False)
    return dirs


@pytest.fixture(scope="session", autouse=True)
def session_dirs(tmp_path_factory: pytest.TempPathFactory, built_knowledge: Path) -> Iterator[dict[str, Path]]:
    """The same isolation for what module- and session-scoped fixtures build (shared indexes): those are set
    up before any test's own folders, and must not touch the real home either."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _isolate(monkeypatch, tmp_path_factory.mktemp("session-env"), built_knowledge)


@pytest.fixture(autouse=True)
def isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    built_knowledge: Path,
    session_dirs: dict[str, Path],
) -> dict[str, Path]:
    """Point HOME, XDG and SPYGLASS_* folders at fresh per-test folders, so no test touches the real home.

    No display is set either, so no test finds a system clipboard tool unless it provides one.
    The folders live outside ``tmp_path`` (which tests use for their posts folder) and are created empty,
    but for the entity knowledge cache in the Spyglass cache folder (see ``_isolate``). Tests of the
    knowledge cache itself give it folders of their own.
    Returns the mapping of variable name to folder for tests that want to look inside.
    """
    return _isolate(monkeypatch, tmp_path_factory.mktemp("env"), built_knowledge)


@pytest.fixture(name="write_post")
def write_post_fixture() -> WritePost:
    """Helper ``write_post(tmp_path, name, text_or_bytes) -> Path``; writes bytes exactly (no newline translation)."""
    return write_post


@pytest.fixture(name="snapshot_folder")
def snapshot_folder_fixture() -> SnapshotFolder:
    """``snapshot_folder(root)``: compare before/after to prove nothing in a posts folder was modified."""
    return snapshot_folder


@pytest.fixture
def no_read_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only keys change triage state (a slow run would otherwise let the open post turn read on its own)."""
    monkeypatch.setattr("tui.screens.main.READ_DELAY", 3600.0)
