"""Preview rows: the posts of a folder listed newest first by file name, with their front matter."""

from __future__ import annotations

from pathlib import Path

from index.corpus import Corpus
from index.preview import preview_files, preview_rows
from tests.helpers import write_post


def test_preview_rows_match_the_catalog_but_carry_no_entities(tmp_path: Path) -> None:
    write_post(tmp_path, "2019-01-02-old.md", "---\ntitle: Old news\ndate: 2019-01-02\n---\nAPT28 again.\n")
    write_post(tmp_path, "b/2021-05-06-new.md", "---\ntitle: New\ntourl: https://www.example.org/x\n---\nAPT28.\n")
    write_post(tmp_path, "2020-03-04-broken.md", "---\ntitle: [unclosed\n---\nbody\n")
    files = preview_files(tmp_path)
    assert [found.post_id for found in files] == ["b/2021-05-06-new.md", "2020-03-04-broken.md", "2019-01-02-old.md"]
    batches = list(preview_rows(tmp_path, files, 1, lambda: False))
    rows = [row for batch in batches for row in batch]
    assert [row.post_id for row in rows] == ["b/2021-05-06-new.md", "2019-01-02-old.md"]  # the broken one is skipped

    corpus = Corpus.open(tmp_path)
    corpus.update()
    catalog = {row.post_id: row for row in corpus.rows([row.post_id for row in rows])}
    corpus.close()
    for row in rows:
        assert row.actors == () and catalog[row.post_id].actors  # the catalog adds the entities
        shown = ("title", "date", "url", "source", "tags", "content_hash")
        assert [getattr(row, name) for name in shown] == [getattr(catalog[row.post_id], name) for name in shown]


def test_preview_stops_when_cancelled(tmp_path: Path) -> None:
    for day in range(1, 6):
        write_post(tmp_path, f"2020-01-0{day}-post.md", f"---\ntitle: Post {day}\n---\nbody\n")
    files = preview_files(tmp_path)
    batches = preview_rows(tmp_path, files, 2, lambda: len(seen) >= 1)
    seen: list[list[object]] = []
    for batch in batches:
        seen.append(list(batch))
    assert [len(batch) for batch in seen] == [2]
