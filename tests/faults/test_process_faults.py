"""Real processes against one index: kill -9 in the middle of a build, and two indexers at once.

Each indexer is a fresh Python running ``Corpus.update`` in its own session, so a kill reaches its
worker processes too (as closing the terminal would) and nothing is left running after the test.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.corpus import ENGINE_FOLDER, Corpus
from index.engine import Engine
from index.engine.store import LOCK_NAME
from index.indexing import BULK_THRESHOLD
from index.state import TriageState
from tests.faults.helpers import write_posts
from tests.helpers import REPO, source_env

pytestmark = pytest.mark.slow  # real processes, killed mid-build

INDEXER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from index.corpus import Corpus

    def progress(update):
        print(update.stage, update.done, update.total, flush=True)

    report = Corpus.open(Path(sys.argv[1]), Path(sys.argv[2])).update(progress=progress)
    print("report", json.dumps({"added": report.added, "read_only": report.read_only, "message": report.message}),
          flush=True)
    """
)


def start_indexer(posts: Path, index_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", INDEXER, str(posts), str(index_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=source_env(),
        start_new_session=True,  # its own process group: the kill reaches the bulk workers too
    )


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL the indexer and its worker processes (a group this test created), then reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # orphaned workers are reaped by init; wait until they are gone
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Indexers started by a test; any still alive at the end are killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            kill_group(process)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def read_until(process: subprocess.Popen[str], stage: str, at_least: int) -> list[str]:
    """Progress lines up to the first of ``stage`` with ``done >= at_least``; fails if the run ends first."""
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line.strip())
        parts = line.split()
        if parts[0] == stage and int(parts[1]) >= at_least:
            return seen
        assert parts[0] != "report", f"the build finished before it could be killed: {seen[-5:]}"
    raise AssertionError(f"the indexer ended early: {seen[-5:]}")


#: Enough posts for the bulk path (worker processes) and for a build that lasts several progress reports.
POSTS = BULK_THRESHOLD + 100


@pytest.mark.parametrize("stage", ["index", "commit"])
def test_kill_9_during_indexing_repairs_by_itself(
    tmp_path: Path, processes: list[subprocess.Popen[str]], stage: str
) -> None:
    posts = write_posts(tmp_path / "posts", POSTS)
    index_dir = tmp_path / "index"
    before = {path.name: path.read_bytes() for path in posts.iterdir()}
    process = start_indexer(posts, index_dir)
    processes.append(process)
    read_until(process, stage, POSTS // 4 if stage == "index" else 0)
    kill_group(process)
    assert process.returncode == -signal.SIGKILL

    # The killed writer's lock file is left behind, and it is harmless.
    assert (index_dir / ENGINE_FOLDER / LOCK_NAME).exists()
    corpus = Corpus.open(posts, index_dir)
    report = corpus.update()
    assert not report.read_only and report.message is None
    assert len(corpus) == POSTS
    assert corpus.search("common").total == POSTS
    assert corpus.search("*").total == POSTS  # the index holds each post once, as the catalog does
    assert corpus.search("uniq543").ids == ["post-00543.md"]
    assert Engine(index_dir / ENGINE_FOLDER).doc_count() == POSTS
    # Nothing to do on the next run: index and catalog agree.
    again = Corpus.open(posts, index_dir).update()
    assert (again.added, again.changed, again.removed, again.rebuilt) == (0, 0, 0, False)
    assert {path.name: path.read_bytes() for path in posts.iterdir()} == before


def _report(process: subprocess.Popen[str]) -> dict[str, object]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
    line = next(line for line in out.splitlines() if line.startswith("report "))
    report = json.loads(line.removeprefix("report "))
    assert isinstance(report, dict)
    return report


def test_two_processes_indexing_at_once(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    posts = write_posts(tmp_path / "posts", 300)
    index_dir = tmp_path / "index"
    first, second = start_indexer(posts, index_dir), start_indexer(posts, index_dir)
    processes += [first, second]
    reports = [_report(first), _report(second)]
    for report in reports:
        if report["read_only"]:  # the loser says so plainly and changes nothing
            assert report["message"] in (
                "another Spyglass is writing this index; working read-only",
                "another Spyglass updated this index at the same time; working read-only",
            )
            assert report["added"] == 0
    assert any(not report["read_only"] for report in reports), reports
    corpus = Corpus.open(posts, index_dir)
    final = corpus.update()
    assert not final.read_only
    assert len(corpus) == 300
    assert corpus.search("common").total == 300
    assert corpus.search("*").total == 300
    assert Engine(index_dir / ENGINE_FOLDER).doc_count() == 300  # no post indexed twice


#: An indexer that also holds the triage owner lock (as the app does) and slows down once its workers run.
HOLDING_INDEXER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from index.corpus import Corpus
    from index.state import TriageState

    state = TriageState()

    def progress(update):
        print(update.stage, update.done, update.total, flush=True)
        if update.stage == "index":
            time.sleep(0.2)

    Corpus.open(Path(sys.argv[1]), Path(sys.argv[2])).update(progress=progress)
    print("report", flush=True)
    """
)


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _open_files(pid: int) -> set[str]:
    names: set[str] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            names.add(os.readlink(fd))
    return names


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill -9", "kill"])
def test_killing_only_the_indexer_takes_its_workers_and_locks_with_it(
    tmp_path: Path, processes: list[subprocess.Popen[str]], isolated_dirs: dict[str, Path], how: signal.Signals
) -> None:
    """The parent alone is killed (not its group): its bulk workers used to live on holding both locks."""
    posts = write_posts(tmp_path / "posts", 600)
    index_dir = tmp_path / "index"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDING_INDEXER, str(posts), str(index_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,  # a group only for the cleanup
    )
    processes.append(process)
    read_until(process, "index", 1)
    workers = _children(process.pid)
    assert len(workers) == 2
    state_lock = isolated_dirs["SPYGLASS_DATA_DIR"] / "state.sqlite3.lock"
    lock_files = {str(index_dir / ENGINE_FOLDER / LOCK_NAME), str(state_lock)}
    assert lock_files <= _open_files(process.pid)
    for worker in workers:
        assert not lock_files & _open_files(worker)  # no worker holds a copy of either lock

    os.kill(process.pid, how)
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(worker) for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(worker) for worker in workers)

    report = Corpus.open(posts, index_dir).update()
    assert not report.read_only and report.message is None
    with TriageState() as state:
        assert state.other_instance() is None and state._owner.held  # the owner lock is free again
