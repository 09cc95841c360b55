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

# papercli's normalised fields that a BibTeX record also carries (see ``papercli.record``): when
# the user changes one of them with ``papercli edit``, the record's field is rewritten to match.
BIB_VIEW_FIELDS = ("title", "authors", "year", "date", "venue", "doi", "url", "arxiv_id")
ENTRY_TYPE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
# A field name as BibTeX reads one (``_note``, ``bdsk-url-1``, ``mendeley-tags`` included).
FIELD_NAME_RE = re.compile(r"^[^\s{}\",=#%\\@()\x00-\x1f\x7f-\x9f]{1,64}$")
ALIAS_RECORD_TYPE = "@type"  # the entry type's name inside an [alias_bibtex."KEY"] table
ALIAS_RECORD_RAW = "@raw"  # its bibtex_raw, the field names joined with commas

# A citation key as BibTeX and biber accept it: any printable characters but white space and
# the few that break a .bib entry or a \cite in the .aux (``, { } " # % \ ~``), so keys such as
# ``Gusfield:97``, ``2016A&A...594A..13P`` and ``DBLP:conf/nips/VaswaniSPUJGKP17`` are kept.
KEY_FORBIDDEN = frozenset(',{}"#%\\~')
KEY_MAX = 120
# Characters a key keeps in its file name; every other one is written %XX (UTF-8 bytes).
_FILE_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
TAG_RE = re.compile(r"^[^\s,\"'][^,\"']{0,63}$")

# The order fields are written in, so a file reads from the most to the least useful.
FIELD_ORDER = (
    "type",
    "bibtex_type",
    "bibtex_raw",
    "bibtex_preamble",
    "title",
    "authors",
    "year",
    "date",
    "status",
    "tags",
    "aliases",
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


def key_problem(key: object) -> str:
    """Why ``key`` cannot be a citation key ('' when it can)."""
    if not isinstance(key, str) or not key:
        return "a key cannot be empty"
    if _PLAIN_KEY.match(key):
        return ""  # letters, digits, _ - . only, not too long: the common case, at once
    if len(key) > KEY_MAX:
        return f"a key has at most {KEY_MAX} characters"
    for char in key:
        if char.isspace() or not char.isprintable():
            return "a key cannot contain spaces or control characters"
        if char in KEY_FORBIDDEN:
            return f'a key cannot contain {char!r} (nor any of , {{ }} " # % \\ ~)'
    if len(key_file_name(key).encode("utf-8")) > 250:
        return "a key this long (in non-ASCII or punctuation) is too long for a file name"
    return ""


def is_valid_key(key: object) -> bool:
    return not key_problem(key)


def validate_key(key: str) -> str:
    """Return ``key`` if it is a valid citation key, else raise ``UsageError``.

    Keys are kept as the user or the .bib wrote them: either case, digits and punctuation such
    as ``: - _ . / + & '``. The file name is a safe encoding of the key (``key_file_name``), so
    no key can name a path outside ``papers/``.
    """
    problem = key_problem(key)
    if problem:
        raise UsageError(f"invalid key {key!r}: {problem}")
    return key


def key_file_name(key: str) -> str:
    """The file name of a key's paper: the key with every character outside ``A-Z a-z 0-9 _ -
    .`` (and a leading ``.``) written as ``%XX`` UTF-8 bytes, plus ``.toml``:
    ``Gusfield:97`` -> ``Gusfield%3A97.toml``. A key cannot hold ``%``, so this is reversible."""
    if _PLAIN_KEY.match(key):
        return key + ".toml"
    out = []
    for i, char in enumerate(key):
        if char in _FILE_SAFE and not (i == 0 and char == "."):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out) + ".toml"


_PERCENT = re.compile(r"(?:%[0-9A-F]{2})+")
# A key written as its own file name: no character to encode, no leading dot, within KEY_MAX.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,119}\Z")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,119}\Z")


def key_of_file_name(name: str) -> str:
    """The key a paper file name stands for, or '' when the name is not one papercli would
    write for a valid key (a hand-made ``a:b.toml``, ``x y.toml``)."""
    if not name.endswith(".toml"):
        return ""
    stem = name[:-5]
    if _PLAIN_NAME.match(stem):
        return stem  # the common case: nothing encoded, nothing to check further
    try:
        key = _PERCENT.sub(lambda m: bytes.fromhex(m.group(0).replace("%", "")).decode(), stem)
    except UnicodeDecodeError:
        return ""
    if not is_valid_key(key) or key_file_name(key) != name:
        return ""
    return key


