"""A paper's bibliographic record: BibTeX fields as written, and papercli's view of them.

A paper imported from a .bib keeps its entry type (``Paper.bibtex_type``) and every field with
its value as written, LaTeX included (``Paper.bibtex``); export writes that record back. The
normalised fields search and display use (title, authors, year, date, venue, DOI, URL, arXiv
id, abstract, papercli's type) are a view derived from it by ``view_of``. When a papercli
command changes one of them (refresh, merge, ``edit``), ``carry_changes`` writes the change
into the record, so export carries it too; nothing else touches the record.

What is here: BibTeX values (``@string`` macros, ``#`` concatenation, month macros), LaTeX to
Unicode (pylatexenc's latex2text, guarded: no input makes it fail), BibTeX names (bibtexparser's
splitter; ``others``, braced organisations, von and Jr parts), dates (biblatex ``date`` with
ranges, ``year`` + ``month``) and arXiv ids in every common form (``eprint``, ``Ar{X}iv:…`` and
``arXiv preprint arXiv:…`` journals, DBLP's ``CoRR`` + ``abs/…`` volume, notes, URLs). What is
not: reading or writing files (``papercli.bibtex_in``, ``papercli.bibtex``). No I/O.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, NamedTuple

from papercli.arxiv_ids import ArxivId, find_arxiv_ids, parse_arxiv_id
from papercli.models import BIB_VIEW_FIELDS, Paper, literal_name

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_NAMES = {
    "january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7, "august": 8,
    "september": 9, "sept": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip

# howpublished / note labels papercli's export writes for non-paper types.
_LABEL_TYPES = {
    "web article": "article",
    "blog post": "article",
    "video": "video",
    "code repository": "repo",
    "software": "repo",
    "course": "course",
    "website": "website",
    "dataset": "dataset",
    "book": "book",
    "thesis": "thesis",
}
_ENTRY_TYPES = {
    "book": "book", "inbook": "book", "collection": "book", "mvbook": "book",
    "mvcollection": "book", "proceedings": "book", "mvproceedings": "book", "booklet": "book",
    "phdthesis": "thesis", "mastersthesis": "thesis", "thesis": "thesis",
    "online": "website", "electronic": "website", "www": "website", "webpage": "website",
    "software": "repo", "dataset": "dataset", "video": "video", "movie": "video",
    "misc": "misc", "set": "misc", "xdata": "misc", "patent": "misc", "legislation": "misc",
    "manual": "misc", "artwork": "misc", "audio": "misc", "image": "misc", "music": "misc",
}  # fmt: skip
_VENUE_FIELDS = (
    "journal", "journaltitle", "booktitle", "maintitle", "school", "institution", "publisher",
)  # fmt: skip
_ARXIV_TEXT = re.compile(r"^\s*(?:arxiv|corr)\b", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# BibTeX values


def _braced_end(text: str, start: int) -> int:
    """The index just past the brace group opening at ``text[start]``, or -1."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def _quoted_end(text: str, start: int) -> int:
    """The index just past the quoted string opening at ``text[start]`` (a ``"`` inside braces
    does not close it), or -1."""
    depth = 0
    for i in range(start + 1, len(text)):
        char = text[i]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth <= 0:
            return i + 1
    return -1


class Value(NamedTuple):
    """A field value read from a .bib: its ``text`` with every macro the file defines put in;
    ``macros``, the macros it uses that the file does not define (month names, a journal
    abbreviation from IEEEabrv.bib or the style); and, when there are any, ``expression``: the
    value as BibTeX would read it with the defined macros put in (``IEEE_J_IP``,
    ``jan # {~5}``), which export writes so the macros still expand where the draft defines
    them."""

    text: str
    macros: list[str]
    expression: str


_WORD = re.compile(r"[^\s#{}\"]+")


def resolve_value(raw: str, strings: dict[str, str]) -> Value:
    """A field value as bibtexparser read it (``{…}``, ``"…"``, a number, a macro, or pieces
    joined with ``#``), with ``strings`` (lower-case names) the file's macros. Text that is
    none of these is returned as it is."""
    source = raw.strip()
    texts: list[str] = []
    parts: list[str] = []
    undefined: list[str] = []
    pos = 0
    while pos < len(source):
        char = source[pos]
        if char in '{"':
            end = _braced_end(source, pos) if char == "{" else _quoted_end(source, pos)
            if end < 0:
                return Value(source, [], "")
            texts.append(source[pos + 1 : end - 1])
            parts.append(source[pos:end])
        else:
            match = _WORD.match(source, pos)
            if match is None:
                return Value(source, [], "")
            word = match.group(0)
            end = match.end()
            if word.isdigit():
                texts.append(word)
                parts.append(word)
            elif word.lower() in strings:
                texts.append(strings[word.lower()])
                parts.append("{" + strings[word.lower()] + "}")
            else:
                undefined.append(word)
                texts.append(word)
                parts.append(word)
        pos = end
        while pos < len(source) and source[pos].isspace():
            pos += 1
        if pos < len(source):
            if source[pos] != "#":
                return Value(source, [], "")
            pos += 1
            while pos < len(source) and source[pos].isspace():
                pos += 1
    return Value("".join(texts), undefined, " # ".join(parts) if undefined else "")


