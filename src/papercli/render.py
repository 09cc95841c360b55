"""Showing papers to a person: on a terminal, tables fitted to its width (``fit_columns``) and
Markdown, through the pager when longer than the screen; elsewhere, tab-separated lines (one
paper a line, every value whole: ``plain_table``) and plain text.

rich is imported only when output goes to a terminal, so ``papercli list | grep`` and scripts
do not pay for its import. rich honours ``NO_COLOR``. Nothing here reads or writes the library.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from papercli.library import Summary
from papercli.models import Paper, authors_short, display_author, family_name
from papercli.visible import acts_on_terminal, tab_separated, utf8_acts_on_terminal, visible


def console(stderr: bool = False) -> Any:
    """A rich Console for terminal output; colour off with NO_COLOR or ``[display] color =
    false`` in the config file."""
    from rich.console import Console

    from papercli.config import load_settings
    from papercli.errors import PapercliError

    try:
        color = load_settings().color
    except PapercliError:
        color = True
    return Console(stderr=stderr, highlight=False, soft_wrap=False, no_color=not color or None)


def _plain_columns(header: Sequence[str], rows: list[list[str]]) -> str:
    """Left-aligned columns, two spaces apart; the last column is not padded."""
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in [list(header), *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Paper tables: tab-separated lines when piped, a table fitted to the terminal's width on one.

# Positions in a Summary tuple (search hits carry the same tuple).
_KEY, _TYPE, _TITLE, _AUTHORS, _YEAR, _STATUS, _TAGS, _ARXIV = range(8)
_DOI, _URL, _VENUE, _ADDED, _NOTES, _INCOMPLETE, _DATE = range(8, 15)
_AUTHORS_SHOWN = 18

# The fields piped output and --format can show, each a full value on one line: the Summary
# field it comes from and how a value of it is written (None: as it is).
PLAIN_FIELDS: dict[str, tuple[int, Callable[[Any], str] | None]] = {
    "key": (_KEY, None),
    "year": (_YEAR, lambda year: str(year or "")),
    "status": (_STATUS, None),
    "type": (_TYPE, None),
    "authors": (_AUTHORS_SHOWN, None),
    "first-author": (_AUTHORS, lambda authors: family_name(authors[0]) if authors else ""),
    "tags": (_TAGS, ",".join),  # see _JOINED
    "title": (_TITLE, None),
    "venue": (_VENUE, None),
    "arxiv": (_ARXIV, None),
    "doi": (_DOI, None),
    "url": (_URL, None),
    "date": (_DATE, None),
    "added": (_ADDED, None),
    "notes": (_NOTES, str),
}
# Tuple fields written joined: given ``texts``, plain_columns asks for them joined.
_JOINED = {"tags": ","}
LIST_FIELDS = ("key", "year", "status", "authors", "tags", "title")
SEARCH_FIELDS = ("key", "year", "score", "matched", "authors", "tags", "title")
SEARCH_EXTRA = ("score", "matched")


def parse_fields(spec: str, extra: Sequence[str] = ()) -> list[str]:
    """``--format key,year,title`` as a list of field names; raises ``UsageError`` naming an
    unknown one."""
    from papercli.errors import UsageError

    known = [*PLAIN_FIELDS, *extra]
    fields = [f.strip().lower() for f in spec.split(",") if f.strip()]
    if not fields:
        raise UsageError(f"--format needs field names, such as key,year,title: {', '.join(known)}")
    for name in fields:
        if name not in known:
            from difflib import get_close_matches

            close = get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UsageError(f"unknown field {name!r} in --format{hint}: use {', '.join(known)}")
    return fields


def plain_table(
    rows: Sequence[tuple[Any, ...]],
    fields: Sequence[str],
    extra: dict[str, Sequence[str]] | None = None,
) -> None:
    """One paper a line, ``fields`` separated by tabs, every value whole (tabs and newlines
    inside a value written as escapes, so a line is always one paper). No header, no rich."""
    plain_columns(lambda field: [row[field] for row in rows], len(rows), fields, extra)


def plain_columns(
    column: Callable[[int], Sequence[Any]],
    n_rows: int,
    fields: Sequence[str],
    extra: dict[str, Sequence[str]] | None = None,
    texts: Callable[[int, str], Sequence[str]] | None = None,
) -> None:
    """``plain_table`` of ``n_rows`` papers given field by field: ``column(i)`` is Summary
    field ``i`` of each (the index's columns, so listing 10,000 papers builds no row tuples);
    ``texts(i, separator)``, when given, is tuple field ``i`` of each joined by ``separator``.
    Written a column at a time, then checked whole: escaping is needed only for the lines
    of a value with a tab, newline or control character, which the whole text's counts and
    one search find (on its UTF-8 bytes when stdout writes UTF-8: the encoding is needed
    anyway, and searching bytes is faster)."""
    if not n_rows:
        return
    cells: list[Sequence[str]] = []
    for name in fields:
        if name not in PLAIN_FIELDS:
            cells.append([str(value) for value in (extra or {})[name]])
            continue
        field, write = PLAIN_FIELDS[name]
        if texts is not None and name in _JOINED:
            cells.append(texts(field, _JOINED[name]))
            continue
        values = column(field)
        cells.append(values if write is None else [write(value) for value in values])
    text = "\n".join(map("\t".join, zip(*cells, strict=True))) + "\n"
    tabs = n_rows * (len(fields) - 1)
    out = getattr(sys.stdout, "buffer", None)
    try:
        data = text.encode() if out is not None and _writes_utf8(sys.stdout) else None
    except UnicodeEncodeError:  # a lone surrogate: the text path does what it always did
        data = None
    if out is not None and data is not None:
        if (
            data.count(b"\t") == tabs
            and data.count(b"\n") == n_rows
            and not utf8_acts_on_terminal(data)
        ):
            sys.stdout.flush()
            out.write(data)
            return
    elif text.count("\t") == tabs and text.count("\n") == n_rows and not acts_on_terminal(text):
        sys.stdout.write(text)
        return
    sys.stdout.write("\n".join(tab_separated(list(line)) for line in zip(*cells, strict=True)))
    sys.stdout.write("\n")


def _writes_utf8(stream: Any) -> bool:
    return (getattr(stream, "encoding", "") or "").lower().replace("-", "") == "utf8"


@dataclass
class TableColumn:
    """One column of a terminal table. Each cell is a tuple of texts, fullest first (authors:
    ``Hu, Shen et al.``, then ``Hu``): the fullest that fits the column's width is shown."""

    header: str
    cells: list[tuple[str, ...]]
    priority: int  # 0 is the most important; the highest numbers are dropped first
    least: int = 4  # narrower than this the column is not worth showing
    most: int = 40  # it never grows wider
    lines: int = 1  # how many lines a cell may take
    flexible: bool = False  # it takes the room the others leave (the title)
    style: str = ""
    justify: Literal["left", "right"] = "left"
    highlight: bool = False

    def natural(self) -> int:
        widest = max((len(c[0]) for c in self.cells), default=0)
        return min(self.most, max(len(self.header), widest))

    def narrowest(self) -> int:
        widest = max((len(c[-1]) for c in self.cells), default=0)
        return min(self.natural(), max(len(self.header), min(self.least, widest)))


CORE = 3  # priorities 0..CORE (key, title, year, author) are shown even when the title is narrow
COMFORTABLE_TITLE = 40  # a column past the core ones is shown only if the title keeps this
GAP = 2  # columns are two spaces apart
NARROW_TITLE = 10  # on a very narrow terminal the title still shows, this wide


def fit_columns(columns: Sequence[TableColumn], width: int) -> list[tuple[TableColumn, int]]:
    """The columns that fit in ``width`` with their widths, in the order given.

    Columns are taken by priority while they fit: the core ones as long as the flexible column
    (the title) keeps its least width, the others as long as it keeps a comfortable one. Fixed
    columns get their natural width, shrunk towards their least (the least important first)
    until the title is comfortable; the title gets the rest, up to its natural width.
    """
    flexible = next((c for c in columns if c.flexible), None)
    kept: list[TableColumn] = []

    def room_left(chosen: list[TableColumn]) -> int:
        fixed = sum(c.narrowest() for c in chosen if not c.flexible)
        return width - fixed - GAP * (len(chosen) - 1)

    for column in sorted(columns, key=lambda c: c.priority):
        trial = [*kept, column]
        if flexible is None:
            needed = 0
        elif column is flexible:
            needed = min(NARROW_TITLE, flexible.natural())  # the title goes on a narrow screen
        elif column.priority <= CORE:
            needed = flexible.narrowest()
        else:
            needed = min(COMFORTABLE_TITLE, flexible.natural())
        if room_left(trial) >= needed or not kept:
            kept = trial
    widths = {id(c): c.natural() for c in kept if not c.flexible}
    spare = width - GAP * (len(kept) - 1) - sum(widths.values())
    if flexible is not None and flexible in kept:
        # The other columns give up room until the title is comfortable.
        spare -= max(flexible.narrowest(), min(COMFORTABLE_TITLE, flexible.natural()))
    for column in sorted(kept, key=lambda c: -c.priority):
        if spare >= 0:
            break
        if column is not flexible:
            give = min(widths[id(column)] - column.narrowest(), -spare)
            widths[id(column)] -= give
            spare += give
    if flexible is not None and flexible in kept:
        left = width - GAP * (len(kept) - 1) - sum(widths.values())
        widths[id(flexible)] = min(flexible.natural(), max(NARROW_TITLE, left))
    return [(c, widths[id(c)]) for c in columns if id(c) in widths]


def summary_columns(rows: Sequence[tuple[Any, ...]]) -> list[TableColumn]:
    """Key, year, authors, title and tags columns for Summary tuples."""

    def authors(names: tuple[str, ...]) -> tuple[str, ...]:
        if not names:
            return ("",)
        first = family_name(names[0])
        fuller = [authors_short(list(names)), f"{first} et al." if len(names) > 1 else first]
        return tuple(visible(a, one_line=True) for a in dict.fromkeys([*fuller, first]))

    def one(text: str) -> tuple[str]:
        return (visible(text, one_line=True),)

    return [
        TableColumn("Key", [one(r[_KEY]) for r in rows], 0, 32, 32, lines=2, style="cyan"),
        TableColumn("Year", [(str(r[_YEAR] or ""),) for r in rows], 2, justify="right"),
        TableColumn("Authors", [authors(r[_AUTHORS]) for r in rows], 3, 14, 28, highlight=True),
        TableColumn("Title", [one(r[_TITLE]) for r in rows], 1, 20, 1000, 2, True, highlight=True),
        TableColumn(
            "Tags",
            [one(", ".join(r[_TAGS])) for r in rows],
            5,
            12,
            36,  # wide enough for the longest tags of the bundled library
            lines=2,
            style="magenta",
            highlight=True,
        ),
    ]


def fitted_table(
    columns: Sequence[TableColumn], title: str = "", highlight: frozenset[str] = frozenset()
) -> None:
    """Print ``columns`` as a rich table fitted to the terminal's width (see ``fit_columns``):
    a cell longer than its column wraps to its allowed lines, the last ending in '…'."""
    from rich.table import Table
    from rich.text import Text

    out = console()
    fitted = fit_columns(columns, out.width)
    table = Table(
        title=title or None, box=None, header_style="bold", pad_edge=False, padding=(0, 1)
    )
    for column, width in fitted:
        table.add_column(
            column.header,
            width=width,
            no_wrap=True,
            overflow="ellipsis",
            justify=column.justify,
            style=column.style or None,
        )
    for i in range(len(columns[0].cells) if columns else 0):
        cells: list[Any] = []
        for column, width in fitted:
            choices = column.cells[i]
            text = next((c for c in choices if len(c) <= width), choices[-1])
            cell = _highlighted(text, highlight) if column.highlight and highlight else Text(text)
            cells.append(_at_most(cell, width, column.lines, out))
        table.add_row(*cells)
    out.print(table)


def _at_most(text: Any, width: int, lines: int, out: Any) -> Any:
    """``text`` wrapped to ``width`` in at most ``lines`` lines, the last ending in '…' if cut."""
    from rich.text import Text

    if text.cell_len <= width:
        return text
    wrapped = list(text.wrap(out, width, overflow="fold"))
    if len(wrapped) <= lines:
        return Text("\n").join(wrapped)
    kept = wrapped[:lines]
    kept[-1].rstrip()
    kept[-1].truncate(width - 1)
    kept[-1].append("…")
    return Text("\n").join(kept)


def _highlighted(text: str, matched: frozenset[str]) -> Any:
    """``text`` as rich Text with the words that matched the query in bold yellow."""
    from rich.text import Text

    from papercli.search import text_tokens, word_spans

    out = Text(text)
    for start, end in word_spans(text):
        if matched.intersection(text_tokens(text[start:end])):
            out.stylize("bold yellow", start, end)
    return out


def paper_table(rows: Sequence[Summary], title: str = "", fields: Sequence[str] = ()) -> None:
    """Papers as tab-separated ``fields`` (``LIST_FIELDS`` by default) when piped or when
    fields are given; on a terminal, a table fitted to its width."""
    if fields or not sys.stdout.isatty():
        plain_table(rows, fields or LIST_FIELDS)
        return
    columns = summary_columns(rows)
    columns.insert(2, TableColumn("Status", [(r.status,) for r in rows], 4, 7, 7))
    fitted_table(columns, title)


def search_table(
    rows: Sequence[tuple[Any, ...]],
    scores: Sequence[str],
    matched: Sequence[str],
    highlight: frozenset[str],
    fields: Sequence[str] = (),
) -> None:
    """Search hits, best first, as ``paper_table`` shows papers, with score and matched field."""
    if fields or not sys.stdout.isatty():
        plain_table(rows, fields or SEARCH_FIELDS, {"score": scores, "matched": matched})
        return
    columns = summary_columns(rows)
    columns[2:2] = [
        TableColumn("Score", [(s,) for s in scores], 6, justify="right"),
        TableColumn("Matched", [(m,) for m in matched], 7, 7, 9, style="dim"),
    ]
    fitted_table(columns, highlight=highlight)


def paper_markdown(paper: Paper) -> str:
    """One paper and its notes as Markdown (what ``show`` prints)."""
    lines = [f"# {paper.title}", ""]
    meta: list[tuple[str, str]] = [("key", f"`{paper.key}`"), ("type", paper.type)]
    if paper.aliases:
        meta.append(("aliases", ", ".join(f"`{a}`" for a in paper.aliases)))
    if paper.bibtex_type or paper.bibtex:
        fields = ", ".join(paper.bibtex)
        kind = f"@{paper.bibtex_type}" if paper.bibtex_type else "fields"
        meta.append(("BibTeX", f"{kind}" + (f" ({fields})" if fields else "")))
    if paper.authors:
        meta.append(("authors", ", ".join(display_author(a) for a in paper.authors)))
    if paper.year:
        meta.append(("year", str(paper.year) + (f" ({paper.date})" if paper.date else "")))
    if paper.venue or paper.journal_ref:
        meta.append(("venue", paper.venue or paper.journal_ref))
    if paper.arxiv_id:
        version = f"v{paper.arxiv_version}" if paper.arxiv_version else ""
        cats = f" [{', '.join(paper.categories)}]" if paper.categories else ""
        meta.append(("arXiv", f"{paper.arxiv_id}{version}{cats}"))
    if paper.doi:
        meta.append(("doi", paper.doi))
    url = paper.best_url()
    if url:
        meta.append(("url", url))
    if paper.pdf_url:
        meta.append(("pdf", paper.pdf_url))
    meta.append(("status", paper.status))
    if paper.tags:
        meta.append(("tags", ", ".join(paper.tags)))
    if paper.incomplete:
        meta.append(("incomplete", ", ".join(paper.incomplete) + " (see `papercli refresh`)"))
    for name, value in meta:
        lines.append(f"- **{name}**: {value}")
    if paper.abstract:
        lines += ["", "## Abstract", "", paper.abstract.strip()]
    if paper.notes:
        lines += ["", f"## Notes ({len(paper.notes)})"]
        for i, note in enumerate(paper.notes, 1):
            lines += ["", note_heading(i, note)]
            if note.quote:
                lines += ["", *(f"> {q}" if q else ">" for q in note.quote.splitlines())]
            lines += ["", note.text.strip()]
    return "\n".join(lines) + "\n"


def note_heading(number: int, note: Any) -> str:
    where = []
    if note.page:
        where.append(f"p. {note.page}")
    if note.section:
        where.append(note.section)
    if note.created:
        where.append(note.created[:10])
    if note.source:
        where.append(f"from {note.source}")
    suffix = f" ({'; '.join(where)})" if where else ""
    return f"### Note {number}{suffix}"


def show_markdown(text: str, pager: bool = True) -> str | None:
    """Markdown rendered on a terminal, as is elsewhere (control characters as escapes).

    On a terminal, text longer than the screen goes through ``$PAGER`` (``less`` when it is
    not set) unless ``pager`` is False. Returns a warning for the caller to say when the pager
    could not run (the text is then printed here), else None."""
    text = visible(text)
    if not sys.stdout.isatty():
        sys.stdout.write(text)
        return None
    from rich.markdown import Markdown

    out = console()
    with out.capture() as captured:
        out.print(Markdown(text))
    shown = captured.get()
    if not pager or shown.count("\n") < out.size.height:
        sys.stdout.write(shown)
        return None
    return page(shown)


def pager_command() -> list[str]:
    """``$PAGER`` split like a shell would (``less -R``), or ``less``; [] for none (PAGER set
    empty or to ``cat``)."""
    import os
    import shlex

    chosen = os.environ.get("PAGER")
    if chosen is None:
        return ["less"]
    try:
        words = shlex.split(chosen)
    except ValueError:
        return []
    return [] if words in ([], ["cat"]) else words


def page(text: str) -> str | None:
    """Show ``text`` through the pager, run without a shell; ``less`` is told to keep colours
    and to quit at once on text that fits (``LESS=FRX`` unless $LESS is set). Returns a
    warning when the pager could not run (the text is then printed directly)."""
    import os
    import subprocess

    command = pager_command()
    if not command:
        sys.stdout.write(text)
        return None
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    sys.stdout.flush()
    try:
        subprocess.run(command, input=text.encode("utf-8"), env=env, check=False)
    except OSError as exc:
        sys.stdout.write(text)
        return f"the pager {command[0]!r} could not run ({exc.strerror}): set $PAGER"
    except KeyboardInterrupt:
        pass  # the pager had the terminal: an interrupt there is a way to leave it
    return None


def counts_table(title: str, rows: Sequence[tuple[str, int]]) -> None:
    if not sys.stdout.isatty():
        sys.stdout.write(
            _plain_columns(
                [title.upper(), "COUNT"],
                [[visible(str(n), one_line=True), str(c)] for n, c in rows],
            )
        )
        sys.stdout.write("\n")
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold")
    table.add_column(title)
    table.add_column("Count", justify="right")
    for name, count in rows:
        table.add_row(Text(visible(str(name), one_line=True)), str(count))
    console().print(table)
