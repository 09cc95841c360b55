"""Papers as BibTeX (or biblatex) entries that compile without warnings.

Entry types: a paper with a venue is ``@inproceedings`` (conference-like venue) or
``@article``; an arXiv paper without one is ``@misc`` with ``eprint``, ``archivePrefix`` and
``primaryClass`` (biblatex: ``eprinttype``, ``eprintclass``); web articles, videos, repositories
and the like are ``@misc`` (biblatex: ``@online``) with ``url`` and ``urldate``. Authors are
``Family, Given`` and organisations a single braced name. BibTeX mode writes ASCII only
(``{\\L}ukasz``, ``K{\\"u}bler``, via pylatexenc); biblatex mode keeps UTF-8 for accented
Latin letters, and writes LaTeX commands for what pdflatex cannot typeset from UTF-8 (Greek,
math symbols). Characters with no LaTeX form (CJK) become their ASCII skeleton or ``?``. Both
escape ``& % # _`` outside ``$...$`` math and brace acronyms in titles (``{BERT}``).

This module builds text; it does not read the library or write files.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

from papercli.models import Paper, display_author, is_person

# The label written in ``howpublished`` (biblatex: ``note``) for each non-paper type; the
# importer maps it back to the type.
TYPE_LABELS = {
    "article": "Web article",
    "video": "Video",
    "repo": "Code repository",
    "course": "Course",
    "website": "Website",
    "dataset": "Dataset",
    "book": "Book",
    "thesis": "Thesis",
}

# ASCII characters LaTeX treats specially in text (or, in OT1 fonts, prints as something else).
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}

# Letters with accents, dashes, quotes: what pdflatex typesets from UTF-8 with its default
# (OT1) fonts. Symbols such as © or ° would pull in TS1 fonts; they are written as commands.
_PDFLATEX_UNSAFE = re.compile(
    "[^\x00-\x7f\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f\u2013\u2014\u2018\u2019\u201c\u201d\u2026]+"
)

_CONFERENCE = re.compile(
    r"\b(?:conference|proceedings|proc\.|workshops?|symposium|congress|neurips|nips|icml|iclr|"
    r"acl|emnlp|naacl|eacl|aacl|coling|findings|cvpr|iccv|eccv|wacv|bmvc|aaai|ijcai|kdd|sigir|"
    r"sigmod|vldb|www|interspeech|icassp|aistats|uai|colt|corl|rss|icra|iros|miccai|chi|uist|"
    r"icse|osdi|sosp|nsdi|eurosys|isca|asplos|mlsys|lrec|wmt|conll|pmlr|"
    r"advances\s+in\s+neural\s+information|aclanthology|acl\s+anthology)\b",
    re.IGNORECASE,
)
_ARXIV_VENUE = re.compile(r"^\s*(?:arxiv|corr)(?:\s+preprint)?\b", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Escaping


# Characters written as an ASCII stand-in since the last ``format_bibliography`` started
# (reported to the user, who may prefer --biblatex with LuaLaTeX or XeLaTeX).
_replaced: set[str] = set()


def _fallback(char: str) -> str:
    """What BibTeX mode writes for a character with no LaTeX form: its ASCII skeleton or '?'."""
    folded = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
    _replaced.add(char)
    return "".join(_SPECIAL.get(c, c) for c in folded) or "?"


@lru_cache(maxsize=1)
def _encoder() -> Callable[[str], str]:
    from pylatexenc.latexencode import (
        RULE_DICT,
        UnicodeToLatexConversionRule,
        UnicodeToLatexEncoder,
    )

    # pylatexenc writes U+2217 as a plain "*"; \ast reads back as the same character.
    # It logs each character it cannot convert; _fallback handles those, so say nothing.
    logging.getLogger("pylatexenc").setLevel(logging.ERROR)
    ours = UnicodeToLatexConversionRule(RULE_DICT, {0x2217: r"\ensuremath{\ast}"})
    # braces-all gives {\L}ukasz and K{\"u}bler: BibTeX sorts and abbreviates them correctly.
    encoder = UnicodeToLatexEncoder(
        conversion_rules=[ours, "defaults"],
        non_ascii_only=True,
        replacement_latex_protection="braces-all",
        unknown_char_policy=_fallback,
    )
    return encoder.unicode_to_latex  # type: ignore[no-any-return]


# What _escape_text changes in ASCII text: a stretch without any is written as it is.
_NEEDS_ESCAPE = re.compile(r"[\\{}&%#_$~^<>|]|--|[^\x00-\x7f]")


def _escape_text(text: str, biblatex: bool) -> str:
    """Escape a stretch of plain text (no math)."""
    if not _NEEDS_ESCAPE.search(text):
        return text  # most words of most titles and names: nothing to do
    # "--" would print as an en dash (a TeX ligature): "-{}-" keeps two hyphens.
    out = "".join(_SPECIAL.get(c, c) for c in text).replace("--", "-{}-").replace("--", "-{}-")
    if out.isascii():
        return out
    out = unicodedata.normalize("NFC", out)
    if not biblatex:
        return _encoder()(out)
    # biblatex keeps UTF-8 for what pdflatex's utf8 input encoding typesets out of the box
    # (accented Latin letters, dashes, quotes); other symbols (Greek, math, CJK) still become
    # LaTeX commands so the bibliography builds with pdflatex as well as with LuaLaTeX.
    return _PDFLATEX_UNSAFE.sub(lambda m: _encoder()(m.group(0)), out)


def _split_math(text: str) -> list[tuple[bool, str]]:
    """``text`` as (is_math, piece) pieces; ``$...$`` is math, a lone ``$`` is text."""
    pieces: list[tuple[bool, str]] = []
    pos = 0
    for match in re.finditer(r"(?<!\\)\$(?:[^$\\]|\\.)+?(?<!\\)\$", text):
        if match.start() > pos:
            pieces.append((False, text[pos : match.start()]))
        pieces.append((True, match.group(0)))
        pos = match.end()
    if pos < len(text):
        pieces.append((False, text[pos:]))
    return pieces


_LATEX_MARKUP = re.compile(r"\\[A-Za-z]+|\\[\"'`^~=.]|\\[&%#_$]")


def _plain(text: str) -> str:
    """Text outside math that still carries LaTeX markup (``\\'e``, ``\\emph{x}``, ``\\&``, as
    arXiv titles sometimes do) converted to Unicode, so it is not escaped as literal."""
    if "\\" not in text or not _LATEX_MARKUP.search(text):
        return text
    from pylatexenc.latex2text import LatexNodes2Text

    return str(LatexNodes2Text(math_mode="verbatim").latex_to_text(text))


def _needs_protection(word: str) -> bool:
    """An acronym or a word with inner capitals (BERT, LoRA, GPT-3, iPhone, U-Net), which
    bibliography styles must not lower-case; "Low-Rank" is an ordinary title-case word."""
    if len(word) == 1 and word.isupper() and word != "A":
        return True  # "I", "X": a pronoun, a numeral or a name, never a lower-case word
    parts = [p for p in re.split(r"[-/]", word) if p]
    if any(any(c.isupper() for c in p[1:]) for p in parts):
        return True
    return len(parts) > 1 and any(len(p) == 1 and p.isupper() for p in parts)


_WORD_EDGES = re.compile(r"^([\"'(\[{]*)(.*?)([\"'()\]}:;,.!?]*)$", re.DOTALL)


def _title_token(token: str, biblatex: bool) -> str:
    lead, core, trail = _WORD_EDGES.match(token).groups()  # type: ignore[union-attr]
    escaped = _escape_text(core, biblatex)
    if core and _needs_protection(core):
        escaped = "{" + escaped + "}"
    return _escape_text(lead, biblatex) + escaped + _escape_text(trail, biblatex)


def escape(text: str, biblatex: bool = False, protect_case: bool = False) -> str:
    """``text`` as a BibTeX field value: specials escaped, math kept, non-ASCII as LaTeX
    commands (unless ``biblatex``), and, with ``protect_case``, acronyms and math braced."""
    out: list[str] = []
    for is_math, piece in _split_math(text):
        if is_math:
            out.append("{" + piece + "}" if protect_case else piece)
            continue
        piece = _plain(piece)
        if not protect_case:
            out.append(_escape_text(piece, biblatex))
            continue
        out.extend(_title_token(token, biblatex) for token in re.split(r"(\s+)", piece))
    return re.sub(r"\s+", " ", "".join(out)).strip()


def escape_url(url: str, biblatex: bool = False) -> str:
    """A URL for the ``url`` and ``doi`` fields: braces and spaces percent-encoded; in BibTeX
    mode ``%`` and ``#`` escaped, as url.sty wants inside an argument (biber does it itself)."""
    url = url.strip().replace(" ", "%20").replace("{", "%7B").replace("}", "%7D")
    url = url.replace("\\", "%5C")
    if not biblatex:
        url = url.replace("%", r"\%").replace("#", r"\#")
    return url


