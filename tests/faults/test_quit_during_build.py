"""Quitting with ``q`` while the first build runs: the real app in a pseudo-terminal, on a real corpus.

The process must leave at once (a whoosh commit cannot be interrupted, so waiting for it could take
many seconds on a blank terminal), give the terminal back, and leave an index the next start completes.
"Leaves at once" is checked by what the app says as it leaves (it quit while the update was still running),
not by a clock: on a loaded machine the keystroke alone can take many seconds to be handled. (A commit may
end on its own before the key is handled, so in that stage the message may rightly be missing.)
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.corpus import Corpus
from index.indexing import BULK_THRESHOLD
from tests.faults.helpers import write_posts
from tests.helpers import REPO, source_env

pytestmark = pytest.mark.slow  # a real app process building a real index

#: Posts per stage. The first build takes the bulk path (worker processes), as a real corpus's does; the commit
#: of the smallest bulk build can end within a frame, before the status line ever shows it, so that stage's
#: build is larger.
POSTS = {b"index ": BULK_THRESHOLD + 100, b"commit ": 1500}
#: Only a guard against a hung process: how fast it leaves is never measured (see the module docstring).
HANG = 300


def read_until(fd: int, wanted: re.Pattern[bytes], seconds: float) -> bytes:
    """What the app wrote until ``wanted`` appears (the bound only stops a hung app: the pace depends on the load)."""
    seen = b""
    deadline = time.monotonic() + seconds
    while not wanted.search(seen):
        assert time.monotonic() < deadline, f"{wanted.pattern!r} never appeared: {seen[-300:]!r}"
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
    posts = write_posts(tmp_path / "posts", POSTS[stage])
    controller, terminal = pty.openpty()
    env = {**source_env(), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())", str(posts)],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    try:
        # The stage's progress in the status line ("index 120 / 1,500"), not the list's "index not ready".
        before = read_until(controller, re.compile(re.escape(stage) + rb"[\d,]+ / "), HANG)
        os.write(controller, b"q")
        after = b""
        while select.select([controller], [], [], HANG)[0]:  # until the app closes the terminal
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            after += chunk
        process.wait(timeout=HANG)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    assert process.returncode == 0, (before[-500:], after[-500:])
    assert b"\x1b[?1049l" in after  # the alternate screen was left: the terminal is the user's again
    if stage == b"index ":  # most of the posts were still to index: it left while the build ran, not after
        assert b"quit during an index update" in after
    corpus = Corpus.open(posts)
    report = corpus.update()
    assert not report.read_only and len(corpus) == POSTS[stage]
    assert corpus.search("uniq543").ids == ["post-00543.md"]
