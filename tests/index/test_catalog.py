"""The catalog: round trip, tag spellings, facets, and an unreadable file treated as empty."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from pyroaring import BitMap

from index.catalog import Catalog, CatalogEntry, PostRow, ProblemEntry
from index.posts import PostProblem


def row(post_id: str, day: int | None, tags: tuple[str, ...], actors: tuple[str, ...] = ()) -> PostRow:
    return PostRow(
        post_id,
        f"Title {post_id}",
        datetime(2018, 1, day) if day else None,
        "https://x.com/a",
        "x.com",
        tags,
        actors,
        ("Cambodia",),
        ("T1566.001",),
        "0" * 40,
    )


def entries() -> list[CatalogEntry]:
    return [
        CatalogEntry(row("a.md", 3, ("China", "Attack")), 10, 100),
        CatalogEntry(row("b.md", 5, ("china",), ("APT40",)), 11, 101, ("no title; taken from the file name",)),
        CatalogEntry(row("c.md", None, ("China", "a\x1fb")), 12, 102),
        CatalogEntry(row("d.md", 1, ("CHINA",), ("APT40", "Lazarus")), 13, 103),
    ]


def test_round_trip_order_and_problems(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    catalog.reset(0)
    catalog.apply(entries(), [ProblemEntry(PostProblem("bad.md", "bad YAML", 2, 5), 1, 2)], [], generation=7)
    snapshot = catalog.load()
    assert snapshot.generation == 7
    assert snapshot.by_date == ["b.md", "a.md", "d.md", "c.md"]  # undated last
    assert snapshot.rows["a.md"] == entries()[0].row
    assert snapshot.rows["c.md"].tags == ("China", "a b")
    assert snapshot.stats["bad.md"] == (1, 2)
    assert [str(problem) for problem in snapshot.problems] == [
        "bad.md:2:5: bad YAML",
        "b.md: no title; taken from the file name",
    ]
    catalog.apply([], [], ["a.md", "bad.md"], generation=8)
    again = catalog.load()
    assert set(again.rows) == {"b.md", "c.md", "d.md"} and "bad.md" not in again.stats


def test_stats_and_ranking_agree_with_a_full_load(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    catalog.apply(entries(), [ProblemEntry(PostProblem("bad.md", "bad YAML", 2, 5), 1, 2)], [], generation=7)
    snapshot = catalog.load()
    assert catalog.stats() == (snapshot.stats, 7)
    ranking = catalog.ranking()
    assert (ranking.by_date, ranking.rank, ranking.generation) == (snapshot.by_date, snapshot.rank, 7)
    assert ranking.order_by_date(["c.md", "gone.md", "a.md", "b.md"]) == ["b.md", "a.md", "c.md"]


def test_unreadable_catalog_has_no_stats_and_no_ranking(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    assert Catalog(path).stats() == ({}, None)
    assert Catalog(path).ranking().by_date == [] and Catalog(path).ranking().generation is None


def test_tag_facets_fold_case_and_show_the_most_frequent_spelling(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    catalog.apply(entries(), [], [], generation=1)
    snapshot = catalog.load()
    everything = snapshot.facets(set(snapshot.rows))
    assert everything["tag"][0] == ("China", 4)
    assert everything["actor"] == [("APT40", 2), ("Lazarus", 1)]
    # the "everything minus the rest" path and the direct count agree
    three = {"a.md", "b.md", "d.md"}
    assert snapshot.facets(three) == Catalog(tmp_path / "catalog.sqlite3").load().facets(sorted(three))
    assert snapshot.facets({"b.md"})["tag"] == [("China", 1)]


def test_unreadable_catalog_loads_empty(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    snapshot = Catalog(path).load()
    assert snapshot.rows == {} and snapshot.generation is None
    Catalog(path).reset(3)
    assert Catalog(path).load().generation == 3


def test_the_columns_read_from_the_file_are_the_rows_columns(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    catalog.apply(entries(), [], [], generation=7)
    from_rows, from_file = catalog.load().columns, catalog.ranking().columns
    for name in ("date", "tags", "actors", "victims", "techniques"):
        assert from_file.values(name) == from_rows.values(name), name
    assert from_file.having("tags", ["china"]) == from_rows.having("tags", ["china"]) == BitMap([0, 1, 2, 3])
    assert from_file.dated("2018-01-03") == BitMap([1])
    spellings = {"china": "China", "attack": "Attack", "a b": "a b"}
    assert catalog.ranking().tag_names == catalog.load().tag_names == spellings


def test_columns_of_a_generation_the_file_no_longer_holds_are_not_read(tmp_path: Path) -> None:
    """A search then leaves its filters to the engine, which the next update brings in step."""
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    catalog.apply(entries(), [], [], generation=7)
    ranking = catalog.ranking()
    catalog.apply([], [], ["a.md"], generation=8)
    assert ranking.columns.values("tags") is None
    assert ranking.columns.dated("2018") is None and ranking.columns.having("actor", ["apt40"]) is None
    damaged = Catalog(tmp_path / "catalog.sqlite3").ranking()
    (tmp_path / "catalog.sqlite3").write_bytes(b"this is not sqlite" * 100)
    assert damaged.columns.values("date") is None and damaged.columns.having("tags", ["china"]) is None


def test_a_filter_read_from_the_file_finds_what_the_whole_column_does(tmp_path: Path) -> None:
    """Only candidates are read (a LIKE on an ASCII piece of the term, a date span widened by a day), then
    checked exactly: values that differ from the term only in non-ASCII case, spaces or commas, and dates
    whose offset moves them across a day, still match."""
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    odd = [
        CatalogEntry(row("k.md", 4, ("\u212aelvin", "Über"), ("Lazarus  Group",)), 1, 1),  # Kelvin sign
        CatalogEntry(row("p.md", 6, ("50%_off",), ("lazarus,group",)), 1, 1),
        CatalogEntry(
            PostRow(
                "z.md", "Z", datetime.fromisoformat("2017-12-31T22:00:00-05:00"), "u", "s", (), (), (), (), "0" * 40
            ),
            1,
            1,
        ),  # 2018-01-01 03:00 UTC
    ]
    catalog.apply(entries() + odd, [], [], generation=7)
    from_rows = catalog.load().columns
    for field, terms in (
        ("tags", ["kelvin"]),
        ("tags", ["über"]),
        ("tags", ["50%_off"]),
        ("tags", ["50%"]),
        ("actor", ["lazarus group"]),
        ("actor", ["apt40", "lazarus"]),
        ("technique", ["t1566"]),
    ):
        fresh = catalog.ranking().columns
        assert fresh.having(field, terms) == from_rows.having(field, terms), (field, terms)
    for value in ("2018", "2017", "2017-12-31", "2018-01-01", "[2018-01-02 to]", "[to 2017]"):
        fresh = catalog.ranking().columns
        assert fresh.dated(value) == from_rows.dated(value), value
    assert catalog.ranking().columns.having("actor", ["lazarus group"]) == BitMap([0, 2])  # p.md, k.md


def test_staged_rows_join_only_an_apply_that_takes_them(tmp_path: Path) -> None:
    """Rows a bulk build stages before its commit are invisible until the apply after that commit; an apply
    that does not take them (a later run, after a build that never committed) drops them."""
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    catalog.reset(0)
    first, second, third, fourth = entries()
    catalog.apply([first], [ProblemEntry(PostProblem("b.md", "bad YAML"), 1, 2)], [], generation=1)
    catalog.stage([second, third])
    assert set(catalog.load().rows) == {"a.md"} and catalog.generation() == 1
    catalog.stage(
        [replace(entry, row=replace(entry.row, post_id=f"{number}.md")) for number, entry in enumerate([second] * 600)]
    )
    staging = catalog.path.stat().st_size
    catalog.unstage()
    catalog.stage([second, third])
    catalog.apply([], [], [], generation=2, staged=True)
    assert catalog.path.stat().st_size < staging / 2  # the staged rows' pages were given back
    loaded = catalog.load()
    assert set(loaded.rows) == {"a.md", "b.md", "c.md"} and loaded.rows["b.md"] == second.row
    assert loaded.problems == [PostProblem("b.md", "no title; taken from the file name", skipped=False)]
    catalog.stage([fourth])
    catalog.apply([], [], ["a.md"], generation=3)
    catalog.apply([], [], [], generation=4, staged=True)
    assert set(catalog.load().rows) == {"b.md", "c.md"}
