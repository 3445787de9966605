"""Reading posts: encodings, front matter and value types (docs/reliability.md), through files on disk."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from index.frontmatter_yaml import FrontMatterError
from index.posts import (
    MAX_TITLE_CHARS,
    Post,
    PostFile,
    PostProblem,
    decode_post,
    load_post,
    parse_post,
    parse_tags,
    scan_corpus,
    source_host,
)
from index.sanitize import display_safe
from tests.helpers import FolderSnapshot, WritePost

Snapshot = Callable[[Path], FolderSnapshot]

SAMPLE = """---
layout: post
title: Chinese group breaches Cambodian election bodies
date: 2018-07-11 00:02:8
tourl: https://www.example-news.com/some-article/
tags: [Group,China,FIREEYE,Attack,TEMP.Periscope]
---
Body in Markdown or plain prose, often one long paragraph. Apostrophes and
quotes are sometimes lost in scraping ("the countrys main opposition party").
"""


def load_all(root: Path) -> list[Post | PostProblem]:
    """Scan and load a folder as the app does: problems from the scan, then each file."""
    return [load_post(root, item) if isinstance(item, PostFile) else item for item in scan_corpus(root)]


def load_one(root: Path, write_post: WritePost, name: str, content: str | bytes) -> Post | PostProblem:
    path = write_post(root, name, content)
    info = path.stat()
    return load_post(root, PostFile(name, info.st_size, info.st_mtime_ns))


def post(root: Path, write_post: WritePost, name: str, content: str | bytes) -> Post:
    result = load_one(root, write_post, name, content)
    assert isinstance(result, Post), result
    return result


def problem(root: Path, write_post: WritePost, name: str, content: str | bytes) -> PostProblem:
    result = load_one(root, write_post, name, content)
    assert isinstance(result, PostProblem), result
    return result


# --- the reference post ------------------------------------------------------------------------


def test_design_sample_loads_fully(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "_posts/2018-07-11-chinese-group.md", SAMPLE)
    assert loaded.post_id == "_posts/2018-07-11-chinese-group.md"
    assert loaded.title == "Chinese group breaches Cambodian election bodies"
    assert loaded.date == datetime(2018, 7, 11, 0, 2, 8)
    assert loaded.url == "https://www.example-news.com/some-article/"
    assert loaded.source == "example-news.com"
    assert loaded.tags == ("Group", "China", "FIREEYE", "Attack", "TEMP.Periscope")
    assert loaded.extra == {}
    assert loaded.body.startswith("Body in Markdown") and loaded.body.endswith('party").')
    assert loaded.warnings == ()
    assert loaded.size == len(SAMPLE.encode()) and loaded.mtime_ns > 0


@pytest.mark.parametrize("key", ["url", "link", "source_url"])
def test_other_url_keys(tmp_path: Path, write_post: WritePost, key: str) -> None:
    loaded = post(tmp_path, write_post, "x.md", f"---\ntitle: t\n{key}: http://cyberscoop.com/a\n---\nb")
    assert (loaded.url, loaded.source) == ("http://cyberscoop.com/a", "cyberscoop.com")


@pytest.mark.parametrize(
    ("url", "host"),
    [("https://www.cyberscoop.com/x", "cyberscoop.com"), ("http://[::1", ""), ("not a url", ""), ("", "")],
)
def test_source_host(url: str, host: str) -> None:
    assert source_host(url) == host


def test_unknown_keys_are_kept_as_text(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "x.md", "---\ntitle: t\nauthor: Ann\nrefs: [a, b]\nmeta: {k: v}\n---\nb")
    assert loaded.extra == {"author": "Ann", "refs": "a, b", "meta": "k: v"}


# --- encoding ----------------------------------------------------------------------------------


def test_latin1_file_is_read_with_a_warning(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "x.md", "---\ntitle: Café crème\n---\nRésumé des opérations".encode("latin-1"))
    assert loaded.title == "Café crème"
    assert loaded.body == "Résumé des opérations"
    assert any("not valid UTF-8" in warning for warning in loaded.warnings)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path: Path, write_post: WritePost, codec: str) -> None:
    loaded = post(tmp_path, write_post, "x.md", ("\ufeff" + SAMPLE).encode(codec))
    assert loaded.title == "Chinese group breaches Cambodian election bodies"
    assert loaded.date == datetime(2018, 7, 11, 0, 2, 8)
    assert not loaded.title.startswith("\ufeff")
    assert any("UTF-16" in warning for warning in loaded.warnings)


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_utf32_with_bom(tmp_path: Path, write_post: WritePost, codec: str) -> None:
    """Its BOM starts with UTF-16's: it used to be read as UTF-16, which gave garbage."""
    loaded = post(tmp_path, write_post, "x.md", ("\ufeff" + SAMPLE).encode(codec))
    assert loaded.title == "Chinese group breaches Cambodian election bodies"
    assert loaded.date == datetime(2018, 7, 11, 0, 2, 8)
    assert "\x00" not in loaded.body and any("UTF-32" in warning for warning in loaded.warnings)


