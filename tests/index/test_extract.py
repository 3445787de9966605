"""Extraction: names and aliases, roles, techniques, IoCs, offsets, determinism and linear time."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import index.extract.extractor
import index.extract.iocs
import index.extract.prose
import index.extract.techniques
import index.extract.victims
from index.extract import Mention, extract, index_terms
from index.knowledge import get_knowledge
from index.vocabulary import ENTITY_FIELDS
from tests.index.helpers import assert_well_formed

TraceFunction = Callable[[FrameType, str, Any], Any]

try:  # the regex parser moved in 3.11; the old name still works but warns
    import re._parser as sre_parse  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef,unused-ignore]

CAMBODIA = (
    "Chinese hackers breached Cambodian ministries ahead of the election, FireEye said on Tuesday. "
    "The group, TEMP.Periscope (also known as Leviathan or APT40), targeted the National Election Commission "
    "and the Ministry of Foreign Affairs and International Cooperation with spear-phishing emails carrying "
    "malicious attachments and a watering hole."
)


@pytest.fixture(scope="module", autouse=True)
def _knowledge_loaded() -> None:
    get_knowledge()


def of_kind(mentions: list[Mention], kind: str) -> list[Mention]:
    return [m for m in mentions if m.kind == kind]


def find(mentions: list[Mention], text: str, kind: str | None = None) -> Mention | None:
    return next((m for m in mentions if m.text == text and (kind is None or m.kind == kind)), None)


# --- actors -------------------------------------------------------------------------------------------


def test_aliases_resolve_to_one_canonical_actor() -> None:
    actors = of_kind(extract(CAMBODIA), "ACTOR")
    assert [m.text for m in actors] == ["TEMP.Periscope", "Leviathan", "APT40"]
    assert {m.canonical for m in actors} == {"APT40"}
    assert {m.ref for m in actors} == {"5b4b6980-3bc7-11e8-84d6-879aaac37dd9"}
    assert {m.role for m in actors} == {"China"}


def test_naming_schemes_outside_the_galaxy() -> None:
    text = "Researchers track UNC9999, APT 99, TA9999, FIN99, DEV-9999, Storm-9999, TEMP.Quux and Zyzzyx Panda."
    found = {m.text: m.canonical for m in of_kind(extract(text), "ACTOR")}
    assert found == {
        "UNC9999": "UNC9999",
        "APT 99": "APT99",
        "TA9999": "TA9999",
        "FIN99": "FIN99",
        "DEV-9999": "DEV-9999",
        "Storm-9999": "Storm-9999",
        "TEMP.Quux": "TEMP.Quux",
        "Zyzzyx Panda": "Zyzzyx Panda",
    }


def test_scheme_names_in_the_galaxy_resolve() -> None:
    assert {m.canonical for m in of_kind(extract("APT 41 and Wicked Panda"), "ACTOR")} == {"APT41"}


def test_cobalt_the_actor_is_not_cobalt_strike_the_tool() -> None:
    mentions = extract("Cobalt, a crime group, dropped Cobalt Strike beacons.")
    assert [(m.kind, m.text) for m in mentions if m.kind in ("ACTOR", "MALWARE")] == [
        ("ACTOR", "Cobalt"),
        ("MALWARE", "Cobalt Strike"),
    ]


def test_acronyms_are_case_sensitive_and_common_words_are_not_actors() -> None:
    assert of_kind(extract("the apt40 string in lower case, a snake and an equation"), "ACTOR") == []
    assert of_kind(extract("We saw APT40."), "ACTOR")[0].canonical == "APT40"


def test_gang_named_as_malware_is_malware() -> None:
    mentions = extract("The Conti gang deployed Conti ransomware.")
    assert (find(mentions, "Conti", "ACTOR") or find(mentions, "Conti gang", "ACTOR")) is not None
    second = [m for m in mentions if m.start > 20 and m.text == "Conti"]
    assert [m.kind for m in second] == ["MALWARE"]


# --- victims and roles -----------------------------------------------------------------------------------


def test_origin_versus_victim_country() -> None:
    mentions = extract(CAMBODIA)
    victims = of_kind(mentions, "VICTIM")
    assert find(victims, "Cambodian") == Mention("VICTIM", 25, 34, "Cambodian", "Cambodia", "KH", "country")
    assert not any(m.canonical == "China" for m in victims)


def test_vendor_that_reports_is_not_a_victim() -> None:
    assert not any(m.text == "FireEye" for m in of_kind(extract(CAMBODIA), "VICTIM"))


def test_organisations_and_sectors() -> None:
    victims = of_kind(extract(CAMBODIA), "VICTIM")
    roles = {m.text: m.role for m in victims}
    assert roles["National Election Commission"] == "organisation"
    assert roles["Ministry of Foreign Affairs and International Cooperation"] == "organisation"
    assert roles["ministries"] == "sector"
    assert find(victims, "ministries") is not None and find(victims, "ministries").canonical == "Government"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "victim", "canonical"),
    [
        ("North Korean hackers stole $81 million from Bangladesh Bank.", "Bangladesh Bank", "Bangladesh Bank"),
        ("Russian hackers attacked Ukrainian power companies.", "Ukrainian", "Ukraine"),
        ("Iran-linked actors targeted U.S. banks.", "U.S.", "United States"),
        ("The attackers hit hospitals and energy companies.", "energy companies", "Energy"),
        ("Hackers breached Equifax and stole data.", "Equifax", "Equifax"),
    ],
)
def test_victims_in_targeting_context(text: str, victim: str, canonical: str) -> None:
    found = find(of_kind(extract(text), "VICTIM"), victim)
    assert found is not None and found.canonical == canonical


@pytest.mark.parametrize(
    "text",
    [
        "North Korean hackers stole $81 million from Bangladesh Bank.",
        "Russian hackers attacked Ukrainian power companies.",
        "Iran-linked actors targeted U.S. banks.",
        "The campaign was blamed on Russia by officials.",
    ],
)
def test_origin_countries_are_not_victims(text: str) -> None:
    victims = {m.canonical for m in of_kind(extract(text), "VICTIM")}
    assert not victims & {"North Korea", "Russia", "Iran"}


def test_no_victims_without_targeting_context() -> None:
    assert of_kind(extract("Cambodia held an election and banks opened late."), "VICTIM") == []


# --- techniques ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "surface", "attack_id"),
    [
        ("They sent spear-phishing emails with malicious attachments.", "spear-phishing emails", "T1566.001"),
        ("Phishing emails with links to fake sites.", "Phishing emails", "T1566.002"),
        ("A classic phishing campaign.", "phishing campaign", "T1566"),
        ("They set up a watering hole.", "watering hole", "T1189"),
        ("The intruders dumped credentials.", "dumped credentials", "T1003"),
        ("They used password spraying.", "password spraying", "T1110.003"),
        ("A trojanized update spread it.", "trojanized update", "T1195.002"),
        ("It encrypted files and demanded a ransom.", "encrypted files and demanded a ransom", "T1486"),
        ("The malware wiped thousands of computers.", "wiped thousands of computers", "T1561"),
        ("They installed a web shell.", "web shell", "T1505.003"),
        ("Data left via DNS tunnelling.", "DNS tunnelling", "T1071.004"),
        ("The gang used MFA fatigue.", "MFA fatigue", "T1621"),
        ("Techniques included T1059.001.", "T1059.001", "T1059.001"),
    ],
)
def test_technique_phrases_carry_attack_ids(text: str, surface: str, attack_id: str) -> None:
    found = find(of_kind(extract(text), "TECHNIQUE"), surface)
    assert found is not None, [m.text for m in extract(text)]
    assert found.ref == attack_id
    assert found.canonical == get_knowledge().technique_name(attack_id)


def test_cve_is_a_vuln_and_exploitation_needs_a_verb() -> None:
    plain = extract("A patch for CVE-2021-26855 is out.")
    assert [(m.kind, m.canonical) for m in plain] == [("VULN", "CVE-2021-26855")]
    server = extract("They exploited CVE-2021-26855 in Exchange servers.")
    assert find(server, "exploited", "TECHNIQUE") is not None
    assert find(server, "exploited", "TECHNIQUE").ref == "T1190"  # type: ignore[union-attr]
    client = extract("The document exploited a zero-day in Word.")
    assert find(client, "exploited a zero-day", "TECHNIQUE").ref == "T1203"  # type: ignore[union-attr]


# --- IoCs -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("surface", "canonical", "kind"),
    [
        ("hxxp://evil[.]example/path", "http://evil.example/path", "url"),
        ("hXXps://bad[.]com/a?b=1", "https://bad.com/a?b=1", "url"),
        ("203.0.113[.]7", "203.0.113.7", "ipv4"),
        ("203.0.113.7", "203.0.113.7", "ipv4"),
        ("evil(.)com", "evil.com", "domain"),
        ("evil{.}com", "evil.com", "domain"),
        ("evil[DOT]com", "evil.com", "domain"),  # defang words in any case
        ("c2(dot)badhost[.]ru", "c2.badhost.ru", "domain"),
        ("admin[At]bad[.]org", "admin@bad.org", "email"),
        ("update-check[.]net", "update-check.net", "domain"),
        ("c2.badhost.ru", "c2.badhost.ru", "domain"),
        ("user[@]bad[.]org", "user@bad.org", "email"),
        ("2001:db8::1", "2001:db8::1", "ipv6"),
        ("d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e", "md5"),
        ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "sha1"),
    ],
)
def test_iocs_plain_and_defanged(surface: str, canonical: str, kind: str) -> None:
    text = f"Indicators: {surface}, seen twice."
    found = of_kind(extract(text), "IOC")
    assert [(m.text, m.canonical, m.ref) for m in found] == [(surface, canonical, kind)]


@pytest.mark.parametrize(
    "text",
    [
        "Upgrade to version 1.2.3.4 now.",
        "Open report.pdf and invoice.docx.",
        "See microsoft.com and github.com for details.",
        "The U.S. and e.g. other words, 3.5 percent.",
        "Meet at 10:30 today.",
    ],
)
def test_non_indicators(text: str) -> None:
    assert of_kind(extract(text), "IOC") == []


# --- offsets, overlaps, determinism ------------------------------------------------------------------------


def test_offsets_with_emoji_wide_and_combining_characters() -> None:
    text = "🙂🙂 Ｗｉｄｅ 中文 e\u0301t\u0301e\u0301 İstanbul: APT40 breached Cambodian ministries via 203.0.113[.]7 🚀"
    mentions = extract(text)
    assert {m.kind for m in mentions} >= {"ACTOR", "VICTIM", "IOC"}
    for mention in mentions:
        assert text[mention.start : mention.end] == mention.text


def test_longest_match_wins_and_is_deterministic() -> None:
    text = "The Lazarus Group, also called Lazarus, used spear-phishing emails with malicious attachments."
    first = extract(text)
    assert first == extract(text)
    assert find(first, "Lazarus Group", "ACTOR") is not None
    assert find(first, "spear-phishing emails", "TECHNIQUE") is not None
    assert_well_formed(text, first)


def test_empty_and_blank_input() -> None:
    assert extract("") == []
    assert extract(" \n\t ") == []


def test_index_terms() -> None:
    terms = index_terms(extract(CAMBODIA + " C2 at hxxp://evil[.]example/x and CVE-2017-11882."))
    assert tuple(terms) == ENTITY_FIELDS
    assert terms["actor"] == ["apt40"]
    assert "t1566.001" in terms["technique"] and "t1566" in terms["technique"]
    assert "cambodia" in terms["victim"] and "national election commission" in terms["victim"]
    assert terms["vuln"] == ["cve-2017-11882"]
    assert terms["ioc"] == ["http://evil.example/x"]
    for values in terms.values():
        assert all(value == value.lower() for value in values)


WORDS = [
    "APT40", "TEMP.Periscope", "Lazarus", "Group", "Cobalt", "Strike", "Chinese", "hackers", "breached",
    "Cambodian", "ministries", "National", "Election", "Commission", "Ministry", "of", "Bank", "banks",
    "spear-phishing", "emails", "watering", "hole", "exploited", "a", "zero-day", "CVE-2017-11882",
    "hxxp://evil[.]example", "203.0.113[.]7", "U.S.", "FireEye", "said", "targeted", "the", "and", ",", ".",
    "🙂", "中文", "e\u0301", "İ", "wiped", "computers", "Panda", "Fancy", "Bear", "[.]", "1.", "APT",
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WORDS) | st.text(max_size=6), max_size=40), st.sampled_from([" ", "", "\n", "  "]))
@example(["hxxp://evil[.]example", "[.]", "203.0.113[.]7"], "")
@example(["Lazarus", "Group"], "\n")
@example(["e\u0301", "İ", "APT40", "\u200b"], " ")
@example([], " ")
def test_property_mentions_are_well_formed(words: list[str], separator: str) -> None:
    text = separator.join(words)
    assert_well_formed(text, extract(text))


# --- linear time ---------------------------------------------------------------------------------------


def _patterns() -> list[re.Pattern[str]]:
    """Every module-level pattern of the extractor, including those kept in tuples (one per spelling)."""
    modules = (index.extract.extractor, index.extract.iocs, index.extract.prose, index.extract.techniques,
               index.extract.victims)  # fmt: skip
    found: list[re.Pattern[str]] = []
    values: list[object] = [value for module in modules for value in vars(module).values()]
    while values:
        value = values.pop()
        if isinstance(value, re.Pattern):
            found.append(value)
        elif isinstance(value, tuple):
            values.extend(value)
    return found


def test_patterns_held_in_tuples_are_checked_too() -> None:
    sources = {pattern.pattern for pattern in _patterns()}
    assert all(pattern.pattern in sources for pattern in index.extract.prose._SENTENCE_STOPS)
    assert all(pattern.pattern in sources for _, pattern in index.extract.extractor._CVES)


def _nested_unbounded(tree: Any, inside: bool = False) -> bool:
    """Whether an unbounded repeat sits inside another unbounded repeat (the catastrophic shape)."""
    for op, argument in tree:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _low, high, body = argument
            unbounded = high == sre_parse.MAXREPEAT
            if unbounded and inside:
                return True
            if _nested_unbounded(body, inside or unbounded):
                return True
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            if _nested_unbounded(argument[-1], inside):
                return True
        elif name == "BRANCH":
            if any(_nested_unbounded(branch, inside) for branch in argument[1]):
                return True
        elif name in ("ASSERT", "ASSERT_NOT") and _nested_unbounded(argument[1], inside):
            return True
    return False


def test_regexes_have_no_nested_unbounded_repetition() -> None:
    patterns = _patterns()
    assert len(patterns) >= 8
    for pattern in patterns:
        assert not _nested_unbounded(sre_parse.parse(pattern.pattern, pattern.flags)), pattern.pattern


def _operations(text: str) -> int:
    """Python line events spent inside index/ while extracting ``text`` (a machine-independent cost)."""
    root = str(Path(index.extract.__file__).parents[1])
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> TraceFunction:
        nonlocal count
        count += 1
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> TraceFunction | None:
        return local if frame.f_code.co_filename.startswith(root) else None

    sys.settrace(tracer)
    try:
        extract(text)
    finally:
        sys.settrace(None)
    return count


PATHOLOGICAL: dict[str, Callable[[int], str]] = {
    "letters": lambda n: "a" * n,
    "APT": lambda n: "APT" * (n // 3),
    "defanged dots": lambda n: "[.]" * (n // 3),
    "numbers": lambda n: "1." * (n // 2),
    "labels": lambda n: "a." * (n // 2),
    "hex": lambda n: "0a" * (n // 2),
    "org heads": lambda n: "Ministry of " * (n // 12),
    "capitals": lambda n: "Abc " * (n // 4),
    "animals": lambda n: "Foo Panda " * (n // 10),
    "victim lists": lambda n: "hit Sony, " * (n // 10),
    "verbs": lambda n: "wiped " * (n // 6),
    "urls": lambda n: "hxxp://" * (n // 7),
    "prose": lambda n: "Chinese hackers breached Cambodian ministries with spear-phishing emails. " * (n // 72),
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_operation_count_grows_linearly(name: str) -> None:
    make = PATHOLOGICAL[name]
    small, large = _operations(make(4000)), _operations(make(8000))
    assert large <= 2.3 * small + 400, (small, large)


@pytest.mark.parametrize(
    "text", ["a" * 10**6, "APT" * 10**5, "[.]" * 10**5, "1." * 10**5, "x" * 500_000 + "\n" + "y." * 100_000]
)
def test_megabyte_inputs_complete(text: str) -> None:
    assert_well_formed(text, extract(text))


# --- the command-line view --------------------------------------------------------------------------------


def test_run_extract_json_and_listing(tmp_path: Path) -> None:
    from tui.extract_view import run_extract

    post = tmp_path / "2018-07-11-post.md"
    post.write_text("---\ntitle: t\n---\n" + CAMBODIA + " \x1b[31m[bold]x[/bold]", encoding="utf-8")
    out = io.StringIO()
    assert run_extract(str(post), True, out=out) == 0
    data = json.loads(out.getvalue())
    assert {"kind": "ACTOR", "text": "TEMP.Periscope", "canonical": "APT40"}.items() <= data[1].items() or any(
        item["text"] == "TEMP.Periscope" and item["canonical"] == "APT40" for item in data
    )
    listing = io.StringIO()
    assert run_extract(str(post), False, out=listing) == 0
    assert "APT40" in listing.getvalue() and "T1566.001" in listing.getvalue()
    assert "\x1b[31m" not in listing.getvalue()


def test_run_extract_problem_post(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.extract_view import run_extract

    post = tmp_path / "bad.md"
    post.write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    assert run_extract(str(post), False) == 1
    assert "bad.md" in capsys.readouterr().err
    assert run_extract("", False) == 2
