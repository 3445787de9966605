"""The command line: exit codes, JSON validity, untrusted titles, and the app/extract hand-offs."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from tui import cli
from tui.query_help import QUERY_CHEATSHEET


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "2018-07-11-a.md").write_text(
        '---\ntitle: "[bold red]Chinese[/] group \\e[31m"\ndate: 2018-07-11\ntags: [China]\n'
        "tourl: https://cyberscoop.com/x\n---\nA watering hole attack with phishing.\n",
        encoding="utf-8",
    )
    (folder / "2017-01-02-b.md").write_text(
        "---\ntitle: Other\ndate: 2017-01-02\n---\nNothing of interest.\n", encoding="utf-8"
    )
    return folder


def test_help_and_usage_errors(posts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    assert cli.main(["search", "--help"]) == 0
    shown = capsys.readouterr().out
    assert "QUERY" in shown
    for examples, _meaning in QUERY_CHEATSHEET:  # the help screen's and README's cheat-sheet, not a copy
        assert all(example in shown for example in examples)
    assert cli.main(["index", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert cli.main(["index", str(posts / "2018-07-11-a.md")]) == 2
    assert cli.main(["search", str(posts), "x", "--limit", "0"]) == 2
    assert cli.main(["search", str(posts), "x", "--limit", "many"]) == 2
    assert cli.main(["bogus-command-folder"]) == 2


def test_index_twice(posts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["index", str(posts)]) == 0
    assert "added 2" in capsys.readouterr().out
    assert cli.main(["index", str(posts)]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert cli.main(["index", str(posts), "--rebuild"]) == 0
    assert "rebuilt" in capsys.readouterr().out


def test_search_json(posts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["search", str(posts), "watering", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["total"] == 1
    hit = payload["hits"][0]
    assert hit["id"] == "2018-07-11-a.md" and hit["source"] == "cyberscoop.com" and hit["tags"] == ["China"]
    assert {"score", "highlights", "actors", "victims", "techniques", "date", "url"} <= set(hit)
    assert cli.main(["search", str(posts), "zebra", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["total"] == 0
    assert cli.main(["search", str(posts), "date:2018-13", "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"] and "date" in captured.err


def test_search_without_update_answers_from_the_index_as_it_was(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def total(*extra: str, query: str = "zebra") -> int:
        cli.main(["search", str(posts), query, "--json", *extra])
        return int(json.loads(capsys.readouterr().out)["total"])

    assert total("--no-update", query="watering") == 1  # a folder never indexed is indexed first
    (posts / "2019-05-05-c.md").write_text("---\ntitle: New\ndate: 2019-05-05\n---\nA zebra.\n", encoding="utf-8")
    assert total("--no-update") == 0  # the new post is not looked for
    assert total() == 1  # a plain search brings the index up to date
    (posts / "2019-05-05-c.md").unlink()
    assert total("--no-update") == 1


def test_search_table_shows_untrusted_titles_literally(posts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["search", str(posts), "tag:china", "--sort", "date"]) == 0
    out = capsys.readouterr().out
    assert "[bold red]Chinese[/]" in out and "\x1b[31m" not in out and "␛" in out
    for junk in ("title:(", "[/]", '"x', "AND OR"):
        assert cli.main(["search", str(posts), junk]) in (0, 1)
    assert cli.main(["search", str(posts), "title:( [/]", "--plain"]) in (0, 1)


def test_check(posts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", str(posts)]) == 0
    (posts / "bad.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    assert cli.main(["check", str(posts)]) == 1
    out = capsys.readouterr().out
    assert f"{posts / 'bad.md'}:3:1: malformed YAML" in out


def test_app_hand_off(posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Path, Path | None]] = []
    fake = types.ModuleType("tui.app")

    def run_app(posts_dir: Path, index_dir: Path | None, engine: str = "whoosh") -> int:
        calls.append((posts_dir, index_dir))
        return 0

    fake.run_app = run_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tui.app", fake)
    assert cli.main([str(posts), "--index-dir", str(tmp_path / "ix")]) == 0
    monkeypatch.setenv("SPYGLASS_POSTS", str(posts))
    assert cli.main([]) == 0
    assert calls == [(posts, tmp_path / "ix"), (posts, None)]
    assert cli.main([str(tmp_path / "nope")]) == 2


def test_app_import_failure_is_one_line(
    posts: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "tui.app", None)
    assert cli.main([str(posts)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("spyglass: error:") and "Traceback" not in err


def test_extract_hand_off(posts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("tui.extract_view")
    fake.run_extract = lambda source, as_json: 0 if as_json else 3  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tui.extract_view", fake)
    assert cli.main(["extract", str(posts / "2018-07-11-a.md"), "--json"]) == 0
    assert cli.main(["extract", "-"]) == 3
    assert cli.main(["extract", str(posts / "missing.md")]) == 1


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`spyglass search … | head` must not print a traceback or an error when head exits."""
    import subprocess
    import sys

    posts = tmp_path / "posts"
    posts.mkdir()
    for number in range(40):
        (posts / f"2020-01-{number % 28 + 1:02d}-post-{number}.md").write_text(
            f"---\ntitle: Post {number}\ntags: [China]\n---\nbody {number}\n", encoding="utf-8"
        )
    command = [
        sys.executable,
        "-c",
        "import sys; from tui.cli import main; sys.exit(main(sys.argv[1:]))",
        "search",
        str(posts),
        "tag:china",
        "--json",
    ]
    producer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert producer.stdout is not None
    producer.stdout.close()  # the reader is gone before the first line, as when `head` has had enough
    _, errors = producer.communicate(timeout=60)
    assert producer.returncode == 0
    assert b"Traceback" not in errors and b"BrokenPipe" not in errors


