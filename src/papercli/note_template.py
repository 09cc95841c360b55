"""The file the note editor opens, and reading it back. No I/O.

The template names the paper (title, authors, key), has ``page:``, ``section:`` and ``quote:``
lines to fill, room for the note, and the paper's earlier notes as comment lines. Comment
lines start with ``%%`` (``#`` would eat Markdown headings) and are dropped when it is read
back. A quote of several lines continues on lines indented by two spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from papercli.models import Note, Paper, display_author

COMMENT = "%%"
FIELDS = ("page", "section", "quote")
_FIELD_LINE = re.compile(r"^(page|section|quote)\s*:\s?(.*)$", re.IGNORECASE)


@dataclass
class DraftNote:
    """What the person wrote: the note's text and its fields (None: the field line was
    removed from the file, so the value given before the editor opened stands)."""

    text: str
    page: str | None
    section: str | None
    quote: str | None


def _comment(text: str) -> list[str]:
    return [f"{COMMENT} {line}".rstrip() for line in text.splitlines()] or [COMMENT]


def note_summary(number: int, note: Note) -> str:
    """``note 2 (p. 7; Method; 2026-11-22)``: how a note is named in messages and, capitalised,
    in the template."""
    where = [f"p. {note.page}" if note.page else "", note.section, note.created[:10]]
    shown = "; ".join(w for w in where if w)
    return f"note {number}" + (f" ({shown})" if shown else "")


def template(paper: Paper, note: Note, editing: int | None = None) -> str:
    """The editor's file for a new note (``editing`` None) or for note number ``editing``,
    prefilled from ``note``; every other note of ``paper`` follows as comments."""
    authors = ", ".join(display_author(a) for a in paper.authors) or "(no authors)"
    doing = f"Editing note {editing} of" if editing else "A new note on"
    lines = [
        *_comment(f"{doing} {paper.key}: {paper.title}"),
        *_comment(f"Authors: {authors}" + (f" ({paper.year})" if paper.year else "")),
        *_comment(
            "Fill in page, section and quote or leave them empty; write the note (Markdown) "
            "below them."
        ),
        *_comment(
            f"Lines starting with {COMMENT} are dropped; "
            + ("an unchanged file changes nothing." if editing else "an empty file saves nothing.")
        ),
        f"page: {note.page}".rstrip(),
        f"section: {note.section}".rstrip(),
    ]
    quote = note.quote.splitlines() or [""]
    lines.append(f"quote: {quote[0]}".rstrip())
    lines += [f"  {line}".rstrip() for line in quote[1:]]
    lines += ["", note.text.strip(), ""]
    others = [(i, n) for i, n in enumerate(paper.notes, 1) if i != editing]
    if others:
        lines.append(COMMENT)
        lines += _comment(f"{'Other' if editing else 'Earlier'} notes on {paper.key}:")
        for number, other in others:
            lines.append(COMMENT)
            lines += _comment("N" + note_summary(number, other)[1:])
            lines += _comment("\n".join(f"> {q}" for q in other.quote.splitlines()))
            lines += _comment(other.text.strip())
    return "\n".join(lines).rstrip("\n") + "\n"


def read_template(text: str) -> DraftNote:
    """The note in what the editor left: comment lines dropped, the field lines at the top
    read as fields, the rest the note's text."""
    lines = [line for line in text.splitlines() if not line.startswith(COMMENT)]
    fields: dict[str, str] = {}
    at = 0
    while at < len(lines) and not lines[at].strip():
        at += 1
    while at < len(lines):
        match = _FIELD_LINE.match(lines[at])
        if match is None:
            break
        name, value = match.group(1).lower(), [match.group(2).strip()]
        at += 1
        while name == "quote" and at < len(lines) and lines[at].startswith("  "):
            value.append(lines[at].strip())
            at += 1
        fields[name] = "\n".join(value).strip()
    return DraftNote(
        "\n".join(lines[at:]).strip(),
        fields.get("page"),
        fields.get("section"),
        fields.get("quote"),
    )
