"""The export prompt: pick a format and a file, then write the current results (or the open post) there.

The query is run again in full (the list may show only its first screen), the file is written through
:func:`index.export.open_atomic` in a thread with a progress bar, and an existing file is replaced only after
the reader says yes. The screen returns a one-line summary of what was written, or None.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from index.corpus import Corpus
from index.export import FORMATS, SUFFIXES, open_atomic, write_export
from index.sanitize import one_line
from index.searching import FlagSource
from tui.screens.prompts import ConfirmScreen

LABELS: dict[str, str] = {
    "stix": "STIX 2.1 bundle", "navigator": "ATT&CK Navigator layer", "csv": "CSV, one row per post",
    "md": "Markdown brief", "iocs": "Indicators (IoC list)",
}  # fmt: skip


def default_path(fmt: str, folder: Path | None = None) -> Path:
    """``spyglass-<format>-<date-time><suffix>`` in the current folder."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return (folder or Path.cwd()) / f"spyglass-{fmt}-{stamp}{SUFFIXES[fmt]}"


class ExportScreen(ModalScreen[str | None]):
    """Choose a format (list) and a file (input); ``enter`` in the file box exports, ``escape`` cancels."""

    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical {
        width: 80; max-width: 95%; height: auto; border: round $accent; background: $surface; padding: 1 2;
    }
    ExportScreen OptionList { height: auto; max-height: 7; margin: 1 0; }
    ExportScreen ProgressBar { display: none; margin-top: 1; }
    ExportScreen.running ProgressBar { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="export.cancel")]

    def __init__(self, corpus: Corpus, query: str, state: FlagSource | None = None, post_id: str | None = None) -> None:
        super().__init__()
        self.corpus = corpus
        self.search_query = query
        self.state = state
        self.post_id = post_id
        self.fmt: str = FORMATS[0]

    def compose(self) -> ComposeResult:
        what = (
            f"the open post ({one_line(self.post_id, 80)})"
            if self.post_id
            else (f"the results of {one_line(self.search_query, 120)}" if self.search_query.strip() else "every post")
        )
        with Vertical():
            yield Static(Text(f"Export {what}"), id="export-what")
            yield OptionList(*(Option(LABELS[fmt], id=fmt) for fmt in FORMATS), id="export-format")
            yield Static("File (enter to export, escape to cancel):")
            yield Input(value=str(default_path(self.fmt)), id="export-path")
            yield ProgressBar(id="export-progress", show_eta=False)
            yield Static("", id="export-status")

    def on_mount(self) -> None:
        formats = self.query_one("#export-format", OptionList)
        formats.highlighted = 0
        formats.focus()

    @on(OptionList.OptionHighlighted, "#export-format")
    def _format_changed(self, event: OptionList.OptionHighlighted) -> None:
        fmt = event.option.id or FORMATS[0]
        path_input = self.query_one("#export-path", Input)
        path = Path(path_input.value)
        if path.name.startswith("spyglass-") and path.name.endswith(SUFFIXES[self.fmt]):  # still our suggestion
            path_input.value = str(
                path.with_name(
                    path.name[: -len(SUFFIXES[self.fmt])].replace(f"spyglass-{self.fmt}-", f"spyglass-{fmt}-")
                    + SUFFIXES[fmt]
                )
            )
        self.fmt = fmt

    @on(OptionList.OptionSelected, "#export-format")
    def _format_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#export-path", Input).focus()

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.has_class("running"):
            return
        path = Path(event.value.strip()).expanduser()
        if not event.value.strip() or path.is_dir():
            self._status("Give a file name.")
        elif not path.parent.is_dir():
            self._status(f"No such folder: {path.parent}")
        elif path.exists():

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._start(path)

            self.app.push_screen(ConfirmScreen(f"{path} exists. Replace it?"), confirmed)
        else:
            self._start(path)

    def _status(self, message: str) -> None:
        self.query_one("#export-status", Static).update(Text(one_line(message, 300)))

    def _start(self, path: Path) -> None:
        self.add_class("running")
        self._status(f"Writing {path} …")
        self._export(path, self.fmt)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export(self, path: Path, fmt: str) -> str:
        if self.post_id is not None:
            rows = self.corpus.rows([self.post_id])
        else:
            result = self.corpus.search(self.search_query, sort="date", state=self.state, snippets=False)
            if result.error is not None:
                raise ValueError(result.error)
            rows = self.corpus.rows(result.ids)
        bar = self.query_one("#export-progress", ProgressBar)

        def progress(done: int, total: int) -> None:
            if done == total or done % 50 == 0:
                self.app.call_from_thread(bar.update, total=total, progress=done)

        with open_atomic(path) as out:
            written = write_export(self.corpus.posts_dir, rows, fmt, out, query=self.search_query, progress=progress)
        return f"Wrote {written} to {path}"

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "export":
            return
        if event.state == WorkerState.SUCCESS:
            self.app.notify(str(event.worker.result), timeout=6, markup=False)
            self.dismiss(str(event.worker.result))
        elif event.state == WorkerState.ERROR:
            self.remove_class("running")
            error = event.worker.error
            self._status(f"Export failed: {type(error).__name__}: {error}")

    def action_cancel(self) -> None:
        """Close without exporting (ignored while the file is being written)."""
        if not self.has_class("running"):
            self.dismiss(None)
