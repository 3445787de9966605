"""Quitting with ``q`` while the first build runs: the real app in a pseudo-terminal, on a real corpus.

The process must leave at once (a whoosh commit cannot be interrupted, so waiting for it could take
many seconds on a blank terminal), give the terminal back, and leave an index the next start completes.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.corpus import Corpus
from tests.faults.helpers import write_posts
from tests.helpers import REPO, source_env

pytestmark = pytest.mark.slow  # a real app process building a real index

POSTS = 1500


def read_until(fd: int, wanted: bytes, seconds: float) -> bytes:
    """What the app wrote until ``wanted`` appears (a bounded wait: the build's pace depends on the machine)."""
    seen = b""
    deadline = time.monotonic() + seconds
    while wanted not in seen:
        assert time.monotonic() < deadline, f"{wanted!r} never appeared: {seen[-300:]!r}"
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the app closed the terminal
                break
    return seen


@pytest.mark.parametrize("stage", [b"index ", b"commit "])
@pytest.mark.usefixtures("isolated_dirs")
def test_q_during_the_first_build_exits_and_the_next_start_completes(tmp_path: Path, stage: bytes) -> None:
    posts = write_posts(tmp_path / "posts", POSTS)
    controller, terminal = pty.openpty()
    env = {**source_env(), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())", str(posts)],
        stdin=terminal, stdout=terminal, stderr=terminal, cwd=REPO, env=env, start_new_session=True,
    )
    os.close(terminal)
    try:
        before = read_until(controller, stage, 120)
        os.write(controller, b"q")
        process.wait(timeout=30)
        after = b""
        while select.select([controller], [], [], 0.2)[0]:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            after += chunk
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    assert process.returncode == 0, (before[-500:], after[-500:])
    assert b"\x1b[?1049l" in after  # the alternate screen was left: the terminal is the user's again
    corpus = Corpus.open(posts)
    report = corpus.update()
    assert not report.read_only and len(corpus) == POSTS
    assert corpus.search("uniq1234").ids == ["post-01234.md"]
