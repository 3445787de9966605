"""Exports of a result set: STIX round trip with stix2, the Navigator layer's required fields, CSV and Markdown
injection, IoC refang/defang, deterministic ids, and no control characters anywhere."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import stix2
from markdown_it import MarkdownIt

from index.catalog import PostRow
from index.corpus import Corpus
from index.export import FORMATS, open_atomic, write_export
from index.export.brief import escape
from index.export.stix import pattern
from index.export.table import cell
from index.extract.iocs import defang, refang
from index.sanitize import _UNSAFE
from tests.export_corpus import write_corpus

IOC_VALUES = {
    ("domain", "evil-example.com"),
    ("ipv4", "203.0.113.7"),
    ("url", "http://evil-example.com/drop.php"),
    ("md5", "44d88612fea8a8f36de82e1278abb02f"),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    base = tmp_path_factory.mktemp("export")
    opened = Corpus.open(write_corpus(base / "posts"), base / "index")
    opened.update()
    return opened


def rows_for(corpus: Corpus, query: str = "") -> list[PostRow]:
    result = corpus.search(query, sort="date")
    assert result.error is None
    return corpus.rows(result.ids)


def export(corpus: Corpus, fmt: str, query: str = "", *, defang: bool = False, as_json: bool = False) -> str:
    out = io.StringIO(newline="")
    write_export(corpus.posts_dir, rows_for(corpus, query), fmt, out, query=query, defang=defang, as_json=as_json)
    return out.getvalue()


def test_stix_round_trip_counts(corpus: Corpus) -> None:
    bundle = stix2.parse(export(corpus, "stix"), allow_custom=False)
    counts = Counter(obj.type for obj in bundle.objects)
    assert counts == {
        "report": 4,
        "intrusion-set": 2,
        "attack-pattern": 3,
        "malware": 1,
        "vulnerability": 1,
        "location": 3,
        "identity": 5,
        "indicator": 4,
        "relationship": 5,
    }
    by_id = {obj.id: obj for obj in bundle.objects}
    apt40 = next(obj for obj in bundle.objects if obj.type == "intrusion-set" and obj.name == "APT40")
    assert "Leviathan" in apt40.aliases
    refs = {(ref.source_name, ref.external_id) for ref in apt40.external_references}
    assert ("misp-galaxy", "5b4b6980-3bc7-11e8-84d6-879aaac37dd9") in refs and ("mitre-attack", "G0065") in refs
    technique = next(o for o in bundle.objects if o.type == "attack-pattern" and o.name == "Ingress Tool Transfer")
    assert technique.external_references[0].external_id == "T1105"
    assert technique.external_references[0].url == "https://attack.mitre.org/techniques/T1105/"
    report = next(obj for obj in bundle.objects if obj.type == "report" and obj.name == "APT40 targets Cambodia")
    assert report.published.isoformat().startswith("2018-07-11")
    assert report.external_references[0].url == "https://www.example-news.com/apt40-cambodia"
    named = {by_id[ref].type + ":" + getattr(by_id[ref], "name", "") for ref in report.object_refs}
    assert {
        "intrusion-set:APT40",
        "location:Cambodia",
        "identity:Government",
        "malware:PlugX",
        "vulnerability:CVE-2017-11882",
        "indicator:http://evil-example.com/drop.php",
    } <= named
    targets = {(by_id[r.source_ref].name, by_id[r.target_ref].name) for r in bundle.objects if r.type == "relationship"}
    assert targets == {
        ("APT40", "Cambodia"),
        ("APT40", "Government"),
        ("APT40", "Malaysia"),
        ("Lazarus Group", "Finance"),
        ("Lazarus Group", "Bangladesh"),
    }
    patterns = {obj.pattern for obj in bundle.objects if obj.type == "indicator"}
    assert "[url:value = 'http://evil-example.com/drop.php']" in patterns
    assert "[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']" in patterns
    country = next(obj for obj in bundle.objects if obj.type == "location" and obj.name == "Malaysia")
    assert country.country == "MY"


def test_stix_ids_are_deterministic(corpus: Corpus) -> None:
    first, second = export(corpus, "stix", "actor:APT40"), export(corpus, "stix", "actor:APT40")
    assert first == second
    everything = {obj["id"]: obj for obj in json.loads(export(corpus, "stix"))["objects"]}
    subset = json.loads(first)["objects"]
    assert all(everything[obj["id"]] == obj for obj in subset)  # the same objects in a larger export


def test_stix_pattern_quotes_values() -> None:
    assert pattern("url", "http://x.test/a'b\\c") == "[url:value = 'http://x.test/a\\'b\\\\c']"
    assert pattern("sha1", "a" * 40) == "[file:hashes.'SHA-1' = '" + "a" * 40 + "']"
    assert pattern("cidr", "x") is None


def test_navigator_layer_required_fields(corpus: Corpus) -> None:
    layer = json.loads(export(corpus, "navigator", "actor:APT40"))
    assert isinstance(layer["name"], str) and layer["name"]
    assert layer["domain"] == "enterprise-attack"
    assert layer["versions"]["layer"] == "4.5" and re.fullmatch(r"5\.\d+\.\d+", layer["versions"]["navigator"])
    entries = {entry["techniqueID"]: entry for entry in layer["techniques"]}
    assert set(entries) == {"T1566.001", "T1203"}
    assert entries["T1566.001"]["score"] == 2 and entries["T1203"]["score"] == 1
    assert entries["T1566.001"]["comment"] == "Leviathan hits Malaysia; APT40 targets Cambodia"
    for entry in layer["techniques"]:
        assert re.fullmatch(r"T\d{4}(\.\d{3})?", entry["techniqueID"]) and isinstance(entry["score"], int)
    assert layer["gradient"]["maxValue"] == 2 and len(layer["gradient"]["colors"]) >= 2


def test_csv_rows_and_injection(corpus: Corpus) -> None:
    text = export(corpus, "csv")
    assert text.endswith("\r\n") and "\r\n" in text
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0] == ["date", "title", "source", "url", "tags", "actors", "victims", "techniques", "malware", "cves"]
    assert len(table) == 5
    first = {row[1]: row for row in table[1:]}["APT40 targets Cambodia"]
    assert first[7] == "T1566.001 Spearphishing Attachment; T1203 Exploitation for Client Execution"
    assert first[8] == "PlugX" and first[9] == "CVE-2017-11882" and first[6] == "Cambodia; Government"
    hostile = next(row for row in table[1:] if "HYPERLINK" in row[1])
    assert hostile[1].startswith("'=")
    for row in table[1:]:
        assert all(not value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", " =1"])
def test_csv_cells_never_start_a_formula(value: str) -> None:
    result = cell(value)
    assert not result.startswith(("=", "+", "-", "@", "\t", "\r")) and "\t" not in result and "\r" not in result
    assert cell("=1+1") == "'=1+1" and cell(" @x") == "'@x"
    assert cell("plain") == "plain" and cell("a=b") == "a=b"


def test_markdown_brief_links_only_sources(corpus: Corpus) -> None:
    text = export(corpus, "md", "")
    assert "- Query: all posts" in text and "- Dates: 2018-07-11 to 2019-01-15" in text
    assert "| APT40 | 3 |" in text and "| T1566.001 Spearphishing Attachment | 2 |" in text
    html = MarkdownIt("gfm-like").render(text)
    links = re.findall(r'<a href="([^"]*)"', html)
    assert sorted(links) == sorted(
        [
            "https://www.example-news.com/apt40-cambodia",
            "https://research.example.org/leviathan",
            "https://www.example-news.com/lazarus",
        ]
    )
    assert "<b>" not in html and "evil.test" not in " ".join(links) and "javascript" not in " ".join(links)
    assert "[click](http:" not in text


def test_markdown_escape_renders_literally() -> None:
    hostile = "[x](http://a.test) *b* `c` <i>d</i> www.e.test f@g.test # | h"
    html = MarkdownIt("gfm-like").render(escape(hostile))
    assert "<a " not in html and "<em>" not in html and "<code>" not in html and "<i>" not in html


def test_iocs_refanged_sorted_deduplicated(corpus: Corpus) -> None:
    lines = export(corpus, "iocs").splitlines()
    assert lines == sorted(lines) and len(lines) == len(set(lines))
    assert {tuple(line.split("\t")) for line in lines} == IOC_VALUES
    defanged = export(corpus, "iocs", defang=True).splitlines()
    assert "url\thxxp://evil-example[.]com/drop.php" in defanged and "ipv4\t203[.]0[.]113[.]7" in defanged
    assert {(kind, refang(value)) for kind, value in (line.split("\t") for line in defanged)} == IOC_VALUES


def test_iocs_json_names_their_posts(corpus: Corpus) -> None:
    items = json.loads(export(corpus, "iocs", as_json=True))
    posts = {item["value"]: sorted(post["id"] for post in item["posts"]) for item in items}
    assert posts["203.0.113.7"] == ["2018-07-11-a.md", "2018-08-02-b.md"]
    assert posts["44d88612fea8a8f36de82e1278abb02f"] == ["2018-08-02-b.md"]


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("http://evil.example.com/a.php?x=1", "url", "hxxp://evil[.]example[.]com/a.php?x=1"),
        ("https://1.2.3.4:8080/x", "url", "hxxps://1[.]2[.]3[.]4:8080/x"),
        ("1.2.3.4", "ipv4", "1[.]2[.]3[.]4"),
        ("a.b@evil.com", "email", "a.b[@]evil[.]com"),
        ("2001:db8::1", "ipv6", "2001[:]db8[:][:]1"),
        ("d41d8cd98f00b204e9800998ecf8427e", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ],
)
def test_defang_round_trips(value: str, kind: str, expected: str) -> None:
    assert defang(value, kind) == expected
    assert refang(expected) == value


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_control_characters_in_any_export(corpus: Corpus, fmt: str) -> None:
    text = export(corpus, fmt)
    assert not _UNSAFE.search(text.replace("\r\n", "\n")), fmt
    assert "\x1b" not in json.dumps(text)  # not even as an escape inside JSON


def test_open_atomic_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), open_atomic(target) as out:
        out.write("half")
        raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    with open_atomic(target) as out:
        out.write("new")
    assert target.read_text(encoding="utf-8") == "new"


def test_empty_result_set_gives_valid_empty_exports(corpus: Corpus) -> None:
    bundle = stix2.parse(export(corpus, "stix", "zebra"), allow_custom=False, version="2.1")
    assert bundle.type == "bundle" and "objects" not in bundle  # as stix2's own empty Bundle() serialises
    assert json.loads(export(corpus, "navigator", "zebra"))["techniques"] == []
    assert (
        export(corpus, "csv", "zebra")
        == ",".join(["date", "title", "source", "url", "tags", "actors", "victims", "techniques", "malware", "cves"])
        + "\r\n"
    )
    assert export(corpus, "iocs", "zebra") == "" and json.loads(export(corpus, "iocs", "zebra", as_json=True)) == []


def test_two_worker_processes_write_the_same_export(corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    sequential = {fmt: export(corpus, fmt) for fmt in ("stix", "iocs")}
    monkeypatch.setattr("index.export.gather.PARALLEL_AFTER", 1)
    seen: list[tuple[int, int]] = []
    out = io.StringIO(newline="")
    write_export(corpus.posts_dir, rows_for(corpus), "stix", out, progress=lambda *step: seen.append(step))
    assert out.getvalue() == sequential["stix"]  # each entity once, even when both workers made it
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert export(corpus, "iocs") == sequential["iocs"]
