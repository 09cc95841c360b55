"""Recognising the same paper twice, and merging two records of it without losing anything.

Two records are the same paper when they share an identifier (arXiv id in any version, DOI,
ISBN, normalised URL) and their titles are not clearly different, or when their normalised
titles (case, accents, punctuation and spacing ignored) agree and so do their years and first
authors. Used by every importer and by ``add``. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

from papercli.arxiv_ids import parse_arxiv_id
from papercli.keys import ascii_fold
from papercli.models import Paper, family_name

# Fields whose empty value is filled from the incoming record.
_FILLABLE = (
    "date", "arxiv_id", "arxiv_version", "primary_category", "doi", "url", "pdf_url", "venue",
    "journal_ref", "comment", "abstract",
)  # fmt: skip


def norm_title(title: str) -> str:
    """``LoRA: Low-Rank Adaptation…`` -> ``lora low rank adaptation``; '' for very short titles
    (too generic to identify a paper)."""
    joined = _title_words(title)
    return joined if len(joined) >= 12 else ""


def _title_words(title: str) -> str:
    text = ascii_fold(title).lower()
    text = re.sub(r"\((?:paper|pdf|preprint|arxiv)\)", " ", text)
    return " ".join(re.findall(r"[a-z0-9]+", text))


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


def first_family(authors: Iterable[str]) -> str:
    """The first author's family name, folded for comparison ('' when there is none)."""
    for stored in authors:
        words = re.findall(r"[a-z0-9]+", ascii_fold(family_name(stored)).lower())
        return "".join(words)
    return ""


def clearly_different_titles(first: str, second: str, short_too: bool = False) -> bool:
    """True when two titles cannot be the same work's (a preprint's title and its published
    version's differ by a word or a subtitle, not wholesale). A title too short to identify a
    paper ("PDF", a reading list's link text) differs from none, unless ``short_too``: two
    .bib records' titles are real, and "Solder man" is not "A more perfect union"."""
    if short_too:
        a, b = _title_words(first), _title_words(second)
    else:
        a, b = norm_title(first), norm_title(second)
    if not a or not b or a in b or b in a:
        return False
    from rapidfuzz import fuzz

    return fuzz.token_set_ratio(a, b) < 70


class Identity(NamedTuple):
    """What identifies a record: its ids, its normalised title, year and first author."""

    arxiv: str
    doi: str
    isbn: str
    title: str  # the title as written (for the clearly-different test)
    year: int
    family: str
    type: str
    incomplete: tuple[str, ...]
    has_record: bool  # imported from a .bib (its record kept)
    venue: str = ""  # the venue, or an arXiv paper's journal reference


class Match(NamedTuple):
    """``key`` of the known record of the same paper (None: a new paper); ``conflicts``: keys
    of clearly different papers that share an identifier with it (reported, not merged)."""

    key: str | None
    conflicts: list[tuple[str, str]]  # (key, the identifier shared)


def norm_isbn(isbn: str) -> str:
    return re.sub(r"[^0-9X]", "", isbn.upper())


class SignatureMap(Protocol):
    """What a finder needs of its signature -> keys map (a dict, or a sharded cache)."""

    def get(self, sig: str, default: Any = ..., /) -> Any: ...

    def setdefault(self, sig: str, default: list[str], /) -> list[str]: ...


class _Identities(dict[str, "Identity"]):
    """Identities built on first use (a match looks at a handful of 100,000 papers)."""

    def __init__(self, identity_of: Callable[[str], Identity]) -> None:
        super().__init__()
        self._identity_of = identity_of

    def __missing__(self, key: str) -> Identity:
        found = self[key] = self._identity_of(key)
        return found


