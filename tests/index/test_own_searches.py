"""The user's own words are searchable: ``tag:`` also finds posts the user tagged, ``note:`` finds notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.corpus import Corpus
from index.feeds import unread_counts
from index.query import parse_query
from index.state import TriageState


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    folder = tmp_path / "posts"
    folder.mkdir()
    for day in range(1, 7):
        front = f"---\ntitle: Post {day}\ndate: 2019-03-{day:02d}\ntags: [{'china' if day <= 2 else 'iran'}]\n---\n"
        body = "Ransomware gang hits a hospital." if day % 2 else "A wiper at a ministry."
        (folder / f"2019-03-{day:02d}-p{day}.md").write_text(front + body + "\n", encoding="utf-8")
    found = Corpus.open(folder, tmp_path / "index")
    found.update()
    return found


def post(day: int) -> str:
    return f"2019-03-{day:02d}-p{day}.md"


def test_tag_and_note_are_pulled_out_of_a_plain_and() -> None:
    parsed = parse_query('ransomware tag:China note:"follow up" -note:done')
    assert parsed.text == "ransomware"
    assert parsed.tags == (("tags:China", "China"),)
    assert parsed.note_words == (("follow up", True), ("done", False))
    assert "China" in parsed.terms


def test_a_tag_under_or_or_not_stays_with_the_engine() -> None:
    assert parse_query("tag:china OR tag:iran").tags == ()
    assert parse_query("tag:china OR tag:iran").text == "tags:china OR tags:iran"
    assert parse_query("wiper NOT tag:iran").text == "wiper NOT tags:iran"
    assert parse_query("(tag:china wiper)").tags == ()
    assert parse_query('(wiper OR ransomware) tag:"china"').tags == (('tags:"china"', "china"),)


@pytest.mark.parametrize("query", ["note:", "a OR note:x", "(note:x)", "-note:"])
def test_a_note_filter_that_cannot_apply_to_the_whole_query_is_an_error(query: str) -> None:
    assert parse_query(query).error


def test_tag_finds_front_matter_tags_and_own_tags(corpus: Corpus, tmp_path: Path) -> None:
    with TriageState(tmp_path / "state.sqlite3") as state:
        assert set(corpus.search("tag:china", state=state).ids) == {post(1), post(2)}
        # No own tag China yet: the engine answers alone, with its fast first screen.
        assert not corpus.search("tag:china", state=state, complete=False, limit=1).complete
        state.add_tag(post(5), "China")
        assert set(corpus.search("tag:china", state=state).ids) == {post(1), post(2), post(5)}
        assert set(corpus.search("tag:CHINA ransomware", state=state).ids) == {post(1), post(5)}
        assert set(corpus.search("tag:china", state=state, complete=False, limit=10).ids) == {post(1), post(2), post(5)}
        state.add_tag(post(6), "review")  # an own tag no post carries in its front matter
        assert corpus.search("tag:review", state=state).ids == [post(6)]
    assert set(corpus.search("tag:china").ids) == {post(1), post(2)}  # without a state: front matter only


def test_note_finds_any_case_part_of_a_word(corpus: Corpus, tmp_path: Path) -> None:
    with TriageState(tmp_path / "state.sqlite3") as state:
        state.set_note(post(3), "Ask the SOC about Überwachung")
        state.set_note(post(4), "done")
        assert corpus.search("note:soc", state=state).ids == [post(3)]
        assert corpus.search("note:überwach", state=state).ids == [post(3)]
        assert corpus.search('note:"the soc"', state=state).ids == [post(3)]
        assert corpus.search("note:nothing", state=state).ids == []
        assert post(4) not in corpus.search("-note:done", state=state).ids
        assert len(corpus.search("NOT note:done", state=state).ids) == 5
        assert corpus.search("wiper note:done", state=state).ids == [post(4)]
        state.set_note(post(3), "")
        assert corpus.search("note:soc", state=state).ids == []  # a changed note is a new answer


def test_unread_counts_are_hits_less_read_posts(corpus: Corpus, tmp_path: Path) -> None:
    with TriageState(tmp_path / "state.sqlite3") as state:
        state.set_flag(post(1), "read", True)
        state.set_flag(post(3), "archived", True)
        counts = unread_counts(corpus, ["ransomware", "tag:china", "is:archived", 'date:[2019 to "x'], state)
        assert counts == {"ransomware": 1, "tag:china": 1, "is:archived": 1, 'date:[2019 to "x': None}
        assert unread_counts(corpus, ["ransomware"], None) == {"ransomware": 3}
        assert unread_counts(corpus, ["ransomware", "wiper"], state, cancelled=lambda: True) == {}
