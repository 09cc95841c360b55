"""Paper and Note: the plain data papercli keeps, their validation and their TOML/JSON shapes.

This module does no I/O: ``papercli.library`` reads and writes the files. A ``Paper`` maps one
``papers/<key>.toml`` file; the key is the file's name and is not repeated inside it. Fields
papercli does not know are kept in ``extra`` and written back untouched.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from papercli.errors import UsageError

PAPER_TYPES = (
    "paper",  # a research paper (arXiv, a conference, a journal, a PDF)
    "article",  # a web article or blog post
    "book",
    "video",
    "repo",  # a code repository
    "course",
    "website",
    "dataset",
    "thesis",
    "misc",
)
STATUSES = ("unread", "reading", "read")

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
TAG_RE = re.compile(r"^[^\s,\"'][^,\"']{0,63}$")

# The order fields are written in, so a file reads from the most to the least useful.
FIELD_ORDER = (
    "type",
    "title",
    "authors",
    "year",
    "date",
    "status",
    "tags",
    "arxiv_id",
    "arxiv_version",
    "primary_category",
    "categories",
    "doi",
    "url",
    "pdf_url",
    "venue",
    "journal_ref",
    "comment",
    "abstract",
    "incomplete",
    "added",
    "updated",
)


def timestamp() -> str:
    """The current time in UTC, to the second, as ``added``, ``updated`` and notes store it
    (``2026-11-22T15:55:00Z``)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def validate_key(key: str) -> str:
    """Return ``key`` if it is a valid citation key, else raise ``UsageError``.

    Keys are file names under ``papers/``: lower-case ASCII letters, digits, ``-``, ``_`` and
    ``.``, starting with a letter or digit, so no key can name a path outside ``papers/``.
    """
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise UsageError(
            f"invalid key {key!r}: use lower-case ASCII letters, digits, '-', '_' or '.', "
            "starting with a letter or digit (at most 80 characters)"
        )
    return key


def normalize_tag(tag: str) -> str:
    """A tag as stored: trimmed, lower-case, inner spaces as hyphens (``Large Language Model``
    becomes ``large-language-model``). Raises ``UsageError`` for an empty or odd tag."""
    cleaned = re.sub(r"\s+", "-", tag.strip().lower())
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip("-")
    if not cleaned or not TAG_RE.match(cleaned):
        raise UsageError(f"invalid tag {tag!r}: a tag is 1-64 characters, with no comma or quote")
    return cleaned


def validate_status(status: str) -> str:
    if status not in STATUSES:
        raise UsageError(f"invalid status {status!r}: use one of {', '.join(STATUSES)}")
    return status


def validate_type(kind: str) -> str:
    if kind not in PAPER_TYPES:
        raise UsageError(f"invalid type {kind!r}: use one of {', '.join(PAPER_TYPES)}")
    return kind


# ---------------------------------------------------------------------------------------------
# Author names. Stored as "Family, Given" (persons) or as a literal name with no comma
# (organisations, mononyms), so BibTeX output never has to guess.

_PARTICLES = {
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "du", "la", "le",
    "ten", "ter", "bin", "al", "el", "st.", "zu",
}  # fmt: skip
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


def parse_author(name: str) -> str:
    """Turn a name as people write it into its stored form.

    ``Edward J. Hu`` -> ``Hu, Edward J.``; ``Ludwig van Beethoven`` -> ``van Beethoven, Ludwig``;
    ``Hu, Edward`` stays; ``{Google Brain}`` (braced) or a single word stays literal.
    """
    name = re.sub(r"\s+", " ", name.strip())
    if name.startswith("{") and name.endswith("}"):
        name = name[1:-1].strip()
        if not name:
            raise UsageError("an author's name is empty")
        return name
    if "," in name:
        parts = [p.strip() for p in name.split(",") if p.strip()]
        if not parts:
            raise UsageError(f"an author's name is empty: {name!r}")
        return ", ".join(parts)
    if not name:
        raise UsageError("an author's name is empty")
    words = name.split(" ")
    if len(words) == 1:
        return name
    suffix = ""
    if len(words) > 2 and words[-1].lower() in _SUFFIXES:
        suffix = words.pop()
    # The family name starts at the first lower-case particle after the first word, else it is
    # the last word.
    start = len(words) - 1
    for i in range(1, len(words) - 1):
        if words[i].lower() in _PARTICLES and words[i][0].islower():
            start = i
            break
    given = " ".join(words[:start])
    family = " ".join(words[start:])
    return f"{family}, {suffix}, {given}" if suffix else f"{family}, {given}"


