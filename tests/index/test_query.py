"""The query language: fields, aliases, dates, junk input, and a property test that nothing raises."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import index.preparing as preparing_module
import index.query as query_module
from index.corpus import Corpus
from index.extract import Mention
from index.extract.iocs import refang
from index.query import MAX_QUERY_CHARS, compose_query, expand_term, filter_term, parse_query

POSTS = {
    "2019-01-05-a.md": (
        "2019-01-05",
        "Leviathan returns",
        "TEMP.Periscope used spearphishing T1566.001 and evil[.]example.",
    ),
    "2018-07-11-b.md": ("2018-07-11", "APT40 in Cambodia", "APT40 ran a watering hole. CVE-2017-11882 was used."),
    "2018-03-02-c.md": ("2018-03-02", "Lazarus banks", "Lazarus Group hit banks with phishing lures."),
    "2017-05-30-d.md": ("2017-05-30", "Ransomware [/] wave", "Water flows into a deep hole; no phrase here."),
}


class FakeKnowledge:
    """Stands in for index.knowledge until the real tables land; same contract."""

    def canonical_actor(self, name: str) -> str | None:
        return {"temp.periscope": "APT40", "leviathan": "APT40", "apt40": "APT40"}.get(name.lower())

    def technique_ids(self, text: str) -> list[str]:
        return ["T1566"] if "phishing" in text.lower() else []

    def canonical_victim(self, name: str) -> str | None:
        return None

    def canonical_malware(self, name: str) -> str | None:
        return None


_FAKE_ENTITIES = [
    (re.compile(r"TEMP\.Periscope|APT40"), "ACTOR", "APT40", ""),
    (re.compile(r"Lazarus Group"), "ACTOR", "Lazarus Group", ""),
    (re.compile(r"T1566\.001"), "TECHNIQUE", "Spearphishing Attachment", "T1566.001"),
    (re.compile(r"evil\[\.\]example"), "IOC", "evil.example", "domain"),
    (re.compile(r"CVE-\d{4}-\d+"), "VULN", "CVE-2017-11882", "CVE-2017-11882"),
]


def fake_extract(text: str) -> list[Mention]:
    found = [
        Mention(kind, m.start(), m.end(), m.group(), canonical, ref)  # type: ignore[arg-type]
        for pattern, kind, canonical, ref in _FAKE_ENTITIES
        for m in pattern.finditer(text)
    ]
    return sorted(found, key=lambda mention: mention.start)


def fake_index_terms(mentions: list[Mention]) -> dict[str, list[str]]:
    terms: dict[str, list[str]] = {"actor": [], "technique": [], "ioc": [], "vuln": []}
    for mention in mentions:
        if mention.kind == "ACTOR":
            terms["actor"].append(mention.canonical.lower())
        elif mention.kind == "TECHNIQUE":
            terms["technique"] += [mention.ref.lower(), mention.ref.split(".")[0].lower()]
        else:
            terms["ioc" if mention.kind == "IOC" else "vuln"].append(mention.canonical.lower())
    return terms


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    patch = pytest.MonkeyPatch()
    patch.setattr(preparing_module, "extract", fake_extract)
    patch.setattr(preparing_module, "index_terms", fake_index_terms)
    patch.setattr(query_module, "get_knowledge", FakeKnowledge)
    root = tmp_path_factory.mktemp("query")
    posts = root / "posts"
    posts.mkdir()
    for name, (date, title, body) in POSTS.items():
        (posts / name).write_text(f"---\ntitle: {title}\ndate: {date}\ntags: [Tag{name[:4]}]\n---\n{body}\n")
    result = Corpus.open(posts, root / "index")
    result.update()
    yield result
    result.close()
    patch.undo()


def ids(corpus: Corpus, query: str) -> list[str]:
    result = corpus.search(query)
    assert result.error is None, result.error
    return sorted(name[11] for name in result.ids)


def test_plain_words_phrases_and_booleans(corpus: Corpus) -> None:
    assert ids(corpus, "watering hole") == ["b", "d"]
    assert ids(corpus, '"watering hole"') == ["b"]
    assert ids(corpus, "phishing") == ["c"]  # "spearphishing" is another word
    assert ids(corpus, "lures OR cambodia") == ["b", "c"]
    assert ids(corpus, "water NOT phrase") == ["b"]
    assert ids(corpus, "water -phrase") == ["b"]
    assert ids(corpus, "title:lazarus") == ["c"]


def test_entity_fields_are_alias_aware(corpus: Corpus) -> None:
    assert ids(corpus, "actor:APT40") == ["a", "b"]
    assert ids(corpus, "actor:TEMP.Periscope") == ["a", "b"]
    assert ids(corpus, "actor:leviathan") == ["a", "b"]
    assert ids(corpus, 'actor:"Lazarus Group"') == ["c"]
    assert ids(corpus, "technique:T1566") == ["a"]
    assert ids(corpus, "technique:t1566.001") == ["a"]
    assert ids(corpus, "technique:phishing") == ["a"]
    assert ids(corpus, "ioc:evil[.]example") == ["a"]
    assert ids(corpus, "cve:CVE-2017-11882") == ["b"]
    assert ids(corpus, "tag:TAG2018") == ["b", "c"]


def test_compose_query_and_filter_terms() -> None:
    assert compose_query("", []) == ""
    assert compose_query(" lazarus ", []) == "lazarus"
    assert compose_query("a OR b", [("tag", "China")]) == '(a OR b) tag:"China"'
    assert compose_query("", [("tag", "China"), ("actor", "APT40")]) == 'tag:"China" actor:"APT40"'
    assert filter_term("technique", "T1566.001 Spearphishing Attachment") == "technique:T1566.001"
    assert filter_term("TECHNIQUE", "t1059 Command and Scripting Interpreter") == "technique:T1059"
    assert filter_term("technique", "Phishing") == 'technique:"Phishing"'  # a name, not an ID
    assert filter_term("technique", "T15660") == 'technique:"T15660"'  # not an ID: no word boundary
    assert filter_term("VULN", "CVE-2018-0802") == 'cve:"CVE-2018-0802"'
    assert filter_term("MALWARE", "PlugX") == 'malware:"PlugX"'
    assert filter_term("VICTIM", "  Cambodia ") == 'victim:"Cambodia"'
    assert filter_term("tag", 'say "hi"') == 'tag:"say hi"'
    assert filter_term("IOC", "evil[.]example") == '"evil[.]example"'
    assert filter_term("unknown", "x y") == '"x y"'


def test_composed_filters_find_what_they_name(corpus: Corpus) -> None:
    assert ids(corpus, compose_query("", [("ACTOR", "APT40")])) == ["a", "b"]
    assert ids(corpus, compose_query("water", [("actor", "APT40")])) == ["b"]
    assert ids(corpus, compose_query("", [("TECHNIQUE", "T1566.001 Spearphishing Attachment")])) == ["a"]
    assert ids(corpus, compose_query("", [("tag", "Tag2018"), ("VULN", "CVE-2017-11882")])) == ["b"]
    assert ids(corpus, compose_query("lures OR cambodia", [("tag", "Tag2018")])) == ["b", "c"]


def test_dates(corpus: Corpus) -> None:
    assert ids(corpus, "date:2018") == ["b", "c"]
    assert ids(corpus, "date:2018-07") == ["b"]
    assert ids(corpus, "date:2018-07-11") == ["b"]
    assert ids(corpus, "date:[2018-01 to 2018-06]") == ["c"]
    assert ids(corpus, "date:[2018-01 TO 2019-12] water") == ["b"]
    assert ids(corpus, "date:[2018-06 to]") == ["a", "b"]
    for bad in ("date:2018-13", "date:201", "date:[x to y]", "date:", "date:2019-02-30"):
        result = corpus.search(bad)
        assert result.error and "date" in result.error and result.ids == []


@pytest.mark.parametrize(
    "junk",
    [
        "(",
        ")",
        '"x',
        "AND OR",
        "*",
        "title:(",
        "[/]",
        "foo:bar",
        "NOT",
        "a:b:c",
        "'",
        "''",
        "[a TO b]",
        "title:[a to b]",
        "x~2",
        "x^",
        "ioc:",
        "ioc:(",
        "((((((((((x",
        "*" * 50,
        "é∂ƒ©",
        "\x00\x1b[31m",
    ],
)
def test_junk_never_raises_and_is_bounded(corpus: Corpus, junk: str) -> None:
    result = corpus.search(junk)
    assert result.total <= len(POSTS)


def test_very_long_queries_are_refused(corpus: Corpus) -> None:
    result = corpus.search("phishing " * 2000)
    assert result.error and "too long" in result.error and result.ids == []


def test_plain_mode_quotes_operators(corpus: Corpus) -> None:
    assert ids(corpus, "watering hole") == ids(corpus, "watering hole")
    result = corpus.search('title:( AND "[/] OR', plain=True)
    assert result.error is None
    assert corpus.search("lazarus banks", plain=True).ids == ["2018-03-02-c.md"]
    assert parse_query("is:read NOT x", plain=True).flags == ()


def test_parse_query_parts() -> None:
    parsed = parse_query('is:unread is:archived sort:relevance "watering hole" NOT ignored apt* actor:APT40')
    assert parsed.flags == (("read", False), ("archived", True)) and parsed.show_archived
    assert parsed.sort == "relevance"
    assert parsed.terms == ("watering hole", "apt", "APT40")
    assert "is:" not in parsed.text and "sort:" not in parsed.text
    assert parse_query("is:nope").error and parse_query("sort:size").error
    assert parse_query("x" * (MAX_QUERY_CHARS + 1)).error
    assert parse_query("ioc:hxxp://evil[.]example/a'b").text == "ioc:'http://evil.example/a b'"


def test_refang_and_expand() -> None:
    assert refang("hxxps://Evil[.]Example[.]com") == "https://Evil.Example.com"
    assert parse_query("ioc:hxxps://Evil[.]Example[.]com").text == "ioc:'https://evil.example.com'"
    assert refang("10[.]0[.]0[.]1") == "10.0.0.1"
    assert expand_term("ioc", "evil[.]example") == ["evil[.]example", "evil.example"]
    assert expand_term("technique", "t1566")[0] == "t1566"


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(max_size=200)
    | st.lists(
        st.sampled_from(
            [
                "(",
                ")",
                '"',
                "'",
                "[",
                "]",
                "{",
                "}",
                "AND",
                "OR",
                "NOT",
                "*",
                "?",
                "tag:",
                "date:",
                "actor:",
                "is:",
                "ioc:",
                "to",
                "TO",
                "x",
                "2018",
                "-",
                "^",
                "~",
                ":",
                " ",
            ]
        ),
        max_size=30,
    ).map("".join)
)
@example(text="")
@example(text="(" * 999)
@example(text='"unclosed')
@example(text="date:[zzz to]")
@example(text="\x00\u2028\u202e")
def test_no_query_ever_raises(corpus: Corpus, text: str) -> None:
    for plain in (False, True):
        result = corpus.search(text, plain=plain)
        assert result.total <= len(POSTS)
        assert result.error is None or isinstance(result.error, str)
