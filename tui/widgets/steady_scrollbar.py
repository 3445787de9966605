"""A line-API view whose scrollbar is redrawn only when the view's own size or length changes.

Every screen layout (a new title, a new post in the article, a new query in the search box) hands each
line-API view its visible size as its "virtual size". That never equals the view's own virtual size (its
number of lines), so Textual's ``ScrollView`` takes every layout anywhere on screen for a change of its
own and redraws its whole scrollbar: on the main thread, and several times per search.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView


class SteadyScrollbar(ScrollView):
    """A ``ScrollView`` that passes a layout on to its scrollbars only when it changed this view."""

    _arranged: tuple[Size, Size, Size] | None = None
    """(size, container size, virtual size) at the last layout that reached the scrollbars."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        arranged = (size, container_size, self.virtual_size)
        if arranged == self._arranged:
            return False  # nothing of this view changed: no resize event, no scrollbar redraw
        self._arranged = arranged
        return super()._size_updated(size, virtual_size, container_size, layout)

    def _length_shown(self) -> None:
        """The view gave its scrollbar its new length itself (no layout): the next layout, which brings
        nothing else new for this view, must not redraw the scrollbar a second time."""
        if self._arranged is not None:
            size, container_size, _ = self._arranged
            self._arranged = (size, container_size, self.virtual_size)
