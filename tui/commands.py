"""The command palette: every action that has a key binding, plus common searches and the feeds.

Actions are discovered from the calling screen's active bindings (public API), so the
palette offers exactly what the keys do, on the node that owns each binding. Hit text is
built as ``Content`` with match highlights added as spans: Textual's ``Matcher.highlight``
parses its candidate as markup, which would let a saved query such as ``date:[2018 to 2019]``
break it, or ``[@click=…]`` become an action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.dom import DOMNode
from textual.markup import escape
from textual.message import Message
from textual.screen import Screen
from textual.style import Style

from index.sanitize import one_line
from tui.feeds import load_feeds

#: Searches offered in the palette before the user's feeds (saved searches).
COMMON_QUERIES: tuple[str, ...] = (
    "is:unread",
    "is:starred",
    "is:flagged",
    "actor:APT40",
    "tag:ransomware",
    "technique:T1566",
)

#: Actions the palette itself would offer pointlessly.
_SKIPPED_ACTIONS = frozenset({"command_palette"})


@dataclass
class SearchRequested(Message):
    """The reader picked a search from the palette; the screen (or app) runs it."""

    query: str


@dataclass(frozen=True)
class _Command:
    title: str
    help: str
    run: Callable[[], object]


def highlight(matcher: Matcher, candidate: str) -> Content:
    """``candidate`` as plain Content with the fuzzy-matched characters styled (no markup parsing)."""
    content = Content(candidate)
    score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    if not score:
        return content
    for offset in offsets:
        if not candidate[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class SpyglassCommands(Provider):
    """Palette hits for the app's bound actions, common searches and the feeds."""

    def __init__(self, screen: Screen[Any], match_style: Style | None = None) -> None:
        super().__init__(screen, match_style)
        self._saved: list[tuple[str, str]] = []

    async def startup(self) -> None:
        """Read the feeds once per palette opening (small files; problems reported at start-up)."""
        self._saved = [(feed.name, feed.query) for feed in load_feeds()]

    def _palette_commands(self) -> list[_Command]:
        commands: list[_Command] = []
        seen: set[tuple[int, str]] = set()
        for active in self.screen.active_bindings.values():
            binding: Binding = active.binding
            if not binding.description or not active.enabled or binding.action in _SKIPPED_ACTIONS:
                continue
            key = (id(active.node), binding.action)
            if key in seen:
                continue
            seen.add(key)
            # Help text is parsed as markup by the palette: only our own key names go there.
            key_help = escape(f"key: {self.app.get_key_display(binding)}")
            run = partial(self._run_bound_action, binding.action, active.node)
            commands.append(_Command(binding.description, key_help, run))
        if hasattr(self.screen, "action_export"):  # the key exports the results; the open post only from here
            run = partial(self._run_bound_action, "export('post')", self.screen)
            commands.append(_Command("Export open post", "STIX, Navigator, CSV, Markdown or IoCs", run))
        for query in COMMON_QUERIES:
            commands.append(_Command(f"Search: {query}", "common search", partial(self._post_search, query)))
        for name, query in self._saved:
            title = one_line(f"Search: {name} = {query}" if name != query else f"Search: {query}", 300)
            commands.append(_Command(title, "feed", partial(self._post_search, query)))
        return commands

    async def _run_bound_action(self, action: str, node: DOMNode) -> None:
        await self.app.run_action(action, node)

    def _post_search(self, query: str) -> None:
        self.screen.post_message(SearchRequested(query))

    async def discover(self) -> Hits:
        """Every command, in binding order, then the searches."""
        for command in self._palette_commands():
            yield DiscoveryHit(Content(command.title), command.run, text=command.title, help=command.help)

    async def search(self, query: str) -> Hits:
        """Commands whose title fuzzy-matches what was typed."""
        matcher = self.matcher(query)
        for command in self._palette_commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, highlight(matcher, command.title), command.run, text=command.title, help=command.help)
