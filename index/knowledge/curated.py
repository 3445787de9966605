"""Our own curated tables (YAML beside the code): technique phrases, demonyms, sectors, sources, cues."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).parent / "data"
FILES = (
    "techniques",
    "procedures",
    "countries",
    "sectors",
    "context",
    "organisations",
    "sources",
    "stoplist",
    "iocs",
)


def load(name: str) -> dict[str, Any]:
    """One data file as a mapping (an empty or malformed file is an empty mapping)."""
    with (DATA_DIR / f"{name}.yaml").open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return data if isinstance(data, dict) else {}


def data_digest() -> str:
    """sha256 over every data file, so an edited table invalidates the knowledge cache."""
    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode())
        digest.update((DATA_DIR / f"{name}.yaml").read_bytes())
    return digest.hexdigest()


def words(data: dict[str, Any], key: str) -> list[str]:
    """A list of strings under ``key``; anything else is ignored."""
    value = data.get(key) or []
    return [str(item) for item in value if isinstance(item, str | int | float) and str(item).strip()]
