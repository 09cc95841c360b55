"""BibTeX files (Zotero, Google Scholar, JabRef, arXiv, papercli's own export) into papers.

Parsing is bibtexparser 2.x; LaTeX in values becomes Unicode through pylatexenc's latex2text
(``$...$`` math is kept as written); mojibake from a wrongly decoded export is repaired with
ftfy. Entry keys are kept when free and valid; a paper the library already has (same arXiv id,
DOI, URL or title, see ``papercli.merge``) is merged, not added twice. Malformed entries are
reported with their line and skipped; the rest is imported.

``parse_bibtex`` does no I/O; ``import_bibtex`` reads the files and writes through
``Library.writing()``. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from papercli.arxiv_ids import find_arxiv_ids, parse_arxiv_id
from papercli.documents import read_document
from papercli.library import Library
from papercli.models import KEY_RE, Paper

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
    "phdthesis": "thesis", "mastersthesis": "thesis", "thesis": "thesis",
    "online": "website", "electronic": "website", "www": "website", "webpage": "website",
    "software": "repo", "dataset": "dataset", "video": "video", "movie": "video",
    "misc": "misc",
}  # fmt: skip
_VENUE_FIELDS = ("journal", "journaltitle", "booktitle", "school", "institution", "publisher")
_ARXIV_TEXT = re.compile(r"^\s*(?:arxiv|corr)\b", re.IGNORECASE)


@dataclass
class Skipped:
    where: str  # "refs.bib:12"
    why: str


@dataclass
class Parsed:
    """The papers a file holds (``key`` is the entry's own key) and what was skipped."""

    papers: list[tuple[str, Paper]] = field(default_factory=list)  # (where, paper)
    skipped: list[Skipped] = field(default_factory=list)


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
        MacroTextSpec("ast", "\u2217"),
    ]
    context = get_default_latex_context_db().filter_context(exclude_categories=[])
    context.add_context_category("papercli", macros=extra, prepend=True)
    return LatexNodes2Text(latex_context=context, math_mode="verbatim")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
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


def latex_to_text(value: str) -> str:
    """A BibTeX value as plain Unicode: accents, escapes and protective braces resolved,
    ``$...$`` kept, spaces (and ``~`` ties) collapsed."""
    value = _fix(value)
    if any(c in value for c in "\\{}~-`'%$"):
        # A bare % is a literal here (Zotero writes \%, but hand-typed files do not).
        value = re.sub(r"(?<!\\)%", r"\\%", value)
        value = str(_converter().latex_to_text(value))
    return " ".join(value.replace("\u00a0", " ").split())


def _verbatim(value: str) -> str:
    """A url or doi field: only the escapes people put there (``\\%``, ``\\_``) undone."""
    return re.sub(r"\\([%#&_~$])", r"\1", value).strip().strip("{}").strip()


# ---------------------------------------------------------------------------------------------
# Names


def _author(name: str) -> str | None:
    """One BibTeX name in papercli's stored form (None for ``others``)."""
    from bibtexparser.middlewares.names import parse_single_name_into_parts

    name = name.strip()
    if not name or name == "others":
        return None
    if name.startswith("{") and name.endswith("}") and _balanced(name[1:-1]):
        return latex_to_text(name[1:-1]) or None  # {Google Brain}: an organisation
    parts = parse_single_name_into_parts(name, strict=False)
    first = latex_to_text(" ".join(parts.first))
    family = latex_to_text(" ".join(parts.von + parts.last))
    jr = latex_to_text(" ".join(parts.jr))
    if not family:
        return first or None
    if not first:
        return family
    return f"{family}, {jr}, {first}" if jr else f"{family}, {first}"


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def authors_of(raw: str) -> list[str]:
    from bibtexparser.middlewares.names import split_multiple_persons_names

    names = (_author(n) for n in split_multiple_persons_names(raw))
    return [n for n in names if n]


# ---------------------------------------------------------------------------------------------
# Entries


def entry_to_paper(entry_type: str, key: str, raw_fields: dict[str, str]) -> Paper:
    """One parsed entry as a Paper (key as in the file). Raises ValueError when it has no
    title."""
    fields = {name.lower(): value for name, value in raw_fields.items()}
    title = latex_to_text(fields.get("title", ""))
    if not title:
        raise ValueError("it has no title")
    entry_type = entry_type.lower()
    paper = Paper(key=key, title=title)
    paper.authors = authors_of(fields.get("author") or fields.get("editor") or "")

    year = re.match(r"\s*(\d{4})", fields.get("year") or fields.get("date") or "")
    paper.year = int(year.group(1)) if year else None
    date = fields.get("date", "").strip()
    if re.fullmatch(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", date):
        paper.date = date

    label = latex_to_text(fields.get("howpublished") or fields.get("note") or "").lower()
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
        elif fields.get("howpublished") and not label_type:
            venue = latex_to_text(fields["howpublished"])
    if _ARXIV_TEXT.match(venue):
        venue = ""  # "arXiv preprint arXiv:1706.03762" is not a venue
    paper.venue = venue

    # arXiv: an eprint field, else an id named in the journal, howpublished, note or url.
    eprint = fields.get("eprint", "").strip()
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    arxiv = parse_arxiv_id(eprint) if eprint and prefix in ("", "arxiv") else None
    if arxiv is None:
        for name in ("journal", "howpublished", "note", "url"):
            value = fields.get(name, "")
            found = find_arxiv_ids(value)
            arxiv = found[0] if found else (parse_arxiv_id(value) if name == "url" else None)
            if arxiv is not None:
                break
    if arxiv is not None:
        paper.arxiv_id = arxiv.base
        paper.arxiv_version = arxiv.version
        paper.primary_category = (
            fields.get("primaryclass") or fields.get("eprintclass") or ""
        ).strip()
        if kind == "misc":
            kind = "paper"
    paper.type = kind

    doi = _verbatim(fields.get("doi", ""))
    paper.doi = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", doi, flags=re.IGNORECASE)
    url = _verbatim(fields.get("url", ""))
    if arxiv is not None and parse_arxiv_id(url) is not None:
        url = ""  # the arXiv page: papercli derives it from the id
    paper.url = url
    if fields.get("abstract"):
        paper.abstract = latex_to_text(fields["abstract"])
    return paper


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "abort_reason", "") or error)
    return " ".join(text.split()) or type(error).__name__


