"""Showing papers to a person: rich tables and Markdown on a terminal, plain text elsewhere.

rich is imported only when output goes to a terminal, so ``papercli list | grep`` and scripts
do not pay for its import. rich honours ``NO_COLOR``. Nothing here reads or writes the library.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from papercli.library import Summary
from papercli.models import Paper, authors_short, display_author
from papercli.visible import visible


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


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def paper_table(rows: Sequence[Summary], title: str = "") -> None:
    """A table of papers: key, year, status, authors, tags, title."""
    tty = sys.stdout.isatty()
    if not tty:
        body = [
            [
                visible(r.key, one_line=True),
                str(r.year or ""),
                r.status,
                _clip(visible(authors_short(list(r.authors)), one_line=True), 32),
                _clip(visible(",".join(r.tags), one_line=True), 40),
                visible(r.title, one_line=True),
            ]
            for r in rows
        ]
        sys.stdout.write(
            _plain_columns(["KEY", "YEAR", "STATUS", "AUTHORS", "TAGS", "TITLE"], body) + "\n"
        )
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title or None, show_lines=False, header_style="bold")
    table.add_column("Key", style="cyan", no_wrap=True)
    table.add_column("Year", justify="right")
    table.add_column("Status")
    table.add_column("Authors", max_width=28)
    table.add_column("Title", ratio=1)
    table.add_column("Tags", style="magenta", max_width=30)
    for r in rows:
        status_style = {"read": "green", "reading": "yellow"}.get(r.status, "dim")
        table.add_row(
            Text(visible(r.key, one_line=True)),
            str(r.year or ""),
            f"[{status_style}]{r.status}[/]",
            Text(visible(authors_short(list(r.authors)), one_line=True)),
            Text(visible(r.title, one_line=True)),
            Text(visible(", ".join(r.tags), one_line=True)),
        )
    console().print(table)


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


def show_markdown(text: str) -> None:
    """Markdown rendered on a terminal, as is elsewhere (control characters as escapes)."""
    text = visible(text)
    if not sys.stdout.isatty():
        sys.stdout.write(text)
        return
    from rich.markdown import Markdown

    console().print(Markdown(text))


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