class DuplicateFinder:
    """Finds the existing key of a paper already known.

    Two records are the same paper when an identifier agrees (arXiv id, DOI, ISBN) and their
    titles are not clearly different, when a normalised URL agrees, or when their normalised
    titles agree and so do their years and their first authors' family names (a year or an
    author list that is missing or marked incomplete does not disagree). The same title by
    other authors or in another year is another paper; so is a paper and a video about it.
    """

    def __init__(self) -> None:
        self._by: dict[str, list[str]] = {}
        self._who: dict[str, Identity] = {}

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[Any, ...]]) -> DuplicateFinder:
        """From ``Library.index().rows.values()`` (Summary tuples)."""
        finder = cls()
        for row in rows:
            finder._register(row[0], cls.row_identity(row), row[9])
        return finder

    @classmethod
    def from_signatures(
        cls, by: SignatureMap, identity_of: Callable[[str], Identity]
    ) -> DuplicateFinder:
        """From each signature's keys (``row_signatures``, kept in a cache) and a way to get a
        key's identity, asked only for the keys a match looks at."""
        finder = cls()
        finder._by = by  # type: ignore[assignment]
        finder._who = _Identities(identity_of)
        return finder

    @staticmethod
    def row_identity(row: tuple[Any, ...]) -> Identity:
        """The identity of a Summary tuple."""
        return Identity(
            arxiv=row[7], doi=row[8], isbn=row[16], title=row[2], year=row[4] or 0,
            family=first_family(row[3]), type=row[1], incomplete=tuple(row[13]),
            has_record=bool(row[17]), venue=row[10],
        )  # fmt: skip

    @classmethod
    def row_signatures(cls, row: tuple[Any, ...]) -> list[str]:
        return cls.signatures(cls.row_identity(row), row[9])

    @staticmethod
    def identity(paper: Paper) -> Identity:
        return Identity(
            arxiv=paper.arxiv_id, doi=paper.doi, isbn=paper.bibtex.get("isbn", ""),
            title=paper.title, year=paper.year or 0, family=first_family(paper.authors),
            type=paper.type, incomplete=tuple(paper.incomplete),
            has_record=bool(paper.bibtex_type), venue=paper.venue or paper.journal_ref,
        )  # fmt: skip

    @staticmethod
    def signatures(who: Identity, url: str, ntitle: str | None = None) -> list[str]:
        """What ``who`` may share with another record of it; ``ntitle``, its normalised
        title when the caller has it already."""
        sigs = []
        if who.arxiv:
            parsed = parse_arxiv_id(who.arxiv)
            sigs.append(f"arxiv:{parsed.base if parsed else who.arxiv}")
        if who.doi:
            sigs.append(f"doi:{norm_doi(who.doi)}")
        for isbn in re.split(r"[,;\s]+(?=\d)", who.isbn) if who.isbn else []:
            if len(norm_isbn(isbn)) in (10, 13):
                sigs.append(f"isbn:{norm_isbn(isbn)}")
        nurl = norm_url(url)
        if nurl:
            sigs.append(nurl if nurl.startswith("arxiv:") else f"url:{nurl}")
        if "title" not in who.incomplete:
            ntitle = norm_title(who.title) if ntitle is None else ntitle
            if ntitle:
                sigs.append(f"title:{ntitle}")
        return sigs

    def _register(self, key: str, who: Identity, url: str, keep: bool = True) -> None:
        if keep:
            self._who.setdefault(key, who)
        for sig in self.signatures(who, url):
            keys = self._by.setdefault(sig, [])
            if key not in keys:
                keys.append(key)

    def add(self, paper: Paper, keep: bool = True) -> None:
        """Know ``paper`` from now on. ``keep=False``: its signatures only; its identity is
        asked of the finder's source when a later paper shares one (``from_signatures``)."""
        self._register(paper.key, self.identity(paper), paper.url, keep)

    def find(self, paper: Paper) -> str | None:
        return self.match(paper).key

    def match(self, paper: Paper) -> Match:
        """The known record of the same paper, and clearly different papers sharing one of
        its identifiers."""
        mine = self.identity(paper)
        conflicts: list[tuple[str, str]] = []
        for sig in self.signatures(mine, paper.url):
            for key in self._by.get(sig, ()):
                theirs = self._who[key]
                if sig.startswith("title:"):
                    if same_titled_work(mine, theirs):
                        return Match(key, conflicts)
                    continue
                if sig.startswith("url:"):
                    # A link is what a reading list knows a paper by; its text ("Łukasz
                    # Kaiser's talk") need not be the title. Two .bib records with one URL
                    # and clearly different titles are two papers (a shared placeholder URL).
                    if ids_disagree(mine, theirs):
                        continue
                    if not (
                        mine.has_record
                        and theirs.has_record
                        and clearly_different_titles(mine.title, theirs.title, short_too=True)
                    ):
                        return Match(key, conflicts)
                    continue
                placeholder = "title" in mine.incomplete or "title" in theirs.incomplete
                if not placeholder and clearly_different_titles(mine.title, theirs.title):
                    if (key, sig) not in conflicts:
                        conflicts.append((key, sig))
                    continue
                return Match(key, conflicts)
        return Match(None, conflicts)

    def other_version(self, paper: Paper) -> str | None:
        """The key of the other version of ``paper``: its arXiv preprint when ``paper`` is a
        published version, or its published version when ``paper`` is a preprint. One of the
        two has an arXiv id and the other none, their titles agree (normalised) and so do their
        first authors, and the years differ by at most two, or the preprint's journal
        reference names the published version's DOI or its volume and first page; or the
        preprint's arXiv record names the published version's DOI (whatever the titles)."""
        mine = self.identity(paper)
        # The preprint's arXiv record names the published version's DOI: arXiv's authors
        # said so, even when the title changed on the way.
        for key in self._by.get(f"doi:{norm_doi(mine.doi)}", ()) if mine.doi else ():
            if bool(mine.arxiv) != bool(self._who[key].arxiv):
                return key
        ntitle = norm_title(paper.title) if "title" not in mine.incomplete else ""
        for key in self._by.get(f"title:{ntitle}", ()) if ntitle else ():
            theirs = self._who[key]
            if bool(mine.arxiv) == bool(theirs.arxiv):
                continue  # two preprints, or two published papers: not this relation
            if ids_disagree(mine, theirs):
                continue
            preprint, published = (mine, theirs) if mine.arxiv else (theirs, mine)
            if published.doi and norm_doi(published.doi) in preprint.venue.lower():
                return key
            if not mine.arxiv and _journal_ref_names(theirs.venue, paper.bibtex):
                return key
            if mine.family and theirs.family and mine.family != theirs.family:
                continue
            if mine.year and theirs.year and abs(mine.year - theirs.year) > 2:
                continue
            return key
        return None


