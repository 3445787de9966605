"""One pane at a time on a narrow terminal: the list, the article or the sidebar, each at full width.

Below ``single_pane_width`` columns (a setting, :data:`SINGLE_PANE_WIDTH` by default) three panes side
by side leave each too little room. The pane shown is the one holding the focus, so every key that
moves the focus moves the view with it: ``enter`` on the list opens the article, ``esc`` goes back to
the list, ``tab`` steps through the panes, the sidebar key shows the sidebar and takes it away again.
Panes are hidden, never removed, so the list's cursor, the open post and every scroll position survive
a switch, and a resize across the width switches modes on the spot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from textual.widget import Widget

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

Pane = Literal["sidebar", "list", "article"]

SINGLE_PANE_WIDTH = 100
"""Terminals narrower than this many columns show one pane at a time (default of ``single_pane_width``)."""


class SinglePane:
    """Which panes of the main screen are shown, from the terminal width and the focus."""

    def __init__(self, screen: MainScreen, width: int | None = None) -> None:
        self._screen = screen
        self.threshold = SINGLE_PANE_WIDTH if width is None else width
        """Below this many columns, one pane at a time (0: never)."""
        self.active = False
        """One pane at a time right now."""
        self.pane: Pane = "list"
        """The pane with the focus: the one shown while :attr:`active`."""

    def resized(self, width: int) -> None:
        """The terminal is ``width`` columns wide: switch modes if it crossed the threshold."""
        active = width < self.threshold
        if active == self.active:
            return
        self.active = active
        if not active and self.pane == "sidebar":
            self._screen.show_sidebar = True  # the reader is in the sidebar: keep it in view
        self.apply()

    def follow_focus(self) -> None:
        """The focus moved: show the pane it moved to."""
        pane = self._pane_of(self._screen.focused)
        if pane is not None and pane != self.pane:
            self.pane = pane
            if self.active:
                self.apply()

    def toggle_sidebar(self) -> None:
        """Show the sidebar full width, or go back from it to the list."""
        screen = self._screen
        target: Widget = screen.post_list if self.pane == "sidebar" else screen.sidebar
        screen.set_focus(target)
        self.follow_focus()

    def apply(self) -> None:
        """Show and hide the panes for the current mode."""
        screen = self._screen
        single = self.active
        screen.set_class(single, "-single")
        screen.sidebar.display = self.pane == "sidebar" if single else screen.show_sidebar
        screen.query_one("#center").display = not single or self.pane == "list"
        screen.article.display = not single or self.pane == "article"

    def _pane_of(self, widget: Widget | None) -> Pane | None:
        screen = self._screen
        roots: tuple[tuple[Pane, Widget], ...] = (
            ("sidebar", screen.sidebar),
            ("list", screen.query_one("#center")),
            ("article", screen.article),
        )
        for pane, root in roots:
            if widget is not None and (widget is root or root in widget.ancestors):
                return pane
        return None