def expression_text(expression: str) -> str:
    """The text of a value kept as a BibTeX expression (``IEEE_J_IP``, ``jan # {~5}``), its
    macros read as their names: what search and display show of it."""
    return resolve_value(expression, {}).text


# ---------------------------------------------------------------------------------------------
# LaTeX to Unicode


@lru_cache(maxsize=1)
def _converter() -> Any:
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    # Text-mode symbol macros latex2text does not know (papercli's export writes them).
    extra = [
        MacroTextSpec("textless", "<"),
        MacroTextSpec("textgreater", ">"),
        MacroTextSpec("textbar", "|"),
        MacroTextSpec("textasciitilde", "~"),
        MacroTextSpec("textasciicircum", "^"),
        MacroTextSpec("textbackslash", "\\"),
        MacroTextSpec("textbraceleft", "{"),
        MacroTextSpec("textbraceright", "}"),
        MacroTextSpec("ast", "\u2217"),
    ]
    context = get_default_latex_context_db().filter_context(exclude_categories=[])
    context.add_context_category("papercli", macros=extra, prepend=True)
    return LatexNodes2Text(latex_context=context, math_mode="verbatim")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """bibtexparser and pylatexenc log each problem; papercli reports them itself."""
    loggers = [logging.getLogger(name) for name in ("bibtexparser", "pylatexenc")]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)  # their module loggers inherit this level
    try:
        yield
    finally:
        for lg, level in zip(loggers, before, strict=True):
            lg.setLevel(level)


def _fix(text: str) -> str:
    if text.isascii():
        return text
    import ftfy

    return str(ftfy.fix_encoding(text))


def _crude_text(value: str) -> str:
    """What is left of LaTeX that latex2text could not read: commands and braces dropped."""
    value = re.sub(r"\\[A-Za-z@]+\*?", " ", value)
    value = re.sub(r"\\(.)", r"\1", value)
    return value.replace("{", "").replace("}", "")


_NEEDS_LATEX = re.compile(r"[\\$%`&#^_]|--|''")


@lru_cache(maxsize=65536)
def latex_to_text(value: str) -> str:
    """A BibTeX value as plain Unicode: accents, escapes and protective braces resolved,
    ``$...$`` kept, spaces (and ``~`` ties) collapsed. Never fails: LaTeX that pylatexenc
    cannot read is reduced to its words."""
    value = _fix(value)
    if not _NEEDS_LATEX.search(value):
        # Protective braces, ~ ties and single hyphens or quotes only (most titles and names):
        # what pylatexenc makes of them, 40,798 values of the real .bib files in the tests
        # agreeing, at a hundredth of the cost.
        value = value.replace("{", "").replace("}", "").replace("~", " ")
    elif any(c in value for c in "\\{}~-`'%$"):
        # A bare % is a literal here (Zotero writes \%, but hand-typed files do not).
        value = re.sub(r"(?<!\\)%", r"\\%", value)
        try:
            with quiet():
                value = str(_converter().latex_to_text(value))
        except Exception:  # pylatexenc on input it cannot parse (any exception type)
            value = _crude_text(value)
    return " ".join(value.replace("\u00a0", " ").split())


def verbatim(value: str) -> str:
    """A url or doi field: only the escapes people put there (``\\%``, ``\\_``) undone, and a
    ``\\url{…}`` wrapper removed."""
    wrapped = re.fullmatch(r"\s*\\(?:url|path)\s*\{(.*)\}\s*", value, flags=re.DOTALL)
    if wrapped:
        value = wrapped.group(1)
    return re.sub(r"\\([%#&_~$])", r"\1", value).strip().strip("{}").strip()