def is_person(stored: str) -> bool:
    """True for a person's name ("Family, Given"), False for a literal (organisation) name."""
    return "," in stored


def family_name(stored: str) -> str:
    return stored.split(",", 1)[0].strip()


def display_author(stored: str) -> str:
    """``Hu, Edward J.`` -> ``Edward J. Hu``; ``Hu, Jr., Edward`` -> ``Edward Hu Jr.``."""
    parts = [p.strip() for p in stored.split(",")]
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return f"{parts[1]} {parts[0]}".strip()
    return f"{parts[2]} {parts[0]} {parts[1]}".strip()


def authors_short(authors: list[str], most: int = 2) -> str:
    """``Hu, Shen, et al.`` style, for tables."""
    names = [family_name(a) if is_person(a) else a for a in authors]
    if len(names) > most + 1:
        return ", ".join(names[:most]) + " et al."
    return ", ".join(names)


# ---------------------------------------------------------------------------------------------


@dataclass
class Note:
    """One annotated note: Markdown text, when it was written, and what it annotates."""

    text: str
    created: str = ""  # ISO 8601, UTC
    page: str = ""
    section: str = ""
    quote: str = ""
    source: str = ""  # where the note came from when imported ("awesome-transformer-nlp", ...)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.created:
            out["created"] = _to_datetime(self.created)
        for name in ("page", "section", "quote", "source"):
            value = getattr(self, name)
            if value:
                out[name] = value
        out.update(self.extra)
        out["text"] = self.text
        return out

    @classmethod
    def from_toml(cls, data: Any) -> Note:
        if not isinstance(data, dict):
            raise ValueError("each [[notes]] entry must be a table")
        data = dict(data)
        text = data.pop("text", None)
        if not isinstance(text, str):
            raise ValueError("a note needs a 'text' string")
        note = cls(text=text)
        created = data.pop("created", "")
        note.created = _from_datetime(created, "notes.created")
        for name in ("page", "section", "quote", "source"):
            value = data.pop(name, "")
            if isinstance(value, int) and not isinstance(value, bool) and name == "page":
                value = str(value)
            if not isinstance(value, str):
                raise ValueError(f"note field {name!r} must be a string")
            setattr(note, name, value)
        note.extra = data
        return note

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "created": self.created or None,
            "page": self.page or None,
            "section": self.section or None,
            "quote": self.quote or None,
            "source": self.source or None,
        }


