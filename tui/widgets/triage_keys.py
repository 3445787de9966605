"""The triage keys, bound once here and shared by every pane that shows a post (list and article).

Each binding runs the pane's own ``triage`` action, which posts
:class:`~tui.messages.TriageRequested` for the post that pane shows; the screen decides
what happens. Ids are stable: they are what ``keys.toml`` remaps.
"""

from __future__ import annotations

from textual.binding import Binding

TRIAGE_BINDINGS: tuple[Binding, ...] = (
    Binding("r", "triage('read')", "Read", id="triage.read"),
    Binding("s", "triage('star')", "Star", id="triage.star"),
    Binding("f", "triage('flag')", "Flag", id="triage.flag"),
    Binding("a", "triage('archive')", "Archive", id="triage.archive"),
    Binding("t", "triage('tag')", "Tags", show=False, id="triage.tag"),
    Binding("N", "triage('note')", "Note", show=False, id="triage.note"),
    Binding("u", "triage('undo')", "Undo", show=False, id="triage.undo"),
    Binding("n", "triage('next_unread')", "Next unread", show=False, id="triage.next_unread"),
    Binding("p", "triage('previous_unread')", "Previous unread", show=False, id="triage.previous_unread"),
    Binding("o", "triage('open_url')", "Open URL", id="triage.open_url"),
    Binding("y", "triage('copy_url')", "Copy URL", show=False, id="triage.copy_url"),
    Binding("R", "triage('all_read')", "Mark all results read/unread", show=False, id="triage.all_read"),
    Binding("A", "triage('all_archive')", "Archive/restore all results", show=False, id="triage.all_archive"),
)