def format_author(stored: str, biblatex: bool = False) -> str:
    """``Family, Given`` (or ``Family, Jr., Given``) for a person; ``{Name}`` for a literal."""
    if not is_person(stored):
        return "{" + escape(display_author(stored), biblatex) + "}"
    parts = [escape(part, biblatex) for part in stored.split(",")]
    return ", ".join(p for p in parts if p)


# ---------------------------------------------------------------------------------------------
# Entries


def _venue(paper: Paper) -> str:
    # Only a venue someone named makes a journal or booktitle. arXiv's journal_ref is free text
    # ("Adv.Theor.Math.Phys.2:231-252,1998": journal, volume, pages and year in one string), so
    # it goes in a note of the preprint's entry instead, unless it names a conference
    # ("NeurIPS 2017", "Proceedings of ICML 2021, PMLR 139"): that is the booktitle.
    venue = paper.venue.strip()
    if not venue and _CONFERENCE.search(paper.journal_ref):
        venue = paper.journal_ref.strip()
    return "" if _ARXIV_VENUE.match(venue) else venue


def entry_fields(paper: Paper, biblatex: bool = False) -> tuple[str, list[tuple[str, str]]]:
    """The entry type and the (name, value) fields of ``paper``, values already escaped."""
    fields: list[tuple[str, str]] = []
    venue = _venue(paper)
    label = TYPE_LABELS.get(paper.type, "")
    has_people = bool(paper.authors)
    if paper.type == "paper" or (paper.arxiv_id and paper.type == "misc"):
        if venue and has_people and paper.year:
            kind = "inproceedings" if _CONFERENCE.search(venue) else "article"
        else:
            kind = "misc"
    elif paper.type == "book" and venue and has_people and paper.year:
        kind = "book"
    elif paper.type == "thesis" and venue and has_people and paper.year:
        kind = "phdthesis"
    elif paper.type in ("paper", "misc", "book", "thesis"):
        kind = "misc"
    else:
        kind = "online" if biblatex else "misc"

    if paper.authors:
        fields.append(("author", " and ".join(format_author(a, biblatex) for a in paper.authors)))
    else:
        # Without it plainnat cannot sort or label the entry ("to sort, need author ... or key").
        fields.append(("key", escape(paper.title, biblatex)))
    fields.append(("title", escape(paper.title, biblatex, protect_case=True)))
    if paper.year:
        fields.append(("year", str(paper.year)))
    elif not biblatex:
        # BibTeX styles warn on an empty year; "n.d." (no date) is the usual stand-in.
        fields.append(("year", "n.d."))
    if kind == "article":
        fields.append(("journal", escape(venue, biblatex)))
    elif kind == "inproceedings":
        fields.append(("booktitle", escape(venue, biblatex)))
    elif kind == "book":
        fields.append(("publisher", escape(venue, biblatex)))
    elif kind == "phdthesis":
        fields.append(("school", escape(venue, biblatex)))
    elif kind == "online":
        if label:
            fields.append(("note", label))
        if venue:
            fields.append(("organization", escape(venue, biblatex)))
    elif label:
        fields.append(("howpublished", label))
        if venue:
            fields.append(("note", escape(venue, biblatex)))
    elif venue:
        fields.append(("howpublished", escape(venue, biblatex)))
    elif paper.arxiv_id and not biblatex:
        # plainnat ignores eprint: say where to find the preprint in the printed reference.
        fields.append(("howpublished", f"arXiv:{paper.arxiv_id}"))
    if paper.arxiv_id:
        fields.append(("eprint", paper.arxiv_id))
        if biblatex:
            fields.append(("eprinttype", "arxiv"))
            if paper.primary_category:
                fields.append(("eprintclass", escape(paper.primary_category, biblatex)))
        else:
            fields.append(("archivePrefix", "arXiv"))
            if paper.primary_category:
                fields.append(("primaryClass", escape(paper.primary_category, biblatex)))
    journal_ref = paper.journal_ref.strip()
    if journal_ref and not venue and not any(name == "note" for name, _ in fields):
        fields.append(("note", escape(f"Published in {journal_ref}", biblatex)))
    if paper.doi:
        fields.append(("doi", escape_url(paper.doi, biblatex)))
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else "")
    if url:
        fields.append(("url", escape_url(url, biblatex)))
        if paper.type not in ("paper", "book", "thesis") and paper.added[:10]:
            fields.append(("urldate", paper.added[:10]))
    return kind, fields


