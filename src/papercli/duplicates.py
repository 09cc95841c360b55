"""Probable duplicates across a whole library, from the index's summaries (no paper file is
parsed): groups of keys with the reason they look like one paper, best first.

Pairs come from buckets, never from comparing every paper with every other: papers sharing an
identifier (arXiv id, DOI, ISBN, normalised URL) or a normalised title, then papers sharing one
of their two rarest title words, whose titles are then compared fuzzily (rapidfuzz). The rules
for "the same paper" are ``papercli.merge``'s. A key that is also another paper's alias (a
``merge`` stopped between its two writes) is a group of its own, first. No I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import combinations
from typing import Any, NamedTuple

from papercli.merge import (
    DuplicateFinder,
    Identity,
    clearly_different_titles,
    ids_disagree,
    norm_title,
    same_titled_work,
)

# Above this many papers, a bucket is a common word or a placeholder, not evidence.
MAX_BUCKET = 64
FUZZY_MIN = 90  # rapidfuzz token_sort_ratio of two normalised titles
_STOP = frozenset(
    "a an and are as at by for from in into is of on or the to with via using towards toward "
    "its it this that we our new based learning model models neural network networks deep "
    "data analysis approach study method methods".split()
)


class Group(NamedTuple):
    """Keys of one paper's probable records (the earliest added first) and why."""

    keys: list[str]
    reason: str


class _Pairs:
    """Union-find over keys, remembering the best (lowest-ranked) reason of each group."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.best: dict[str, tuple[float, str]] = {}

    def find(self, key: str) -> str:
        root = key
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while key != root:  # path compression
            self.parent[key], key = root, self.parent.get(key, key)
        return root

    def join(self, a: str, b: str, rank: float, reason: str) -> None:
        self.parent.setdefault(a, a)
        self.parent.setdefault(b, b)
        ra, rb = self.find(a), self.find(b)
        reasons = [r for r in (self.best.pop(ra, None), self.best.pop(rb, None)) if r]
        reasons.append((rank, reason))
        if ra != rb:
            self.parent[rb] = ra
        self.best[ra] = min(reasons)

    def same(self, a: str, b: str) -> bool:
        return self.find(a) == self.find(b)


def _id_reason(sig: str, a: Identity, b: Identity) -> tuple[float, str] | None:
    """Why two records sharing the signature ``sig`` are one paper, or None."""
    kind, _, value = sig.partition(":")
    if kind == "title":
        if same_titled_work(a, b):
            return 2, "same title, first author and year"
        if (
            bool(a.arxiv) != bool(b.arxiv)
            and not ids_disagree(a, b)
            and not (a.family and b.family and a.family != b.family)
            and not (a.year and b.year and abs(a.year - b.year) > 2)
        ):
            years = sorted(y for y in (a.year, b.year) if y)
            return 3, "a preprint and its published version (same title and first author" + (
                f", {years[0]} and {years[-1]})" if len(years) == 2 else ")"
            )
        return None
    placeholder = "title" in a.incomplete or "title" in b.incomplete
    if kind == "url":
        if ids_disagree(a, b) or (
            a.has_record
            and b.has_record
            and clearly_different_titles(a.title, b.title, short_too=True)
        ):
            return None
        return 1, f"same URL {value}"
    if not placeholder and clearly_different_titles(a.title, b.title):
        if kind == "doi" and bool(a.arxiv) != bool(b.arxiv):
            # The preprint's arXiv record names the DOI: renamed when it was published.
            return 3, f"a preprint and its published version (same DOI {value})"
        return None
    label = {"arxiv": "arXiv id", "doi": "DOI", "isbn": "ISBN"}[kind]
    return 0, f"same {label} {value}"


def _words(ntitle: str) -> list[str]:
    """The words of a normalised title that can tell it apart (no stop words)."""
    return [w for w in dict.fromkeys(ntitle.split()) if len(w) > 2 and w not in _STOP]


def duplicate_groups(rows: Iterable[tuple[Any, ...]]) -> list[Group]:
    """Groups of probable duplicates among ``rows`` (``Library.index().rows.values()``): an
    interrupted merge first, then shared identifiers, URLs, the same title, a preprint and
    its published version, similar titles by the same first author; within a rank, the
    group whose first key sorts first."""
    from rapidfuzz import fuzz

    table = {row[0]: row for row in rows}
    who = {key: DuplicateFinder.row_identity(row) for key, row in table.items()}
    pairs = _Pairs()

    for key, row in table.items():
        for alias in row[15]:
            if alias in table and alias != key:
                pairs.join(
                    key, alias, -1,
                    f"an interrupted merge: {alias} is an alias of {key} and still a paper of "
                    f"its own ('papercli merge {key} {alias}' finishes it)",
                )  # fmt: skip

    titles = {key: norm_title(row[2]) for key, row in table.items()}
    buckets: dict[str, list[str]] = {}
    for key, row in table.items():
        for sig in dict.fromkeys(DuplicateFinder.signatures(who[key], row[9], titles[key])):
            buckets.setdefault(sig, []).append(key)
    for sig, keys in buckets.items():
        if len(keys) < 2 or len(keys) > MAX_BUCKET:
            continue
        for a, b in combinations(keys, 2):
            found = _id_reason(sig, who[a], who[b])
            if found is not None:
                pairs.join(a, b, *found)

    # Similar titles: papers meet in the buckets of their two rarest title words.
    words = {key: _words(titles[key]) for key, row in table.items() if "title" not in row[13]}
    frequency = Counter(w for ws in words.values() for w in ws)
    by_word: dict[str, list[str]] = {}
    for key, ws in words.items():
        for word in sorted(ws, key=lambda w: (frequency[w], w))[:2]:
            by_word.setdefault(word, []).append(key)
    for keys in by_word.values():
        if len(keys) < 2 or len(keys) > MAX_BUCKET:
            continue
        for a, b in combinations(keys, 2):
            ia, ib = who[a], who[b]
            if pairs.same(a, b) or not titles[a] or not titles[b] or ids_disagree(ia, ib):
                continue
            if not (ia.family and ia.family == ib.family):
                continue
            if "misc" not in (ia.type, ib.type) and ia.type != ib.type:
                continue  # a paper and a video about it
            if ia.year and ib.year and abs(ia.year - ib.year) > 2:
                continue
            score = fuzz.token_sort_ratio(titles[a], titles[b])
            if score >= FUZZY_MIN:
                pairs.join(a, b, 4 + (100 - score) / 100, f"similar titles ({score:.0f}%), "
                           "same first author")  # fmt: skip

    members: dict[str, list[str]] = {}
    for key in table:
        if key in pairs.parent:
            members.setdefault(pairs.find(key), []).append(key)
    groups = []
    for root, keys in members.items():
        keys.sort(key=lambda k: (table[k][11] or "~", k))  # the earliest added first
        rank, reason = pairs.best[root]
        groups.append((rank, keys, reason))
    groups.sort(key=lambda g: (g[0], g[1]))
    return [Group(keys, reason) for _, keys, reason in groups]