def test_broken_utf32_is_a_problem(tmp_path: Path, write_post: WritePost) -> None:
    found = problem(tmp_path, write_post, "x.md", ("\ufeff" + SAMPLE).encode("utf-32-le") + b"\x00")
    assert "UTF-32" in found.reason


def test_tags_given_as_a_mapping_are_ignored_with_a_warning(tmp_path: Path, write_post: WritePost) -> None:
    """They used to become tags like "{'a': '1'" and "'b': '2'}"."""
    loaded = post(tmp_path, write_post, "x.md", "---\ntitle: T\ndate: 2020-01-01\ntags: {a: 1, b: 2}\n---\nbody")
    assert loaded.tags == ()
    assert "tags is a mapping, not a list; ignored" in loaded.warnings


def test_odd_length_utf16_is_a_problem(tmp_path: Path, write_post: WritePost) -> None:
    found = problem(tmp_path, write_post, "x.md", ("\ufeff" + SAMPLE).encode("utf-16-le") + b"\x00")
    assert "UTF-16" in found.reason


def test_utf8_bom_before_front_matter(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "x.md", b"\xef\xbb\xbf" + SAMPLE.encode())
    assert loaded.title == "Chinese group breaches Cambodian election bodies"
    assert loaded.tags[0] == "Group"
    assert loaded.warnings == ()


def test_utf8_bom_and_a_bad_byte_still_reads_front_matter(tmp_path: Path, write_post: WritePost) -> None:
    # Regression: the BOM survived the Windows-1252 fallback as "ï»¿" and hid the front matter.
    loaded = post(tmp_path, write_post, "x.md", b"\xef\xbb\xbf" + SAMPLE.encode() + b"caf\xe9\n")
    assert loaded.title == "Chinese group breaches Cambodian election bodies"
    assert loaded.body.endswith("café")
    assert any("not valid UTF-8" in warning for warning in loaded.warnings)


def test_crlf_line_endings(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "x.md", SAMPLE.replace("\n", "\r\n").encode())
    assert loaded.title == "Chinese group breaches Cambodian election bodies"
    assert loaded.date == datetime(2018, 7, 11, 0, 2, 8)
    assert "\r" not in loaded.body
    assert loaded.body.count("\n") == 1


def test_old_mac_cr_line_endings(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "x.md", SAMPLE.replace("\n", "\r").encode())
    assert loaded.title == "Chinese group breaches Cambodian election bodies"


def test_stray_nul_is_kept_and_sanitised_for_display(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "x.md", SAMPLE.replace("Apostrophes", "Apostro\x00phes").encode())
    assert "Apostro\x00phes" in loaded.body  # search keeps the original
    shown = display_safe(loaded.body)
    assert "\x00" not in shown and "Apostro\u2400phes" in shown


def test_escape_in_double_quoted_title_is_kept_but_displayed_safely(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "x.md", '---\ntitle: "a\\e]0;pwned\\a b"\n---\nbody')
    assert loaded.title == "a\x1b]0;pwned\x07 b"
    assert display_safe(loaded.title) == "a\u241b]0;pwned\u2407 b"


@pytest.mark.parametrize(
    "junk",
    [
        bytes(range(256)) * 40,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(2000),
        b"\x7fELF\x02\x01\x01" + bytes(range(32)) * 50,
    ],
)
def test_binary_junk_is_a_problem(tmp_path: Path, write_post: WritePost, junk: bytes) -> None:
    assert "binary" in problem(tmp_path, write_post, "x.md", junk).reason