MONTH_MACROS = frozenset("jan feb mar apr may jun jul aug sep oct nov dec".split())

# Entries whose exported text had to be made safe since the last ``format_bibliography``
# started: key -> what was changed (see ``papercli.texsafe``).
_unsafe: dict[str, list[str]] = {}


def _field_line(key: str, name: str, value: str, expression: bool = False) -> str:
    """``name = {value},``; ``name = value,`` for a BibTeX expression (macros, ``#``)."""
    from papercli.texsafe import safe_expression, safe_value

    value, problems = safe_expression(value) if expression else safe_value(value)
    if problems:
        seen = _unsafe.setdefault(key, [])
        seen.extend(p for p in problems if p not in seen)
    if expression:
        return f"  {name} = {value},"
    return f"  {name} = {{{value}}},"


def record_entry(paper: Paper, key: str) -> str:
    """The paper's BibTeX record (entry type and fields as imported) under ``key``: the
    record that came with ``key`` when it is an alias with one of its own, else the paper's."""
    entry_type, fields, raw = paper.record_for(key)
    lines = [f"@{entry_type}{{{key},"]
    lines.extend(_field_line(key, name, value, name in raw) for name, value in fields.items())
    lines.append("}")
    return "\n".join(lines) + "\n"


def format_entry(paper: Paper, biblatex: bool = False, key: str | None = None) -> str:
    """One entry, under ``key`` (the paper's own key by default; an alias when a draft cites
    it so). A paper with a BibTeX record is written as that record; others are built from
    papercli's fields."""
    key = key or paper.key
    if paper.bibtex_type:
        return record_entry(paper, key)
    kind, fields = entry_fields(paper, biblatex)
    # Fields a bibliography needs that papercli has no field of its own for (volume, pages,
    # publisher, ...: 'add --field', or a hand edit of [bibtex]) follow papercli's.
    built = {name.lower() for name, _ in fields}
    fields.extend((n, v) for n, v in paper.bibtex.items() if n not in built)
    lines = [f"@{kind}{{{key},"]
    # A month typed as jan ... dec (add --field month=jan) is the styles' month macro.
    lines.extend(
        _field_line(key, name, value, name == "month" and value.strip().lower() in MONTH_MACROS)
        for name, value in fields
    )
    lines.append("}")
    return "\n".join(lines) + "\n"