#: C1 controls (NEL, CSI), bidi override and isolate, zero-width space and DEL: JSON leaves them raw.
HIDDEN = ("\x85", "\x9b", "\u202e", "\u2066", "\u200b", "\x7f")


def test_json_output_escapes_controls_bidi_and_zero_width(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    post = folder / "2020-01-01-h.md"
    post.write_text(
        # YAML escapes for what a YAML file may not hold raw (CSI, DEL)
        '---\ntitle: "Evil \u202eexe.txt \\x9b31m \u2066x\u200by\\x7f"\ndate: 2020-01-01\ntags: ["a\u2066b"]\n---\n'
        "Lazarus\x85Group and Cozy\u200bBear used spear\x85phishing; Fancy\u202eBear too.\n",
        encoding="utf-8",
    )
    assert cli.main(["search", str(folder), "evil", "--json"]) == 0
    out = capsys.readouterr().out
    assert not any(char in out for char in HIDDEN)
    hit = json.loads(out)["hits"][0]
    assert hit["title"] == "Evil \u202eexe.txt \x9b31m \u2066x\u200by\x7f" and hit["tags"] == ["a\u2066b"]

    assert cli.main(["extract", str(post), "--json"]) == 0
    out = capsys.readouterr().out
    assert not any(char in out for char in HIDDEN)
    texts = {mention["text"] for mention in json.loads(out)}
    assert {"Lazarus\x85Group", "Cozy\u200bBear"} <= texts


@pytest.mark.parametrize("command", [["index"], ["search", "{posts}", "watering"], ["check"]])
def test_a_renamed_post_keeps_its_triage_state_after_any_command(
    posts: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every command that updates the index carries triage state over to a renamed post (same content)."""
    from index.corpus import Corpus
    from index.state import TriageState

    assert cli.main(["index", str(posts)]) == 0
    corpus = Corpus.open(posts)
    [row] = corpus.rows(["2018-07-11-a.md"])
    corpus.close()
    with TriageState() as state:
        state.set_flag(row.post_id, "starred", True, row.content_hash)
        state.set_note(row.post_id, "seen in the wild", row.content_hash)
    (posts / "renamed").mkdir()
    (posts / "2018-07-11-a.md").rename(posts / "renamed" / "2018-07-11-a.md")
    argv = [command[0], *(part.format(posts=posts) for part in command[1:])]
    if len(argv) == 1:
        argv.append(str(posts))
    assert cli.main(argv) == 0
    capsys.readouterr()
    with TriageState() as state:
        moved = state.get("renamed/2018-07-11-a.md")
        assert moved.starred and moved.note == "seen in the wild"
        assert "2018-07-11-a.md" not in state.ids_with("starred")


def test_cache_dir_holds_one_index_per_folder_and_index_dir_is_one_index(
    posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from index.paths import corpus_key

    cache = tmp_path / "cache"
    monkeypatch.setenv("SPYGLASS_CACHE_DIR", str(cache))
    assert cli.main(["index", str(posts)]) == 0
    assert [path.name for path in cache.iterdir()] == [corpus_key(posts)]  # the parent of every index
    own = tmp_path / "own-index"
    assert cli.main(["index", str(posts), "--index-dir", str(own)]) == 0
    assert "added 2" in capsys.readouterr().out.splitlines()[-1]  # a fresh index, right in that folder
    assert (own / "catalog.sqlite3").exists() and [path.name for path in cache.iterdir()] == [corpus_key(posts)]
    assert cli.main(["--help"]) == 0
    assert "SPYGLASS_CACHE_DIR" in " ".join(capsys.readouterr().out.split())


def test_indexing_works_without_a_triage_state_and_says_what_was_not_carried_over(
    posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be", encoding="utf-8")
    monkeypatch.setenv("SPYGLASS_DATA_DIR", str(blocker / "data"))
    assert cli.main(["index", str(posts)]) == 0
    assert capsys.readouterr().err == ""  # nothing was renamed, so nothing is missing
    (posts / "2017-01-02-b.md").rename(posts / "b.md")
    assert cli.main(["index", str(posts)]) == 0
    captured = capsys.readouterr()
    assert "added 1" in captured.out and "removed 1" in captured.out
    assert "triage state unavailable, not carried over to renamed posts" in captured.err


def test_check_prints_one_line_per_problem(posts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (posts / "bell.md").write_text("---\ntitle: a\x07b\n---\nbody\n", encoding="utf-8")
    assert cli.main(["check", str(posts)]) == 1
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "bell.md" in line]
    reason = "malformed YAML: unacceptable character #x0007: control characters are not allowed"
    assert line == f"{posts / 'bell.md'}:2:9: {reason}"


#: What a search on an up-to-date index never needs: the app, the exporters, the entity knowledge files, the
#: worker pool of a bulk build. Each costs start-up time before the first line is printed.
NOT_FOR_SEARCH = (
    "textual",
    "stix2",
    "index.export.stix",
    "index.knowledge.disk",
    "index.knowledge.galaxy",
    "multiprocessing",
    "concurrent.futures",
)


def _unwanted_imports(args: list[str], unwanted: tuple[str, ...]) -> str:
    """Run ``spyglass ARGS`` in a fresh interpreter: its exit code, then the ``unwanted`` modules it imported."""
    import os
    import subprocess

    probe = (
        "import contextlib, io, os, sys\n"
        "from tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = main(sys.argv[1:])\n"
        "print(code, *sorted(set(os.environ['UNWANTED'].split()) & set(sys.modules)))\n"
    )
    environment = {**os.environ, "UNWANTED": " ".join(unwanted)}
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120, env=environment, check=False
    )
    return done.stdout + done.stderr


def test_search_and_help_import_only_what_they_use(posts: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    assert cli.main(["index", str(posts), "--index-dir", str(index_dir)]) == 0
    for args in (
        ["search", str(posts), "watering", "--index-dir", str(index_dir)],
        ["search", str(posts), "watering", "--json", "--index-dir", str(index_dir)],
        ["--help"],
    ):
        assert _unwanted_imports(args, NOT_FOR_SEARCH) == "0\n", args


def test_a_search_of_filters_alone_never_loads_whoosh(posts: Path, tmp_path: Path) -> None:
    """Tags, dates and the empty query are answered from the catalog's columns, whatever the sort."""
    index_dir = tmp_path / "index"
    assert cli.main(["index", str(posts), "--index-dir", str(index_dir)]) == 0
    # The first check after a write opens the index to see it in step, and records that; later ones do not.
    assert cli.main(["search", str(posts), "", "--index-dir", str(index_dir)]) == 0
    for query in ("tag:china", "date:2018", "", "tag:China date:[2018 to 2019]"):
        for sort in ("relevance", "date"):
            args = ["search", str(posts), query, "--sort", sort, "--index-dir", str(index_dir)]
            assert _unwanted_imports(args, ("whoosh",)) == "0\n", args
    assert _unwanted_imports(["search", str(posts), "watering", "--index-dir", str(index_dir)], ("whoosh",)) == (
        "0 whoosh\n"
    )  # words need the engine