def test_empty_file_is_a_post(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "2018-07-11-empty-post.md", b"")
    assert (loaded.title, loaded.date, loaded.body) == ("Empty post", datetime(2018, 7, 11), "")


def test_decode_post_prefers_utf8() -> None:
    assert decode_post("naïve — 界".encode()) == ("naïve — 界", [])


# --- front matter ------------------------------------------------------------------------------


def test_no_front_matter(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "2018-07-11-chinese-group_breaches.md", "Just a body.\n\nTwo paragraphs.")
    assert loaded.title == "Chinese group breaches"
    assert loaded.date == datetime(2018, 7, 11)
    assert loaded.body == "Just a body.\n\nTwo paragraphs."
    assert loaded.extra == {} and loaded.tags == () and loaded.url == ""
    assert loaded.warnings == ()


def test_no_front_matter_takes_the_first_heading_as_title(tmp_path: Path, write_post: WritePost) -> None:
    body = "Intro line.\n\n```\n# not a heading: code\n```\n\n## Second level\n\n# APT40 returns #\n\n# Later heading"
    loaded = post(tmp_path, write_post, "2018-07-11-chinese-group_breaches.md", body)
    assert loaded.title == "APT40 returns"
    assert loaded.body == body  # the heading stays in the body
    assert loaded.warnings == ()


def test_front_matter_without_title_still_uses_the_file_name(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "2018-07-11-chinese-group.md", "---\ntags: [a]\n---\n# A heading\n")
    assert loaded.title == "Chinese group"


def test_no_front_matter_and_no_date_warns(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "notes.md", "Just a body.")
    assert loaded.date is None
    assert loaded.warnings == ("no date",)


def test_unclosed_front_matter_keeps_the_body(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "unclosed.md", "---\ntitle: never closed\nThe story goes on.")
    assert "The story goes on." in loaded.body
    assert loaded.title == "Unclosed"
    assert any("never closed" in warning for warning in loaded.warnings)


def test_malformed_yaml_reports_line_and_column_and_others_load(tmp_path: Path, write_post: WritePost) -> None:
    write_post(tmp_path, "a-good.md", SAMPLE)
    write_post(tmp_path, "b-bad.md", "---\ntitle: fine\ntags: [a, b\ndate: 2018-07-11\n---\nbody")
    write_post(tmp_path, "c-good.md", "---\ntitle: also fine\n---\nbody")
    results = {item.post_id: item for item in load_all(tmp_path)}
    assert isinstance(results["a-good.md"], Post) and isinstance(results["c-good.md"], Post)
    bad = results["b-bad.md"]
    assert isinstance(bad, PostProblem) and bad.skipped
    assert bad.reason.startswith("malformed YAML")
    assert (bad.line, bad.column) == (4, 5)
    assert str(bad) == f"b-bad.md:4:5: {bad.reason}"


def test_malformed_yaml_line_counts_leading_blank_lines(tmp_path: Path, write_post: WritePost) -> None:
    found = problem(tmp_path, write_post, "x.md", "\n\n---\n\n\ntitle: x\nbad: : ]\n---\nbody")
    assert (found.line, found.column) == (7, 6)


@pytest.mark.parametrize(
    ("front", "kind"),
    [("- a\n- b", "a list"), ("just words", "a single value"), ("42", "a single value")],
)
def test_list_or_scalar_front_matter_is_a_problem(tmp_path: Path, write_post: WritePost, front: str, kind: str) -> None:
    found = problem(tmp_path, write_post, "x.md", f"---\n{front}\n---\nbody")
    assert kind in found.reason
    assert (found.line, found.column) == (2, 1)


def test_duplicate_keys_warn_and_last_wins(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "x.md", "---\ntitle: first\ndate: 2018-07-11\ntitle: second\n---\nbody")
    assert loaded.title == "second"
    assert loaded.warnings == ("duplicate key 'title' on line 4; the last value is used",)


def test_numeric_keys_are_kept_as_text(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "x.md", "---\ntitle: t\n1: x\n2018: y\n---\nbody")
    assert loaded.extra == {"1": "x", "2018": "y"}


def test_list_key_is_a_problem_with_location(tmp_path: Path, write_post: WritePost) -> None:
    found = problem(tmp_path, write_post, "x.md", "---\ntitle: t\n? [a, b]\n: c\n---\nbody")
    assert "key" in found.reason
    assert (found.line, found.column) == (3, 3)


