"""One contract, two engines: every query form means the same on whoosh and tantivy, updates show up the
same way, and faults are handled the same way (damage → rebuild, another writer → read-only).

Each test runs once per engine (the ``engine`` fixture); ``test_both_engines_give_the_same_answer`` builds
both and compares them query by query. The tantivy runs are skipped when the ``fast`` extra is missing.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyroaring import BitMap

from index.corpus import ENGINE_FOLDER, Corpus
from index.engine.contract import ENGINES, INSTALL_FAST, EngineMissing, open_engine
from index.engine.store import DAMAGE_MARKER, EngineLocked
from index.query import expand_term
from index.state import TriageState
from tests.index.helpers import hold_writer

POSTS = {
    "2020-05-01-ministry.md": (
        "Watering hole attack on ministry",
        "2020-05-01",
        "[APT, espionage]",
        "example.com",
        "APT28 used a watering hole to compromise the ministry website. Phishing emails "
        "followed (T1566). The server 203.0.113.7 hosted the payload.",
    ),
    "2019-07-11-hospital.md": (
        "Ransomware hits hospital",
        "2019-07-11",
        "[ransomware]",
        "news.org",
        "The hospital was hit by ransomware. Credential theft preceded encryption. No watering hole was involved.",
    ),
    "2018-03-02-banks.md": (
        "Lazarus Group targets banks",
        "2018-03-02",
        "[banks, North Korea]",
        "news.org",
        "Lazarus Group attacked banks in Cambodia using spearphishing and credential dumping. "
        "The attackers exfiltrated data.",
    ),
    "2018-11-20-supply.md": (
        "Supply chain compromise",
        "2018-11-20",
        "[supply chain]",
        "example.com",
        "A supply chain attack delivered PlugX malware through a software update. CVE-2017-11882 was exploited.",
    ),
    "2017-01-05-reversed.md": (
        "Hole watering season",
        "2017-01-05",
        "[]",
        "blog.example",
        "The word order is reversed here: hole watering, not the usual phrase. Credentials were stolen.",
    ),
    "2016-06-30-croatia.md": (
        "Phishing campaign against Croatia",
        "2016-06-30",
        "[phishing]",
        "news.org",
        "A phishing campaign targeted the government of Croatia. Credentialed users received lures.",
    ),
    "undated-wipers.md": (
        "Undated note on wipers",
        "",
        "[]",
        "",
        "A wiper destroyed disks; the watering of plants is unrelated. Holes appeared.",
    ),
    "2020-01-15-turla.md": (
        "Turla uses Cobalt Strike",
        "2020-01-15",
        "[APT]",
        "example.com",
        "Turla deployed Cobalt Strike beacons against a ministry of foreign affairs.",
    ),
    "2019-02-28-hacks.md": (
        "Hacked hacking hacks",
        "2019-02-28",
        "[]",
        "blog.example",
        "Hackers hacked systems while hacking continued.",
    ),
    "sub/2021-09-09-nested.md": (
        "Nested post",
        "2021-09-09",
        "[ICS]",
        "example.com",
        "Industrial control systems at an energy firm were probed. Watering  hole sites were prepared.",
    ),
    "2015-04-04-command.md": (
        "Command and control notes",
        "2015-04-04",
        "[c2]",
        "blog.example",
        "Command and control traffic. The control server was seized. Spear phishing emails "
        "carried the lure; spear-phishing email lures followed. Attack attack, said the log.",
    ),
}

#: Every form of the query language (tui/query_help.py) and the combinations that stress the translation.
QUERIES = [
    "watering",
    "watering hole",
    "hacked",
    "Credentials",
    '"watering hole"',
    '"hole watering"',
    '"watering hole"~3',
    '"the usual phrase"',
    "cred*",
    "credential*",
    "hack*",
    "c?mpaign",
    "*ing",
    "exfil*",
    "title:hole",
    "title:watering",
    'title:"hole watering"',
    "tag:APT",
    "tag:apt",
    "tag:north korea",
    'tag:"north korea"',
    "tags:phish*",
    "actor:APT28",
    'actor:"Lazarus Group"',
    "actor:Turla",
    "victim:croatia",
    "victim:cambodia",
    "technique:T1566",
    "technique:phishing",
    "malware:plugx",
    "cve:CVE-2017-11882",
    "ioc:203.0.113.7",
    "ioc:203[.]0.113[.]7",
    "source:example.com",
    "source:news.org",
    "date:2018",
    "date:2019-07",
    "date:2019-07-11",
    "date:[2018-01 to 2019-12]",
    "date:[2020 to]",
    "date:[to 2017]",
    "watering NOT hole",
    "watering -hole",
    "NOT watering",
    "-watering",
    "ransomware OR wiper",
    "(ransomware OR wiper) date:2019",
    "watering ANDNOT hole",
    "watering ANDMAYBE ministry",
    "hole AND (ministry OR hospital)",
    "(apt28 OR turla) tag:APT",
    "*",
    "",
    "is:unread",
    "is:starred watering",
    "note:call",
    "tag:mine",
    "nosuchword",
    "actor:nobody",
    # phrases: answered from word pairs by whoosh, from positions by tantivy
    '"watering hole attack"',
    'title:"watering hole attack"',
    '"command and control server"',
    '"command-and-control traffic"',
    '"traffic. The control"',
    '"spear phishing email lure"',
    '"attack attack"',
    '"attack attack attack"',
    '"the of"',
    '"the control"',
    '"hole watering"~2',
    '"watering hole" date:2020',
    '"watering hole" tag:APT',
    '"watering hole" -ministry',
    '"watering hole" is:unread',
    '"watering hole" minis*',
    '"watering hole" OR "supply chain"',
    'NOT "watering hole"',
    'body_pairs:"water hole"',
    "title_pairs:water",
    '"watering hole, ministry"',
    'actor:"lazarus group, apt28"',
    # junk must fail the same way, never mark the index damaged
    "(",
    '"x',
    "AND OR",
    "nosuchfield:x",
    "title:",
    "NOT *",
    "date:[2019 to 2018]",
    "a OR " * 50,
    "é∂ƒ©\x00",
]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "tantivy":
        pytest.importorskip("tantivy")
    return name


def write_posts(folder: Path) -> Path:
    for name, (title, date, tags, source, body) in POSTS.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        front = [f"title: {title}", f"tags: {tags}"] + ([f"date: {date}"] if date else [])
        front += [f"tourl: https://{source}/post"] if source else []
        path.write_text("---\n" + "\n".join(front) + f"\n---\n{body}\n", encoding="utf-8")
    return folder


def built(root: Path, engine: str) -> Corpus:
    corpus = Corpus.open(write_posts(root / "posts"), root / f"index-{engine}", engine=engine)
    report = corpus.update()
    assert report.added == len(POSTS) and all(problem.reason == "no date" for problem in report.problems), report
    return corpus


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TriageState]:
    triage = TriageState(tmp_path_factory.mktemp("state") / "state.sqlite3")
    triage.set_flag_many(["2020-05-01-ministry.md", "2019-07-11-hospital.md"], "read", True)
    triage.set_flag_many(["2020-05-01-ministry.md"], "starred", True)
    triage.set_flag_many(["undated-wipers.md"], "archived", True)
    triage.set_note("2018-03-02-banks.md", "Call back the bank")
    triage.add_tag("2016-06-30-croatia.md", "mine")
    yield triage
    triage.close()


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Corpus]:
    """One corpus per installed engine over the same posts."""
    root = tmp_path_factory.mktemp("contract")
    engines = [name for name in ENGINES if name != "tantivy" or _has_tantivy()]
    return {name: built(root, name) for name in engines}


def _has_tantivy() -> bool:
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return False
    return True


def test_both_engines_give_the_same_answer(both: dict[str, Corpus], state: TriageState) -> None:
    if len(both) < 2:
        pytest.skip(INSTALL_FAST)
    whoosh, tantivy = both["whoosh"], both["tantivy"]
    for query in QUERIES:
        for sort in ("date", "relevance"):
            expected = whoosh.search(query, sort=sort, state=state, labels=True)
            got = tantivy.search(query, sort=sort, state=state, labels=True)
            assert got.error == expected.error, query
            assert got.total == expected.total and got.facets == expected.facets, query
            assert got.partial == expected.partial and got.notes == expected.notes, query
            assert got.stems == expected.stems and got.highlights.keys() == expected.highlights.keys(), query
            if sort == "date":
                assert got.ids == expected.ids, query
            else:  # scores differ between engines: the same hits, the scored page first
                assert sorted(got.ids) == sorted(expected.ids), query
            first = tantivy.search(query, sort=sort, state=state, limit=3, complete=False)
            assert first.error == expected.error, query
            if sort == "date":
                assert first.ids == expected.ids[:3], query
    for junk in QUERIES[-9:]:
        assert not (tantivy.index_dir / ENGINE_FOLDER / DAMAGE_MARKER).exists(), junk


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"watering hole"', {"2020-05-01-ministry.md", "2019-07-11-hospital.md", "sub/2021-09-09-nested.md"}),
        ('"hole watering"', {"2017-01-05-reversed.md"}),
        ('"watering hole attack"', {"2020-05-01-ministry.md"}),
        ('"watering hole" date:2020 minis*', {"2020-05-01-ministry.md"}),
        ('"command-and-control traffic"', {"2015-04-04-command.md"}),
        ('"command and control server"', set()),  # both pairs are in the post, but not one after the other
        ('"spear phishing email lure"', {"2015-04-04-command.md"}),
        ('"attack attack"', {"2015-04-04-command.md"}),
        ('"attack attack attack"', set()),
        ('body_pairs:"water hole"', set()),
        ('"watering hole, ministry"', set()),  # a comma splits the value of a keyword field: never a phrase
        ("watering -hole", set()),
        ("hack*", {"2019-02-28-hacks.md"}),
        ("cred*", {"2019-07-11-hospital.md", "2018-03-02-banks.md", "2017-01-05-reversed.md", "2016-06-30-croatia.md"}),
        ("date:2018", {"2018-03-02-banks.md", "2018-11-20-supply.md"}),
        ("date:[2020 to]", {"2020-05-01-ministry.md", "2020-01-15-turla.md", "sub/2021-09-09-nested.md"}),
        ("tag:APT", {"2020-05-01-ministry.md", "2020-01-15-turla.md"}),
        ("title:hole", {"2020-05-01-ministry.md", "2017-01-05-reversed.md"}),
        ("source:news.org ransomware", {"2019-07-11-hospital.md"}),
        ("(ransomware OR wiper) NOT date:2019 is:archived", {"undated-wipers.md"}),
        ("is:archived", {"undated-wipers.md"}),
    ],
)
def test_query_forms_find_the_expected_posts(
    engine: str, tmp_path: Path, state: TriageState, query: str, expected: set[str]
) -> None:
    corpus = built(tmp_path, engine)
    result = corpus.search(query, state=state)
    assert result.error is None and set(result.ids) == expected
    assert result.ids == sorted(result.ids, key=lambda post_id: corpus.rows([post_id])[0].date or "", reverse=True)


def test_relevance_puts_the_scored_page_first(engine: str, tmp_path: Path) -> None:
    corpus = built(tmp_path, engine)
    result = corpus.search("watering", sort="relevance", limit=3)
    assert result.total == 5 and len(result.ids) == 3
    scores = [result.scores[post_id] for post_id in result.ids]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert result.ids[0] in {"2020-05-01-ministry.md", "2017-01-05-reversed.md"}  # the word in the title


def test_updates_add_replace_and_delete(engine: str, tmp_path: Path) -> None:
    corpus = built(tmp_path, engine)
    posts = corpus.posts_dir
    generation = open_engine(engine, corpus.index_dir / ENGINE_FOLDER).generation()
    hospital = posts / "2019-07-11-hospital.md"
    hospital.write_text("---\ntitle: Ransomware hits clinic\ndate: 2019-07-11\n---\nA clinic paid.\n", encoding="utf-8")
    (posts / "2018-03-02-banks.md").unlink()
    (posts / "2022-02-02-new.md").write_text(
        "---\ntitle: New wiper\ndate: 2022-02-02\n---\nHermetic.\n", encoding="utf-8"
    )
    report = corpus.update()
    assert (report.added, report.changed, report.removed) == (1, 1, 1)
    engine_now = open_engine(engine, corpus.index_dir / ENGINE_FOLDER)
    assert engine_now.generation() != generation and engine_now.doc_count() == len(POSTS)
    assert corpus.search("hospital").ids == []
    assert corpus.search("clinic").ids == ["2019-07-11-hospital.md"]
    assert corpus.search("lazarus").ids == []
    assert corpus.search("wiper").ids == ["2022-02-02-new.md", "undated-wipers.md"]
    assert corpus.search("ransomware").total == 1


#: Posts sharing a date, and undated ones: the catalog orders each group by id, descending.
TIED = {
    "k": "2021-03-04",
    "b": "2021-03-03",
    "x": "2021-03-03",
    "a": "2021-03-03",
    "m": "2021-03-03",
    "c": "2020-01-01",
    "z": "",
    "d": "",
    "q": "",
}


def tied_corpus(root: Path, engine: str) -> Corpus:
    posts = root / "posts"
    posts.mkdir()
    for letter, date in TIED.items():
        front = [f"title: Tied {letter}"] + ([f"date: {date}"] if date else [])
        body = "tied words" + (" other" if letter in "bmz" else "")
        (posts / f"{letter}.md").write_text("---\n" + "\n".join(front) + f"\n---\n{body}\n", encoding="utf-8")
    corpus = Corpus.open(posts, root / "index", engine=engine)
    corpus.update()
    return corpus


def test_the_first_screen_orders_ties_and_undated_posts_as_the_catalog(engine: str, tmp_path: Path) -> None:
    """tantivy keeps the latest-dated matches by its date column, which cannot tell posts of one date
    apart: every cut through a run of one date (or of the undated) must still give the catalog's order."""
    corpus = tied_corpus(tmp_path, engine)
    assert corpus.search("tied").ids == ["k.md", "x.md", "m.md", "b.md", "a.md", "c.md", "z.md", "q.md", "d.md"]
    for query in ("tied", "tied -other", "other", "tied date:2021-03-03", "tied date:[2021 to]", "tied date:[to 2021]"):
        every = corpus.search(query).ids
        assert every, query
        for limit in range(1, len(every) + 1):
            assert corpus.search(query, limit=limit, complete=False).ids == every[:limit], (query, limit)


