"""Unread counts per facet value of a result: the result's hits less the read posts, by the rule of ``is:unread``."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.corpus import Corpus
from index.state import TriageState
from index.unread import hits


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    folder = tmp_path / "posts"
    folder.mkdir()
    for day in range(1, 7):
        tags = ["China", "Espionage"] if day <= 4 else ["Iran"]
        front = f"---\ntitle: Post {day}\ndate: 2019-03-{day:02d}\ntags: [{', '.join(tags)}]\n---\n"
        body = "APT28 sent spear-phishing attachments (T1566.001)." if day % 2 else "A wiper at a ministry."
        (folder / f"2019-03-{day:02d}-p{day}.md").write_text(front + body + "\n", encoding="utf-8")
    found = Corpus.open(folder, tmp_path / "index")
    found.update()
    return found


def post(day: int) -> str:
    return f"2019-03-{day:02d}-p{day}.md"


def test_unread_counts_follow_the_read_flag_without_searching_again(corpus: Corpus, tmp_path: Path) -> None:
    with TriageState(tmp_path / "state.sqlite3") as state:
        result = corpus.search("", state=state)
        totals = {field: dict(values) for field, values in result.facets.items()}
        assert totals["tag"] == {"China": 4, "Espionage": 4, "Iran": 2}
        assert corpus.unread_facets(result, state, 50)["tag"] == totals["tag"]  # nothing read yet

        state.set_flag_many([post(1), post(2), post(5)], "read", True)
        unread = corpus.unread_facets(result, state, 50)  # the same result: only the flags moved
        assert unread["tag"] == {"China": 2, "Espionage": 2, "Iran": 1}
        actors = dict(result.facets["actor"])
        assert actors and unread["actor"] == dict.fromkeys(actors, 1)  # APT28 in posts 1, 3, 5; 1 and 5 are read
        # The rule is the one of is:unread: each count is what the filtered search finds.
        for tag, count in unread["tag"].items():
            assert len(corpus.search(f"is:unread tag:{tag}", state=state).ids) == count

        state.set_flag(post(1), "read", False)  # marked unread again
        assert corpus.unread_facets(result, state, 50)["tag"]["China"] == 3


def test_counts_are_over_the_result_and_only_for_the_values_asked(corpus: Corpus, tmp_path: Path) -> None:
    with TriageState(tmp_path / "state.sqlite3") as state:
        state.set_flag(post(4), "read", True)
        result = corpus.search("wiper", state=state)  # posts 2, 4, 6
        assert sorted(result.ids) == [post(2), post(4), post(6)]
        unread = corpus.unread_facets(result, state, 1)
        assert {field: len(values) for field, values in unread.items() if values} == {"tag": 1}
        assert unread["tag"] == {"China": 1}  # post 2 (4 is read; 1 and 3 are not hits)
        assert corpus.unread_facets(result, None, 50) == {}  # no triage state: nothing known to be read


def test_the_hits_are_kept_as_numbers_and_looked_up_again_after_an_update(corpus: Corpus, tmp_path: Path) -> None:
    result = corpus.search("tag:china")
    ranking = corpus.ranking()
    assert result.numbers is not None and hits(result, ranking) is result.numbers  # no pass over the ids
    (corpus.posts_dir / "2019-03-07-p7.md").write_text(
        "---\ntitle: Post 7\ndate: 2019-03-07\ntags: [China]\n---\nNew.\n", encoding="utf-8"
    )
    corpus.update()
    moved = corpus.ranking()
    assert moved.generation != result.generation
    assert moved.columns.ids(hits(result, moved)) == result.ids  # the same posts, under their new numbers
