"""The compiled knowledge pickled on disk, keyed by the galaxy version and our data files' digest.

Building takes seconds (JSON parsing, automaton construction); loading the pickle takes a fraction
of that. A corrupt or stale file is rebuilt, and writes are atomic (temporary file + rename).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from index.knowledge import curated, galaxy
from index.knowledge.model import Knowledge
from index.paths import cache_root

FORMAT = 1


_BUILDERS = ("build.py", "galaxy.py", "model.py", "curated.py")


def cache_key() -> str:
    """What the cached knowledge depends on: the galaxy version, our tables and the code that builds them."""
    code = hashlib.sha256()
    for name in _BUILDERS:
        code.update((Path(__file__).parent / name).read_bytes())
    raw = f"{FORMAT}|{galaxy.galaxy_version()}|{curated.data_digest()}|{code.hexdigest()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def cache_path(folder: Path | None = None) -> Path:
    """The pickle file for the current key."""
    return (folder or cache_root() / "knowledge") / f"knowledge-{cache_key()}.pickle"


def _read(path: Path) -> Knowledge | None:
    try:
        with path.open("rb") as handle:
            loaded = pickle.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
        return None
    return loaded if isinstance(loaded, Knowledge) and loaded.automaton is not None else None


def _write(path: Path, knowledge: Knowledge) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".knowledge-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(knowledge, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        for stale in path.parent.glob("knowledge-*.pickle"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError:
        return  # an unwritable cache only costs the next process a rebuild


def build_knowledge() -> Knowledge:
    """Build from the sources (imported here: a cache hit never needs the builder)."""
    from index.knowledge.build import build_knowledge as build

    return build()


def load_knowledge(folder: Path | None = None) -> Knowledge:
    """The cached knowledge, rebuilt (and re-cached) when missing, stale or corrupt."""
    path = cache_path(folder)
    knowledge = _read(path)
    if knowledge is None:
        knowledge = build_knowledge()
        _write(path, knowledge)
    return knowledge
