"""Turn a post and its entity mentions into styled Rich ``Text`` for the article pane.

Pure functions, no widgets. Post text is untrusted: it passes through
:func:`index.sanitize.display_safe` and enters as ``Text(plain)``; every style is a
span added at an offset, so nothing in a post can act as markup.

The body is rendered one character for one character: Markdown syntax is styled
(or swapped for a same-length glyph, such as a bullet, or a soft line break turned
into a space) rather than removed, so the offsets of entity mentions and search
matches computed on the original body stay exact on the displayed text. The markers
of headings, ``**strong**``, ``*emphasis*`` and ``inline code`` become blanks (the
text they mark is styled instead); a link's brackets and address stay, dimmed.

The highlighter (whoosh's stemmer) and the entity knowledge are imported on first use, in the thread that
prepares an article: the app's first screen needs neither.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from index import engine
from index.sanitize import display_safe, one_line
from index.vocabulary import BY_KIND, KINDS, STYLES

if TYPE_CHECKING:
    from index.extract import Mention
    from index.knowledge import Knowledge
    from index.posts import Post

TERM_STYLE = "reverse"
CURRENT_STYLE = "bold underline reverse"
MARKER_STYLE = "dim"
CODE_STYLE = "bold italic"
_MAX_ITEMS = 12
_MAX_ALIASES = 5
_MAX_EXTRAS = 20


def _legend() -> Text:
    legend = Text("Legend: ")
    for info in KINDS:
        legend.append(info.label, info.style)
        legend.append("  ")
    legend.append("search term", TERM_STYLE)
    legend.append("  ")
    legend.append("current", CURRENT_STYLE)
    return legend


#: The colour legend (shared: ``copy()`` before changing it).
LEGEND: Text = _legend()


# --- body ---------------------------------------------------------------------------------

_FENCE = re.compile(r"[ \t]{0,3}(?:```|~~~)")
_HEADING = re.compile(r"([ \t]{0,3}#{1,6})(?:[ \t]+|$)")
_BULLET = re.compile(r"([ \t]*)[-*+](?=[ \t]+\S)")
_ORDERED = re.compile(r"[ \t]*\d{1,9}[.)][ \t]+\S")
_QUOTE = re.compile(r"[ \t]{0,3}>")
_RULE = re.compile(r"[ \t]{0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_TABLE = re.compile(r"[ \t]*\|")
_LINK = re.compile(r"!?\[([^\[\]\n]{0,300})\]\(([^()\s]{1,2000})\)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)([^*_\n]{1,1000}?)(?<=\S)\1")
_CODE = re.compile(r"(`+)([^`\n]{1,1000}?)\1")
_EMPHASIS = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]{1,1000}?)(?<=[^\s*])\*(?![*\w])")


def _block_start(line: str) -> bool:
    """Does this line open a Markdown block (so the line break before it is a hard one)?"""
    return bool(
        _FENCE.match(line)
        or _HEADING.match(line)
        or _BULLET.match(line)
        or _ORDERED.match(line)
        or _QUOTE.match(line)
        or _RULE.match(line)
        or _TABLE.match(line)
    )


def _layout(safe: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Same-length display text (bullets, soft breaks as spaces) and the Markdown style spans."""
    chars = list(safe)
    spans: list[tuple[int, int, str]] = []
    lines = safe.split("\n")
    in_fence = False
    offset = 0
    for number, line in enumerate(lines):
        end = offset + len(line)
        last = number == len(lines) - 1
        if _FENCE.match(line):
            in_fence = not in_fence
            spans.append((offset, end, MARKER_STYLE))
        elif not in_fence:
            _style_line(line, offset, chars, spans)
            following = "" if last else lines[number + 1]
            soft = (
                line.strip()
                and following.strip()
                and not _HEADING.match(line)
                and not _RULE.match(line)
                and not _TABLE.match(line)
                and not line.endswith(("  ", "\\"))
                and not _block_start(following)
            )
            if soft:
                chars[end] = " "  # a soft line break in Markdown is a space
        offset = end + 1
    return "".join(chars), spans


def _style_line(line: str, offset: int, chars: list[str], spans: list[tuple[int, int, str]]) -> None:
    """Collect the style spans for one line outside a code fence (and swap list markers for bullets)."""
    end = offset + len(line)
    if heading := _HEADING.match(line):
        _blank(chars, offset, offset + heading.end(1))
        spans.append((offset + heading.end(), end, "bold"))
    elif _RULE.match(line):
        spans.append((offset, end, MARKER_STYLE))
    elif bullet := _BULLET.match(line):
        chars[offset + bullet.end(1)] = "•"
    elif quote := _QUOTE.match(line):
        spans.append((offset, offset + quote.end(), MARKER_STYLE))
        spans.append((offset + quote.end(), end, "italic"))
    for link in _LINK.finditer(line):
        start = offset + link.start()
        spans.append((start, offset + link.start(1), MARKER_STYLE))
        spans.append((offset + link.start(1), offset + link.end(1), "underline"))
        spans.append((offset + link.end(1), offset + link.end(), MARKER_STYLE))
    code: list[tuple[int, int]] = []
    for match in _CODE.finditer(line):
        code.append(match.span())
        _marked(match, 2, offset, CODE_STYLE, chars, spans)
    for pattern, group, style in ((_STRONG, 2, "bold"), (_EMPHASIS, 1, "italic")):
        for match in pattern.finditer(line):
            if not any(start < match.end() and match.start() < stop for start, stop in code):  # code is literal
                _marked(match, group, offset, style, chars, spans)


