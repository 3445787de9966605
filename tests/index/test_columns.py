"""The catalog's columns answer dates, tags, entities, order and facets exactly as the engine and the rows do.

The reference for every query is the engine itself: the whole query (date and entity terms included) run
through whoosh, ordered by the catalog's date order, and facets counted row by row.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from pathlib import Path

import pytest

from index.catalog import Snapshot
from index.columns import Columns, date_key, keyword
from index.corpus import ENGINE_FOLDER, Corpus, SearchResult
from index.engine import Engine, Searchers, run
from index.engine.whoosh_engine import WhooshEngine
from index.query import date_bounds, expand_term, parse_query
from index.state import TriageState
from tests.helpers import write_post

ACTORS = ["APT28", "Fancy Bear", "Lazarus Group", "Turla", "APT40", "Sandworm"]
TECHNIQUES = ["T1566.001", "T1059", "spearphishing attachment", "T1486", "credential dumping"]
VICTIMS = ["Croatia", "Germany", "hospitals", "the Ministry of Foreign Affairs of Ukraine"]
WORDS = ["ransomware", "backdoor", "espionage", "wiper", "exfiltrated", "credentials", "loader"]
TAGS = ["APT", "apt", "China", "Foo Bar", "ICS", "Ransomware", "Group", "Über", "Straße"]
DATES = [
    "2014-03-02", "2015-12-31 23:59:59", "2016-01-01 00:00:00", "2016-02-29", "2018-07-11 00:02:08",
    "2018-07-11T23:30:00+02:00", "2018-12-31T22:00:00-05:00", "2019-06-15", "2019-07-01", "2021-01-01",
    "2022-11-30 12:00:00", None,
]  # fmt: skip

QUERIES = [
    "", "date:2018", "date:2019-07", "date:2018-07-11", "date:2019-01-01", "date:[2015-01 to 2016-06]",
    "date:[2021 to]", "date:[to 2015]", "date:[2016 to 2016]", "date:{2015-12 to 2016-01}", 'date:"2016"',
    "ransomware date:2019", "backdoor date:[2014 to 2016]", "date:2018 ransomware", "ransomware AND date:2019",
    "date:2019 AND ransomware", "backdoor AND date:2018 AND espionage", '"campaign went" date:[2016 to 2018]',
    "ransom* date:2019", "espionage date:[2018-07 to] actor:APT28",
    "tag:APT", "tag:apt", 'tag:"Foo Bar"', "tag:China date:2018", "tag:APT tag:China", "tag:über", "tag:STRASSE",
    "actor:APT28", 'actor:"Fancy Bear"', 'actor:"Lazarus Group"', "actor:apt28 ransomware", "technique:T1566",
    "technique:T1566.001", "technique:phishing", "technique:t1059", "victim:Croatia", "victim:germany",
    "actor:APT28 technique:T1566", "actor:APT28 date:2018", "cve:CVE-2010-0249", "actor:nobody",
    "NOT date:2018", "-actor:APT28", "ransomware OR date:2018", "(ransomware OR backdoor) date:2018",
    "date:2018 ANDNOT ransomware", "ransomware ANDMAYBE date:2018", "ransomware -tag:APT", "actor:APT* date:2018",
    "(date:2018 OR date:2019) actor:Turla", "ransomware date:2018 sort:relevance", "is:unread date:2019",
    "is:starred actor:APT28", "is:archived", "date:2019 is:read tag:ICS",
]  # fmt: skip


def _post(rng: random.Random, number: int) -> str:
    date = rng.choice(DATES)
    tags = rng.sample(TAGS, rng.randint(0, 3))
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 4))]
    sentences = [
        f"{rng.choice(ACTORS)} used {rng.choice(TECHNIQUES)} against {rng.choice(VICTIMS)}."
        for _ in range(rng.randint(0, 3))
    ]
    front = ["---", f"title: Post {number} {' '.join(words[:2])}"]
    if date is not None:
        front.append(f"date: {date}")
    front += [f"tags: [{', '.join(tags)}]", "---"]
    return "\n".join([*front, " ".join(sentences), f"The {' and '.join(words)} campaign went on.", ""])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated posts and their index, built once for the module (tests get copies)."""
    root = tmp_path_factory.mktemp("columns")
    rng = random.Random(7)
    for number in range(160):
        write_post(root / "posts", f"p{number:03}.md", _post(rng, number))
    Corpus.open(root / "posts", root / "index").update()
    return root


@pytest.fixture
def corpus(built: Path, tmp_path: Path) -> Corpus:
    """A copy of the built posts and index (times kept), opened and updated: the update finds nothing to do."""
    for name in ("posts", "index"):
        shutil.copytree(built / name, tmp_path / name)
    corpus = Corpus.open(tmp_path / "posts", tmp_path / "index")
    report = corpus.update()
    assert (report.added, report.changed, report.removed, report.rebuilt) == (0, 0, 0, False)
    return corpus


