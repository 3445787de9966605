"""Fixtures for the app tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.helpers import indexed_posts


@pytest.fixture
def posts_dir(tmp_path: Path) -> Path:
    """The six-post corpus, already indexed."""
    return indexed_posts(tmp_path)