def test_newest_follows_the_ranking_within_a_date(engine: str, tmp_path: Path) -> None:
    """The engine holds posts of one date in its own order; the ranking given decides: here each run of one
    date (and the undated) is ranked in reverse, and every cut follows it."""
    corpus = tied_corpus(tmp_path, engine)
    runs = [["k.md"], ["x.md", "m.md", "b.md", "a.md"], ["c.md"], ["z.md", "q.md", "d.md"]]
    order = [post_id for run in runs for post_id in reversed(run)]
    rank = {post_id: number for number, post_id in enumerate(order)}
    text_engine = open_engine(engine, corpus.index_dir / ENGINE_FOLDER)
    for limit in range(1, len(order) + 1):
        hits = text_engine.newest("tied", rank=rank, limit=limit, expand=expand_term, time_limit=1.0)
        assert hits.ids == order[:limit], limit


def test_newest_asks_for_more_when_the_ranking_drops_matches(engine: str, tmp_path: Path) -> None:
    """Matches the catalog does not know, or that ``allowed`` leaves out, are skipped: the newest that
    remain are found however many are skipped first."""
    corpus = tied_corpus(tmp_path, engine)
    order = corpus.search("tied").ids
    known = [post_id for post_id in order if post_id not in {"k.md", "x.md", "m.md"}]  # the newest three unknown
    rank = {post_id: number for number, post_id in enumerate(known)}
    text_engine = open_engine(engine, corpus.index_dir / ENGINE_FOLDER)
    for allowed, expected in ((None, known[:2]), (BitMap([1, 4, 5]), [known[1], known[4]])):
        hits = text_engine.newest("tied", rank=rank, limit=2, expand=expand_term, time_limit=1.0, allowed=allowed)
        assert hits.ids == expected, allowed
    assert set(text_engine.run("tied", expand=expand_term, rank=rank).numbers or ()) == set(range(len(known)))


