"""The full-screen picker behind ``papercli pick``: a query line, the library's papers ranked by
papercli's search as the query changes, and a preview of the highlighted paper.

``PickApp.run()`` returns the chosen keys (the marked papers in the order they were marked, or
the highlighted one), or None when the user leaves with Esc. The search runs in a worker thread
a moment after the last keystroke (``DEBOUNCE``), at most ``LIMIT`` rows are shown, and the
preview reads one paper from the cache, so typing stays quick on a large library.

Actions on the highlighted paper (open, tag, status, note) run the papercli command that does
them, as a subprocess on the same library, so they behave and check exactly as on the command
line; their one-line answer is shown at the bottom. Copying writes an OSC 52 sequence (the
terminal puts the text on the clipboard if it allows it) and says what was copied.

Every text taken from the library is made harmless with ``visible`` and drawn as plain rich
``Text``, never parsed as markup. This module is the only one that imports Textual; it prints
nothing and never exits the process: the CLI (``cli_pick``) prints the keys and picks the exit
code.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from papercli.errors import PapercliError
from papercli.library import Library
from papercli.models import Paper, authors_short, display_author
from papercli.search import R_AUTHORS, R_TITLE, R_YEAR, Hit, parse_query, search
from papercli.visible import visible

LIMIT = 200  # rows shown: the best matches, enough to scroll, few enough to draw at once
DEBOUNCE = 0.06  # seconds of quiet typing before the search runs
KEY_WIDTH = 24  # keys are padded to the longest shown, up to this


def _line(text: str) -> str:
    return visible(text, one_line=True)


def row_text(hit: Hit, marked: bool, key_width: int = 0) -> Text:
    """One result row: a mark, the key (padded to ``key_width``), the year, the first author
    and the title."""
    row = hit.row
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append("● " if marked else "  ", style="bold magenta")
    out.append(_line(hit.key).ljust(key_width), style="cyan")
    out.append(f"  {row[R_YEAR] or '    '}  ", style="dim")
    out.append(_line(authors_short(list(row[R_AUTHORS])[:1])), style="green")
    out.append("  " + _line(row[R_TITLE]))
    return out


def preview_text(paper: Paper) -> Text:
    """The preview of one paper: title, authors, year, tags, status, abstract and notes."""
    out = Text()
    out.append(visible(paper.title or "(no title)") + "\n", style="bold")
    out.append(_line(paper.key), style="cyan")
    out.append(f"  {paper.year or ''}  {paper.status}\n", style="dim")
    if paper.authors:
        shown = ", ".join(display_author(a) for a in paper.authors)
        out.append(_line(shown) + "\n", style="green")
    if paper.tags:
        out.append(_line(" ".join(f"#{t}" for t in paper.tags)) + "\n", style="magenta")
    if paper.venue:
        out.append(_line(paper.venue) + "\n", style="dim")
    if paper.abstract:
        out.append("\n" + visible(paper.abstract.strip()) + "\n")
    for n, note in enumerate(paper.notes, 1):
        where = ", ".join(
            part for part in (f"p. {note.page}" if note.page else "", note.section) if part
        )
        out.append(f"\nNote {n}" + (f" ({_line(where)})" if where else "") + "\n", style="bold")
        if note.quote:
            out.append("> " + visible(note.quote.strip()) + "\n", style="italic")
        out.append(visible(note.text.strip()) + "\n")
    return out


class Ask(ModalScreen[str | None]):
    """A one-line question over the picker; Enter answers, Esc cancels (None)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    Ask { align: center middle; }
    Ask > Input { width: 60; border: round $accent; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        field = Input(placeholder=self.question, id="answer")
        field.border_title = self.question
        yield field

    @on(Input.Submitted)
    def answer(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickApp(App[list[str] | None]):
    """Pick papers from ``library``, starting from ``query``."""

    TITLE = "papercli pick"
    ENABLE_COMMAND_PALETTE = False  # its Ctrl-P moves up here, as in fzf
    CSS = """
    #query { border: round $accent; height: 3; }
    #panes { height: 1fr; }
    #results { width: 3fr; border: none; height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    #preview-box { width: 2fr; border-left: solid $panel; padding: 0 1; }
    #status { height: 1; width: 1fr; color: $text-muted; padding: 0 1; }
    """
    # Letters go to the query, so actions are on control keys (as in fzf).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Choose", priority=True),
        Binding("escape", "cancel", "Quit", priority=True),
        Binding("ctrl+c", "cancel", "Quit", show=False, priority=True),
        Binding("down", "move(1)", "Down", show=False, priority=True),
        Binding("up", "move(-1)", "Up", show=False, priority=True),
        Binding("ctrl+n", "move(1)", "Down", show=False, priority=True),
        Binding("ctrl+p", "move(-1)", "Up", show=False, priority=True),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True),
        Binding("tab", "mark", "Mark", priority=True),
        Binding("ctrl+o", "open", "Open", priority=True),
        Binding("ctrl+t", "tag", "Tag", priority=True),
        Binding("ctrl+r", "status", "Status", priority=True),
        Binding("ctrl+e", "note", "Note", priority=True),
        Binding("ctrl+y", "copy_key", "Copy key", priority=True),
        Binding("ctrl+l", "copy_cite", "Copy \\cite", priority=True),
    ]

    def __init__(self, library: Library, query: str = "", limit: int = LIMIT) -> None:
        super().__init__()
        self.library = library
        self.initial_query = query
        self.limit = limit
        self.hits: list[Hit] = []
        self.marked: list[str] = []  # in the order they were marked
        self._generation = 0  # bumped by every change of query or library
        self._shown = -1  # the generation whose results are on screen
        self._timer: Timer | None = None
        self._search_lock = threading.Lock()
        self._preview_key: str | None = None
        self._notice = ""  # a command's answer, said with the next results
        self._key_width = 0  # the key column's width for the rows shown

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Input(
            value=self.initial_query, placeholder="search: words, tag:x, author:y", id="query"
        )
        with Horizontal(id="panes"):
            yield OptionList(id="results")
            with VerticalScroll(id="preview-box"):
                yield Static(id="preview")
        yield Label("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#results", OptionList).can_focus = False
        self.query_one("#query", Input).focus()
        self._start_search()

    # -- searching ------------------------------------------------------------------------

    @on(Input.Changed, "#query")
    def query_changed(self, event: Input.Changed) -> None:
        self._generation += 1
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._start_search)

    def _start_search(self) -> None:
        query = self.query_one("#query", Input).value
        generation = self._generation
        self.run_worker(lambda: self._search(query, generation), thread=True, group="search")

    def _search(self, query: str, generation: int) -> None:
        """In a worker thread: rank the library against ``query`` and hand the rows back,
        unless a newer query came meanwhile."""
        hits: list[Hit] | None = None
        message = ""
        with self._search_lock:
            if generation != self._generation:
                return
            try:
                result = search(self.library, parse_query(query), self.limit)
                hits = result.hits
                if result.more:
                    message = f"the best {len(hits)}: type more to narrow"
                elif not hits:
                    message = "nothing matches: fewer words, or fix a typo"
            except PapercliError as exc:  # a filter half typed ("tag:"): keep the rows shown
                message = str(exc)
        self.call_from_thread(self._show_hits, generation, hits, message)

    @property
    def settled(self) -> bool:
        """Whether the results on screen are those of the query and library as they are."""
        return self._shown == self._generation

    def _show_hits(self, generation: int, hits: list[Hit] | None, message: str) -> None:
        if generation != self._generation:
            return
        self._shown = generation
        if hits is None:
            self._say(message)
            return
        self.hits = hits
        results = self.query_one("#results", OptionList)
        marked = set(self.marked)
        self._key_width = min(max((len(_line(h.key)) for h in hits), default=0), KEY_WIDTH)
        results.set_options(
            Option(row_text(h, h.key in marked, self._key_width), id=h.key) for h in hits
        )
        if hits:
            results.highlighted = 0
        counted = message or f"{len(hits)} paper{'s' if len(hits) != 1 else ''}"
        self._say(f"{self._notice} · {counted}" if self._notice else counted)
        self._notice = ""
        self._show_preview()

    # -- the highlighted paper ------------------------------------------------------------

    def highlighted_key(self) -> str | None:
        results = self.query_one("#results", OptionList)
        index = results.highlighted
        if index is None or not 0 <= index < len(self.hits):
            return None
        return self.hits[index].key

    @on(OptionList.OptionHighlighted, "#results")
    def highlight_changed(self, event: OptionList.OptionHighlighted) -> None:
        self._show_preview()

    def _show_preview(self) -> None:
        key = self.highlighted_key()
        if key == self._preview_key:
            return
        self._preview_key = key
        preview = self.query_one("#preview", Static)
        if key is None:
            preview.update("")
            return
        paper = next(iter(self.library.papers([key])), None)
        preview.update(preview_text(paper) if paper is not None else Text(_line(key)))
        self.query_one("#preview-box", VerticalScroll).scroll_home(animate=False)

    def _say(self, message: str) -> None:
        marked = f"{len(self.marked)} marked · " if self.marked else ""
        self.query_one("#status", Label).update(Text(marked + _line(message)))

    # -- keys -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The picker's keys act only on the picker, not while a question is asked."""
        return not isinstance(self.screen, Ask)

    def action_move(self, step: int) -> None:
        results = self.query_one("#results", OptionList)
        if not self.hits:
            return
        current = results.highlighted or 0
        results.highlighted = max(0, min(len(self.hits) - 1, current + step))

    def action_mark(self) -> None:
        key = self.highlighted_key()
        if key is None:
            self.bell()
            return
        if key in self.marked:
            self.marked.remove(key)
        else:
            self.marked.append(key)
        results = self.query_one("#results", OptionList)
        index = results.highlighted or 0
        results.replace_option_prompt_at_index(
            index, row_text(self.hits[index], key in self.marked, self._key_width)
        )
        self._say(f"{'marked' if key in self.marked else 'unmarked'} {key}")
        self.action_move(1)

    def action_choose(self) -> None:
        if self.marked:
            self.exit(list(self.marked))
            return
        key = self.highlighted_key()
        if key is None:
            self.bell()
            return
        self.exit([key])

    def action_cancel(self) -> None:
        self.exit(None)

    def action_copy_key(self) -> None:
        self._copy(self.highlighted_key(), "{}")

    def action_copy_cite(self) -> None:
        self._copy(self.highlighted_key(), "\\cite{{{}}}")

    def _copy(self, key: str | None, shape: str) -> None:
        if key is None:
            self.bell()
            return
        keys = ",".join(self.marked) if self.marked else key
        text = shape.format(keys)
        self.copy_to_clipboard(text)
        self._say(f"copied {text} (through the terminal: OSC 52)")

    def action_open(self) -> None:
        self._on_highlighted(lambda key: self.run_papercli(["open", "--", key], terminal=True))

    def action_note(self) -> None:
        self._on_highlighted(lambda key: self.run_papercli(["note", "--", key], terminal=True))

    def action_tag(self) -> None:
        def tag(key: str) -> None:
            def answered(tags: str | None) -> None:
                if tags:
                    self.run_papercli(["tag", "--", key, *tags.replace(",", " ").split()])

            self.push_screen(Ask(f"tags for {_line(key)} (space-separated)"), answered)

        self._on_highlighted(tag)

    def action_status(self) -> None:
        def status(key: str) -> None:
            def answered(value: str | None) -> None:
                if value:
                    self.run_papercli(["status", "--", key, value])

            self.push_screen(Ask(f"status of {_line(key)}: unread, reading or read"), answered)

        self._on_highlighted(status)

    def _on_highlighted(self, action: Callable[[str], None]) -> None:
        key = self.highlighted_key()
        if key is None:
            self.bell()
            return
        action(key)

    # -- running papercli -----------------------------------------------------------------

    def run_papercli(self, args: list[str], terminal: bool = False) -> None:
        """Run ``papercli -L LIBRARY ARGS``, then say its last line and search again (the
        library may have changed). With ``terminal`` the picker steps aside for it (an editor,
        a text browser) when the terminal allows. ARGS put '--' before any word that comes
        from the user or the library, so none is read as an option."""
        command = [sys.executable, "-m", "papercli", "-L", str(self.library.root), *args]
        answer = ""
        if terminal:
            try:
                with self.suspend():
                    code = subprocess.run(command, check=False).returncode
                answer = f"papercli {args[0]}: " + ("done" if code == 0 else f"exit {code}")
            except SuspendNotSupported:  # a test pilot, no terminal: run it quietly
                terminal = False
        if not terminal:
            done = subprocess.run(
                command, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
            )
            lines = (done.stderr or done.stdout).strip().splitlines()
            answer = lines[-1] if lines else f"papercli {args[0]}: exit {done.returncode}"
        self.library = Library.open(self.library.root)
        self._preview_key = None
        self._generation += 1
        self._notice = answer
        self._start_search()