def _journal_ref_names(journal_ref: str, record: dict[str, str]) -> bool:
    """True when an arXiv journal reference (``Int.J.Theor.Phys.38:1113-1133,1999``) names
    the volume and the first page of a published version's record."""
    volume = record.get("volume", "").strip()
    first_page = re.match(r"\d+", record.get("pages", "").strip())
    if not volume.isdigit() or first_page is None:
        return False
    numbers = re.findall(r"\d+", journal_ref)
    return volume in numbers and first_page.group(0) in numbers


def ids_disagree(mine: Identity, theirs: Identity) -> bool:
    """An arXiv id or DOI on both that differs proves two papers."""
    return any(
        a and b and a != b
        for a, b in ((mine.arxiv, theirs.arxiv), (norm_doi(mine.doi), norm_doi(theirs.doi)))
    )


def same_titled_work(mine: Identity, theirs: Identity) -> bool:
    if ids_disagree(mine, theirs):
        return False
    # The same title on a paper and on a video about it names two things.
    if "misc" not in (mine.type, theirs.type) and mine.type != theirs.type:
        return False
    known = ("year" not in mine.incomplete) and ("year" not in theirs.incomplete)
    if known and mine.year and theirs.year and mine.year != theirs.year:
        return False
    known = ("authors" not in mine.incomplete) and ("authors" not in theirs.incomplete)
    return not (known and mine.family and theirs.family and mine.family != theirs.family)