@dataclass
class Paper:
    """One entry of the library. ``key`` is its citation key and file name."""

    key: str
    title: str
    type: str = "paper"
    authors: list[str] = field(default_factory=list)  # stored form, see parse_author
    year: int | None = None
    date: str = ""  # YYYY, YYYY-MM or YYYY-MM-DD
    status: str = "unread"
    tags: list[str] = field(default_factory=list)
    arxiv_id: str = ""  # without version: 2106.09685, hep-th/9901001
    arxiv_version: int | None = None
    primary_category: str = ""
    categories: list[str] = field(default_factory=list)
    doi: str = ""
    url: str = ""
    pdf_url: str = ""
    venue: str = ""
    journal_ref: str = ""
    comment: str = ""
    abstract: str = ""
    incomplete: list[str] = field(default_factory=list)  # fields the source could not give
    added: str = ""  # ISO 8601, UTC
    updated: str = ""
    provenance: list[dict[str, Any]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    # -- TOML -----------------------------------------------------------------------------

    def to_toml(self) -> dict[str, Any]:
        """The dict ``tomli_w`` writes: empty fields left out, known fields first."""
        out: dict[str, Any] = {}
        for name in FIELD_ORDER:
            value = getattr(self, name)
            if value in ("", None, []):
                continue
            if name in ("added", "updated"):
                value = _to_datetime(value)
            out[name] = value
        for name, value in self.extra.items():
            out.setdefault(name, value)
        if self.provenance:
            out["provenance"] = [dict(p) for p in self.provenance]
        if self.notes:
            out["notes"] = [n.to_toml() for n in self.notes]
        return out

    @classmethod
    def from_toml(cls, key: str, data: dict[str, Any]) -> Paper:
        """Build a Paper from a parsed file; raises ``ValueError`` naming the bad field."""
        data = dict(data)
        data.pop("key", None)  # tolerated: some people write it; the file name wins
        title = data.pop("title", None)
        if title is not None and not isinstance(title, str):
            raise ValueError("field 'title' must be a string")
        if not title or not title.strip():
            raise ValueError("field 'title' is missing or empty")
        paper = cls(key=key, title=title)
        for name in ("type", "status", "date", "arxiv_id", "primary_category", "doi", "url",
                     "pdf_url", "venue", "journal_ref", "comment", "abstract"):  # fmt: skip
            if name in data:
                value = data.pop(name)
                if not isinstance(value, str):
                    if name == "date" and isinstance(value, dt.date):
                        value = value.isoformat()
                    else:
                        raise ValueError(f"field {name!r} must be a string")
                setattr(paper, name, value)
        if paper.type not in PAPER_TYPES:
            raise ValueError(f"field 'type' is {paper.type!r}; use one of {', '.join(PAPER_TYPES)}")
        if paper.status not in STATUSES:
            raise ValueError(
                f"field 'status' is {paper.status!r}; use one of {', '.join(STATUSES)}"
            )
        for name in ("authors", "tags", "categories", "incomplete"):
            if name in data:
                value = data.pop(name)
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"field {name!r} must be a list of strings")
                setattr(paper, name, list(value))
        for name, low, high in (("year", 1, 9999), ("arxiv_version", 1, 999)):
            if name in data:
                value = data.pop(name)
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError(f"field {name!r} must be an integer")
                if not low <= value <= high:
                    raise ValueError(f"field {name!r} must be between {low} and {high}")
                setattr(paper, name, value)
        paper.added = _from_datetime(data.pop("added", ""), "added")
        paper.updated = _from_datetime(data.pop("updated", ""), "updated")
        provenance = data.pop("provenance", [])
        if not isinstance(provenance, list) or not all(isinstance(p, dict) for p in provenance):
            raise ValueError("'provenance' must be an array of tables ([[provenance]])")
        paper.provenance = [dict(p) for p in provenance]
        notes = data.pop("notes", [])
        if not isinstance(notes, list):
            raise ValueError("'notes' must be an array of tables ([[notes]])")
        paper.notes = [Note.from_toml(n) for n in notes]
        paper.extra = data
        return paper

    # -- JSON (the documented, stable shape of --json) ------------------------------------

    def to_json(self, with_notes: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "type": self.type,
            "title": self.title,
            "authors": [display_author(a) for a in self.authors],
            "year": self.year,
            "date": self.date or None,
            "arxiv_id": self.arxiv_id or None,
            "arxiv_version": self.arxiv_version,
            "doi": self.doi or None,
            "url": self.url or None,
            "pdf_url": self.pdf_url or None,
            "venue": self.venue or self.journal_ref or None,
            "tags": list(self.tags),
            "status": self.status,
            "added": self.added or None,
            "updated": self.updated or None,
        }
        if with_notes:
            out["abstract"] = self.abstract or None
            out["categories"] = list(self.categories)
            out["comment"] = self.comment or None
            out["incomplete"] = list(self.incomplete)
            out["provenance"] = [dict(p) for p in self.provenance]
            out["notes"] = [n.to_json() for n in self.notes]
        return out

    def best_url(self) -> str:
        if self.url:
            return self.url
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.pdf_url

    def add_tags(self, tags: list[str]) -> list[str]:
        """Add tags not already present; returns those added."""
        added = [t for t in dict.fromkeys(tags) if t not in self.tags]
        self.tags.extend(added)
        return added


def _to_datetime(value: str) -> dt.datetime | str:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return parsed


def _from_datetime(value: Any, name: str) -> str:
    if value in ("", None):
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        stamp: str = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return stamp
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)
    raise ValueError(f"field {name!r} must be a date-time")
