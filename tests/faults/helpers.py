"""Small generated corpora for the fault tests (each test builds its own, in its own folder)."""

from __future__ import annotations

from pathlib import Path

ACTORS = ("APT28", "Lazarus Group", "APT40", "FIN7", "Sandworm")


def post_text(number: int) -> str:
    """One small post: a unique word (``uniq<number>``), a shared word (``common``) and some entities."""
    actor = ACTORS[number % len(ACTORS)]
    day = number % 28 + 1
    month = number % 12 + 1
    return (
        f"---\ntitle: Report {number} on {actor}\ndate: 2019-{month:02d}-{day:02d}\n"
        f"tags: [t{number % 7}, Espionage]\ntourl: https://example.com/{number}\n---\n"
        f"{actor} sent spear-phishing emails exploiting CVE-2017-11882 against a ministry. "
        f"The common marker uniq{number} identifies this post.\n"
    )


def write_posts(folder: Path, count: int, start: int = 0) -> Path:
    """``count`` posts named ``post-<n>.md`` in ``folder`` (created); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(start, start + count):
        (folder / f"post-{number:05d}.md").write_text(post_text(number), encoding="utf-8")
    return folder
