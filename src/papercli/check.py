"""A draft's citations checked against the library: what is missing (and what was probably
meant), what is incomplete, which cited keys are one paper, and which .bib entries go unused.

The draft is read by ``papercli.latex.cited_keys`` (LaTeX, .aux, .bcf, Markdown), the same
reader ``export bibtex --cited`` uses. A key counts as found when it is a paper's key or alias
spelled exactly so; a key that matches only when case is ignored is reported missing, with the
library's spelling first among the suggestions (biber matches keys with their case).
Suggestions, best first: the same key in another case; the paper a cited arXiv id or DOI
names; the paper whose Google Scholar-style key (family name, year, first title word) is the
cited one; keys and aliases that differ by a typo; then papercli's search over titles and
authors with the key's words. No printing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from papercli.library import Library, Summary
from papercli.models import fold_key


@dataclass
class CheckReport:
    cited: list[str] = field(default_factory=list)  # in order of first use
    missing: list[tuple[str, list[str]]] = field(default_factory=list)  # (key, suggestions)
    incomplete: list[tuple[str, list[str]]] = field(default_factory=list)  # (key, what lacks)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # two cited keys, one paper
    unused: list[str] = field(default_factory=list)  # entries of --unused BIB not cited
    unreadable: list[str] = field(default_factory=list)  # \input files that could not be read

    @property
    def ok(self) -> bool:
        return not self.missing and not self.incomplete

    def to_json(self, with_unused: bool) -> dict[str, object]:
        out: dict[str, object] = {
            "cited": list(self.cited),
            "missing": [{"key": k, "suggestions": s} for k, s in self.missing],
            "incomplete": [k for k, _ in self.incomplete],
            "duplicates": [[a, b] for a, b in self.duplicates],
        }
        if with_unused:
            out["unused"] = list(self.unused)
        return out


# What a bibliography prints; a missing abstract or category does not make an entry wrong.
_BIBLIOGRAPHIC = ("title", "authors", "year", "date", "venue")


def _lacks(row: Summary) -> list[str]:
    what = [f"placeholder {name}" for name in row.incomplete if name in _BIBLIOGRAPHIC]
    if not row.authors and "authors" not in row.incomplete:
        what.append("no authors")
    if not row.year and "year" not in row.incomplete:
        what.append("no year")
    return what


def check_draft(
    library: Library, drafts: list[Path], unused_bib: Path | None = None
) -> CheckReport:
    """Check the keys ``drafts`` cite; ``unused_bib``: also list that .bib's uncited entries."""
    from papercli.latex import cited_keys
    from papercli.merge import DuplicateFinder

    found = cited_keys(drafts)
    report = CheckReport(cited=[k for k in found.keys if k != "*"], unreadable=found.unreadable)
    index = library.index()
    rows = index.rows
    names = index.key_names()
    resolved: dict[str, str] = {}  # cited name -> paper key
    suggester = _Suggester(library)
    for name in report.cited:
        key = names.get(name)
        if key is None:
            report.missing.append((name, suggester.suggest(name)))
            continue
        resolved[name] = key
        lacks = _lacks(Summary._make(rows[key]))
        if lacks:
            report.incomplete.append((name, lacks))
    first_name: dict[str, str] = {}
    finder = DuplicateFinder()
    named_by: dict[str, str] = {}
    for name, key in resolved.items():
        if key in first_name:
            report.duplicates.append((first_name[key], name))
            continue
        first_name[key] = name
        paper = next(iter(library.papers([key])), None)
        if paper is None:
            continue
        # A preprint and its published version cited side by side are one paper cited twice.
        same = finder.find(paper) or finder.other_version(paper)
        if same is not None and same != key:
            report.duplicates.append((named_by[same], name))
        finder.add(paper)
        named_by[key] = name
    if unused_bib is not None:
        report.unused = _unused(unused_bib, report.cited, everything="*" in found.keys)
    return report


def _unused(bib: Path, cited: list[str], everything: bool) -> list[str]:
    from papercli.bibtex_in import parse_bibtex
    from papercli.documents import read_document

    if everything:
        return []
    text, _ = read_document(bib)
    wanted = set(cited)
    return [
        paper.key for _, paper in parse_bibtex(text, bib.name).papers if paper.key not in wanted
    ]


class _Suggester:
    """The papers a key the library lacks probably meant."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.index = library.index()
        self._scholar: dict[str, list[str]] | None = None

    def scholar_keys(self) -> dict[str, list[str]]:
        """Google Scholar-style key (family + year + first title word) -> paper keys."""
        if self._scholar is None:
            from papercli.keys import base_key

            table: dict[str, list[str]] = {}
            for row in self.index.summaries():
                base = base_key(list(row.authors), row.year or None, row.title)
                table.setdefault(base, []).append(row.key)
            self._scholar = table
        return self._scholar

    def suggest(self, name: str, most: int = 5) -> list[str]:
        from rapidfuzz import fuzz, process

        from papercli.arxiv_ids import parse_arxiv_id
        from papercli.merge import norm_doi

        names = self.index.key_names()
        found: list[str] = []

        def add(keys: list[str]) -> None:
            for key in keys:
                if key not in found:
                    found.append(key)

        add([names[n] for n in self.index.folded_names().get(fold_key(name), [])])
        arxiv = parse_arxiv_id(name)
        if arxiv is not None:
            add([r.key for r in self.index.summaries() if r.arxiv_id == arxiv.base])
        if re.match(r"(?i)^(?:doi:)?10\.\d{4,9}/", name):
            doi = norm_doi(name)
            add([r.key for r in self.index.summaries() if r.doi and norm_doi(r.doi) == doi])
        base = re.sub(r"[a-z]{1,2}$", "", name.lower()) if re.search(r"\d{4}", name) else ""
        add(self.scholar_keys().get(name.lower(), []) + self.scholar_keys().get(base, []))
        close = process.extract(name, list(names), scorer=fuzz.ratio, limit=most, score_cutoff=80)
        add([names[match[0]] for match in close])
        if len(found) < most:
            add(self._searched(name))
        return found[:most]

    def _searched(self, name: str) -> list[str]:
        """papercli's search with the key's words (``hofmann2022training`` -> ``hofmann 2022
        training``), its best hits."""
        from papercli.search import parse_query, search

        words = re.findall(r"[A-Za-z]{3,}|\d{4}", name)
        if not words:
            return []
        hits = search(self.library, parse_query(" ".join(words)), limit=3).hits
        best = hits[0].score if hits else 0
        return [hit.key for hit in hits if hit.score >= max(best * 0.8, 50)]
