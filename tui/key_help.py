"""Every key of every pane, read from the bindings themselves: for the help screen and the key map check.

One list of (pane, bindings) so the help cannot drift from what the keys do, and a key map
entry naming an id that no binding has can be reported at start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from textual.binding import Binding, BindingType

from tui.screens.dossier import DossierScreen
from tui.screens.export import ExportScreen
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.screens.problems import ProblemsScreen
from tui.screens.prompts import ConfirmScreen, NameScreen, NoteScreen, TagsScreen
from tui.widgets.article import ArticleView
from tui.widgets.filter_chips import FilterChips
from tui.widgets.post_list import PostList
from tui.widgets.search_bar import SearchBar
from tui.widgets.sidebar import Sidebar

KeyRow = tuple[str, str, str]
"""(keys as shown, what the key does, binding id)."""
KeyRowParts = tuple[list[str], str, str]


def panes(app_bindings: Iterable[BindingType]) -> list[tuple[str, list[Binding]]]:
    """Each pane's title and bindings, the app's global keys first."""
    named: list[tuple[str, Iterable[BindingType]]] = [
        ("Everywhere", app_bindings),
        ("Main screen", MainScreen.BINDINGS),
        ("Post list", PostList.BINDINGS),
        ("Article", ArticleView.BINDINGS),
        ("Sidebar", Sidebar.BINDINGS),
        ("Search box", SearchBar.BINDINGS),
        ("Filter chips", FilterChips.BINDINGS),
        ("Tags", TagsScreen.BINDINGS),
        ("Note", NoteScreen.BINDINGS),
        ("Feed name", NameScreen.BINDINGS),
        ("Questions", ConfirmScreen.BINDINGS),
        ("Dossier", DossierScreen.BINDINGS),
        ("Export", ExportScreen.BINDINGS),
        ("Problems", ProblemsScreen.BINDINGS),
        ("Help", HelpScreen.BINDINGS),
    ]
    return [(title, list(Binding.make_bindings(bindings))) for title, bindings in named]


def binding_ids(app_bindings: Iterable[BindingType]) -> set[str]:
    """Every binding id a key map may name."""
    return {binding.id for _title, bindings in panes(app_bindings) for binding in bindings if binding.id}


def key_rows(
    app_bindings: Iterable[BindingType], keymap: Mapping[str, str], display: Callable[[Binding], str]
) -> list[tuple[str, list[KeyRow]]]:
    """Per pane, one row per binding id (keys merged), with the user's key map applied."""
    result: list[tuple[str, list[KeyRow]]] = []
    for title, bindings in panes(app_bindings):
        rows: dict[str, KeyRowParts] = {}
        for binding in bindings:
            if not binding.description or binding.system:
                continue
            key_id = binding.id or ""
            keys = keymap.get(key_id, binding.key) if key_id else binding.key
            shown, _description, _id = rows.setdefault(key_id or binding.description, ([], binding.description, key_id))
            for key in keys.split(","):
                label = display(Binding(key.strip(), binding.action, binding.description))
                if label not in shown:
                    shown.append(label)
        result.append((title, [(" / ".join(keys), description, key_id) for keys, description, key_id in rows.values()]))
    return result