def test_python_tag_is_refused_and_nothing_runs(tmp_path: Path, write_post: WritePost) -> None:
    posts = tmp_path / "posts"
    marker = tmp_path / "pwned"
    write_post(posts, "x.md", f'---\ntitle: t\nx: !!python/object/apply:os.system ["touch {marker}"]\n---\nbody')
    (found,) = load_all(posts)
    assert isinstance(found, PostProblem)
    assert "python/object/apply:os.system" in found.reason and "not allowed" in found.reason
    assert (found.line, found.column) == (3, 4)
    assert not marker.exists()


def test_alias_bomb_is_refused(tmp_path: Path, write_post: WritePost) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(1, 9):
        name, previous = chr(ord("a") + index), chr(ord("a") + index - 1)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    found = problem(tmp_path, write_post, "x.md", "---\n" + "\n".join(lines) + "\n---\nbody")
    assert "alias" in found.reason


@pytest.mark.parametrize(
    "value",
    ["[" * 1000 + "]" * 1000, "{a: " * 1000 + "1" + "}" * 1000, "[" * 100 + "]" * 100, "[" * 5000],
)
def test_deep_nesting_is_a_problem(tmp_path: Path, write_post: WritePost, value: str) -> None:
    found = problem(tmp_path, write_post, "x.md", f"---\ntitle: t\ndeep: {value}\n---\nbody")
    assert "nest" in found.reason
    assert found.line == 3


def test_huge_title_is_capped(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "x.md", "---\ntitle: " + "A" * 100_000 + "\n---\nbody")
    assert len(loaded.title) == MAX_TITLE_CHARS
    assert loaded.title.endswith("…")
    assert any("shortened" in warning for warning in loaded.warnings)


def test_front_matter_only(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "x.md", "---\ntitle: t\n---\n")
    assert (loaded.title, loaded.body) == ("t", "")


def test_empty_front_matter(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "2018-07-11-x.md", "---\n---\nbody")
    assert (loaded.title, loaded.body) == ("X", "body")


# --- types and dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2018-07-11 00:02:8", datetime(2018, 7, 11, 0, 2, 8)),
        ("2018-07-11T00:02:08Z", datetime(2018, 7, 11, 0, 2, 8)),
        ("2018-07-11", datetime(2018, 7, 11)),
        ("11 July 2018", datetime(2018, 7, 11)),
        ("July 11, 2018", datetime(2018, 7, 11)),
        ("2018-07-11T00:02:08+02:00", datetime(2018, 7, 10, 22, 2, 8)),
        ("2018-07-11 00:02:08 +02:00", datetime(2018, 7, 10, 22, 2, 8)),
        ("'2018-07-11'", datetime(2018, 7, 11)),
    ],
)
def test_every_date_form(tmp_path: Path, write_post: WritePost, written: str, expected: datetime) -> None:
    loaded = post(tmp_path, write_post, "x.md", f"---\ntitle: t\ndate: {written}\n---\nbody")
    assert loaded.date == expected
    assert loaded.warnings == ()


@pytest.mark.parametrize(
    ("name", "expected", "fallback"),
    [("2018-07-11-x.md", datetime(2018, 7, 11), "the file name"), ("x.md", None, "none")],
)
def test_invalid_date_warns_and_keeps_the_post(
    tmp_path: Path, write_post: WritePost, name: str, expected: datetime | None, fallback: str
) -> None:
    loaded = post(tmp_path, write_post, name, "---\ntitle: t\ndate: 2024-13-45\n---\nbody")
    assert loaded.date == expected
    assert loaded.warnings == (f"date '2024-13-45' not understood; using {fallback}",)


def test_scalars_are_kept_as_written(tmp_path: Path, write_post: WritePost) -> None:
    loaded = post(tmp_path, write_post, "x.md", "---\ntitle: t\na: NO\nb: yes\nc: on\nd: 0123\ne: 10:00\n---\nb")
    assert loaded.extra == {"a": "NO", "b": "yes", "c": "on", "d": "0123", "e": "10:00"}


