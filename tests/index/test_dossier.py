"""The entity dossier against the hand-counted corpus in tests/export_corpus.py."""

from __future__ import annotations

from datetime import datetime

import pytest

from index.catalog import PostRow
from index.corpus import Corpus
from index.dossier import Dossier, build, describe, resolve, sparkline
from tests.export_corpus import write_corpus


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[PostRow]:
    base = tmp_path_factory.mktemp("dossier")
    corpus = Corpus.open(write_corpus(base / "posts"), base / "index")
    corpus.update()
    return corpus.all_rows()


def test_actor_dossier_counts(rows: list[PostRow]) -> None:
    assert resolve("leviathan", rows) == ("ACTOR", "APT40")
    dossier = build("ACTOR", "APT40", rows)
    assert dossier.posts == ("2018-09-01-d.md", "2018-08-02-b.md", "2018-07-11-a.md")
    assert dossier.first_seen == datetime(2018, 7, 11) and dossier.last_seen == datetime(2018, 9, 1)
    assert dossier.months == (("2018-07", 1), ("2018-08", 1), ("2018-09", 1))
    assert dossier.related == {
        "VICTIM": (("Cambodia", 2), ("Government", 1), ("Malaysia", 1)),
        "TECHNIQUE": (("T1566.001", 2), ("T1203", 1)),
        "MALWARE": (("PlugX", 2),),
    }
    assert "Leviathan" in dossier.aliases and dossier.country == "China" and dossier.attack_id == "G0065"
    assert describe(dossier)  # the MISP galaxy describes APT40


def dossier_of(name: str, rows: list[PostRow]) -> Dossier:
    found = resolve(name, rows)
    assert found is not None, name
    return build(*found, rows)


def test_victim_technique_and_malware_dossiers(rows: list[PostRow]) -> None:
    cambodia = dossier_of("Cambodia", rows)
    assert cambodia.kind == "VICTIM" and cambodia.posts == ("2018-09-01-d.md", "2018-07-11-a.md")
    assert cambodia.related["ACTOR"] == (("APT40", 2),)
    parent = dossier_of("T1566", rows)
    assert parent.name == "T1566" and parent.posts == ("2018-08-02-b.md", "2018-07-11-a.md")
    assert parent.related["TECHNIQUE"] == (("T1203", 1),)  # its own sub-techniques are the entity, not company
    technique = dossier_of("t1566.001", rows)
    assert technique.label == "T1566.001 Spearphishing Attachment"
    assert "T1566.001" not in dict(technique.related["TECHNIQUE"])
    assert describe(technique)
    plugx = dossier_of("plugx", rows)
    assert plugx.kind == "MALWARE" and plugx.related["ACTOR"] == (("APT40", 2),) and len(plugx.posts) == 2
    assert plugx.months == (("2018-07", 1), ("2018-08", 1))


def test_unknown_and_absent_names(rows: list[PostRow]) -> None:
    assert resolve("no such thing at all", rows) is None
    absent = resolve("Sandworm", rows)  # known to the knowledge base, in no post: still a dossier, empty
    assert absent is not None and absent[0] == "ACTOR"
    empty = build(*absent, rows)
    assert empty.posts == () and empty.first_seen is None and empty.months == () and empty.related == {}


def test_sparkline_scales_to_the_peak() -> None:
    assert sparkline([0, 1, 2, 4]) == " ▂▄█"
    assert sparkline([]) == "" and sparkline([0, 0]) == "  "