# ---------------------------------------------------------------------------------------------
# Names


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _author(name: str) -> str | None:
    """One BibTeX name in papercli's stored form (None for ``others``)."""
    from bibtexparser.middlewares.names import parse_single_name_into_parts

    name = name.strip()
    if not name or name == "others":
        return None
    if name.startswith("{") and name.endswith("}") and _balanced(name[1:-1]):
        text = latex_to_text(name[1:-1])  # {Google Brain}, {{Mathpix, Inc.}}: one name
        return literal_name(text) if text else None
    try:
        parts = parse_single_name_into_parts(name, strict=False)
    except Exception:  # bibtexparser on a name it cannot split: keep it whole
        text = latex_to_text(name)
        return literal_name(text) if text else None
    first = latex_to_text(" ".join(parts.first))
    family = latex_to_text(" ".join(parts.von + parts.last))
    jr = latex_to_text(" ".join(parts.jr))
    if not family:
        return literal_name(first) if first else None
    if not first:
        return literal_name(family)
    return f"{family}, {jr}, {first}" if jr else f"{family}, {first}"


def authors_of(raw: str) -> list[str]:
    """A BibTeX name list (``A and B and others``) in papercli's stored form, ``others`` left
    out (the record keeps it)."""
    from bibtexparser.middlewares.names import split_multiple_persons_names

    try:
        names = split_multiple_persons_names(raw)
    except Exception:  # unbalanced braces: one name per " and "
        names = re.split(r"\s+and\s+", raw)
    found = (_author(n) for n in names)
    return [n for n in found if n]


# ---------------------------------------------------------------------------------------------
# Dates and identifiers