def parse_bibtex(text: str, source: str) -> Parsed:
    """Every entry of a .bib text as a Paper; malformed entries in ``skipped`` as
    ``source:line``."""
    from bibtexparser.entrypoint import parse_string
    from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock

    out = Parsed()
    with _quiet():
        parsed = parse_string(text)
        for block in parsed.blocks:
            line = (block.start_line or 0) + 1
            where = f"{source}:{line}"
            if isinstance(block, DuplicateBlockKeyBlock):
                out.skipped.append(Skipped(where, f"duplicate key {block.key!r} in the file"))
            elif isinstance(block, ParsingFailedBlock):
                out.skipped.append(Skipped(where, f"malformed entry: {_first_line(block.error)}"))
            elif isinstance(block, Entry):
                values = {f.key: str(f.value) for f in block.fields}
                try:
                    paper = entry_to_paper(block.entry_type, block.key, values)
                except ValueError as exc:
                    out.skipped.append(Skipped(where, f"entry {block.key!r}: {exc}"))
                    continue
                out.papers.append((where, paper))
    return out


# ---------------------------------------------------------------------------------------------
# Import into a library


@dataclass
class ImportReport:
    added: list[tuple[str, str]] = field(default_factory=list)  # (key, where)
    merged: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (key, where, fields)
    rekeyed: list[tuple[str, str, str]] = field(default_factory=list)  # (old, new, why)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # file-level remarks (encoding)
    empty: list[str] = field(default_factory=list)  # files with no entry at all, as named


def import_bibtex(
    library: Library, paths: list[Path], tags: list[str], dry_run: bool = False
) -> ImportReport:
    """Import every entry of ``paths``; returns what was added, merged, re-keyed, skipped."""
    from papercli.keys import make_key
    from papercli.merge import DuplicateFinder, merge_into

    report = ImportReport()
    texts = []
    for path in paths:  # every file is read before anything is written
        text, remark = read_document(path)
        if remark:
            report.notes.append(remark)
        texts.append((path, text))
    with contextlib.ExitStack() as stack:
        writer = None if dry_run else stack.enter_context(library.writing())
        finder = DuplicateFinder.from_rows(library.index().rows.values())
        taken = set(library.index().rows)
        pending: dict[str, Paper] = {}  # added in this run (dry run: not written)
        for path, text in texts:
            parsed = parse_bibtex(text, path.name)
            report.skipped.extend(parsed.skipped)
            if not parsed.papers and not parsed.skipped:
                report.empty.append(str(path))
            for where, paper in parsed.papers:
                paper.tags = list(tags)
                # No time stamp: importing the same file again then changes nothing.
                paper.provenance = [{"source": "bibtex", "file": path.name, "key": paper.key}]
                same = finder.find(paper)
                if same is not None:
                    existing = pending.get(same) or (
                        writer.read(same) if writer else library.read(same)
                    )
                    changed = merge_into(existing, paper)
                    if changed and writer is not None:
                        writer.save(existing)
                    if changed:
                        report.merged.append((same, where, changed))
                    else:
                        report.skipped.append(
                            Skipped(where, f"{paper.title[:60]!r} is already {same}, nothing new")
                        )
                    continue
                original = paper.key
                candidate = original.lower() if KEY_RE.match(original.lower()) else ""
                if candidate and candidate not in taken:
                    paper.key = candidate
                    if candidate != original:
                        report.rekeyed.append((original, candidate, "keys are lower-case"))
                else:
                    paper.key = make_key(paper.authors, paper.year, paper.title, taken)
                    why = "the key is taken" if candidate else "not a valid papercli key"
                    report.rekeyed.append((original, paper.key, why))
                taken.add(paper.key)
                if writer is not None:
                    writer.create(paper)
                pending[paper.key] = paper
                finder.add(paper)
                report.added.append((paper.key, where))
    report.skipped.sort(key=lambda s: _position(s.where))
    return report


def _position(where: str) -> tuple[str, int]:
    name, _, line = where.rpartition(":")
    return (name, int(line)) if line.isdigit() else (where, 0)