def _blank(chars: list[str], start: int, end: int) -> None:
    """Hide Markdown markers the same-length way: each becomes a space."""
    chars[start:end] = " " * (end - start)


def _marked(
    match: re.Match[str], group: int, offset: int, style: str, chars: list[str], spans: list[tuple[int, int, str]]
) -> None:
    """Style the text of an inline construct (``match`` group ``group``) and blank its markers on both sides."""
    inner_start, inner_end = offset + match.start(group), offset + match.end(group)
    _blank(chars, offset + match.start(), inner_start)
    _blank(chars, inner_end, offset + match.end())
    spans.append((inner_start, inner_end, style))


def valid_mentions(mentions: Iterable[Mention], length: int) -> list[Mention]:
    """Mentions whose offsets fit a text of ``length`` characters, sorted by position."""
    return sorted(
        (m for m in mentions if 0 <= m.start < m.end <= length),
        key=lambda m: (m.start, m.end),
    )


def render_body(body: str, mentions: list[Mention], stems: Collection[str]) -> Text:
    """The post body as styled Text: Markdown structure, entity colours, and every word that analyses to
    one of the search's matched ``stems`` (``SearchResult.stems``) highlighted."""
    display, markdown_spans = _layout(display_safe(body))
    text = Text(display, end="")
    for start, end, style in markdown_spans:
        if end > start:
            text.stylize(style, start, end)
    for mention in valid_mentions(mentions, len(display)):
        text.stylize(STYLES.get(mention.kind, "bold"), mention.start, mention.end)
    for start, end in engine.highlight_spans(display, stems):
        text.stylize(TERM_STYLE, start, end)
    return text


# --- header -------------------------------------------------------------------------------


def get_knowledge() -> Knowledge:
    """The process-wide entity knowledge, its package imported on the first call (see the module's note)."""
    from index.knowledge import get_knowledge as knowledge

    return knowledge()


def _format_date(value: datetime | None) -> str:
    if value is None:
        return "no date"
    if (value.hour, value.minute, value.second) == (0, 0, 0):
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d %H:%M")


def _grouped(mentions: Iterable[Mention]) -> list[tuple[Mention, int]]:
    """One entry per canonical name (case-insensitive): first mention and count, most frequent first."""
    firsts: dict[str, Mention] = {}
    counts: dict[str, int] = {}
    for mention in mentions:
        key = (mention.canonical or mention.text).casefold()
        firsts.setdefault(key, mention)
        counts[key] = counts.get(key, 0) + 1
    order = sorted(firsts, key=lambda key: -counts[key])  # stable: first appearance breaks ties
    return [(firsts[key], counts[key]) for key in order]


def _label(text: Text, label: str) -> None:
    text.append("\n")
    text.append(f"{label:<11}", "bold")


def _append_items(text: Text, items: Sequence[Text]) -> None:
    for number, item in enumerate(items[:_MAX_ITEMS]):
        if number:
            text.append(" · ", MARKER_STYLE)
        text.append_text(item)
    if len(items) > _MAX_ITEMS:
        text.append(f" · +{len(items) - _MAX_ITEMS} more", MARKER_STYLE)


def _name(mention: Mention, count: int, value: str | None = None) -> Text:
    item = Text(one_line(value if value is not None else mention.canonical or mention.text, 120))
    item.stylize(STYLES.get(mention.kind, "bold"))
    if count > 1:
        item.append(f" ×{count}", MARKER_STYLE)
    return item


def _actor_item(mention: Mention, count: int, used: set[str]) -> Text:
    """The actor under the name the post uses: the canonical name when the post uses it anywhere, else the
    post's first name for it with the canonical name first after "aka" ("AIRBREAK aka Orz, …")."""
    knowledge = get_knowledge()
    canonical = mention.canonical.casefold()
    shown = mention.canonical if canonical in used or not mention.text else mention.text
    item = _name(mention, count, shown)
    aliases = [mention.canonical] if shown.casefold() != canonical else []
    aliases += [
        alias
        for alias in knowledge.actor_aliases(mention.canonical)
        if alias.casefold() not in (canonical, shown.casefold())
    ]
    country = knowledge.actor_country(mention.canonical) or mention.role
    if aliases:
        item.append(" aka ", MARKER_STYLE)
        item.append(one_line(", ".join(aliases[:_MAX_ALIASES]), 200))
        if len(aliases) > _MAX_ALIASES:
            item.append(f" +{len(aliases) - _MAX_ALIASES}", MARKER_STYLE)
    if country:
        item.append(" (", MARKER_STYLE)
        item.append(one_line(country, 60))
        item.append(")", MARKER_STYLE)
    return item


