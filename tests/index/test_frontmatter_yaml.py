"""The strict YAML handler: scalars stay as written; aliases, tags, odd keys and deep nesting are refused."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from index.frontmatter_yaml import MAX_DEPTH, MAX_FRONT_MATTER_CHARS, MAX_NODES, FrontMatterError, StrictYAMLHandler

#: The ``fm`` string as python-frontmatter passes it: the rest of the ``---`` line, then the YAML lines.
#: So line 1 of the file is the ``---`` line and the first YAML line is file line 2.


def load(yaml_lines: str, line_offset: int = 0) -> tuple[dict[str, object], list[str]]:
    handler = StrictYAMLHandler(line_offset=line_offset)
    return handler.load("\n" + yaml_lines), handler.warnings


def refused(yaml_lines: str) -> FrontMatterError:
    with pytest.raises(FrontMatterError) as caught:
        load(yaml_lines)
    return caught.value


def test_scalars_are_kept_as_written() -> None:
    data, warnings = load("a: NO\nb: yes\nc: on\nd: 0123\ne: 10:00\nf: 2018-07-11\ng: 1e3\nh: ~\ni: 0x1F\n")
    assert data == {
        "a": "NO",
        "b": "yes",
        "c": "on",
        "d": "0123",
        "e": "10:00",
        "f": "2018-07-11",
        "g": "1e3",
        "h": "~",
        "i": "0x1F",
    }
    assert warnings == []


def test_empty_front_matter_is_an_empty_mapping() -> None:
    assert load("") == ({}, [])
    assert load("# only a comment\n") == ({}, [])


def test_numeric_keys_become_text() -> None:
    data, _ = load("1: x\n2.5: y\ntrue: z\n")
    assert data == {"1": "x", "2.5": "y", "true": "z"}


@pytest.mark.parametrize(
    ("yaml_lines", "line", "column"),
    [("title: ok\n? [a, b]: c\n", 3, 3), ("title: ok\nnested:\n  ? {a: b}\n  : c\n", 4, 5)],
)
def test_list_or_mapping_keys_are_refused_with_location(yaml_lines: str, line: int, column: int) -> None:
    error = refused(yaml_lines)
    assert "key" in error.reason
    assert (error.line, error.column) == (line, column)


def test_malformed_yaml_names_the_file_line_and_column() -> None:
    error = refused("title: x\ndate: 2020-01-01\n  - foo: : ]\n")
    assert error.reason.startswith("malformed YAML")
    assert (error.line, error.column) == (4, 8)


def test_line_offset_shifts_reported_lines() -> None:
    with pytest.raises(FrontMatterError) as caught:
        load("title: x\nbad: : x\n", line_offset=3)
    assert caught.value.line == 6


@pytest.mark.parametrize(
    ("yaml_lines", "kind"),
    [("- a\n- b\n", "a list"), ("just a sentence\n", "a single value"), ("'quoted'\n", "a single value")],
)
def test_list_or_scalar_front_matter_is_refused(yaml_lines: str, kind: str) -> None:
    error = refused(yaml_lines)
    assert kind in error.reason
    assert (error.line, error.column) == (2, 1)


def test_duplicate_keys_warn_and_last_wins() -> None:
    data, warnings = load("title: first\ntitle: second\n")
    assert data == {"title": "second"}
    assert warnings == ["duplicate key 'title' on line 3; the last value is used"]


def test_duplicate_keys_in_nested_mappings_are_not_reported() -> None:
    data, warnings = load("a:\n  x: 1\n  x: 2\n")
    assert data == {"a": {"x": "2"}}
    assert warnings == []


@pytest.mark.parametrize(
    "yaml_lines",
    [
        'x: !!python/object/apply:os.system ["touch {marker}"]\n',
        '!!python/object/apply:os.system ["touch {marker}"]\n',
        "x: !!python/object/new:subprocess.Popen [[touch, {marker}]]\n",
        "x: !!python/name:os.system\n",
        "x: !custom thing\n",
        "x: !!binary aGVsbG8=\n",
    ],
)
def test_custom_tags_are_refused_and_nothing_runs(yaml_lines: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    error = refused(yaml_lines.format(marker=marker))
    assert "tag" in error.reason
    assert error.line == 2
    assert not marker.exists()


def _billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(1, 9):
        name, previous = chr(ord("a") + index), chr(ord("a") + index - 1)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines)


BILLION_LAUGHS = _billion_laughs()


def test_alias_bomb_is_refused_with_small_memory() -> None:
    tracemalloc.start()
    try:
        error = refused(BILLION_LAUGHS + "\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "alias" in error.reason
    assert peak < 5 * 1024 * 1024  # fully expanded it would be ~10^9 strings


def test_a_single_alias_is_refused() -> None:
    error = refused("a: &x hello\nb: *x\n")
    assert "alias" in error.reason
    assert error.line == 2  # an alias is the anchored node itself, so the anchor's line is what we know


@pytest.mark.parametrize(
    "yaml_lines",
    [
        "x: " + "[" * 1000 + "]" * 1000 + "\n",
        "x: " + "{a: " * 1000 + "1" + "}" * 1000 + "\n",
        "x: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
        "".join("  " * depth + f"k{depth}:\n" for depth in range(200)) + "  " * 200 + "leaf: 1\n",
    ],
)
def test_deep_nesting_is_refused(yaml_lines: str) -> None:
    error = refused(yaml_lines)
    assert "nest" in error.reason
    assert error.line is not None


def test_nesting_within_the_limit_is_fine() -> None:
    depth = MAX_DEPTH - 2
    data, _ = load("x: " + "[" * depth + "1" + "]" * depth + "\n")
    assert "x" in data


def _peak_memory_of_refusal(yaml_lines: str) -> tuple[FrontMatterError, int]:
    tracemalloc.start()
    try:
        error = refused(yaml_lines)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return error, peak


@pytest.mark.parametrize(
    ("yaml_lines", "reason"),
    [
        ("tags: [" + ",".join(["1"] * 2_100_000) + "]\n", "too large"),  # 2.1M items: 15 s and 885 MB before
        ("".join(f"k{number}: v\n" for number in range(400_000)), "too large"),  # 400k keys: 7.9 s before
        ("tags: [" + ",".join(["1"] * (MAX_NODES + 1)) + "]\n", f"more than {MAX_NODES:,} values"),
        ("tags:\n" + "- a\n" * (MAX_NODES + 1), f"more than {MAX_NODES:,} values"),
    ],
    ids=["2.1M-item list", "400k keys", "too many list items", "too many block items"],
)
def test_huge_front_matter_is_refused_before_it_is_built(yaml_lines: str, reason: str) -> None:
    error, peak = _peak_memory_of_refusal(yaml_lines)
    assert reason in error.reason and error.line is not None
    assert peak < len(yaml_lines) + 2 * 1024 * 1024  # a copy of the text, no node tree (885 MB before)


def test_front_matter_just_within_the_limits_loads() -> None:
    data, _ = load("tags: [" + ",".join(["1"] * (MAX_NODES - 10)) + "]\n")
    assert len(data["tags"]) == MAX_NODES - 10  # type: ignore[arg-type]
    assert len("tags: [" + ",".join(["1"] * (MAX_NODES - 10))) < MAX_FRONT_MATTER_CHARS


@pytest.mark.parametrize(
    ("yaml_lines", "line", "column"), [("title: a\x07b\n", 2, 9), ("x: 1\ntitle: ab\ufffe\n", 3, 10)]
)
def test_a_character_yaml_refuses_is_one_line_with_its_place(yaml_lines: str, line: int, column: int) -> None:
    """PyYAML words this error over two lines ("… in "<unicode string>", position 9"); `check` printed both."""
    error = refused(yaml_lines)
    assert "\n" not in error.reason and error.reason.startswith("malformed YAML: unacceptable character #x")
    assert (error.line, error.column) == (line, column)