def date_of(fields: dict[str, str]) -> tuple[int | None, str]:
    """(year, date as ``YYYY[-MM[-DD]]``) from biblatex ``date`` (a range gives its start) or
    ``year`` and ``month``; the date is '' when only the year is known."""
    date = fields.get("date", "").strip()
    found = re.match(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", date)
    if found and int(found.group(1)) > 0:
        return int(found.group(1)), found.group(0)
    year_match = re.search(r"\d{4}", fields.get("year", ""))
    year = int(year_match.group(0)) if year_match else None
    if not year:  # none, or year 0000: not one papercli can store
        return None, ""
    month_text = latex_to_text(fields.get("month", "")).strip().lower().rstrip(".")
    month = MONTHS.get(month_text[:3]) if month_text[:3] in MONTHS else None
    if month_text.isdigit() and 1 <= int(month_text) <= 12:
        month = int(month_text)
    if month_text in _MONTH_NAMES:
        month = _MONTH_NAMES[month_text]
    return year, f"{year:04d}-{month:02d}" if month else ""


def arxiv_of(fields: dict[str, str]) -> ArxivId | None:
    """The arXiv id a record names, in any of the forms .bib files use."""
    eprint = fields.get("eprint", "").strip()
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    if eprint and prefix in ("", "arxiv"):
        found = parse_arxiv_id(eprint.removeprefix("arXiv:").removeprefix("arxiv:"))
        if found is not None:
            return found
    journal = (fields.get("journal") or fields.get("journaltitle") or "").replace("{", "")
    journal = journal.replace("}", "").strip()
    if journal.lower() == "corr":
        volume = fields.get("volume", "").strip()
        found = parse_arxiv_id(volume.removeprefix("abs/"))
        if found is not None:
            return found
    for name in ("journal", "journaltitle", "howpublished", "note", "url", "pages", "volume"):
        value = fields.get(name, "").replace("{", "").replace("}", "")
        if not value:
            continue
        if name in ("pages", "volume") and not re.search(r"arxiv", value, re.IGNORECASE):
            continue
        ids = find_arxiv_ids(value)
        if ids:
            return ids[0]
        if name == "url":
            found = parse_arxiv_id(verbatim(fields["url"]))
            if found is not None:
                return found
    return None


def _url_in(text: str) -> str:
    found = re.search(r"\\url\s*\{([^{}]*)\}", text)
    return verbatim(found.group(1)) if found else ""


# ---------------------------------------------------------------------------------------------
# The view


def view_of(entry_type: str, fields: dict[str, str], key: str = "") -> Paper:
    """papercli's normalised fields for a record (``fields``: lower-case names, values as
    written, @strings resolved). The title falls back on the booktitle or the key, marked
    incomplete, for entries that have none (``@set``, ``@xdata``)."""
    entry_type = entry_type.lower()
    title = latex_to_text(fields.get("title", ""))
    incomplete: list[str] = []
    if not title:
        title = latex_to_text(fields.get("booktitle", "") or fields.get("maintitle", ""))
        title = title or key or "untitled"
        incomplete.append("title")
    paper = Paper(key=key, title=title)
    paper.incomplete = incomplete
    paper.authors = authors_of(fields.get("author") or fields.get("editor") or "")
    paper.year, paper.date = date_of(fields)

    label_text = fields.get("howpublished") or fields.get("note") or ""
    # Only a short value can be one of the labels ("Video", "Code repository").
    label = latex_to_text(label_text).lower() if len(label_text) < 40 else ""
    label_type = _LABEL_TYPES.get(label)
    kind = label_type or _ENTRY_TYPES.get(entry_type, "paper")

    venue = ""
    for name in _VENUE_FIELDS:
        if fields.get(name):
            venue = latex_to_text(fields[name])
            break
    if not venue:
        if label_type and fields.get("howpublished") and fields.get("note"):
            venue = latex_to_text(fields["note"])
        elif entry_type == "online" and fields.get("organization"):
            venue = latex_to_text(fields["organization"])
        elif (
            fields.get("howpublished")
            and not label_type
            and "\\url" not in fields.get("howpublished", "")
        ):
            venue = latex_to_text(fields["howpublished"])
    if _ARXIV_TEXT.match(venue):
        venue = ""  # "arXiv preprint arXiv:1706.03762" and DBLP's "CoRR" are not venues
    paper.venue = venue

    arxiv = arxiv_of(fields)
    if arxiv is not None:
        paper.arxiv_id = arxiv.base
        paper.arxiv_version = arxiv.version
        paper.primary_category = (
            fields.get("primaryclass") or fields.get("eprintclass") or ""
        ).strip()
        if kind == "misc" and entry_type == "misc":
            kind = "paper"
    paper.type = kind

    doi = verbatim(fields.get("doi", ""))
    paper.doi = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", doi, flags=re.IGNORECASE)
    url = verbatim(fields.get("url", "")) or _url_in(fields.get("howpublished", ""))
    url = url or _url_in(fields.get("note", ""))
    if arxiv is not None and parse_arxiv_id(url) is not None:
        url = ""  # the arXiv page: papercli derives it from the id
    paper.url = url
    if fields.get("abstract"):
        paper.abstract = latex_to_text(fields["abstract"])
    return paper


# ---------------------------------------------------------------------------------------------
# Carrying papercli's changes into the record


def _venue_field(paper: Paper) -> str:
    for name in _VENUE_FIELDS:
        if name in paper.bibtex:
            return name
    kind = paper.bibtex_type.lower()
    if kind in ("inproceedings", "incollection", "inbook", "conference"):
        return "booktitle"
    if kind in ("phdthesis", "mastersthesis", "thesis"):
        return "school"
    if kind in ("techreport", "report"):
        return "institution"
    if kind == "article":
        return "journal"
    return "howpublished"


def carry_changes(paper: Paper, loaded_view: tuple[Any, ...]) -> list[str]:
    """Write into ``paper.bibtex`` each normalised field that differs from ``loaded_view``
    (the values read from the file) and from what the record already says. Returns the
    record's fields rewritten."""
    from papercli.bibtex import escape, escape_url, format_author

    current = dict(zip(BIB_VIEW_FIELDS, paper.view(), strict=True))
    before = dict(zip(BIB_VIEW_FIELDS, loaded_view, strict=True))
    as_text = {
        name: expression_text(value) if name in paper.bibtex_raw else value
        for name, value in paper.bibtex.items()
    }
    record = view_of(paper.bibtex_type or "misc", as_text, paper.key)
    said = dict(zip(BIB_VIEW_FIELDS, record.view(), strict=True))
    fields = paper.bibtex
    changed: list[str] = []

    def put(name: str, value: str) -> None:
        if value:
            fields[name] = value
        else:
            fields.pop(name, None)
        if name in paper.bibtex_raw:
            paper.bibtex_raw.remove(name)
        changed.append(name)

    for name in BIB_VIEW_FIELDS:
        value = current[name]
        if value == before[name] or value == said[name]:
            continue
        if name == "title":
            put("title", escape(paper.title, protect_case=True))
        elif name == "authors":
            target = "author" if "author" in fields or "editor" not in fields else "editor"
            put(target, " and ".join(format_author(a) for a in paper.authors))
        elif name == "year":
            if "date" in fields and paper.year:
                same_year = paper.date.startswith(str(paper.year))
                put("date", paper.date if same_year else str(paper.year))
            else:
                put("year", str(paper.year) if paper.year else "")
        elif name == "date":
            if "date" in fields or "year" not in fields:
                put("date", paper.date)
        elif name == "venue":
            put(_venue_field(paper), escape(paper.venue))
        elif name == "doi":
            put("doi", escape_url(paper.doi))
        elif name == "url":
            put("url", escape_url(paper.url))
        elif name == "arxiv_id":
            put("eprint", paper.arxiv_id)
            if paper.arxiv_id and "eprinttype" not in fields:
                fields.setdefault("archiveprefix", "arXiv")
    return changed
