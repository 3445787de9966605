"""A four-post corpus whose entities were counted by hand, for the export and dossier tests.

Post by post (what the extractor finds in the bodies):

- a (2018-07-11, example-news.com): APT40; Cambodia, Government; T1566.001, T1203; PlugX; CVE-2017-11882;
  evil-example.com, 203.0.113.7, http://evil-example.com/drop.php (all written defanged)
- b (2018-08-02, research.example.org): APT40 (as "Leviathan"); Malaysia; T1566.001; PlugX;
  44d88612fea8a8f36de82e1278abb02f, 203.0.113.7
- c (2019-01-15, example-news.com): Lazarus Group; Finance, Bangladesh; T1105
- d (2018-09-01, no usable URL): APT40; Cambodia; a hostile title (formula, escape sequence, Markdown link,
  right-to-left override, HTML, a bare host name)
"""

from __future__ import annotations

from pathlib import Path

HOSTILE_TITLE = "=HYPERLINK(1) \x1b[31m [click](http://evil.test) \u202e <b>x</b> www.evil.test"

POSTS = {
    "2018-07-11-a.md": (
        "---\ntitle: APT40 targets Cambodia\ndate: 2018-07-11\ntags: [China]\n"
        "tourl: https://www.example-news.com/apt40-cambodia\n---\n"
        "APT40 targeted Cambodian government bodies with spearphishing attachments (T1566.001) delivering PlugX.\n"
        "The domain evil-example[.]com and the address 203.0.113[.]7 were used, and "
        "hxxp://evil-example[.]com/drop.php served the payload.\nThe attackers exploited CVE-2017-11882.\n"
    ),
    "2018-08-02-b.md": (
        "---\ntitle: Leviathan hits Malaysia\ndate: 2018-08-02\ntourl: https://research.example.org/leviathan\n---\n"
        "Leviathan used PlugX against Malaysia. The lure used spearphishing attachments (T1566.001).\n"
        "The dropper hash was 44d88612fea8a8f36de82e1278abb02f and it called 203.0.113[.]7.\n"
    ),
    "2019-01-15-c.md": (
        "---\ntitle: Lazarus steals from banks\ndate: 2019-01-15\ntourl: https://www.example-news.com/lazarus\n---\n"
        "The Lazarus Group targeted banks in Bangladesh and used ingress tool transfer (T1105).\n"
    ),
    "2018-09-01-d.md": (
        '---\ntitle: "=HYPERLINK(1) \\e[31m [click](http://evil.test) \\u202e <b>x</b> www.evil.test"\n'
        'date: 2018-09-01\ntourl: "javascript:alert(1)"\n---\nAPT40 attacked Cambodia again.\n'
    ),
}


def write_corpus(folder: Path) -> Path:
    """Write the four posts into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in POSTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
