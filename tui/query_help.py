"""The query language at a glance: the one cheat-sheet the help screen, ``--help`` and the README use.

Rows are data (examples, meaning), so each place renders them its own way: a table on the
help screen, Markdown in the README (:func:`markdown_table`, checked by a test), plain text
for the command line (:func:`plain_text`).
"""

from __future__ import annotations

QUERY_CHEATSHEET: tuple[tuple[tuple[str, ...], str], ...] = (
    (("phishing cambodia",), "posts with both words in title, tags or body (title weighs most)"),
    (('"watering hole"',), "the phrase"),
    (("title:phishing",), "a word in the title only"),
    (("tag:china",), "a tag, any case: in the post, or one you gave it (t)"),
    (("note:soc", 'note:"call back"'), "your note contains it, any case, also inside a word (N)"),
    (("actor:APT40",), 'an actor by any of its names (actor:"TEMP.Periscope" finds the same posts)'),
    (("victim:cambodia",), "a victim country, sector or organisation"),
    (("technique:T1566", "technique:phishing"), "an ATT&CK technique and its sub-techniques, by ID or name"),
    (
        ("malware:plugx", "cve:CVE-2017-11882", "ioc:203.0.113.7"),
        "malware, vulnerabilities, indicators (defanged or not)",
    ),
    (("source:cyberscoop.com",), "the source host"),
    (("date:2018", "date:2018-07", "date:[2018-01 to 2018-06]"), "a year, a month, a range"),
    (
        ("is:unread", "is:starred", "is:flagged", "is:read", "is:archived"),
        "triage state (archived posts are hidden unless asked for)",
    ),
    (("AND", "OR", "NOT", "( )"), "combine: apt40 NOT cambodia, (lazarus OR apt38) tag:banks"),
)
"""(examples, what they find), in the order a newcomer needs them."""


def markdown_table() -> str:
    """The cheat-sheet as the README's Markdown table."""
    lines = ["| query | finds |", "|---|---|"]
    for examples, meaning in QUERY_CHEATSHEET:
        lines.append(f"| {', '.join(f'`{example}`' for example in examples)} | {meaning} |")
    return "\n".join(lines)


def plain_text() -> str:
    """The cheat-sheet as aligned plain text, for ``spyglass --help``."""
    rows = [("  ".join(examples), meaning) for examples, meaning in QUERY_CHEATSHEET]
    width = min(40, max(len(example) for example, _ in rows))
    return "\n".join(
        f"  {example:<{width}}  {meaning}" if len(example) <= width else f"  {example}\n  {'':<{width}}  {meaning}"
        for example, meaning in rows
    )