class Prepared(NamedTuple):
    """One entry as an export writes it, with what writing it found: the entry's text, what
    was made safe in it, the characters written as an ASCII stand-in, the entries it names
    (crossref, xdata, set members, related) and the ``@preamble`` values its .bib had. Plain
    strings and tuples, so the export cache (``papercli.entry_cache``) can keep it."""

    name: str
    text: str
    unsafe: tuple[str, ...]
    replaced: tuple[str, ...]
    parents: tuple[str, ...]
    preambles: tuple[str, ...]
    lacking: tuple[str, ...]  # what a citation needs and the paper lacks (citation_gaps)


# What a citation needs; an entry lacking one is written, but a bibliography built from it is
# wrong ("A. Vaswani" alone, no year). A missing abstract does not make a citation wrong.
CITATION_FIELDS = ("title", "authors", "year", "date", "venue")


def citation_gaps(paper: Paper) -> tuple[str, ...]:
    """What ``paper`` lacks for a right citation: authors or a year, or a field a citation
    shows that is marked incomplete (an entry with a BibTeX record that has an author or an
    editor, a year or a date counts as having them; a @set or @xdata entry lacks nothing)."""
    if paper.bibtex_type.lower() in ("set", "xdata"):
        return ()
    record = {k.lower() for k in paper.bibtex}
    lacking = [f for f in paper.incomplete if f in CITATION_FIELDS]
    if not paper.authors and not record & {"author", "editor"} and "authors" not in lacking:
        lacking.append("authors")
    if not paper.year and not record & {"year", "date"} and "year" not in lacking:
        lacking.append("year")
    return tuple(lacking)


def prepare_entry(paper: Paper, name: str, biblatex: bool = False) -> Prepared:
    """``paper``'s entry written under ``name`` (its key, or an alias a draft cites)."""
    _replaced.clear()
    _unsafe.clear()
    text = format_entry(paper, biblatex, name)
    return Prepared(
        name,
        text,
        tuple(_unsafe.get(name, ())),
        tuple(sorted(_replaced)),
        tuple(parents_named(paper, name)),
        tuple(paper.bibtex_preamble),
        citation_gaps(paper),
    )