def _state(tmp_path: Path, ids: list[str]) -> TriageState:
    state = TriageState(tmp_path / "state.sqlite3")
    rng = random.Random(3)
    for flag, share in (("read", 3), ("starred", 5), ("archived", 9)):
        state.set_flag_many(rng.sample(ids, len(ids) // share), flag, True)
    return state


def _engine_answer(corpus: Corpus, query: str, state: TriageState | None) -> list[str]:
    """The posts that whoosh finds for the whole query, filtered by the triage state, newest first."""
    parsed = parse_query(query)
    text = " ".join([parsed.engine_text(), *(term for term, _ in parsed.tags)]).strip()
    snapshot = Snapshot({row.post_id: row for row in corpus.all_rows()}, {}, [], None)  # the catalog's order and rows
    if text:
        searchers = Searchers(Engine(corpus.index_dir / ENGINE_FOLDER))
        found = set(run(searchers, text, expand=expand_term).ids)
        searchers.close()
    else:
        found = set(snapshot.by_date)
    if state is not None:
        for flag, wanted in parsed.flags:
            found = found & state.ids_with(flag) if wanted else found - state.ids_with(flag)
        if not parsed.show_archived:
            found -= state.ids_with("archived")
    return [post_id for post_id in snapshot.by_date if post_id in found]


def _row_facets(corpus: Corpus, ids: list[str]) -> dict[str, list[tuple[str, int]]]:
    """Facets counted row by row, the plain way."""
    rows = {row.post_id: row for row in corpus.all_rows()}
    counts: dict[str, Counter[str]] = {kind: Counter() for kind in ("tag", "actor", "victim", "technique")}
    spellings: dict[str, Counter[str]] = {}
    for row in rows.values():
        for tag in row.tags:
            spellings.setdefault(tag.casefold(), Counter())[tag] += 1
    for post_id in ids:
        row = rows[post_id]
        counts["tag"].update(tag.casefold() for tag in row.tags)
        counts["actor"].update(row.actors)
        counts["victim"].update(row.victims)
        counts["technique"].update(row.techniques)
    shown = {key: min(found.items(), key=lambda item: (-item[1], item[0]))[0] for key, found in spellings.items()}
    return {
        kind: sorted(
            ((shown[key] if kind == "tag" else key, count) for key, count in counter.items()),
            key=lambda item: (-item[1], item[0].casefold()),
        )
        for kind, counter in counts.items()
    }


def test_the_generated_corpus_exercises_every_column(corpus: Corpus) -> None:
    rows = corpus.all_rows()
    assert sum(1 for row in rows if row.date is None) >= 5
    for values in ("tags", "actors", "victims", "techniques"):
        assert len({value for row in rows for value in getattr(row, values)}) >= 3, values
    assert any("." in technique for row in rows for technique in row.techniques)


@pytest.fixture
def no_first_screen_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first screen's search stops at a time limit (an empty page then, the full search follows); these
    tests compare answers, so a loaded machine must not turn a slow first page into a wrong one."""
    monkeypatch.setattr("index.searching.FIRST_SCREEN_TIME_LIMIT", 600.0)


@pytest.mark.usefixtures("no_first_screen_deadline")
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("from_file", [False, True], ids=["rows", "file"])
def test_every_query_form_answers_as_the_engine_does(
    corpus: Corpus, tmp_path: Path, with_state: bool, from_file: bool
) -> None:
    """With the rows in memory (after an update), and in a fresh process per query that reads from the catalog
    file only the candidates of its filters (the first screen) and then the columns it counts (never every
    row)."""
    state = _state(tmp_path, [row.post_id for row in corpus.all_rows()]) if with_state else None
    for query in QUERIES:
        if not with_state and "is:" in query:
            continue
        expected = _engine_answer(corpus, query, state)
        searched = Corpus.open(corpus.posts_dir, corpus.index_dir) if from_file else corpus
        result = _searched_as_the_engine_answers(searched, query, state, expected)
        assert result.facets == _row_facets(corpus, expected), query
        assert (searched._view.held is None) == from_file, query


def _searched_as_the_engine_answers(
    corpus: Corpus, query: str, state: TriageState | None, expected: list[str]
) -> SearchResult:
    """The first screen and the complete answer of ``query``, checked against the engine's ``expected``."""
    corpus.forget_answers()
    first = corpus.search(query, limit=10, complete=False, state=state, snippets=False)
    assert first.error is None, query
    if "sort:relevance" in query:  # the best-scored page: what whoosh scores, among the matches
        assert set(first.ids) <= set(expected) and len(first.ids) == min(10, len(expected)), query
    else:
        assert first.ids == expected[:10], query
    corpus.forget_answers()
    result = corpus.search(query, state=state, snippets=False)
    assert result.error is None and not result.partial, query
    if "sort:relevance" in query:
        assert sorted(result.ids) == sorted(expected), query
    else:
        assert result.ids == expected, query
    assert result.total == len(expected)
    return result


@pytest.mark.usefixtures("no_first_screen_deadline")
def test_random_and_queries_of_columns_and_words_agree_with_the_engine(corpus: Corpus) -> None:
    rng = random.Random(11)
    parts = [
        "date:2018", "date:2019", "date:[2015 to 2016-06]", "date:[2019-07 to]", "date:[to 2016-01-01]",
        "tag:APT", "tag:ICS", 'tag:"foo bar"', "actor:APT28", "actor:Turla", "technique:T1566", "victim:Croatia",
        "ransomware", "backdoor", "espionage", "-wiper", "AND", "NOT loader",
    ]  # fmt: skip
    for _ in range(60):
        query = " ".join(rng.sample(parts, rng.randint(1, 4)))
        if query.startswith("AND") or query.endswith("AND") or "AND AND" in query or "AND NOT" in query:
            continue
        expected = _engine_answer(corpus, query, None)
        assert corpus.search(query, snippets=False).ids == expected, query
        assert corpus.search(query, limit=5, complete=False, snippets=False).ids == expected[:5], query


def test_a_query_of_filters_alone_makes_no_engine_call(corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus.search("")  # loads the catalog's rows
    calls: list[str] = []
    import index.searching

    def counted(*args: object, **kwargs: object) -> None:
        calls.append(str(args[1]))
        raise AssertionError("the engine was asked")

    monkeypatch.setattr(index.searching, "run", counted)
    monkeypatch.setattr(WhooshEngine, "newest", counted)
    for query in ("date:2018", "tag:APT date:[2015 to 2018]", 'actor:"Fancy Bear" technique:T1566', "victim:Croatia"):
        corpus.forget_answers()
        assert corpus.search(query, limit=5, complete=False).error is None
        assert corpus.search(query).error is None
    assert calls == []


def test_date_bounds_are_the_engines_ranges() -> None:
    # whoosh reads date:2018 as [2018-01-01T00:00, 2018-12-31T23:59:59.999999] in microseconds since year 1
    from datetime import datetime

    assert date_bounds("2018") == (datetime(2018, 1, 1), datetime(2019, 1, 1))
    assert date_bounds("2016-02") == (datetime(2016, 2, 1), datetime(2016, 3, 1))
    assert date_bounds("2018-12-31") == (datetime(2018, 12, 31), datetime(2019, 1, 1))
    assert date_bounds("[2018-01 to 2018-06]") == (datetime(2018, 1, 1), datetime(2018, 7, 1))
    assert date_bounds("[to 2018]") == (None, datetime(2019, 1, 1))
    assert date_bounds("[2021 to]") == (datetime(2021, 1, 1), None)
    assert date_bounds("9999") == (datetime(9999, 1, 1), None)
    assert date_bounds("0000") is None
    assert date_key(datetime(2018, 1, 1)) == 63650361600000000  # the engine's lower bound of date:2018


def test_values_are_keyed_as_the_engine_indexes_them() -> None:
    assert keyword("Lazarus  Group") == "lazarus group" and keyword("a,b") == "a b"
    columns = Columns(["a", "b"], {"a": 0, "b": 1})
    assert not columns.known and columns.dated("2018") is None and columns.having("actor", ["x"]) is None


def test_the_columns_follow_every_update(corpus: Corpus, tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    before = corpus.search("date:2024").ids
    assert before == []
    write_post(posts, "new.md", "---\ntitle: New\ndate: 2024-05-01\ntags: [Fresh]\n---\nAPT28 ransomware.\n")
    corpus.update()
    assert corpus.search("date:2024").ids == ["new.md"]
    assert corpus.search("tag:fresh").ids == ["new.md"]
    assert corpus.search("actor:APT28 date:2024").ids == ["new.md"]
    assert ("Fresh", 1) in corpus.search("date:2024").facets["tag"]
    # changed: another date, another tag, no actor
    write_post(posts, "new.md", "---\ntitle: New\ndate: 2025-01-02\ntags: [Later]\n---\nNothing to see.\n")
    corpus.update()
    assert corpus.search("date:2024").ids == [] and corpus.search("tag:fresh").ids == []
    assert corpus.search("date:2025-01").ids == ["new.md"] and corpus.search("tag:later").ids == ["new.md"]
    assert corpus.search("actor:APT28 date:[2024 to]").ids == []
    assert corpus.search("").ids[0] == "new.md"  # the newest
    # deleted
    (posts / "new.md").unlink()
    corpus.update()
    assert corpus.search("date:[2024 to]").ids == [] and corpus.search("tag:later").ids == []
    assert corpus.search("").total == 160
