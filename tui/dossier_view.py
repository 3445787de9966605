"""How a dossier reads, for the terminal (``spyglass dossier``) and the dossier screen alike.

Every name and title comes from posts or the galaxies: it is shown only as :class:`rich.text.Text` built from
``one_line``/``display_safe`` output, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from index.catalog import PostRow
from index.dossier import Dossier, sparkline
from index.sanitize import display_safe, one_line
from index.vocabulary import BY_KIND

MAX_DESCRIPTION = 1200
#: Months a sparkline shows one block each; longer spans show one block per year.
MAX_SPARK = 96


def header(dossier: Dossier, description: str) -> Text:
    """Name and kind, aliases, country, description, first/last seen and the posts-per-month sparkline."""
    info = BY_KIND[dossier.kind]
    text = Text()
    text.append(one_line(dossier.label, 200), style=info.style)
    text.append(f"  {info.label}", style="dim")
    if dossier.attack_id:
        text.append(f"  {dossier.attack_id}", style="dim")
    if dossier.aliases:
        text.append("\nAliases: ", style="bold")
        text.append(one_line(", ".join(dossier.aliases), 600))
    if dossier.country:
        text.append("\nAttributed to: ", style="bold")
        text.append(one_line(dossier.country, 100))
    if description:
        trimmed = description if len(description) <= MAX_DESCRIPTION else description[: MAX_DESCRIPTION - 1] + "…"
        text.append("\n\n")
        text.append(display_safe(trimmed.strip()))
    text.append("\n\n")
    total = len(dossier.posts)
    if dossier.first_seen and dossier.last_seen:
        text.append("Seen ", style="bold")
        text.append(f"{dossier.first_seen:%Y-%m-%d} to {dossier.last_seen:%Y-%m-%d}")
        text.append(f" in {total} post{'s' if total != 1 else ''}")
        if dossier.undated:
            text.append(f" ({dossier.undated} undated)", style="dim")
        periods = list(dossier.months)
        unit = "month"
        if len(periods) > MAX_SPARK:  # years on end: one block per year keeps it on one line
            years: dict[str, int] = {}
            for month, count in periods:
                years[month[:4]] = years.get(month[:4], 0) + count
            periods, unit = list(years.items()), "year"
        counts = [count for _period, count in periods]
        text.append(f"\nPosts per {unit} ", style="bold")
        text.append(f"{periods[0][0]} ", style="dim")
        text.append(sparkline(counts), style=info.style)
        text.append(f" {periods[-1][0]} (peak {max(counts)})", style="dim")
    else:
        text.append(f"In {total} post{'s' if total != 1 else ''} of this library", style="bold")
    return text


def related_table(dossier: Dossier) -> Table:
    """The top co-occurring entities, one column per kind."""
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, expand=False)
    kinds = [kind for kind in dossier.related]
    for kind in kinds:
        table.add_column(f"with {BY_KIND[kind].title.lower()}", style=BY_KIND[kind].style)
    depth = max((len(items) for items in dossier.related.values()), default=0)
    for index in range(depth):
        cells = []
        for kind in kinds:
            items = dossier.related[kind]
            cells.append(Text(f"{one_line(items[index][0], 40)} ({items[index][1]})") if index < len(items) else Text())
        table.add_row(*cells)
    return table


def post_line(row: PostRow) -> Text:
    """``2018-07-11  Title`` for the list of posts."""
    line = Text(f"{row.date:%Y-%m-%d}" if row.date else "undated   ", style="dim")
    line.append("  ")
    line.append(one_line(row.title, 160))
    return line


def print_dossier(dossier: Dossier, description: str, rows: Sequence[PostRow]) -> None:
    """The dossier on standard output, for people."""
    console = Console(highlight=False)
    parts: list[Text | Table] = [header(dossier, description)]
    if dossier.related:
        parts += [Text(""), related_table(dossier)]
    if rows:
        parts.append(Text("\nPosts", style="bold"))
        parts += [post_line(row) for row in rows]
        if len(dossier.posts) > len(rows):
            parts.append(Text(f"… and {len(dossier.posts) - len(rows)} more (--limit)", style="dim"))
    console.print(Group(*parts))