def assemble_bibliography(entries: Iterable[Prepared]) -> str:
    """The prepared entries in the order given, separated by blank lines, after the
    ``@preamble``s they came with (each once, acting commands disarmed); what was made safe
    or replaced is then what ``unsafe_entries`` and ``replaced_characters`` report."""
    return "".join(bibliography_parts(entries))


def bibliography_parts(entries: Iterable[Prepared]) -> list[str]:
    """``assemble_bibliography``'s text as the pieces it is made of (the entries' own
    strings, not copies), for writing 100,000 entries without joining them."""
    from papercli.texsafe import safe_preamble

    _replaced.clear()
    _unsafe.clear()
    out = []
    preambles: dict[str, None] = {}
    for entry in entries:
        out.append(entry.text)
        # Most entries have none of these: a test is cheaper than an empty update.
        if entry.preambles:
            preambles.update(dict.fromkeys(entry.preambles))
        if entry.unsafe:
            seen = _unsafe.setdefault(entry.name, [])
            seen.extend(p for p in entry.unsafe if p not in seen)
        if entry.replaced:
            _replaced.update(entry.replaced)
    head = []
    for preamble in preambles:  # the macros the entries' own .bib defined, first
        text, problems = safe_preamble(preamble)
        if problems:
            seen = _unsafe.setdefault("@preamble", [])
            seen.extend(p for p in problems if p not in seen)
        head.append(f"@preamble{{{text}}}\n")
    parts = [*head, "\n"] if head else []
    separated = ["\n"] * (2 * len(out) - 1) if out else []
    separated[::2] = out
    return parts + separated


def format_bibliography(papers: Iterable[Paper | tuple[Paper, str]], biblatex: bool = False) -> str:
    """Every paper's entry, in the order given (a paper, or a (paper, key to write it under)
    pair), separated by blank lines."""
    prepared = []
    for item in papers:
        paper, key = item if isinstance(item, tuple) else (item, item.key)
        prepared.append(prepare_entry(paper, key, biblatex))
    return assemble_bibliography(prepared)


def replaced_characters() -> list[str]:
    """Characters the last bibliography could not write in LaTeX and replaced by an ASCII
    stand-in ('?' when there is none), such as CJK."""
    return sorted(_replaced)


def unsafe_entries() -> dict[str, list[str]]:
    """Entries of the last bibliography whose text was made safe, and how."""
    return dict(_unsafe)


# Fields naming other entries a bibliography needs beside the one cited: BibTeX's crossref,
# biblatex's xdata, a @set's members and related entries (biber reads them from the .bib).
REFERRING_FIELDS = ("crossref", "xdata", "entryset", "related")


def parents_named(paper: Paper, name: str) -> list[str]:
    """The entries the entry written under ``name`` names in ``crossref``, ``xdata``,
    ``entryset`` or ``related``."""
    record = paper.record_for(name)[1]
    found = []
    for ref in REFERRING_FIELDS:
        for parent in record.get(ref, "").split(","):
            parent = parent.strip()
            if parent and parent != name and parent not in found:
                found.append(parent)
    return found


def order_parents_last(items: list[tuple[str, Sequence[str]]]) -> list[int]:
    """The positions of ``items`` ((name written, names of its parents) pairs) with every
    entry that another names as its crossref or xdata parent moved after the entries naming
    it (grandparents after parents), the order otherwise kept: BibTeX reads a cross-referenced
    entry only when it comes after its children."""
    children_of: dict[str, list[str]] = {}
    for name, parents in items:
        for parent in parents:
            children_of.setdefault(parent, []).append(name)
    if not children_of:  # no entry names another (most libraries): the order stays
        return list(range(len(items)))
    depth: dict[str, int] = {}

    def depth_of(name: str, trail: frozenset[str]) -> int:
        if name in depth:
            return depth[name]
        children = [c for c in children_of.get(name, ()) if c not in trail]
        level = 0 if not children else 1 + max(depth_of(c, trail | {name}) for c in children)
        depth[name] = level
        return level

    # Only a parent has a depth above 0: the others are not looked at one by one.
    ranked = [
        (depth_of(name, frozenset()) if name in children_of else 0, i)
        for i, (name, _) in enumerate(items)
    ]
    return [i for _, i in sorted(ranked)]
