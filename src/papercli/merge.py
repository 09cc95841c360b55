"""Recognising the same paper twice, and merging two records of it without losing anything.

Two records are the same paper when they share an arXiv id (any version), a DOI, a normalised
URL, or a normalised title (case, accents, punctuation and spacing ignored). Used by every
importer and by ``add``. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from papercli.arxiv_ids import parse_arxiv_id
from papercli.keys import ascii_fold
from papercli.models import Paper

# Fields whose empty value is filled from the incoming record.
_FILLABLE = (
    "date", "arxiv_id", "arxiv_version", "primary_category", "doi", "url", "pdf_url", "venue",
    "journal_ref", "comment", "abstract",
)  # fmt: skip


def norm_title(title: str) -> str:
    """``LoRA: Low-Rank Adaptation…`` -> ``lora low rank adaptation``; '' for very short titles
    (too generic to identify a paper)."""
    text = ascii_fold(title).lower()
    text = re.sub(r"\((?:paper|pdf|preprint|arxiv)\)", " ", text)
    words = re.findall(r"[a-z0-9]+", text)
    joined = " ".join(words)
    return joined if len(joined) >= 12 else ""


def norm_url(url: str) -> str:
    """A URL reduced to what identifies the resource: arXiv links become ``arxiv:<id>``;
    scheme, ``www.``, trailing slashes, fragments and ``.pdf``/``.html`` noise go."""
    url = url.strip()
    if not url:
        return ""
    parsed_id = parse_arxiv_id(url)
    if parsed_id:
        return f"arxiv:{parsed_id.base}"
    parts = urlsplit(url if "://" in url else f"https://{url}")
    host = parts.netloc.lower().removeprefix("www.")
    path = re.sub(r"/+$", "", parts.path)
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{path}{query}"


def norm_doi(doi: str) -> str:
    doi = doi.strip().lower()
    return re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", doi)


class DuplicateFinder:
    """Finds the existing key of a paper already known, by arXiv id, DOI, URL or title."""

    def __init__(self) -> None:
        self._by: dict[str, str] = {}
        self._ids: dict[str, tuple[str, str]] = {}  # key -> (arXiv base id, DOI)
        self._types: dict[str, str] = {}

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[Any, ...]]) -> DuplicateFinder:
        """From ``Library.index().rows.values()`` (Summary tuples)."""
        finder = cls()
        for row in rows:
            finder._register(row[0], row[7], row[8], row[9], row[2])
            finder._types[row[0]] = row[1]
        return finder

    def _signatures(self, arxiv_id: str, doi: str, url: str, title: str) -> list[str]:
        sigs = []
        if arxiv_id:
            parsed = parse_arxiv_id(arxiv_id)
            sigs.append(f"arxiv:{parsed.base if parsed else arxiv_id}")
        if doi:
            sigs.append(f"doi:{norm_doi(doi)}")
        nurl = norm_url(url)
        if nurl:
            sigs.append(nurl if nurl.startswith("arxiv:") else f"url:{nurl}")
        ntitle = norm_title(title)
        if ntitle:
            sigs.append(f"title:{ntitle}")
        return sigs

    @staticmethod
    def _ident(arxiv_id: str, doi: str) -> tuple[str, str]:
        parsed = parse_arxiv_id(arxiv_id) if arxiv_id else None
        return (parsed.base if parsed else arxiv_id, norm_doi(doi) if doi else "")

    def _register(self, key: str, arxiv_id: str, doi: str, url: str, title: str) -> None:
        self._ids.setdefault(key, self._ident(arxiv_id, doi))
        for sig in self._signatures(arxiv_id, doi, url, title):
            self._by.setdefault(sig, key)

    def add(self, paper: Paper) -> None:
        self._register(paper.key, paper.arxiv_id, paper.doi, paper.url, paper.title)
        self._types.setdefault(paper.key, paper.type)

    def find(self, paper: Paper) -> str | None:
        """The key of a known record of the same paper, or None.

        An arXiv id or DOI that differs from the candidate's proves they are different papers,
        so a title or URL match is not taken then; nor is a title match between two types
        (a paper and a video explaining it).
        """
        mine = self._ident(paper.arxiv_id, paper.doi)
        for sig in self._signatures(paper.arxiv_id, paper.doi, paper.url, paper.title):
            key = self._by.get(sig)
            if key is None:
                continue
            theirs = self._ids.get(key, ("", ""))
            if not sig.startswith(("arxiv:", "doi:")) and any(
                a and b and a != b for a, b in zip(mine, theirs, strict=True)
            ):
                continue
            # The same title on a paper and on a video about it names two things.
            their_type = self._types.get(key, paper.type)
            if (
                sig.startswith("title:")
                and "misc" not in (their_type, paper.type)
                and (their_type != paper.type)
            ):
                continue
            return key
        return None


def merge_into(existing: Paper, incoming: Paper) -> list[str]:
    """Merge ``incoming`` into ``existing`` in place; returns the names of fields changed.

    Nothing is lost and nothing the user set is overwritten: placeholders (fields marked
    incomplete) are replaced by real values, empty fields are filled, tags, categories,
    authors (when there were none), provenance and notes are combined (a note whose text is
    already there is not added again). A title not marked incomplete, the key, status and
    type stay.
    """
    changed: list[str] = []
    # A field marked incomplete holds a placeholder ("Hu, E." for "E. Hu et al"): a record
    # that really has the field replaces it, as refresh does.
    for name in existing.incomplete:
        value = getattr(incoming, name, None)
        if value and name not in incoming.incomplete and value != getattr(existing, name):
            setattr(existing, name, list(value) if isinstance(value, list) else value)
            changed.append(name)
    for name in _FILLABLE:
        if getattr(existing, name) in ("", None) and getattr(incoming, name) not in ("", None):
            setattr(existing, name, getattr(incoming, name))
            changed.append(name)
    if not existing.authors and incoming.authors:
        existing.authors = list(incoming.authors)
        changed.append("authors")
    if not existing.year and incoming.year:
        existing.year = incoming.year
        changed.append("year")
    if existing.type == "misc" and incoming.type != "misc":
        existing.type = incoming.type
        changed.append("type")
    new_tags = existing.add_tags(incoming.tags)
    if new_tags:
        changed.append("tags")
    for cat in incoming.categories:
        if cat not in existing.categories:
            existing.categories.append(cat)
            if "categories" not in changed:
                changed.append("categories")
    for prov in incoming.provenance:
        if prov not in existing.provenance:
            existing.provenance.append(dict(prov))
            if "provenance" not in changed:
                changed.append("provenance")
    have = {_note_text_key(n.text) for n in existing.notes}
    for note in incoming.notes:
        text_key = _note_text_key(note.text)
        if text_key not in have:
            existing.notes.append(note)
            have.add(text_key)
            if "notes" not in changed:
                changed.append("notes")
    # A field is no longer missing once a record that really has it was merged in.
    still = [
        f for f in existing.incomplete if f in incoming.incomplete or not getattr(incoming, f, None)
    ]
    if still != existing.incomplete:
        existing.incomplete = still
        changed.append("incomplete")
    return changed


def _note_text_key(text: str) -> str:
    return " ".join(text.split())