def merge_into(existing: Paper, incoming: Paper, differing: list[str] | None = None) -> list[str]:
    """Merge ``incoming`` into ``existing`` in place; returns the names of fields changed.

    Nothing is lost and nothing the user set is overwritten: placeholders (fields marked
    incomplete) are replaced by real values, empty fields are filled, tags, categories,
    authors (when there were none), provenance and notes are combined (a note whose text is
    already there is not added again). A title not marked incomplete, the key, status and
    type stay. A BibTeX record is attached when the paper has none; a second record of the
    paper under another key is kept whole for that key (an alias); for a record under a key
    the paper already has, the names of fields whose values differ go to ``differing`` (the
    library's record is kept). Aliases are combined.
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
    if incoming.bibtex_type:
        theirs = incoming.record_table()
        if not existing.bibtex_type:
            existing.set_record(theirs)
            if incoming.key != existing.key and (
                incoming.key in incoming.aliases or incoming.key in existing.aliases
            ):
                # Also the alias's own record, as a second import of the entry would keep it:
                # importing the same .bib again then changes nothing.
                existing.alias_bibtex[incoming.key] = dict(theirs)
            changed.append("bibtex")
        elif incoming.key == existing.key or incoming.key in existing.alias_bibtex:
            ours = existing.alias_bibtex.get(incoming.key) or existing.record_table()
            if differing is not None:
                differing.extend(
                    name
                    for name in dict.fromkeys([*ours, *theirs])
                    if _squeezed(ours.get(name, "")) != _squeezed(theirs.get(name, ""))
                )
        elif incoming.key in incoming.aliases or incoming.key in existing.aliases:
            # A second entry of the paper in a .bib, under its own key: kept whole (even when
            # its fields are the same), so the key's entry is written as the .bib had it.
            existing.alias_bibtex[incoming.key] = theirs
            changed.append("bibtex")
    for preamble in incoming.bibtex_preamble:
        if preamble not in existing.bibtex_preamble:
            existing.bibtex_preamble.append(preamble)
            if "bibtex_preamble" not in changed:
                changed.append("bibtex_preamble")
    for alias in incoming.aliases:
        if alias != existing.key and alias not in existing.aliases:
            existing.aliases.append(alias)
            if "aliases" not in changed:
                changed.append("aliases")
    # A field is no longer missing once a record that really has it was merged in.
    still = [
        f for f in existing.incomplete if f in incoming.incomplete or not getattr(incoming, f, None)
    ]
    if still != existing.incomplete:
        existing.incomplete = still
        changed.append("incomplete")
    return changed


# Fields of a preprint's record that describe where and when it appeared: the published
# version's record replaces them (the preprint's record is kept whole in provenance).
_PUBLICATION_FIELDS = frozenset(
    "journal journaltitle booktitle howpublished publisher volume number issue pages year month "
    "date school institution organization address edition series isbn issn doi url type eid "
    "entrysubtype pubstate".split()
)


def flat_record(table: dict[str, str], prefix: str = "was.bibtex.") -> dict[str, str]:
    """A record kept in a provenance entry, one ``"was.bibtex.NAME"`` key a field (provenance
    entries stay flat tables, one line a value)."""
    return {f"{prefix}{name}": value for name, value in table.items()}


def is_awaiting(paper: Paper, doi: str) -> bool:
    """True when ``paper`` is a preprint whose record does not yet carry its published
    version ``doi``."""
    if not paper.arxiv_id:
        return False
    record_doi = paper.bibtex.get("doi", "") if paper.bibtex_type else ""
    return norm_doi(record_doi) != norm_doi(doi)


def merge_published(paper: Paper, published: Paper, stamp: str) -> list[str]:
    """Merge ``published`` (a paper from a DOI, with its BibTeX record) into ``paper``, its
    preprint, in place; returns what changed, as phrases.

    The record becomes the published version's (entry type, venue, volume, pages, DOI, ...)
    with the preprint's arXiv fields (``eprint``, ``archiveprefix``, ``primaryclass``) and the
    fields of its old record that say nothing about where it appeared. papercli's venue, DOI,
    year and date become the published version's; the title, authors, key, tags, notes and
    status stay. What is replaced is kept in one provenance entry, ``source =
    "published-version"``: the old values as ``"was.year"``..., the old record as
    ``"was.bibtex.@type"``, ``"was.bibtex.journal"``....
    """
    said: list[str] = []
    history: dict[str, Any] = {"source": "published-version", "doi": published.doi}
    history["merged"] = stamp
    record = dict(published.bibtex)
    raw = list(published.bibtex_raw)
    if paper.bibtex_type:
        history.update(flat_record(paper.record_table()))
        for name, value in paper.bibtex.items():
            if name not in record and name not in _PUBLICATION_FIELDS:
                record[name] = value
                if name in paper.bibtex_raw:
                    raw.append(name)
    if paper.arxiv_id and "eprint" not in record:
        record["eprint"] = paper.arxiv_id
        if "eprinttype" not in record:
            record["archiveprefix"] = "arXiv"
        if paper.primary_category and "eprintclass" not in record:
            record["primaryclass"] = paper.primary_category
    said.append(
        f"record @{published.bibtex_type} ({', '.join(n for n in record if n != 'eprint')}"
        + (", eprint kept)" if "eprint" in record else ")")
    )
    paper.bibtex_type, paper.bibtex, paper.bibtex_raw = published.bibtex_type, record, raw
    replaced: dict[str, Any] = {}
    for name in ("venue", "doi", "year", "date"):
        mine, theirs = getattr(paper, name), getattr(published, name)
        if theirs and mine != theirs:
            if mine:
                replaced[name] = mine
                said.append(f"{name} {mine} -> {theirs}")
            else:
                said.append(f"{name} {theirs}")
            setattr(paper, name, theirs)
    history.update({f"was.{name}": value for name, value in replaced.items()})
    filled = {n for n in ("venue", "doi", "year", "date") if getattr(published, n)}
    for name in ("title", "authors", "abstract"):
        if (not getattr(paper, name) or name in paper.incomplete) and getattr(published, name):
            value = getattr(published, name)
            setattr(paper, name, list(value) if isinstance(value, list) else value)
            said.append(f"filled {name}")
            filled.add(name)
    paper.incomplete = [f for f in paper.incomplete if f not in filled]
    if paper.type == "misc":
        paper.type = "paper"
    for prov in [*published.provenance, history]:
        if prov not in paper.provenance:
            paper.provenance.append(dict(prov))
    return said


def _squeezed(text: str) -> str:
    return " ".join(text.split())


def _note_text_key(text: str) -> str:
    return " ".join(text.split())


# papercli's own fields whose value, when both papers have one and they differ, the kept paper
# keeps (the other's goes to the merge's provenance entry).
_KEPT_FIELDS = (
    "type", "title", "authors", "year", "date", "status", "arxiv_id", "arxiv_version",
    "primary_category", "doi", "url", "pdf_url", "venue", "journal_ref", "comment", "abstract",
)  # fmt: skip


def fold_into(kept: Paper, other: Paper, stamp: str) -> tuple[list[str], list[str]]:
    """Fold ``other`` into ``kept`` in place (``papercli merge``): returns (what changed,
    the fields where both had a value and ``kept``'s stayed).

    Nothing of ``other`` is lost: empty fields and placeholders are filled (``merge_into``),
    tags, categories, notes (a note whose text is already there is not added again),
    provenance, aliases and alias records are combined, its key becomes an alias of
    ``kept``. Where both have a value and they differ, ``kept``'s stays and ``other``'s goes
    to one provenance entry (``source = "merge"``, ``key``, ``merged``, ``"was.title"``...),
    as does ``other``'s BibTeX record when ``kept`` has a different one of its own. A field
    ``kept``'s record lacks but a merged value fills is written into the record too.
    """
    from papercli.record import carry_changes

    loaded_view = kept.view()
    had_record = bool(kept.bibtex_type)
    history: dict[str, Any] = {"source": "merge", "key": other.key, "merged": stamp}
    kept_fields: list[str] = []
    for name in _KEPT_FIELDS:
        mine, theirs = getattr(kept, name), getattr(other, name)
        if name in kept.incomplete or mine in ("", None, []) or theirs in ("", None, []):
            continue
        if mine != theirs and not (name == "type" and theirs == "misc"):
            history[f"was.{name}"] = list(theirs) if isinstance(theirs, list) else theirs
            kept_fields.append(name)
    if other.added and kept.added and other.added != kept.added:
        history["was.added"] = other.added
        kept.added = min(kept.added, other.added)  # in the library since the earlier
    for name, value in other.extra.items():
        if name not in kept.extra:
            kept.extra[name] = value
        elif kept.extra[name] != value:
            history[f"was.{name}"] = value
            kept_fields.append(name)
    if had_record and other.bibtex_type and other.record_table() != kept.record_table():
        history.update(flat_record(other.record_table()))
        kept_fields.append("bibtex")
    # kept's own record stays the paper's: other's is in the history (not an alias record, so
    # a draft citing other's key gets the one paper's entry).
    changed = merge_into(kept, replace(other, bibtex_type="") if had_record else other)
    for alias, table in other.alias_bibtex.items():
        if alias not in kept.alias_bibtex:
            kept.alias_bibtex[alias] = dict(table)
        elif kept.alias_bibtex[alias] != table:
            history.update(flat_record(table, f"was.alias_bibtex.{alias}."))
    for alias in (other.key, *other.aliases):
        if alias != kept.key and alias not in kept.aliases:
            kept.aliases.append(alias)
            if "aliases" not in changed:
                changed.append("aliases")
    if had_record:
        changed.extend(f"bibtex.{n}" for n in carry_changes(kept, loaded_view))
    elif kept.bibtex_type and kept.arxiv_id and "eprint" not in kept.bibtex:
        # A published version's record came with the merge: it keeps the preprint's eprint.
        kept.bibtex["eprint"] = kept.arxiv_id
        kept.bibtex.setdefault("archiveprefix", "arXiv")
        changed.append("bibtex.eprint")
    # A merge run again (after a kill between its two writes) adds no second entry.
    same = [{k: v for k, v in p.items() if k != "merged"} for p in kept.provenance]
    if {k: v for k, v in history.items() if k != "merged"} not in same:
        kept.provenance.append(history)
        changed.append("provenance")
    return list(dict.fromkeys(changed)), kept_fields
