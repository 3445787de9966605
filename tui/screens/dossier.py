"""The entity dossier screen: what is known about one actor, victim, technique or malware family, and its posts.

The dossier is built in a thread from the catalog (tens of milliseconds at 100k posts) and the galaxy
description; the screen only lays it out. ``enter`` on a co-occurring entity opens that entity's dossier on top
(``escape`` comes back); ``s`` on it, or on the header, searches for it in the main screen; ``enter`` on a post
opens it in the article. The screen returns what was chosen as a :class:`DossierChoice`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from index.catalog import PostRow
from index.corpus import Corpus
from index.dossier import DOSSIER_KINDS, Dossier, build, describe, resolve
from index.knowledge import get_knowledge
from index.sanitize import one_line
from index.vocabulary import BY_KIND, Kind, technique_id
from tui.dossier_view import header
from tui.widgets.article import ArticleView
from tui.widgets.sidebar import Sidebar

_SEP = "\x1f"


@dataclass(frozen=True)
class DossierChoice:
    """What the reader picked: a post to open, or an entity to search for."""

    post_id: str | None = None
    entity: tuple[Kind, str] | None = None


@dataclass
class DossierBuilt(Message):
    """The worker's answer: the dossier (None when the name is unknown), its description and post rows."""

    dossier: Dossier | None
    description: str
    rows: list[PostRow]


def entity_kind(kind: str) -> Kind | None:
    """A sidebar section or mention kind (``actor``, ``TECHNIQUE``) as a dossier kind, or None (tags, CVEs, IoCs)."""
    upper = kind.upper()
    return next((each for each in DOSSIER_KINDS if each == upper), None)


def _related_prompt(kind: Kind, name: str, count: int) -> Content:
    shown = get_knowledge().technique_label(name) if kind == "TECHNIQUE" else name
    label = Content.styled(one_line(shown, 120), BY_KIND[kind].style)
    return Content.assemble(label, Content.styled(f" {count}", "dim"))


def _post_prompt(row: PostRow) -> Content:
    date = f"{row.date:%Y-%m-%d}" if row.date else "undated   "
    return Content.assemble(Content.styled(date, "dim"), "  ", one_line(row.title, 200))


class DossierScreen(Screen[DossierChoice | None]):
    """One entity's dossier over the whole library."""

    DEFAULT_CSS = """
    DossierScreen #dossier-head { height: auto; max-height: 50%; padding: 0 1; }
    DossierScreen #dossier-lists { height: 1fr; }
    DossierScreen .dossier-column { width: 1fr; height: 1fr; }
    DossierScreen .dossier-title { height: 1; padding: 0 1; text-style: bold; }
    DossierScreen OptionList { height: 1fr; border: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="dossier.back"),
        Binding("s", "search", "Search for it", id="dossier.search"),
    ]

    def __init__(self, corpus: Corpus, name: str, kind: Kind | None = None) -> None:
        super().__init__()
        self.corpus = corpus
        self.entity_name = name
        self.kind = kind
        self.dossier: Dossier | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="⌕")
        with VerticalScroll(id="dossier-head"):
            yield Static(Text(f"Building the dossier of {one_line(self.entity_name, 100)} …"), id="dossier-header")
        with Horizontal(id="dossier-lists"):
            with Vertical(classes="dossier-column"):
                yield Static("Appears with", classes="dossier-title")
                yield OptionList(id="dossier-related")
            with Vertical(classes="dossier-column"):
                yield Static("Posts", classes="dossier-title")
                yield OptionList(id="dossier-posts")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Dossier: {one_line(self.entity_name, 80)}"
        self._build()

    @work(thread=True, exclusive=True, group="dossier", exit_on_error=False)
    def _build(self) -> None:
        rows = self.corpus.all_rows()
        found = resolve(self.entity_name, rows, self.kind)
        if found is None:
            self.post_message(DossierBuilt(None, "", []))
            return
        dossier = build(found[0], found[1], rows)
        self.post_message(DossierBuilt(dossier, describe(dossier), self.corpus.rows(list(dossier.posts))))

    @on(DossierBuilt)
    def _built(self, message: DossierBuilt) -> None:
        head = self.query_one("#dossier-header", Static)
        if message.dossier is None:
            head.update(Text(f"No actor, victim, technique or malware is known as {one_line(self.entity_name, 100)}."))
            return
        dossier = self.dossier = message.dossier
        self.title = f"Dossier: {one_line(dossier.label, 80)}"
        head.update(header(dossier, message.description))
        related = self.query_one("#dossier-related", OptionList)
        for kind, items in dossier.related.items():
            related.add_option(Option(Content.styled(BY_KIND[kind].title, "bold underline"), disabled=True))
            related.add_options(
                Option(_related_prompt(kind, name, count), id=f"{kind}{_SEP}{name}") for name, count in items
            )
        posts = self.query_one("#dossier-posts", OptionList)
        posts.add_options(Option(_post_prompt(row), id=row.post_id) for row in message.rows)
        if related.option_count:
            related.highlighted = 1  # the first entity, under its heading
        if posts.option_count:
            posts.highlighted = 0
        (posts if posts.option_count else related).focus()

    @on(OptionList.OptionSelected, "#dossier-posts")
    def _open_post(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.dismiss(DossierChoice(post_id=event.option.id))

    @on(OptionList.OptionSelected, "#dossier-related")
    def _open_related(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        entity = self._entity(event.option)
        if entity is not None:
            self.app.push_screen(DossierScreen(self.corpus, entity[1], entity[0]), self._nested)

    def _nested(self, choice: DossierChoice | None) -> None:
        if choice is not None:  # a post or search picked in a dossier opened from this one
            self.dismiss(choice)

    @staticmethod
    def _entity(option: Option | None) -> tuple[Kind, str] | None:
        if option is None or not option.id or _SEP not in option.id:
            return None
        kind, name = option.id.split(_SEP, 1)
        found = entity_kind(kind)
        return (found, name) if found else None

    def action_search(self) -> None:
        """Search the main screen for the co-occurring entity under the cursor, else for this entity."""
        related = self.query_one("#dossier-related", OptionList)
        entity = None
        if related.has_focus and related.highlighted is not None:
            entity = self._entity(related.get_option_at_index(related.highlighted))
        if entity is None and self.dossier is not None:
            entity = (self.dossier.kind, self.dossier.name)
        if entity is not None:
            self.dismiss(DossierChoice(entity=entity))

    def action_back(self) -> None:
        """Close the dossier."""
        self.dismiss(None)


def entity_under_cursor(focused: Widget | None, sidebar: Sidebar, article: ArticleView) -> tuple[Kind, str] | None:
    """The entity a dossier key means: the sidebar entry under the cursor when the sidebar has focus, else the
    article's current entity (actors, victims, techniques and malware; tags, CVEs and IoCs have none)."""
    if focused is sidebar:
        picked = sidebar.highlighted_filter
        kind = entity_kind(picked[0]) if picked else None
        if picked is None or kind is None:
            return None
        return kind, (technique_id(picked[1]) or picked[1]) if kind == "TECHNIQUE" else picked[1]
    mention = article.current_entity
    kind = entity_kind(mention.kind) if mention is not None else None
    if mention is None or kind is None:
        return None
    return kind, (mention.ref or mention.canonical) if kind == "TECHNIQUE" else (mention.canonical or mention.text)
