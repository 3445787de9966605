"""What the app's start does before its first list is painted: only what that list needs.

The first list is answered from the catalog's columns; the article pane's entity extraction and knowledge,
whoosh (the highlighter's stemmer and word searches), and the screens opened later (dossier, export, prompts,
help) are imported afterwards. Checked in a fresh interpreter, since this test process has them all loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO, source_env

#: Modules the first paint of an unchanged folder must not import (each costs start-up time).
NOT_FOR_THE_FIRST_PAINT = (
    "whoosh",
    "index.engine.highlight",
    "index.extract",
    "index.knowledge",
    "index.dossier",
    "index.export",
    "tui.key_help",
    "tui.screens.dossier",
    "tui.screens.export",
    "tui.screens.prompts",
    "tui.screens.help",
    "watchfiles",
)

#: Runs the app headless on a folder; prints which of UNWANTED were imported when the first list was painted
#: (MainScreen._first_answer runs right after that paint) and once the first post's article is ready.
PROBE = """
import asyncio, json, sys
from pathlib import Path
from tui.app import SpyglassApp
from tui.screens.main import MainScreen

unwanted = set(sys.argv[2:])
seen = {}
first_answer = MainScreen._first_answer

def at_first_paint(self):
    seen.setdefault("painted", sorted(unwanted & set(sys.modules)))
    first_answer(self)

MainScreen._first_answer = at_first_paint
app = SpyglassApp.for_folder(Path(sys.argv[1]))

async def run():
    async with app.run_test(size=(120, 40)) as pilot:
        screen = None
        for _ in range(3000):
            screen = app.screen
            if isinstance(screen, MainScreen) and screen.article.mentions:
                break
            await pilot.pause(0.01)
        seen["article"] = sorted(unwanted & set(sys.modules))
        seen["rows"] = len(screen.post_list.ids) if isinstance(screen, MainScreen) else 0
        await app.action_quit()

asyncio.run(run())
print(json.dumps(seen))
"""


def test_the_first_list_is_painted_before_the_article_and_later_screens_are_imported(posts_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(posts_dir), *NOT_FOR_THE_FIRST_PAINT],
        capture_output=True,
        text=True,
        timeout=120,
        env=source_env(),
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["rows"] > 0
    assert seen["painted"] == []
    # The article then needs extraction, the knowledge and the highlighter: the probe does see late imports.
    assert {"whoosh", "index.extract", "index.knowledge", "index.engine.highlight"} <= set(seen["article"])