def fold_key(key: str) -> str:
    """What two keys share when they differ only in case (they collide in BibTeX, which
    matches keys without case, and as file names on macOS and Windows)."""
    return key.casefold()


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
    ``Hu, Edward`` stays; ``{Google Brain}`` (braced) or a single word stays literal, and a
    literal name holding a comma keeps its braces (``{Mathpix, Inc.}``) so it is not read as
    "Family, Given".
    """
    name = re.sub(r"\s+", " ", name.strip())
    if name.startswith("{") and name.endswith("}"):
        name = name[1:-1].strip()
        if not name:
            raise UsageError("an author's name is empty")
        return literal_name(name)
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


def literal_name(name: str) -> str:
    """An organisation's or a mononym's stored form: as is, or braced when it holds a comma."""
    return "{" + name + "}" if "," in name else name


def is_person(stored: str) -> bool:
    """True for a person's name ("Family, Given"), False for a literal (organisation) name."""
    return "," in stored and not stored.startswith("{")


def family_name(stored: str) -> str:
    """A person's family name; a literal name whole (without its braces)."""
    if not is_person(stored):
        return display_author(stored)
    return stored.split(",", 1)[0].strip()


def display_author(stored: str) -> str:
    """``Hu, Edward J.`` -> ``Edward J. Hu``; ``Hu, Jr., Edward`` -> ``Edward Hu Jr.``;
    ``{Mathpix, Inc.}`` -> ``Mathpix, Inc.``."""
    if stored.startswith("{") and stored.endswith("}"):
        return stored[1:-1]
    parts = [p.strip() for p in stored.split(",")]
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return f"{parts[1]} {parts[0]}".strip()
    return f"{parts[2]} {parts[0]} {parts[1]}".strip()