def test_a_rebuild_by_another_process_is_seen(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A rebuild of the same number of posts can end at the same generation number: a searcher opened
    before it must still be replaced. whoosh's searcher refresh compares generations only, so it keeps
    reading the old segments (a known gap, kept as it is here: strict, so a fix shows up)."""
    if engine == "whoosh":
        request.applymarker(pytest.mark.xfail(strict=True, reason="whoosh refreshes by generation number"))
    corpus = built(tmp_path, engine)
    assert corpus.search("lazarus").total == 1  # the index is open and searched
    banks = corpus.posts_dir / "2018-03-02-banks.md"
    banks.write_text(banks.read_text(encoding="utf-8").replace("Lazarus", "Zeppelin"), encoding="utf-8")
    other = Corpus.open(corpus.posts_dir, corpus.index_dir, engine=engine)  # as another process would
    assert other.update(rebuild=True).rebuilt
    assert corpus.search("zeppelin").ids == ["2018-03-02-banks.md"]  # a new query: no answer cached for it


@pytest.mark.parametrize("damage", ["truncated meta", "garbled segment", "empty folder", "missing folder"])
def test_a_damaged_index_is_rebuilt(engine: str, tmp_path: Path, damage: str) -> None:
    corpus = built(tmp_path, engine)
    folder = corpus.index_dir / ENGINE_FOLDER
    meta = next(folder.glob("_MAIN_*.toc")) if engine == "whoosh" else folder / "meta.json"
    segments = [path for path in folder.iterdir() if path.suffix in (".seg", ".term", ".idx", ".pos", ".store")]
    if damage == "truncated meta":
        meta.write_bytes(meta.read_bytes()[: meta.stat().st_size // 2])
    elif damage == "garbled segment":
        for path in segments:
            path.unlink()  # a new file, so no mapping of the old one sees it change
            path.write_bytes(b"\x00garbage" * 64)
    else:
        for path in folder.iterdir():
            path.unlink()
        if damage == "missing folder":
            folder.rmdir()
    reopened = Corpus.open(corpus.posts_dir, corpus.index_dir, engine=engine)
    assert not open_engine(engine, folder).healthy()
    result = reopened.search("watering")
    assert result.error is not None or result.total == 0
    report = reopened.update()
    assert report.rebuilt and report.added == len(POSTS)
    assert reopened.search("watering").total == 5


def test_a_search_that_finds_damage_marks_the_index_for_rebuild(engine: str, tmp_path: Path) -> None:
    corpus = built(tmp_path, engine)
    index = open_engine(engine, corpus.index_dir / ENGINE_FOLDER)
    assert index.healthy()
    error = index.damaged(OSError("read failed"))  # what a search does when reading the index fails
    assert "damaged" in str(error)
    assert (index.folder / DAMAGE_MARKER).exists() and not index.healthy()
    report = corpus.update()
    assert report.rebuilt and corpus.search("watering").total == 5
    assert not (index.folder / DAMAGE_MARKER).exists()


@pytest.mark.slow
def test_another_writer_means_read_only(engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import index.engine.store as store_module

    monkeypatch.setattr(store_module, "WRITER_TIMEOUT", 0.1)
    corpus = built(tmp_path, engine)
    folder = corpus.index_dir / ENGINE_FOLDER
    process = hold_writer(folder, engine)
    try:
        (corpus.posts_dir / "2022-02-02-new.md").write_text("---\ntitle: New\n---\nfresh\n", encoding="utf-8")
        report = corpus.update()
        assert report.read_only and report.message and "another Spyglass" in report.message
        assert corpus.search("watering").total == 5  # searching still works
        for name in ENGINES:  # the lock is the same whichever engine asks
            if name == "tantivy" and not _has_tantivy():
                continue
            with pytest.raises(EngineLocked):
                open_engine(name, folder).recreate()
    finally:
        process.kill()
        process.wait()
    assert corpus.update().added == 1


@pytest.mark.slow
def test_a_killed_writer_leaves_no_lock_behind(engine: str, tmp_path: Path) -> None:
    corpus = built(tmp_path, engine)
    process = hold_writer(corpus.index_dir / ENGINE_FOLDER, engine)
    process.send_signal(signal.SIGKILL)
    process.wait()
    (corpus.posts_dir / "2022-02-02-new.md").write_text("---\ntitle: New\n---\nfresh\n", encoding="utf-8")
    report = corpus.update()
    assert report.added == 1 and not report.read_only


def test_a_rebuild_holds_the_write_lock_until_its_commit(engine: str, tmp_path: Path) -> None:
    """Emptying the folder and writing it again are one session: a second process that also found the index
    stale must not empty it (and the catalog) under the first, the way two first builds at once could."""
    folder = tmp_path / "ix"
    writer = open_engine(engine, folder).recreate()
    other = open_engine(engine, folder)
    with pytest.raises(EngineLocked):
        other.recreate()
    with pytest.raises(EngineLocked):
        other.writer(timeout=0)
    writer.commit()
    other.writer(timeout=0).cancel()


def test_what_records_a_commit_runs_before_the_lock_is_released(engine: str, tmp_path: Path) -> None:
    """The catalog is written in ``then``: another process must not write (or rebuild) in between."""
    folder = tmp_path / "ix"
    writer = open_engine(engine, folder).recreate()
    other = open_engine(engine, folder)
    recorded: list[int] = []

    def record(generation: int) -> None:
        with pytest.raises(EngineLocked):
            other.writer(timeout=0)
        recorded.append(generation)

    writer.commit(then=record)
    assert recorded == [other.generation()]
    other.writer(timeout=0).cancel()


def test_switching_engines_rebuilds(engine: str, tmp_path: Path) -> None:
    pytest.importorskip("tantivy")
    corpus = built(tmp_path, engine)
    other = next(name for name in ENGINES if name != engine)
    switched = Corpus.open(corpus.posts_dir, corpus.index_dir, engine=other)
    assert switched.engine == other
    assert switched.search("watering").error is not None  # the index is the other engine's: not ready
    report = switched.update()
    assert report.rebuilt and report.added == len(POSTS)
    assert switched.search('"watering hole"').total == 3
    assert corpus.update().rebuilt  # and back


def test_tantivy_names_hits_whose_keys_collide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hits carry a 64-bit hash of the post id; should two ids share one, their hits are named from the
    stored id (here every id shares one key)."""
    tantivy_engine = pytest.importorskip("index.engine.tantivy_engine")
    monkeypatch.setattr(tantivy_engine, "post_key", lambda _post_id: 7)
    corpus = built(tmp_path, "tantivy")
    assert set(corpus.search('"watering hole"').ids) == {
        "2020-05-01-ministry.md",
        "2019-07-11-hospital.md",
        "sub/2021-09-09-nested.md",
    }
    assert len(corpus.search("watering", sort="relevance").scores) == 5


def test_a_missing_tantivy_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tantivy", None)
    with pytest.raises(EngineMissing, match=r"spyglass\[fast\]"):
        Corpus.open(tmp_path / "posts", tmp_path / "index", engine="tantivy")