def _malware_item(mention: Mention, count: int, used: set[str]) -> Text:
    """Malware under the name the post uses, the canonical name after "aka" ("AIRBREAK aka Orz")."""
    if not mention.text or mention.canonical.casefold() in used:
        return _name(mention, count)
    item = _name(mention, count, mention.text)
    if mention.canonical.casefold() != mention.text.casefold():
        item.append(" aka ", MARKER_STYLE)
        item.append(one_line(mention.canonical, 120))
    return item


def _technique_item(mention: Mention, count: int) -> Text:
    technique_id = mention.ref
    name = mention.canonical
    if technique_id and (not name or name == technique_id):
        name = get_knowledge().technique_name(technique_id)
    item = Text()
    if technique_id:
        item.append(one_line(technique_id, 20), STYLES["TECHNIQUE"] + " bold")
        if name and name != technique_id:
            item.append(" ")
    if name and name != technique_id:
        item.append(one_line(name, 120), STYLES["TECHNIQUE"])
    if count > 1:
        item.append(f" ×{count}", MARKER_STYLE)
    return item


def _victim_items(mentions: list[Mention]) -> list[Text]:
    roles: dict[str, list[Text]] = {}
    for mention, count in _grouped(mentions):
        roles.setdefault(mention.role or "other", []).append(_name(mention, count))
    plural = {"country": "countries", "organisation": "organisations", "sector": "sectors"}
    order = [role for role in plural if role in roles] + [role for role in roles if role not in plural]
    items: list[Text] = []
    for role in order:
        group = Text(plural.get(role, one_line(role, 30)) + ": ", MARKER_STYLE)
        names = roles[role]
        for number, name in enumerate(names[:_MAX_ITEMS]):
            if number:
                group.append(", ")
            group.append_text(name)
        if len(names) > _MAX_ITEMS:
            group.append(f", +{len(names) - _MAX_ITEMS} more", MARKER_STYLE)
        items.append(group)
    return items


def _ioc_item(mention: Mention, count: int) -> Text:
    # The surface text keeps a defanged indicator defanged on screen.
    item = Text(one_line(mention.ref or "ioc", 20) + ": ", MARKER_STYLE)
    item.append_text(_name(mention, count, mention.text))
    return item


def render_header(post: Post, mentions: list[Mention]) -> Text:
    """Title, date, source, tags, other front matter and the entity summary, as styled Text."""
    text = Text(end="")
    text.append(one_line(post.title, 500) or "(untitled)", "bold")
    text.append("\n")
    text.append(_format_date(post.date))
    if post.source:
        text.append(" · ", MARKER_STYLE)
        text.append(one_line(post.source, 200))
    if post.url:
        text.append("\n")
        text.append(one_line(post.url, 500), "dim underline")
    if post.tags:
        _label(text, "Tags")
        text.append(one_line(", ".join(post.tags), 600))
    for key, value in list(post.extra.items())[:_MAX_EXTRAS]:
        _label(text, one_line(key, 10))
        text.append(one_line(value, 300))
    if post.warnings:
        _label(text, "Notes")
        text.append(one_line("; ".join(post.warnings), 600), "dim italic")

    by_kind: dict[str, list[Mention]] = {}
    for mention in mentions:
        by_kind.setdefault(mention.kind, []).append(mention)
    used = {mention.text.casefold() for mention in mentions}  # the names the post itself uses
    sections: list[tuple[str, list[Text]]] = [
        (BY_KIND["ACTOR"].title, [_actor_item(m, n, used) for m, n in _grouped(by_kind.get("ACTOR", []))]),
        (BY_KIND["VICTIM"].title, _victim_items(by_kind.get("VICTIM", []))),
        (BY_KIND["TECHNIQUE"].title, [_technique_item(m, n) for m, n in _grouped(by_kind.get("TECHNIQUE", []))]),
        (BY_KIND["MALWARE"].title, [_malware_item(m, n, used) for m, n in _grouped(by_kind.get("MALWARE", []))]),
        (BY_KIND["VULN"].title, [_name(m, n) for m, n in _grouped(by_kind.get("VULN", []))]),
        (BY_KIND["IOC"].title, [_ioc_item(m, n) for m, n in _grouped(by_kind.get("IOC", []))]),
    ]
    if any(items for _, items in sections):
        text.append("\n")
    for label, items in sections:
        if items:
            _label(text, label)
            _append_items(text, items)
    return text