def authors_short(authors: list[str], most: int = 2) -> str:
    """``Hu, Shen, et al.`` style, for tables."""
    names = [family_name(a) for a in authors]
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
    aliases: list[str] = field(default_factory=list)  # earlier or other keys of this paper
    bibtex_type: str = ""  # the entry type as imported (inproceedings, @set, ...), or ''
    bibtex: dict[str, str] = field(default_factory=dict)  # the record's fields as written
    # Fields of ``bibtex`` whose value is a BibTeX expression using macros the .bib did not
    # define (month = jan, journal = IEEE_J_IP): export writes them bare, not braced.
    bibtex_raw: list[str] = field(default_factory=list)
    # The @preamble values of the .bib the record came from, as written (macros its entries
    # use, such as \noopsort): export writes them before the entries.
    bibtex_preamble: list[str] = field(default_factory=list)
    # Aliases that came with a record of their own (a second .bib entry of the same paper):
    # alias -> {"@type": entry type, field: value, ...}; export writes it under that alias.
    alias_bibtex: dict[str, dict[str, str]] = field(default_factory=dict)
    provenance: list[dict[str, Any]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def record_for(self, name: str) -> tuple[str, dict[str, str], list[str]]:
        """The BibTeX record written under ``name`` (the key, or an alias): entry type,
        fields, and the fields written as BibTeX expressions. The alias's own record when it
        came with one, else the paper's."""
        own = self.alias_bibtex.get(name)
        if own is None:
            return self.bibtex_type, self.bibtex, self.bibtex_raw
        raw = [n for n in own.get(ALIAS_RECORD_RAW, "").split(",") if n]
        fields = {k: v for k, v in own.items() if not k.startswith("@")}
        return own[ALIAS_RECORD_TYPE], fields, raw

    def record_table(self) -> dict[str, str]:
        """The paper's own record as an [alias_bibtex] table holds one."""
        table = {ALIAS_RECORD_TYPE: self.bibtex_type}
        if self.bibtex_raw:
            table[ALIAS_RECORD_RAW] = ",".join(self.bibtex_raw)
        return {**table, **self.bibtex}

    def set_record(self, table: dict[str, str]) -> None:
        """Make an [alias_bibtex]-shaped ``table`` the paper's own record."""
        self.bibtex_type = table[ALIAS_RECORD_TYPE]
        self.bibtex_raw = [n for n in table.get(ALIAS_RECORD_RAW, "").split(",") if n]
        self.bibtex = {k: v for k, v in table.items() if not k.startswith("@")}

    def view(self) -> tuple[Any, ...]:
        """The normalised fields a BibTeX record also carries, as one comparable value."""
        return tuple(
            tuple(v) if isinstance(v, list) else v
            for v in (getattr(self, name) for name in BIB_VIEW_FIELDS)
        )

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
        if self.bibtex:
            out["bibtex"] = dict(self.bibtex)
        if self.alias_bibtex:
            out["alias_bibtex"] = {k: dict(v) for k, v in self.alias_bibtex.items()}
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
        for name in ("type", "bibtex_type", "status", "date", "arxiv_id", "primary_category",
                     "doi", "url", "pdf_url", "venue", "journal_ref", "comment",
                     "abstract"):  # fmt: skip
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
        if paper.bibtex_type and not ENTRY_TYPE_RE.match(paper.bibtex_type):
            raise ValueError(
                f"field 'bibtex_type' is {paper.bibtex_type!r}; use an entry type such as "
                "'article' or 'inproceedings'"
            )
        for name in ("authors", "tags", "categories", "incomplete", "aliases", "bibtex_raw",
                     "bibtex_preamble"):  # fmt: skip
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
        if any(not tag.strip() for tag in paper.tags):
            raise ValueError("field 'tags' holds an empty tag; remove it")
        for alias in paper.aliases:
            problem = key_problem(alias)
            if problem:
                raise ValueError(f"alias {alias!r} is not a valid key: {problem}")
        paper.bibtex = _bibtex_table(data.pop("bibtex", {}))
        paper.bibtex_raw = [name.lower() for name in paper.bibtex_raw]
        for name in paper.bibtex_raw:
            if name not in paper.bibtex:
                raise ValueError(f"'bibtex_raw' names {name!r}, which [bibtex] does not have")
        alias_records = data.pop("alias_bibtex", {})
        if not isinstance(alias_records, dict):
            raise ValueError("'alias_bibtex' must be a table of [alias_bibtex.\"KEY\"] tables")
        for alias, raw_record in alias_records.items():
            if alias not in paper.aliases:
                raise ValueError(f"[alias_bibtex.{alias!r}] names no alias of this paper")
            if not isinstance(raw_record, dict):
                raise ValueError(f"[alias_bibtex.{alias!r}] must be a table")
            record = {k: v for k, v in raw_record.items() if not k.startswith("@")}
            entry_type = raw_record.get(ALIAS_RECORD_TYPE)
            if not isinstance(entry_type, str) or not ENTRY_TYPE_RE.match(entry_type):
                raise ValueError(f'[alias_bibtex.{alias!r}] needs "@type", an entry type')
            raw_names = raw_record.get(ALIAS_RECORD_RAW, "")
            if not isinstance(raw_names, str):
                raise ValueError(f'[alias_bibtex.{alias!r}] "@raw" must be a string')
            table = {ALIAS_RECORD_TYPE: entry_type}
            if raw_names:
                table[ALIAS_RECORD_RAW] = raw_names
            paper.alias_bibtex[alias] = {**table, **_bibtex_table(record)}
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
            "aliases": list(self.aliases),
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
            out["bibtex_type"] = self.bibtex_type or None
            out["bibtex"] = dict(self.bibtex)
            out["bibtex_raw"] = list(self.bibtex_raw)
            out["alias_bibtex"] = {k: dict(v) for k, v in self.alias_bibtex.items()}
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


def _bibtex_table(raw: Any) -> dict[str, str]:
    """The ``[bibtex]`` table: field names lower-case (BibTeX ignores their case), values
    strings (a hand-written ``year = 2017`` is taken as ``"2017"``)."""
    if not isinstance(raw, dict):
        raise ValueError("'bibtex' must be a table ([bibtex]) of field = \"value\" lines")
    table: dict[str, str] = {}
    for name, value in raw.items():
        lowered = name.lower()
        if not FIELD_NAME_RE.match(lowered):
            raise ValueError(f"[bibtex] field name {name!r} is not a BibTeX field name")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ValueError(f"[bibtex] field {name!r} must be a string")
        if lowered in table:
            raise ValueError(f"[bibtex] field {lowered!r} is given twice")
        table[lowered] = value
    return table


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
