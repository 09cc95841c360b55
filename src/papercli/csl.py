"""Papers as CSL-JSON items, for pandoc ``--citeproc`` and Zotero-compatible tools.

A paper with a BibTeX record maps its entry type and fields (``@inproceedings`` ->
``paper-conference``, ``booktitle`` -> ``container-title``, ``pages`` -> ``page``, ...), the
LaTeX in them read as Unicode; other fields come from papercli's own (title, authors, date,
venue, DOI, URL, abstract, arXiv id). Variable names follow the CSL 1.0.2 specification.
Builds data; no I/O.
"""

from __future__ import annotations

import re
from typing import Any

from papercli.models import Paper, display_author, family_name, is_person

# BibTeX/biblatex entry type -> CSL type.
_ENTRY_TYPES = {
    "article": "article-journal", "inproceedings": "paper-conference",
    "conference": "paper-conference", "proceedings": "book", "incollection": "chapter",
    "inbook": "chapter", "book": "book", "mvbook": "book", "collection": "book",
    "booklet": "pamphlet", "phdthesis": "thesis", "mastersthesis": "thesis", "thesis": "thesis",
    "techreport": "report", "report": "report", "manual": "report", "unpublished": "manuscript",
    "online": "webpage", "www": "webpage", "electronic": "webpage", "software": "software",
    "dataset": "dataset", "patent": "patent", "legislation": "legislation", "misc": "document",
}  # fmt: skip
# papercli's own type -> CSL type, for papers without a record.
_PAPER_TYPES = {
    "article": "post-weblog", "book": "book", "video": "motion_picture", "repo": "software",
    "course": "webpage", "website": "webpage", "dataset": "dataset", "thesis": "thesis",
    "misc": "document",
}  # fmt: skip
# BibTeX field -> CSL variable, for fields copied as text.
_FIELDS = {
    "volume": "volume", "number": "issue", "pages": "page", "publisher": "publisher",
    "address": "publisher-place", "location": "publisher-place", "edition": "edition",
    "isbn": "ISBN", "issn": "ISSN", "series": "collection-title", "note": "note",
    "school": "publisher", "institution": "publisher", "organization": "publisher",
    "chapter": "chapter-number",
}  # fmt: skip


def _person(stored: str) -> dict[str, str]:
    if not is_person(stored):
        return {"literal": display_author(stored)}
    parts = [p.strip() for p in stored.split(",")]
    person = {"family": family_name(stored), "given": parts[-1] if len(parts) > 1 else ""}
    if len(parts) == 3:
        person["suffix"] = parts[1]
    return {k: v for k, v in person.items() if v}


def _csl_type(paper: Paper, entry_type: str) -> str:
    if entry_type:
        return _ENTRY_TYPES.get(entry_type.lower(), "document")
    if paper.type == "paper":
        if paper.venue:
            from papercli.bibtex import _CONFERENCE

            return "paper-conference" if _CONFERENCE.search(paper.venue) else "article-journal"
        return "article"  # a preprint
    return _PAPER_TYPES.get(paper.type, "document")


def csl_item(paper: Paper, name: str | None = None) -> dict[str, Any]:
    """One paper as a CSL-JSON item, its ``id`` the key (or alias) ``name``."""
    from papercli.record import expression_text, latex_to_text

    key = name or paper.key
    entry_type, fields, raw = paper.record_for(key)
    text = {n: latex_to_text(expression_text(v) if n in raw else v) for n, v in fields.items()}
    item: dict[str, Any] = {"id": key, "type": _csl_type(paper, entry_type), "title": paper.title}
    if paper.authors:
        item["author"] = [_person(a) for a in paper.authors]
    date = re.findall(r"\d+", paper.date) if paper.date else []
    if paper.year or date:
        parts = [int(p) for p in date] if date else [paper.year]
        item["issued"] = {"date-parts": [parts]}
    if paper.venue:
        item["container-title"] = paper.venue
    for field_name, variable in _FIELDS.items():
        if text.get(field_name) and variable not in item:
            item[variable] = text[field_name]
    if paper.doi:
        item["DOI"] = paper.doi
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else "")
    if url:
        item["URL"] = url
    if paper.arxiv_id:
        item["number"] = f"arXiv:{paper.arxiv_id}"
        item.setdefault("publisher", "arXiv")
    if paper.abstract:
        item["abstract"] = paper.abstract
    return item