@pytest.mark.parametrize(
    ("written", "title", "warning"),
    [
        ("12345", "12345", None),
        ("~", "Chinese group", "no title; taken from the file name"),
        ("null", "Chinese group", "no title; taken from the file name"),
        ("", "Chinese group", "no title; taken from the file name"),
        ("[a, b]", "a, b", "title is a list; its items were joined"),
        ("{a: b}", "Chinese group", "no title; taken from the file name"),
        ("'  padded  '", "padded", None),
    ],
)
def test_title_types(tmp_path: Path, write_post: WritePost, written: str, title: str, warning: str | None) -> None:
    loaded = post(tmp_path, write_post, "2018-07-11-chinese-group.md", f"---\ntitle: {written}\n---\nbody")
    assert loaded.title == title
    assert loaded.warnings == ((warning,) if warning else ())


@pytest.mark.parametrize(
    ("written", "tags"),
    [
        ("[Group, China, FIREEYE]", ("Group", "China", "FIREEYE")),
        ("Group, China,  FireEye ", ("Group", "China", "FireEye")),
        ("China", ("China",)),
        ("[China, '', ' ', china, CHINA, ~, Attack]", ("China", "Attack")),
        ("a,,b, ,a,B", ("a", "b")),
        ("\n  - one\n  - two words\n  - [nested]\n  - {k: v}", ("one", "two words")),
        ("~", ()),
        ("[]", ()),
        ("12", ("12",)),
    ],
)
def test_tags(tmp_path: Path, write_post: WritePost, written: str, tags: tuple[str, ...]) -> None:
    loaded = post(tmp_path, write_post, "x.md", f"---\ntitle: t\ntags: {written}\n---\nbody")
    assert loaded.tags == tags


def test_parse_tags_direct() -> None:
    assert parse_tags(None) == ()
    assert parse_tags(["A  B", "a b"]) == ("A B",)
    assert parse_tags(7) == ("7",)


def test_mixed_naive_and_aware_dates_sort(tmp_path: Path, write_post: WritePost) -> None:
    for index, written in enumerate(
        ["2018-07-11T00:02:08Z", "2018-07-11 00:02:8", "2018-07-11T00:02:08+02:00", "11 July 2018", "junk", "~"]
    ):
        write_post(tmp_path, f"p{index}.md", f"---\ntitle: t{index}\ndate: {written}\n---\nbody")
    posts = [item for item in load_all(tmp_path) if isinstance(item, Post)]
    assert len(posts) == 6
    assert all(item.date is None or item.date.tzinfo is None for item in posts)
    ordered = sorted(posts, key=lambda item: item.date or datetime.min)
    assert [item.title for item in ordered][-1] in {"t0", "t1"}
    assert ordered[2].title == "t2"


# --- nothing is written ------------------------------------------------------------------------


def test_loading_a_mixed_folder_modifies_nothing(
    tmp_path: Path, write_post: WritePost, snapshot_folder: Snapshot
) -> None:
    write_post(tmp_path, "_posts/2018-07-11-a.md", SAMPLE)
    write_post(tmp_path, "_posts/bad.md", "---\n- a\n---\n")
    write_post(tmp_path, "latin.md", "caf\xe9".encode("latin-1"))
    write_post(tmp_path, "bom.md", b"\xef\xbb\xbf" + SAMPLE.encode())
    write_post(tmp_path, "bin.md", bytes(range(256)) * 10)
    write_post(tmp_path, "notes.txt", "not a post")
    before = snapshot_folder(tmp_path)
    results = load_all(tmp_path)
    results += load_all(tmp_path)
    assert snapshot_folder(tmp_path) == before
    assert sorted(os.listdir(tmp_path)) == ["_posts", "bin.md", "bom.md", "latin.md", "notes.txt"]
    assert len(results) == 10


# --- properties --------------------------------------------------------------------------------

#: Fragments that steer arbitrary text towards front matter, YAML syntax and awkward characters.
_FRAGMENTS = [
    *"-:[]{},&*!?|>'\"#%@`~ \n\t\r\x00\x1b\ufeff\x85\u2028",
    *["---\n", "\n---\n", "title: ", "date: ", "tags: "],
]
_YAMLISH = st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=4), max_size=40).map("".join)


