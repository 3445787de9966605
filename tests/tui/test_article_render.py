"""Article rendering: exact highlight offsets, post text never acting as markup, Markdown structure."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

import tui.article_render as article_render
from index.extract import Mention
from index.posts import Post
from index.vocabulary import STYLES, Kind
from tui.article_render import (
    CODE_STYLE,
    CURRENT_STYLE,
    LEGEND,
    TERM_STYLE,
    render_body,
    render_header,
)

MARKUP_TRAPS = [
    "[/]",
    "[bold red]x",
    "[@click=app.quit]x[/]",
    "[link=https://evil.example]click me[/link]",
    "[[nested [bold]brackets[/bold]]]",
    "[/bold][/italic][/]",
    "$accent [b]x[/b] [on red]y",
]


def mention(
    body: str, surface: str, kind: Kind = "ACTOR", canonical: str = "", ref: str = "", role: str = ""
) -> Mention:
    """A mention of the first occurrence of ``surface`` in ``body``."""
    start = body.index(surface)
    return Mention(kind, start, start + len(surface), surface, canonical or surface, ref, role)


def styles_at(text: Text, start: int, end: int) -> set[str]:
    return {str(span.style) for span in text.spans if span.start == start and span.end == end}


def rendered_segments(text: Text) -> list[tuple[str, bool, dict[str, object]]]:
    """What a terminal would get: (text, has a link, meta) per segment."""
    console = Console(width=60, force_terminal=True, color_system="truecolor")
    return [
        (segment.text, bool(segment.style and segment.style.link), dict(segment.style.meta) if segment.style else {})
        for segment in console.render(text)
    ]


def make_post(**changes: object) -> Post:
    values: dict[str, object] = {
        "post_id": "2018-07-11-x.md",
        "path": Path("2018-07-11-x.md"),
        "title": "Chinese group breaches Cambodian election bodies",
        "date": datetime(2018, 7, 11, 0, 2, 8),
        "url": "https://www.cyberscoop.com/some-article/",
        "source": "cyberscoop.com",
        "tags": ("Group", "China", "FIREEYE"),
        "extra": {"author": "Sean Lyngaas"},
        "body": "",
    }
    values.update(changes)
    return Post(**values)  # type: ignore[arg-type]


# --- offsets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix",
    [
        "😀😀 ",
        "中文報導稱，",
        "Cafe\u0301 cre\u0300me ",  # combining marks
        "👩‍👩‍👧 family ",  # ZWJ sequence (zero-width joiners become visible placeholders)
        "🇰🇭 flag ",
        "e\u0301\u0301\u0301 zalgo ",
        "tab\there ",
    ],
)
def test_entity_span_covers_exactly_the_mention(prefix: str) -> None:
    body = f"{prefix}APT40 breached the ministry using CVE-2017-11882 😀 and 203.0.113.7."
    mentions = [
        mention(body, "APT40"),
        mention(body, "CVE-2017-11882", "VULN"),
        mention(body, "203.0.113.7", "IOC", ref="ipv4"),
    ]
    text = render_body(body, mentions, [])
    assert len(text.plain) == len(body)
    for item in mentions:
        assert text.plain[item.start : item.end] == item.text
        assert STYLES[item.kind] in styles_at(text, item.start, item.end)


def test_words_that_analyse_to_a_matched_stem_are_highlighted() -> None:
    body = "Spear phishing 😀 and spear\nphished again; phishingkit is not a match. PHISHING!"
    text = render_body(body, [], {"phish", "spear"})  # the stems a search for "spear phishing" matched
    found = [(span.start, span.end) for span in text.spans if span.style == TERM_STYLE]
    shown = [text.plain[start:end] for start, end in found]
    assert shown == ["Spear", "phishing", "spear", "phished", "PHISHING"]
    assert "phishingkit" not in shown


def test_mentions_with_bad_offsets_are_ignored() -> None:
    body = "short body"
    bad = [Mention("ACTOR", 5, 50, "x", "x"), Mention("ACTOR", -1, 2, "x", "x"), Mention("ACTOR", 3, 3, "", "x")]
    assert render_body(body, bad, []).spans == []


# --- untrusted text -----------------------------------------------------------------------


@pytest.mark.parametrize("trap", MARKUP_TRAPS)
def test_markup_in_body_is_literal_text(trap: str) -> None:
    body = f"Before {trap} after"
    text = render_body(body, [], [])
    assert text.plain == body
    assert text.spans == []
    for segment_text, has_link, meta in rendered_segments(text):
        assert not has_link
        assert "@click" not in meta
        assert "\x1b" not in segment_text


@pytest.mark.parametrize("trap", MARKUP_TRAPS)
def test_markup_in_header_is_literal_text(trap: str) -> None:
    post = make_post(title=trap, tags=(trap,), extra={trap: trap}, url=f"https://x.example/{trap}", source=trap)
    mentions = [Mention("ACTOR", 0, 1, trap, trap), Mention("IOC", 0, 1, trap, trap, trap)]
    text = render_header(post, mentions)
    assert text.plain.startswith(trap)
    assert text.plain.count(trap) >= 5
    for _, has_link, meta in rendered_segments(text):
        assert not has_link
        assert "@click" not in meta


def test_controls_become_visible_placeholders() -> None:
    body = "a\x1b[2Jb\x1b]52;c;ZXZpbA==\x07c\x9b31md\u202eevil\u2066e\x00f\x7fg"
    text = render_body(body, [], [])
    assert len(text.plain) == len(body)
    for bad in ("\x1b", "\x9b", "\x07", "\u202e", "\u2066", "\x00", "\x7f"):
        assert bad not in text.plain
    assert "␛[2J" in text.plain
    assert "\ufffd" in text.plain  # C1 and bidi controls
    assert "␀" in text.plain and "␡" in text.plain
    header = render_header(make_post(title="x\x1b]0;pwned\x07y", extra={"k\x1b": "v\u202e"}), [])
    assert "\x1b" not in header.plain and "\u202e" not in header.plain and "␛" in header.plain


@given(st.text(max_size=300))
@example("a\u2028b\u2029c\x85d")
@example("\x1b[2J\x9b31m\u202e\u200b\ufeff\x7f\x00")
@example("**a\x1bb** [x](\x85) `\u2028`\n- \x9b")
def test_any_body_keeps_its_length_and_shows_no_raw_controls(body: str) -> None:
    plain = render_body(body, [], ["a", "the"]).plain
    assert len(plain) == len(body)
    assert not any(ord(char) < 32 and char not in "\n\t" for char in plain)
    assert not any(0x7F <= ord(char) <= 0x9F for char in plain)


def test_pathological_markdown_renders_fast() -> None:
    body = ("**a" * 20_000) + ("[x](" * 20_000) + ("*" * 50_000) + "\n" + ("- " * 30_000)
    text = render_body(body, [], ["a"])
    assert len(text.plain) == len(body)


# --- Markdown structure -------------------------------------------------------------------


def test_markdown_is_styled_in_place() -> None:
    body = "# Heading\nSome **bold** and a [link](https://x.example/a) here.\n\n- one\n* two\n\n```\ncode\n```"
    text = render_body(body, [], [])
    plain = text.plain
    assert len(plain) == len(body)
    heading = plain.index("Heading")
    assert "bold" in styles_at(text, heading, heading + len("Heading"))
    bold = plain.index("bold")
    assert "bold" in styles_at(text, bold, bold + 4)
    url = plain.index("](https")
    assert "dim" in styles_at(text, url, plain.index(" here"))
    assert "• one" in plain and "• two" in plain
    assert "Heading\nSome" in plain  # a heading line keeps its line break
    assert "```\ncode\n```" in plain  # code keeps its lines


def test_inline_markers_are_hidden_and_offsets_stay_exact() -> None:
    body = "## APT40 report\nUses **ScanBox** and *spear phishing*; run `cmd **x**` [site](https://x.example)."
    mentions = [mention(body, "APT40"), mention(body, "ScanBox", "MALWARE")]
    text = render_body(body, mentions, [])
    plain = text.plain
    assert len(plain) == len(body)
    assert "**" not in plain.replace("cmd **x**", "")
    assert "#" not in plain and "`" not in plain
    assert plain.startswith("   APT40 report\nUses   ScanBox   and  spear phishing ; run  cmd **x**  [site]")
    for item in mentions:
        assert plain[item.start : item.end] == item.text
        assert STYLES[item.kind] in styles_at(text, item.start, item.end)
    assert "bold" in styles_at(text, plain.index("ScanBox"), plain.index("ScanBox") + 7)
    assert "italic" in styles_at(text, plain.index("spear"), plain.index("phishing") + 8)
    code = plain.index("cmd")
    assert CODE_STYLE in styles_at(text, code, code + len("cmd **x**"))  # no emphasis parsed inside code
    assert "dim" in styles_at(text, plain.index("](https"), plain.index(").") + 1)


def test_markers_inside_code_fences_stay_as_written() -> None:
    body = "```\n# not a heading **x**\n```"
    assert render_body(body, [], []).plain == body


def test_soft_line_breaks_become_spaces_but_paragraphs_stay() -> None:
    body = "one long\nparagraph wrapped\nby the source.\n\nSecond paragraph.\n- item\n- item"
    plain = render_body(body, [], []).plain
    assert plain.startswith("one long paragraph wrapped by the source.\n\nSecond paragraph.\n• item\n• item")


# --- header -------------------------------------------------------------------------------


APT40_ALIASES = ["APT40", "TEMP.Periscope", "Leviathan", "BRONZE MOHAWK", "Kryptonite Panda", "Gadolinium", "ATK29"]


class FakeKnowledge:
    def actor_aliases(self, canonical: str) -> list[str]:
        return APT40_ALIASES if canonical == "APT40" else []

    def actor_country(self, canonical: str) -> str | None:
        return "China" if canonical == "APT40" else None

    def technique_name(self, technique_id: str) -> str:
        return {"T1189": "Drive-by Compromise"}.get(technique_id, technique_id)


@pytest.fixture
def knowledge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(article_render, "get_knowledge", FakeKnowledge)


@pytest.mark.usefixtures("knowledge")
def test_header_names_an_actor_as_the_post_does_with_the_canonical_name_as_aka() -> None:
    body = "TEMP.Periscope phished the ministry; later TEMP.Periscope returned."
    first = mention(body, "TEMP.Periscope", "ACTOR", canonical="APT40")
    second = Mention("ACTOR", body.rindex("TEMP"), body.rindex("TEMP") + 14, "TEMP.Periscope", "APT40")
    plain = render_header(make_post(body=body), [first, second]).plain
    actors = next(line for line in plain.splitlines() if line.startswith("Actors"))
    assert "TEMP.Periscope ×2 aka APT40, Leviathan, BRONZE MOHAWK, Kryptonite Panda, Gadolinium +" in actors
    assert actors.count("TEMP.Periscope") == 1


def test_header_names_malware_as_the_post_does() -> None:
    body = "The loader dropped AIRBREAK on the host."
    plain = render_header(make_post(body=body), [mention(body, "AIRBREAK", "MALWARE", canonical="Orz")]).plain
    assert "AIRBREAK aka Orz" in next(line for line in plain.splitlines() if line.startswith("Malware"))


@pytest.mark.usefixtures("knowledge")
def test_header_summarises_entities_with_aliases_and_attack_ids() -> None:
    body = (
        "TEMP.Periscope targeted Cambodia's National Election Commission and banks with spear-phishing "
        "and a watering hole, dropping ScanBox and exploiting CVE-2017-11882 from evil[.]example. APT40 again."
    )
    mentions = [
        mention(body, "TEMP.Periscope", "ACTOR", canonical="APT40"),
        mention(body, "Cambodia", "VICTIM", role="country"),
        mention(body, "National Election Commission", "VICTIM", role="organisation"),
        mention(body, "banks", "VICTIM", canonical="Finance", role="sector"),
        mention(body, "spear-phishing", "TECHNIQUE", canonical="Spearphishing Attachment", ref="T1566.001"),
        mention(body, "watering hole", "TECHNIQUE", canonical="T1189", ref="T1189"),
        mention(body, "ScanBox", "MALWARE"),
        mention(body, "CVE-2017-11882", "VULN", ref="CVE-2017-11882"),
        mention(body, "evil[.]example", "IOC", canonical="evil.example", ref="domain"),
        mention(body, "APT40", "ACTOR"),
    ]
    plain = render_header(make_post(body=body), mentions).plain
    lines = plain.splitlines()
    assert lines[0] == "Chinese group breaches Cambodian election bodies"
    assert lines[1] == "2018-07-11 00:02 · cyberscoop.com"
    assert "https://www.cyberscoop.com/some-article/" in plain
    assert "Group, China, FIREEYE" in plain
    assert "author" in plain and "Sean Lyngaas" in plain
    actors = next(line for line in lines if line.startswith("Actors"))
    assert "APT40 ×2 aka TEMP.Periscope, Leviathan, BRONZE MOHAWK, Kryptonite Panda, Gadolinium +1 (China)" in actors
    victims = next(line for line in lines if line.startswith("Victims"))
    assert "countries: Cambodia" in victims
    assert "organisations: National Election Commission" in victims
    assert "sectors: Finance" in victims
    techniques = next(line for line in lines if line.startswith("Techniques"))
    assert "T1566.001 Spearphishing Attachment" in techniques
    assert "T1189 Drive-by Compromise" in techniques
    assert "ScanBox" in next(line for line in lines if line.startswith("Malware"))
    assert "CVE-2017-11882" in next(line for line in lines if line.startswith("CVEs"))
    assert "domain: evil[.]example" in next(line for line in lines if line.startswith("IoCs"))


def test_header_without_entities_or_date() -> None:
    text = render_header(make_post(date=None, url="", source="", tags=(), extra={}, warnings=("no date",)), [])
    assert "no date" in text.plain
    assert "Actors" not in text.plain


def test_legend_names_every_kind() -> None:
    for label in ("actor", "victim", "technique", "malware", "vulnerability", "indicator", "search term", "current"):
        assert label in LEGEND.plain
    assert {str(span.style) for span in LEGEND.spans} >= {*STYLES.values(), TERM_STYLE, CURRENT_STYLE}
