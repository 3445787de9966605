"""Helpers shared by the index tests and the fault tests."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from index.extract import Mention
from tests.helpers import REPO, source_env

_HOLD_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from index.engine.contract import open_engine
    writer = open_engine(sys.argv[2], Path(sys.argv[1])).writer()
    print("locked", flush=True)
    time.sleep(60)
    """
)


def hold_writer(folder: Path, engine: str = "whoosh") -> subprocess.Popen[str]:
    """Another process holding the write lock of the ``engine`` index in ``folder`` (returns once it holds it)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WRITER, str(folder), engine],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=source_env(),
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "locked"
    return process


def assert_well_formed(text: str, mentions: list[Mention]) -> None:
    """Sorted by (start, end, kind), offsets inside the text and matching it, no overlaps within a kind."""
    assert mentions == sorted(mentions, key=lambda m: (m.start, m.end, m.kind))
    last_end: dict[str, int] = {}
    for mention in mentions:
        assert 0 <= mention.start < mention.end <= len(text)
        assert text[mention.start : mention.end] == mention.text
        assert mention.start >= last_end.get(mention.kind, 0), mention
        last_end[mention.kind] = mention.end