@given(_YAMLISH)
@example("")
@example("---\n---\n")
@example("\ufeff---\ntitle: x\n---\n")
@example("---\ntitle: a\u2028b\x85c\n---\n")
@example("---\r\ntitle: [\r\n---\r\n")
@example("---\n- a\n---\n")
def test_parse_post_raises_only_front_matter_errors(text: str) -> None:
    try:
        result = parse_post(text, "x.md", Path("x.md"))
    except FrontMatterError as error:
        assert error.line is None or error.line >= 1
        assert error.column is None or error.column >= 1
    else:
        assert isinstance(result, Post)
        assert len(result.title) <= MAX_TITLE_CHARS


@given(st.binary(max_size=300) | _YAMLISH.map(lambda text: text.encode("utf-8", "surrogatepass")))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
@example(data=b"")
@example(data=b"\xef\xbb\xbf")
@example(data=b"\xff\xfe-\x00-\x00-\x00\n\x00")
@example(data=b"---\ntitle: \xff\n---\n")
@example(data=bytes(range(256)))
def test_load_post_never_raises(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x.md"
    path.write_bytes(data)
    result = load_post(tmp_path, PostFile("x.md", len(data), 0))
    assert isinstance(result, Post | PostProblem)


def test_a_date_far_in_the_future_is_not_believed(tmp_path: Path, write_post: WritePost) -> None:
    """A post dated 2099 used to sit at the top of the newest-first list; it is dated by its file instead."""
    path = write_post(tmp_path, "2099-01-01-typo.md", "---\ntitle: Typo\ndate: 2099-01-01\n---\nbody")
    os.utime(path, (1_600_000_000, 1_600_000_000))  # 2020-09-13
    loaded = post_at(tmp_path, path)
    assert loaded.date == datetime(2020, 9, 13, 12, 26, 40)
    assert "date 2099-01-01 is in the future; dated by the file's time (2020-09-13) instead" in loaded.warnings
    tomorrow = (datetime.now(UTC) + timedelta(hours=20)).strftime("%Y-%m-%d %H:%M:%S")
    path = write_post(tmp_path, "soon.md", f"---\ntitle: Soon\ndate: {tomorrow}\n---\nbody")
    assert post_at(tmp_path, path).date == datetime.strptime(tomorrow, "%Y-%m-%d %H:%M:%S")  # within a day: kept


def post_at(root: Path, path: Path) -> Post:
    info = path.stat()
    loaded = load_post(root, PostFile(path.name, info.st_size, info.st_mtime_ns))
    assert isinstance(loaded, Post)
    return loaded


BODIES: dict[str, str | bytes] = {
    "plain.md": SAMPLE,
    "crlf.md": SAMPLE.replace("\n", "\r\n"),
    "bom.md": "\ufeff" + SAMPLE,
    "utf16.md": SAMPLE.encode("utf-16"),
    "latin1.md": SAMPLE.replace("countrys", "country\u00e9s").encode("cp1252"),
    "no-front-matter.md": "# A heading\n\nJust prose.\n",
    "unclosed.md": "---\ntitle: x\nNo closing fence.\n",
    "empty-front-matter.md": "---\n---\nBody after nothing.\n",
    "long-fences.md": "\n\n----   \ntitle: y\n-----\n\n  Body with --- inside a line.\n---\nand a rule above.\n",
    "spaced-fences.md": "--- \t\ntitle: z\n---  \nBody after fences with spaces.\n",
}


def test_a_body_read_for_highlights_is_the_body_a_full_read_gives(tmp_path: Path, write_post: WritePost) -> None:
    """Highlights read bodies without the YAML reader: the same split as the front matter handler's."""
    from index.frontmatter_yaml import StrictYAMLHandler
    from index.posts import FRONT_MATTER_FENCE, load_by_id, post_body

    assert (FRONT_MATTER_FENCE.pattern, FRONT_MATTER_FENCE.flags) == (
        StrictYAMLHandler.FM_BOUNDARY.pattern,
        StrictYAMLHandler.FM_BOUNDARY.flags,
    )
    for name, content in BODIES.items():
        write_post(tmp_path, name, content)
        loaded = load_by_id(tmp_path, name)
        assert isinstance(loaded, Post), (name, loaded)
        assert post_body(tmp_path, name) == loaded.body, name
    assert post_body(tmp_path, "missing.md") is None
    assert post_body(tmp_path, "../outside.md") is None
    (tmp_path / "binary.md").write_bytes(b"\x00\x01\x02" * 100)
    assert post_body(tmp_path, "binary.md") is None
