"""Helpers shared by the engine tests and the fault tests."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers import REPO, source_env

_HOLD_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from index.engine import Engine
    writer = Engine(Path(sys.argv[1])).writer()
    print("locked", flush=True)
    time.sleep(60)
    """
)


def hold_writer(folder: Path) -> subprocess.Popen[str]:
    """Another process holding the whoosh write lock on the index in ``folder`` (returns once it holds it)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WRITER, str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=source_env(),
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "locked"
    return process
