"""``spyglass export`` and ``spyglass dossier``: exit codes, files, JSON, and untrusted text on the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.export_corpus import write_corpus
from tui import cli


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "posts")


def test_export_to_stdout_and_file(posts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export", str(posts), "actor:APT40", "--format", "navigator"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["domain"] == "enterprise-attack"
    assert "wrote 2 techniques from 3 posts" in captured.err
    target = tmp_path / "apt40.csv"
    assert cli.main(["export", str(posts), "actor:APT40", "-f", "csv", "-o", str(target)]) == 0
    assert target.read_bytes().count(b"\r\n") == 4
    assert cli.main(["export", str(posts), "", "-f", "csv", "-o", str(target)]) == 2  # never replaced unasked
    assert "exists" in capsys.readouterr().err and target.read_bytes().count(b"\r\n") == 4
    assert cli.main(["export", str(posts), "", "-f", "csv", "-o", str(target), "--force"]) == 0
    assert target.read_bytes().count(b"\r\n") == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["apt40.csv", "posts"]  # no temporary left


def test_export_iocs_defang_and_json(posts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export", str(posts), "", "-f", "iocs", "--defang"]) == 0
    assert "domain\tevil-example[.]com" in capsys.readouterr().out.splitlines()
    assert cli.main(["export", str(posts), "", "-f", "iocs", "--json"]) == 0
    values = {item["value"] for item in json.loads(capsys.readouterr().out)}
    assert "http://evil-example.com/drop.php" in values


def test_export_exit_codes(posts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export", str(posts), "zebra", "-f", "md"]) == 1
    assert "- Posts: 0" in capsys.readouterr().out
    assert cli.main(["export", str(posts), "date:2018-13", "-f", "md"]) == 2
    assert "date" in capsys.readouterr().err
    assert cli.main(["export", str(posts), "x", "-f", "pdf"]) == 2
    assert cli.main(["export", str(posts), "x"]) == 2  # --format is required


def test_dossier_text_and_json(posts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["dossier", str(posts), "Leviathan"]) == 0
    out = capsys.readouterr().out
    assert "APT40" in out and "Attributed to: China" in out and "2018-07-11 to 2018-09-01 in 3 posts" in out
    assert "\x1b[31m" not in out and "\u202e" not in out and "␛" in out  # the hostile title, made visible
    assert cli.main(["dossier", str(posts), "APT40", "--json"]) == 0
    text = capsys.readouterr().out
    payload = json.loads(text)
    assert payload["kind"] == "actor" and payload["posts_per_month"] == {"2018-07": 1, "2018-08": 1, "2018-09": 1}
    assert payload["related"]["malware"] == [{"name": "PlugX", "posts": 2}]
    assert [post["id"] for post in payload["posts"]] == ["2018-09-01-d.md", "2018-08-02-b.md", "2018-07-11-a.md"]
    assert "\u202e" not in text and "\\u202e" in text and "\x1b" not in text
    assert cli.main(["dossier", str(posts), "no such entity"]) == 1
    assert cli.main(["dossier", str(posts), "PlugX", "--kind", "actor"]) == 1
    assert cli.main(["dossier", str(posts), "PlugX", "--kind", "malware", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "malware"


def test_search_json_escapes_invisible_characters(posts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["search", str(posts), "hyperlink", "--json"]) == 0
    text = capsys.readouterr().out
    assert "\u202e" not in text and "\\u202e" in text
    assert json.loads(text)["hits"][0]["title"].startswith("=HYPERLINK(1) \x1b[31m")


def test_dossier_header_folds_long_spans_into_years() -> None:
    from datetime import datetime

    from index.dossier import Dossier
    from tui.dossier_view import header

    months = tuple((f"{year}-{month:02d}", 1) for year in range(2010, 2021) for month in range(1, 13))
    dossier = Dossier(
        "ACTOR", "X", "X", (), "", "", "", datetime(2010, 1, 1), datetime(2020, 12, 1), months, posts=("a.md",) * 132
    )
    assert "Posts per year 2010 ███████████ 2020 (peak 12)" in header(dossier, "").plain
    short = Dossier(
        "ACTOR",
        "X",
        "X",
        (),
        "",
        "",
        "",
        datetime(2020, 1, 1),
        datetime(2020, 3, 1),
        (("2020-01", 2), ("2020-02", 0), ("2020-03", 1)),
        posts=("a.md",) * 3,
    )
    assert "Posts per month 2020-01 █ ▄ 2020-03 (peak 2)" in header(short, "").plain
