"""Search: the query language, filters, and fuzzy ranked matching over a derived word index.

``parse_query`` turns ``tag:peft -tag:vision author:hu year:2021..2023 "exact phrase" atention``
into a ``Query``; ``search`` ranks a library's papers against it and returns ``Hit``s, best first.

Ranking works on words. Every paper's title, authors, key, tags, venue, abstract and notes are cut
into normalised words (accents folded, lower case; ``few-shot`` also gives ``fewshot``,
``FlashAttention`` also gives ``flash`` and ``attention``, adjacent title words are also joined so
``flashattention`` finds "Flash Attention"). A query word matches a library word exactly, as a
prefix, or within one or two edits (``atention``); the match's quality times the field's weight
is the word's score in that paper, and a paper's score is the rarity-weighted mean over the query
words. Title and author hits weigh most, abstract and note hits least.

The words live in a derived index (``search.idx`` in the library's cache directory): postings
per word and field, facets for the filters, and each paper's summary, so a search never decodes
the whole library index. It is built from the library's full papers the first time and then
kept up to date shard by shard: changed shards are re-indexed into a small overlay that shadows
the base index, until enough shards changed to rebuild the whole. The index is never the source
of truth: delete it and it is rebuilt.

This module never prints; bad queries raise ``UsageError``.
"""

from __future__ import annotations

import functools
import heapq
import math
import mmap
import os
import pickle
import re
import struct
import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from papercli.errors import UsageError
from papercli.keys import LETTER_FOLDS, STOPWORDS
from papercli.models import normalize_tag, validate_status, validate_type

if TYPE_CHECKING:
    from papercli.library import Library
    from papercli.models import Paper

# Field codes in the index. Code 7 holds adjacent title words joined ("flash attention" ->
# "flashattention") and is reported as a title match.
FIELDS = ("title", "authors", "key", "tags", "venue", "abstract", "notes", "title", "nickname")
WEIGHTS = (1.0, 0.95, 0.75, 0.8, 0.6, 0.5, 0.5, 0.9, 0.85)
ARXIV_FIELD = 99  # a direct arXiv id hit (not a field of the word index)
UNKNOWN_FIELD = -2  # not worked out yet (see _rank)
_TITLE_FIELDS = (0, 7)  # title words, adjacent title words joined
_MAYBE_TITLE = (*_TITLE_FIELDS, UNKNOWN_FIELD)
TEXT_FIELDS = (5, 6)  # long text: repeats count a little more, stopwords are skipped
TF_WEIGHTS = (0.7, 0.85, 1.0)  # a word once, twice, three or more times in an abstract or notes

# Summary tuple positions (see papercli.library.Summary).
R_KEY, R_TYPE, R_TITLE, R_AUTHORS, R_YEAR, R_STATUS, R_TAGS, R_ARXIV = range(8)
R_DOI, R_URL, R_VENUE, R_ADDED, R_NOTES, R_INCOMPLETE, R_DATE = range(8, 15)
_TUPLE_FIELDS = (R_AUTHORS, R_TAGS, R_INCOMPLETE)

INDEX_VERSION = 10  # 5: Unicode words, one-letter words, no initials; 7: nicknames; 8: title
# lengths; 9: the capitals of a key (Devlin2019BERT) are words of it too; 10: rows carry
# the authors as shown
INDEX_FILE = "search.idx"
_MAGIC = b"PCSEARCH"
MIN_SCORE = 30.0  # below this a paper is not a match
OVERLAY_MAX_SHARDS = 8

FILTER_NAMES = ("tag", "author", "year", "status", "type")

# ---------------------------------------------------------------------------------------------
# Words


_WORD_RE = re.compile(r"\d+\.\d+|[a-z0-9]+")
_COMPOUND_RE = re.compile(r"(?<![a-z0-9])[a-z0-9]+(?:[-/_][a-z0-9]+)+")
_CAMEL_RE = re.compile(r"(?<![A-Za-z])[A-Z][a-z]{2,}(?:[A-Z][a-z]{2,})+(?![A-Za-z])")
_CAMEL_PART_RE = re.compile(r"[A-Z][a-z]{2,}")
_SEPARATORS_RE = re.compile(r"[-/_]")
_HAS_CAMEL_RE = re.compile(r"[a-z][A-Z]")
# Accents as NFKD spells them (combining diacritical marks): dropped, so Kübler is kubler.
_ACCENTS_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# The combining marks of the BMP (vowel signs, viramas, points...): part of a word in the
# scripts that use them (Devanagari, Arabic, Thai, kana voicing...), never a word break.
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
    "\u0711\u0730-\u074a\u07a6-\u07b0\u07eb-\u07f3\u0816-\u082d\u0859-\u085b\u0898-\u089f\u08ca-\u08e1\u08e3-\u0903"
    "\u093a-\u094f\u0951-\u0957\u0962\u0963\u0981-\u0983\u09bc-\u09d7\u09e2\u09e3\u09fe"
    "\u0a01-\u0a03\u0a3c-\u0a51\u0a70\u0a71\u0a75\u0a81-\u0a83\u0abc-\u0acd\u0ae2\u0ae3\u0afa-\u0aff"
    "\u0b01-\u0b03\u0b3c-\u0b57\u0b62\u0b63\u0b82\u0bbe-\u0bcd\u0bd7\u0c00-\u0c04\u0c3c-\u0c56"
    "\u0c62\u0c63\u0c81-\u0c83\u0cbc-\u0cd6\u0ce2\u0ce3\u0cf3\u0d00-\u0d03\u0d3b-\u0d57\u0d62\u0d63"
    "\u0d81-\u0d83\u0dca-\u0ddf\u0df2\u0df3\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb4-\u0ebc"
    "\u0ec8-\u0ece\u0f18\u0f19\u0f35\u0f37\u0f39\u0f3e\u0f3f\u0f71-\u0f84\u0f86\u0f87\u0f8d-\u0fbc"
    "\u0fc6\u102b-\u103e\u1056-\u1059\u105e-\u1060\u1062-\u1064\u1067-\u106d\u1071-\u1074\u1082-\u108d\u108f\u109a-\u109d"
    "\u135d-\u135f\u1712-\u1715\u1732-\u1734\u1752\u1753\u1772\u1773\u17b4-\u17d3\u17dd"
    "\u180b-\u180d\u180f\u1885\u1886\u18a9\u1920-\u193b\u1a17-\u1a1b\u1a55-\u1a7f\u1ab0-\u1aff"
    "\u1b00-\u1b04\u1b34-\u1b44\u1b6b-\u1b73\u1b80-\u1b82\u1ba1-\u1bad\u1be6-\u1bf3\u1c24-\u1c37"
    "\u1cd0-\u1cd2\u1cd4-\u1ce8\u1ced\u1cf4\u1cf7-\u1cf9\u1dc0-\u1dff\u20d0-\u20f0\u2cef-\u2cf1"
    "\u2d7f\u2de0-\u2dff\u302a-\u302f\u3099\u309a\ua66f-\ua672\ua674-\ua67d\ua69e\ua69f\ua6f0\ua6f1"
    "\ua802\ua806\ua80b\ua823-\ua827\ua82c\ua880\ua881\ua8b4-\ua8c5\ua8e0-\ua8f1\ua8ff\ua926-\ua92d"
    "\ua947-\ua953\ua980-\ua983\ua9b3-\ua9c0\ua9e5\uaa29-\uaa36\uaa43\uaa4c\uaa4d\uaa7b-\uaa7d"
    "\uaab0\uaab2-\uaab4\uaab7\uaab8\uaabe\uaabf\uaac1\uaaeb-\uaaef\uaaf5\uaaf6\uabe3-\uabea\uabec\uabed"
    "\ufb1e\ufe00-\ufe0f\ufe20-\ufe2f"
)


@functools.cache
def _unicode_word_re() -> re.Pattern[str]:
    """Words of non-ASCII text: runs of letters, digits and marks of any script (compiled
    only when such text turns up)."""
    return re.compile(rf"\d+\.\d+|(?:[^\W_]|[{_MARKS}])+")


@functools.cache
def _span_re() -> re.Pattern[str]:
    letter = rf"(?:[^\W_]|[{_MARKS}])"
    return re.compile(rf"{letter}+(?:[-'’]{letter}+)*")


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word of ``text`` as written, a hyphenated word as one (for
    highlighting the words that matched)."""
    return [m.span() for m in _span_re().finditer(text)]


def fold(text: str) -> str:
    """Accents and apostrophes dropped, letters with no accent-free form spelt out
    (``Kübler`` -> ``Kubler``, ``Łukasz`` -> ``Lukasz``, ``don't`` -> ``dont``); letters of
    other scripts are kept (``α``, ``日本語``). Case is kept."""
    if not text.isascii():
        text = _ACCENTS_RE.sub("", unicodedata.normalize("NFKD", text.translate(LETTER_FOLDS)))
    return text.replace("'", "")


def _find_words(folded: str) -> list[str]:
    """The lower-case words of folded text, one-letter words included."""
    if folded.isascii():
        return _WORD_RE.findall(folded.lower())
    return _unicode_word_re().findall(folded.casefold())


def words(text: str) -> list[str]:
    """The normalised words of ``text``, in order: letters and digits of any script, accents
    folded, lower case; a single letter is a word too (``x``, ``α``)."""
    return _find_words(fold(text))


def name_words(tokens: list[str]) -> list[str]:
    """``tokens`` less initials (``J.``): a one-letter Latin word in a name says nothing, but
    a one-character family name (``王``) does."""
    return [t for t in tokens if len(t) > 1 or not t.isascii()]


def text_tokens(text: str) -> list[str]:
    """``words`` plus joined compounds (``few-shot`` -> ``fewshot``) and the parts of
    camel-case words (``FlashAttention`` -> ``flash``, ``attention``)."""
    folded = fold(text)
    lower = folded.lower()
    out = _find_words(folded)
    if "-" in lower or "/" in lower or "_" in lower:
        out.extend(_SEPARATORS_RE.sub("", m) for m in _COMPOUND_RE.findall(lower))
    if _HAS_CAMEL_RE.search(folded):
        for match in _CAMEL_RE.findall(folded):
            out.extend(part.lower() for part in _CAMEL_PART_RE.findall(match))
    return out


def key_tokens(key: str) -> list[str]:
    """The letter runs and years of a citation key (``hu2021lora`` -> hu, 2021, lora;
    ``Devlin2019BERT`` -> devlin, 2019, bert)."""
    parts = re.findall(r"[a-z]+|\d+", key.lower())
    return [p for p in parts if (len(p) == 4 if p.isdigit() else len(p) > 1)]


# An acronym defined in parentheses: "Text-to-Text Transfer Transformer (T5)", "Low-Rank
# Adaptation (LoRA)". Two or more capitals, or a capital and a digit.
_DEFINED_RE = re.compile(r"\(([A-Z][A-Za-z0-9.-]{1,11})\)")
# Acronyms that name a field or a thing, not a paper.
_GENERIC_ACRONYMS = frozenset(
    "ai ml nlp nlu nlg llm llms lm lms gpu gpus tpu cpu api sota rl dl cv nn nns dnn cnn rnn "
    "gan gans qa mt asr ocr kg ie ner pos rag moe sft faq pdf url html usa uk eu".split()
)


def nicknames(text: str, title: str) -> list[str]:
    """Acronyms ``text`` defines for the paper titled ``title``, in lower case: a parenthesised
    acronym whose first letter starts one of the few words before it, and whose defining words
    share a significant word with the title (``a unified Text-to-Text Transfer Transformer
    (T5)`` in the notes of "Exploring ... a Unified Text-to-Text Transformer" gives ``t5``;
    "Reinforcement Learning from Human Feedback (RLHF)" in the notes of a report does not).
    Generic acronyms (NLP, GPU) are left out."""
    if "(" not in text:
        return []
    title_words = {w for w in words(title) if len(w) >= 4 and w not in STOPWORDS}
    found = []
    for match in _DEFINED_RE.finditer(text):
        acronym = match.group(1).rstrip(".-")
        capitals = sum(c.isupper() for c in acronym)
        if capitals < 2 and not any(c.isdigit() for c in acronym):
            continue
        # The (up to) eight words before the parenthesis.
        before = re.split(r"[\s-]+", text[max(0, match.start() - 120) : match.start()])[-9:]
        before = [w for w in before if w]
        if not any(w[0].lower() == acronym[0].lower() for w in before):
            continue
        if not title_words.intersection(words(" ".join(before))):
            continue
        word = fold(acronym).lower().replace(".", "").replace("-", "")
        if word and word not in _GENERIC_ACRONYMS:
            found.append(word)
    return found


def paper_tokens(paper: Paper) -> list[tuple[str, int]]:
    """(word, field code) for every word of a paper, repeats included."""
    out = [(t, 0) for t in text_tokens(paper.title)]
    # Joined pairs skip one-letter words, so "a" between two words does not hide the pair.
    title_words = [w for w in words(paper.title) if len(w) > 1 or w.isdigit()]
    out += [(a + b, 7) for a, b in zip(title_words, title_words[1:], strict=False)]
    for author in paper.authors:
        out += [(t, 1) for t in name_words(text_tokens(author))]
    out += [(t, 2) for t in key_tokens(paper.key)]
    for tag in paper.tags:
        out += [(t, 3) for t in text_tokens(tag)]
    out += [(t, 4) for t in text_tokens(paper.venue or paper.journal_ref)]
    out += [(t, 5) for t in text_tokens(paper.abstract) if t not in STOPWORDS]
    for note in paper.notes:
        for part in (note.text, note.quote, note.section):
            if part:
                out += [(t, 6) for t in text_tokens(part) if t not in STOPWORDS]
    # What the abstract or notes call the paper (T5, RLHF) counts almost like its title.
    for text in (paper.abstract, *(note.text for note in paper.notes)):
        out += [(t, 8) for t in dict.fromkeys(nicknames(text, paper.title))]
    return out


def _facets(paper: Paper) -> list[str]:
    out = [f"tag:{t}" for t in paper.tags]
    out += [f"status:{paper.status}", f"type:{paper.type}"]
    if paper.year:
        out.append(f"year:{paper.year}")
    return out


def _clean(text: str) -> str:
    return text.replace("\x1e", " ").replace("\x1f", " ")


def _encode_row(row: Sequence[Any]) -> str:
    parts = []
    for i, value in enumerate(row):
        if i in _TUPLE_FIELDS:
            parts.append("\x1f".join(_clean(v) for v in value))
        else:
            parts.append(_clean(str(value)))
    return "\x1e".join(parts)


def _decode_row(text: str) -> tuple[Any, ...]:
    parts: list[Any] = text.split("\x1e")
    for i in _TUPLE_FIELDS:
        parts[i] = tuple(parts[i].split("\x1f")) if parts[i] else ()
    parts[R_YEAR] = int(parts[R_YEAR])
    parts[R_NOTES] = int(parts[R_NOTES])
    return tuple(parts)


# ---------------------------------------------------------------------------------------------
# The word index


Group = tuple[float, int, Sequence[int]]  # (value, field, sorted paper numbers)


class WordIndex:
    """Postings of a set of papers: for each word, for each (field, repeat bucket), the sorted
    paper numbers (positions in ``keys``) that hold it; facets (tag, status, type, year) for
    the filters; each paper's summary row. ``pids`` and ``rows_blob`` are memory-mapped from
    the index file, so a search reads only the pages it touches."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.shards = b""  # the library shard of each paper
        self.vocab: list[str] = []  # sorted
        self.token_groups = array("I", [0])  # word i's groups: token_groups[i]:[i+1]
        self.group_codes = b""  # field * 4 + repeat bucket
        self.group_starts = array("I", [0])  # group g's papers: pids[starts[g]:starts[g+1]]
        self.df = array("I")  # papers holding word i (any field)
        self.facets: dict[str, tuple[int, int]] = {}  # "tag:peft" -> span of pids
        self.row_starts = array("I", [0])  # paper p's row: rows_blob[starts[p]:starts[p+1]]
        self.added = array("q")  # for the filtered list's order
        self.years = array("H")  # to break ties without decoding rows (0: unknown)
        # Words of each title (stopwords left out): among equal scores, the title a query
        # covers more of ranks first ("attention" finds "Attention Is All You Need" before
        # fourteen-word titles that merely contain it).
        self.title_lengths = array("H")
        self.pids: Sequence[int] = array("I")
        self.rows_blob: Any = b""
        self.rows_offset = 0  # where rows_blob starts in its memory map

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def build(cls, papers: Iterable[Paper], shard_of: Callable[[str], int]) -> WordIndex:
        from papercli.library import summarize

        self = cls()
        keys = self.keys
        shards = bytearray()
        postings: dict[tuple[str, int], array[int]] = {}
        facets: dict[str, array[int]] = {}
        rows = bytearray()  # grown in place: no list of 100,000 bytes objects to join
        row_starts = self.row_starts
        offset = 0
        for pid, paper in enumerate(papers):
            keys.append(paper.key)
            shards.append(shard_of(paper.key))
            for (token, code), n in Counter(paper_tokens(paper)).items():
                bucket = min(n, 3) - 1 if code in TEXT_FIELDS else 0
                group = postings.get((token, code * 4 + bucket))
                if group is None:
                    postings[(token, code * 4 + bucket)] = group = array("I")
                group.append(pid)
            for facet in _facets(paper):
                facets.setdefault(facet, array("I")).append(pid)
            row = _encode_row(summarize(paper)).encode("utf-8")
            rows += row
            offset += len(row)
            row_starts.append(offset)
            self.added.append(int(re.sub(r"\D", "", paper.added)[:14] or 0))
            self.years.append(paper.year if paper.year and 0 < paper.year < 65536 else 0)
            title_words = [t for t in text_tokens(paper.title) if t not in STOPWORDS]
            self.title_lengths.append(min(len(title_words), 65535))
        self.shards = bytes(shards)
        codes = bytearray()
        pids = array("I")
        holders: set[int] = set()
        for token, code in sorted(postings):
            if not self.vocab or self.vocab[-1] != token:
                if self.vocab:
                    self.df.append(len(holders))
                    self.token_groups.append(len(codes))
                self.vocab.append(token)
                holders = set()
            group = postings.pop((token, code))  # freed as it is copied: one copy at a time
            holders.update(group)
            codes.append(code)
            pids.extend(group)
            self.group_starts.append(len(pids))
        if self.vocab:
            self.df.append(len(holders))
            self.token_groups.append(len(codes))
        for name in sorted(facets):
            start = len(pids)
            pids.extend(facets[name])
            self.facets[name] = (start, len(pids))
        self.group_codes = bytes(codes)
        self.pids = pids
        self.rows_blob = rows
        return self

    def row(self, pid: int) -> tuple[Any, ...]:
        start, end = self.row_starts[pid], self.row_starts[pid + 1]
        return _decode_row(bytes(self.rows_blob[start:end]).decode("utf-8"))

    def groups(self, token_id: int, quality: float) -> list[Group]:
        """(value, field, paper numbers) of each group of a word matched with ``quality``."""
        out: list[Group] = []
        starts = self.group_starts
        for g in range(self.token_groups[token_id], self.token_groups[token_id + 1]):
            fld, bucket = divmod(self.group_codes[g], 4)
            value = quality * WEIGHTS[fld] * (TF_WEIGHTS[bucket] if fld in TEXT_FIELDS else 1.0)
            out.append((value, fld, self.pids[starts[g] : starts[g + 1]]))
        return out

    def find_row_text(self, needle: bytes, start: int) -> int:
        """Offset of ``needle`` in the rows blob from ``start``, or -1 (no copy of the blob)."""
        blob = self.rows_blob
        if isinstance(blob, memoryview):
            mapped: Any = blob.obj
            found: int = mapped.find(needle, self.rows_offset + start, self.rows_offset + len(blob))
            return found - self.rows_offset if found >= 0 else -1
        found_here: int = blob.find(needle, start)  # bytes or bytearray: no copy
        return found_here

    def facet(self, name: str) -> Sequence[int]:
        start, end = self.facets.get(name, (0, 0))
        return self.pids[start:end]

    def lookup(self, term: str, prefix: bool = True) -> dict[int, float]:
        """Words of the vocabulary ``term`` matches -> quality (1 exact, less for a prefix or a
        typo)."""
        vocab = self.vocab
        found: dict[int, float] = {}
        i = bisect_left(vocab, term)
        if i < len(vocab) and vocab[i] == term:
            found[i] = 1.0
        if prefix and len(term) >= 3 and not term.isdigit():
            end = bisect_left(vocab, term + "\U0010ffff", i)
            # A long word is rarely typed in part: only its plural counts as a prefix match.
            longer = [t for t in range(i, end) if t not in found and (
                len(term) <= 7 or vocab[t][len(term):] in ("s", "es"))]  # fmt: skip
            if len(longer) > 40:
                longer = sorted(longer, key=lambda t: len(vocab[t]))[:40]
            for t in longer:
                rest = vocab[t][len(term) :]
                found[t] = 0.95 if rest in ("s", "es") else 0.7 + 0.2 * len(term) / len(vocab[t])
        if len(term) >= 4 and not term.replace(".", "").isdigit():
            from rapidfuzz import process
            from rapidfuzz.distance import OSA

            most = 1 if len(term) <= 7 else 2
            for _, distance, t in process.extract(
                term, vocab, scorer=OSA.distance, score_cutoff=most, limit=None
            ):
                if distance:
                    quality = (0.8 if len(term) >= 6 else 0.65) if distance == 1 else 0.6
                    if quality > found.get(t, 0.0):
                        found[t] = quality
        return found

    # -- storage: a pickled header, then the raw pids and rows, memory-mapped on load ------

    def _header(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["pids"], state["rows_blob"], state["rows_offset"]
        return state


def _save(path: Any, header: dict[str, Any], indexes: list[WordIndex]) -> None:
    from papercli.library import atomic_write

    # Views, not copies: at 100,000 papers the postings and rows are tens of megabytes each.
    blobs: list[memoryview] = []
    spans = []
    offset = 0
    for index in indexes:
        pids = index.pids if isinstance(index.pids, array) else array("I", index.pids)
        for blob in (memoryview(pids).cast("B"), memoryview(index.rows_blob).cast("B")):
            blobs.append(blob)
            spans.append((offset, len(blob)))
            offset += len(blob)
    header = dict(header, indexes=[i._header() for i in indexes], spans=spans)
    head = pickle.dumps(header, protocol=5)
    pad = (-(len(_MAGIC) + 8 + len(head))) % 8
    parts: list[bytes | memoryview] = [_MAGIC, struct.pack("<Q", len(head) + pad), head]
    parts += [b"\0" * pad, *blobs]
    atomic_write(path, parts, durable=False)


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def _load(path: Any) -> tuple[dict[str, Any], list[WordIndex]] | None:
    from papercli.cachefile import safe_loads, trusted

    try:
        with open(path, "rb", opener=_no_follow) as handle:
            if not trusted(os.fstat(handle.fileno())):
                return None
            if handle.read(len(_MAGIC)) != _MAGIC:
                return None
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > os.fstat(handle.fileno()).st_size:
                return None
            header = safe_loads(handle.read(length))
            if not isinstance(header, dict) or header.get("version") != INDEX_VERSION:
                return None
            base = len(_MAGIC) + 8 + length
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError, struct.error, pickle.UnpicklingError, EOFError, TypeError,
            AttributeError, KeyError, MemoryError, IndexError, RecursionError):  # fmt: skip
        return None
    view = memoryview(mapped)
    indexes = []
    spans = header["spans"]
    for n, state in enumerate(header["indexes"]):
        index = WordIndex()
        index.__dict__.update(state)
        start, size = spans[2 * n]
        index.pids = view[base + start : base + start + size].cast("I")
        start, size = spans[2 * n + 1]
        index.rows_blob = view[base + start : base + start + size]
        index.rows_offset = base + start
        indexes.append(index)
    return header, indexes


# ---------------------------------------------------------------------------------------------
# Keeping the word index up to date


def _papers_of_shards(library: Library, shards: set[int]) -> Iterable[Paper]:
    """Full papers of the given shards, one shard at a time (bounded memory)."""
    from papercli.library import shard_of

    by_shard: dict[int, list[str]] = {}
    for key in library.index().keys():
        shard = shard_of(key)
        if shard in shards:
            by_shard.setdefault(shard, []).append(key)
    for shard in sorted(by_shard):
        yield from library.papers(sorted(by_shard[shard]))


def word_indexes(library: Library) -> tuple[list[WordIndex], list[set[int]]]:
    """The word indexes to search (base, and the overlay if any) and, per index, the paper
    numbers another index shadows. Builds or updates the index file when the library changed."""
    from papercli.library import SHARDS, shard_of

    path = library.cache_dir / INDEX_FILE
    root = str(library.root.resolve())
    sig = library.shard_sigs()
    loaded = _load(path) if library.cache_usable else None
    if loaded is not None and loaded[0].get("root") != root:
        loaded = None
    if loaded is None or loaded[0]["sig"] != sig:
        everything = set(range(SHARDS))
        if loaded is None:
            changed = everything
        else:
            changed = {s for s in range(SHARDS) if loaded[0]["base_sig"][s] != sig[s]}
        readable = all(len(s) > 1 for s in sig)
        if loaded is None or len(changed) > OVERLAY_MAX_SHARDS or not readable:
            indexes = [WordIndex.build(_papers_of_shards(library, everything), shard_of)]
            header: dict[str, Any] = {"version": INDEX_VERSION, "root": root, "sig": sig,
                                      "base_sig": sig, "overlay_shards": frozenset()}  # fmt: skip
        else:
            header = dict(loaded[0], sig=sig, overlay_shards=frozenset(changed))
            overlay = WordIndex.build(_papers_of_shards(library, changed), shard_of)
            indexes = [loaded[1][0], overlay]
        if readable and library.cache_usable:
            try:
                _save(path, header, indexes)
            except OSError:
                pass  # a cache that cannot be written only costs speed
    else:
        header, indexes = loaded
    shadowed = frozenset(header["overlay_shards"])
    hidden: list[set[int]] = [set() for _ in indexes]
    if len(indexes) > 1 and shadowed:
        hidden[0] = {pid for pid, s in enumerate(indexes[0].shards) if s in shadowed}
    return indexes, hidden


# ---------------------------------------------------------------------------------------------
# Queries and filters


@dataclass
class Filter:
    """One filter: its kind, its value as given, whether negated (``-tag:vision``)."""

    name: str
    value: str
    negated: bool = False
    either: tuple[str, ...] = ()  # tag, status, type: any of these
    years: tuple[int, int] = (0, 0)
    author_words: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{'-' if self.negated else ''}{self.name}:{self.value}"

    def matching(self, index: WordIndex) -> set[int]:
        """Paper numbers of ``index`` that pass (before negation)."""
        found: set[int] = set()
        if self.name in ("tag", "status", "type"):
            for value in self.either:
                found.update(index.facet(f"{self.name}:{value}"))
        elif self.name == "year":
            low, high = self.years
            for name in index.facets:
                if name.startswith("year:") and low <= int(name[5:]) <= high:
                    found.update(index.facet(name))
        else:  # author: every word in some author's name (one typo allowed in long words)
            sets = []
            for word in self.author_words:
                holders: set[int] = set()
                for token_id, quality in index.lookup(word, prefix=False).items():
                    if quality >= 0.8:
                        for _, fld, pids in index.groups(token_id, 1.0):
                            if fld == 1:
                                holders.update(pids)
                sets.append(holders)
            found = set.intersection(*sets) if sets else set()
        return found


_YEAR_RE = re.compile(r"^(?:(\d{4})?\.\.(\d{4})?|(>=|<=|>|<|=)?(\d{4}))$")


def parse_year(value: str) -> tuple[int, int]:
    """``2021``, ``2019..2023``, ``2019..``, ``..2023``, ``>=2020``, ``<2018`` -> (low, high)."""
    match = _YEAR_RE.match(value.strip())
    if not match or value.strip() == "..":
        raise UsageError(
            f"invalid year range {value!r}: use 2021, 2019..2023, 2019.., ..2023, >=2020 or <2018"
        )
    low, high, op, single = match.groups()
    if single is None:
        lo, hi = int(low) if low else 0, int(high) if high else 9999
    else:
        year = int(single)
        lo, hi = {
            None: (year, year), "=": (year, year), ">=": (year, 9999), "<=": (0, year),
            ">": (year + 1, 9999), "<": (0, year - 1),
        }[op]  # fmt: skip
    if lo > hi:
        raise UsageError(f"invalid year range {value!r}: the first year is after the last")
    return lo, hi


_EXAMPLES = {"tag": "peft", "author": "hu", "year": "2019..2023", "status": "unread",
             "type": "paper"}  # fmt: skip


def make_filter(name: str, value: str, negated: bool = False) -> Filter:
    """The filter ``name:value``; raises ``UsageError`` for an unknown name or a bad value."""
    value = value.strip()
    if name not in FILTER_NAMES:
        raise UsageError(
            f"unknown filter '{name}:': use {', '.join(n + ':' for n in FILTER_NAMES)} "
            "(quote a phrase that contains a colon)"
        )
    if not value:
        raise UsageError(f"'{name}:' needs a value, for example {name}:{_EXAMPLES[name]}")
    made = Filter(name, value, negated)
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if name == "tag":
        made.either = tuple(normalize_tag(p) for p in parts)
    elif name == "status":
        made.either = tuple(validate_status(p) for p in parts)
    elif name == "type":
        made.either = tuple(validate_type(p) for p in parts)
    elif name == "year":
        made.years = parse_year(value)
    else:
        made.author_words = tuple(name_words(words(value)))
        if not made.author_words:
            raise UsageError(f"invalid author {value!r}: give a name, for example author:vaswani")
    if name in ("tag", "status", "type") and not made.either:
        raise UsageError(f"'{name}:' needs a value, for example {name}:{_EXAMPLES[name]}")
    return made


@dataclass
class Query:
    """A parsed query: free words, exact phrases, and filters."""

    text: str = ""  # the free words as typed, for whole-title similarity
    terms: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)

    @property
    def has_words(self) -> bool:
        return bool(self.terms or self.phrases)


_LEAVE_OUT = "to leave out papers use -tag:X, -author:X, -type:X, -status:X or -year:RANGE"
_PART_RE = re.compile(r'(-?)([A-Za-z]+):("[^"]*"?|\S*)|"([^"]*)"?|(\S+)')


def parse_query(
    text: str = "",
    *,
    tags: Sequence[str] = (),
    not_tags: Sequence[str] = (),
    authors: Sequence[str] = (),
    year: str | None = None,
    types: Sequence[str] = (),
    statuses: Sequence[str] = (),
) -> Query:
    """Parse QUERY's inline syntax and the command-line filters into one ``Query``.

    Several ``tag:`` filters must all match; ``tag:a,b`` matches either; a leading ``-``
    negates any filter and nothing else (``-vision`` is a ``UsageError``). ``arxiv:ID`` and
    URLs are words, not filters; so is ``word:`` with nothing after the colon unless ``word``
    names a filter. Raises ``UsageError`` for an unknown filter, a bad or empty value
    (``tag:``, ``-year:``).
    """
    from papercli.arxiv_ids import parse_arxiv_id

    query = Query()
    free: list[str] = []
    for match in _PART_RE.finditer(text):
        minus, name, value, phrase, word = match.groups()
        if name is not None:
            bare = value.strip('"')
            if name.lower() in FILTER_NAMES:  # an empty value is an error, not a word
                query.filters.append(make_filter(name.lower(), bare, negated=bool(minus)))
                continue
            if name.lower() == "arxiv" or value.startswith("//") or not bare:
                if minus:
                    raise UsageError(f"{match.group(0)!r} is not a filter: {_LEAVE_OUT}")
                free.append(match.group(0) if bare else name)
                continue
            query.filters.append(make_filter(name.lower(), bare, negated=bool(minus)))
        elif phrase is not None:
            if words(phrase):
                query.phrases.append(phrase)
                free.append(phrase)
        elif word is not None:
            if word.startswith("-") and word != "-":
                # Only filters can be negated: searching "-vision" for "vision" would be wrong.
                raise UsageError(f"{word!r} is not a filter: {_LEAVE_OUT}")
            free.append(word)
    query.filters += [make_filter("tag", t) for t in tags]
    query.filters += [make_filter("tag", t, negated=True) for t in not_tags]
    query.filters += [make_filter("author", a) for a in authors]
    if year is not None:
        query.filters.append(make_filter("year", year))
    if types:
        query.filters.append(make_filter("type", ",".join(types)))
    if statuses:
        query.filters.append(make_filter("status", ",".join(statuses)))
    query.text = " ".join(free)
    terms: list[str] = []
    for part in free:
        parsed = parse_arxiv_id(part)
        terms.extend([parsed.base] if parsed else words(part))
    meaningful = [t for t in terms if t not in STOPWORDS]
    query.terms = meaningful or terms
    return query


# ---------------------------------------------------------------------------------------------
# Ranking


@dataclass
class Hit:
    """One search result. ``row`` is the paper's Summary tuple."""

    key: str
    score: float  # 0-100
    matched: str  # the field the best match came from ("title", "notes", ...) or "filter"
    row: tuple[Any, ...]
    exact_title: bool = False
    title_length: int = 0  # words of the title, stopwords left out (0: unknown)


@dataclass
class Result:
    hits: list[Hit]
    more: bool  # whether --limit left some out
    highlight: frozenset[str]  # normalised words that matched, for highlighting


def _allowed(index: WordIndex, filters: list[Filter], hidden: set[int]) -> set[int] | None:
    """Paper numbers of ``index`` passing every filter (None: no filter and nothing hidden)."""
    if not filters and not hidden:
        return None
    allowed: set[int] | None = None
    everything: set[int] | None = None
    for item in filters:
        passing = item.matching(index)
        if item.negated:
            if everything is None:
                everything = set(range(len(index)))
            passing = everything - passing
        allowed = passing if allowed is None else allowed & passing
    if allowed is None:
        allowed = set(range(len(index)))
    return allowed - hidden


def _first_group(pid: int, groups: list[Group]) -> tuple[float, int]:
    """The best (value, field) among ``groups`` (best first) holding paper ``pid``."""
    for value, fld, pids in groups:
        i = bisect_left(pids, pid)
        if i < len(pids) and pids[i] == pid:
            return value, fld
    return 0.0, -1


def _rank(
    index: WordIndex,
    term_groups: list[list[Group]],
    weights: list[float],
    need: int,
    allowed: set[int] | None,
) -> tuple[list[tuple[float, int, int]], bool, Callable[[int], int]]:
    """(score 0-1, paper number, field) of the papers that can be among the best ``need``,
    whether other papers matched too, and how to find a paper's best field when the list says
    ``UNKNOWN_FIELD``.

    Short fields (title, authors, key, tags, venue) are scored for every paper that has them;
    the long ones (abstract, notes) only for papers that could still reach the top, unless too
    few papers matched a short field, when every posting is scored.
    """
    total = sum(weights)
    short: list[dict[int, float]] = []
    longs: list[list[Group]] = []
    for groups in term_groups:
        scores: dict[int, float] = {}
        for value, _, pids in sorted((g for g in groups if g[1] not in TEXT_FIELDS),
                                     key=lambda g: g[0]):  # fmt: skip
            scores.update(dict.fromkeys(pids, value))
        short.append(scores)
        longs.append(sorted((g for g in groups if g[1] in TEXT_FIELDS), key=lambda g: -g[0]))
    ceilings = [g[0][0] if g else 0.0 for g in longs]
    outside = sum(w * c for w, c in zip(weights, ceilings, strict=True)) / total

    def exact(pid: int) -> tuple[float, int]:
        score, best, best_field = 0.0, -1.0, -1
        for t, weight in enumerate(weights):
            value = short[t].get(pid, 0.0)
            fld = -1
            if value:
                fld = _first_group(pid, [g for g in term_groups[t] if g[1] not in TEXT_FIELDS])[1]
            if ceilings[t] > value:
                long_value, long_field = _first_group(pid, longs[t])
                if long_value > value:
                    value, fld = long_value, long_field
            score += weight * value
            if weight * value > best:
                best, best_field = weight * value, fld
        return score / total, best_field

    # Upper bounds; a bound is the exact score when no long field can beat a short one.
    bounds: list[tuple[float, bool, int]] = []
    if len(weights) == 1:
        first, ceiling = short[0], ceilings[0]
        for pid, value in first.items():
            if allowed is None or pid in allowed:
                bounds.append((value if value >= ceiling else ceiling, value >= ceiling, pid))
    else:
        candidates: set[int] = set().union(*short)
        if allowed is not None:
            candidates &= allowed
        for pid in candidates:
            bound, certain = 0.0, True
            for w, scores, ceiling in zip(weights, short, ceilings, strict=True):
                value = scores.get(pid, 0.0)
                if value < ceiling:
                    value, certain = ceiling, False
                bound += w * value
            bounds.append((bound / total, certain, pid))
    bounds.sort(reverse=True)
    heap: list[float] = []
    out: list[tuple[float, int, int]] = []
    cut_short = False
    for bound, certain, pid in bounds:
        if len(heap) >= need and bound < heap[0]:
            cut_short = True
            break
        score, fld = (bound, UNKNOWN_FIELD) if certain else exact(pid)
        out.append((score, pid, fld))
        if len(heap) < need:
            heapq.heappush(heap, score)
        elif score > heap[0]:
            heapq.heapreplace(heap, score)
    if len(heap) >= need and heap[0] >= outside:
        return out, cut_short or outside > 0, lambda pid: exact(pid)[1]
    # Too few strong short-field matches: score every posting.
    totals: dict[int, float] = {}
    for t, weight in enumerate(weights):
        scores = {}
        for value, _, pids in sorted(term_groups[t], key=lambda g: g[0]):
            scores.update(dict.fromkeys(pids, value))
        for pid, value in scores.items():
            totals[pid] = totals.get(pid, 0.0) + weight * value
    found = [(v / total, pid) for pid, v in totals.items() if allowed is None or pid in allowed]
    more = False
    if len(found) > need:
        cut = heapq.nlargest(need, (v for v, _ in found))[-1]
        more = True
        found = [(v, pid) for v, pid in found if v >= cut]
    return [(v, pid, UNKNOWN_FIELD) for v, pid in found], more, lambda pid: exact(pid)[1]


def _document_frequency(token: str, indexes: list[WordIndex], hidden: list[set[int]]) -> int:
    """How many searched papers hold ``token``: its count in every index, less the papers of
    an index that another one shadows (a base index's shards re-indexed in the overlay)."""
    total = 0
    for index, shadowed in zip(indexes, hidden, strict=True):
        j = bisect_left(index.vocab, token)
        if j == len(index.vocab) or index.vocab[j] != token:
            continue
        count = index.df[j]
        if shadowed:
            starts = index.group_starts
            holders: set[int] = set()
            for g in range(index.token_groups[j], index.token_groups[j + 1]):
                holders.update(index.pids[starts[g] : starts[g + 1]])
            count -= len(holders & shadowed)
        total += count
    return total


def search(library: Library, query: Query, limit: int | None = 20) -> Result:
    """Rank the library's papers against ``query``; with no words, the papers that pass the
    filters, most recently added first (like ``papercli list``)."""
    indexes, hidden = word_indexes(library)
    need = limit if limit is not None else sum(len(i) for i in indexes)
    allowed = [_allowed(i, query.filters, h) for i, h in zip(indexes, hidden, strict=True)]
    if not query.has_words:
        listed = []
        for index, passing in zip(indexes, allowed, strict=True):
            pids = range(len(index)) if passing is None else passing
            listed += [(index.added[p], index.years[p], index.keys[p], index, p) for p in pids]
        # Newest added first; papers added together (an import), newest published first.
        listed.sort(key=lambda item: (item[0], item[1], item[2]), reverse=True)
        shown = [Hit(key, 100.0, "filter", index.row(p)) for *_, key, index, p in listed[:need]]
        return Result(shown, len(listed) > need, frozenset())
    terms = query.terms
    # Counted over the papers actually searched: an overlay's papers once, the base papers it
    # shadows not at all, so scores do not depend on how the index was last updated.
    n_papers = max(sum(len(i) for i in indexes) - sum(len(h) for h in hidden), 1)
    df_cache: dict[str, int] = {}

    def df_of(token: str) -> int:
        if token not in df_cache:
            df_cache[token] = _document_frequency(token, indexes, hidden)
        return df_cache[token]

    lookups = [[index.lookup(t) for t in terms] for index in indexes]
    joined = [
        [index.lookup(a + b, prefix=False) if a.isalpha() and b.isalpha() else {}
         for a, b in zip(terms, terms[1:], strict=False)]
        for index in indexes
    ]  # fmt: skip
    # A word's weight is the rarity of its best match (the rarest among equals).
    idf: list[float] = []
    highlight: set[str] = set()
    for i in range(len(terms)):
        best_quality, best_df = 0.0, 0
        candidates = [(index, found[i]) for index, found in zip(indexes, lookups, strict=True)]
        if i < len(terms) - 1:
            candidates += [(index, pairs[i]) for index, pairs in zip(indexes, joined, strict=True)]
        if i > 0:
            candidates += [
                (index, pairs[i - 1]) for index, pairs in zip(indexes, joined, strict=True)
            ]
        for index, found_words in candidates:
            for token_id, quality in found_words.items():
                highlight.add(index.vocab[token_id])
                df = df_of(index.vocab[token_id])
                if quality > best_quality or (quality == best_quality and df < best_df):
                    best_quality, best_df = quality, df
        idf.append(math.log(1 + n_papers / (best_df + 0.5)) if best_quality else 0.0)
    known = [w for w in idf if w > 0]
    direct = _direct(indexes, terms)
    if not known and not direct:
        return Result([], False, frozenset(highlight))
    fallback = sum(known) / len(known) if known else math.log(1 + n_papers)
    weights = [w if w > 0 else fallback for w in idf]

    scored: dict[str, tuple[float, int, int, int]] = {}  # key -> (score, field, index, pid)
    more = False
    field_finders: list[Callable[[int], int]] = []
    for n, index in enumerate(indexes):
        term_groups: list[list[Group]] = []
        for i in range(len(terms)):
            groups = [g for t, q in lookups[n][i].items() for g in index.groups(t, q)]
            for pair in (i - 1, i):
                if 0 <= pair < len(terms) - 1:
                    groups += [g for t, q in joined[n][pair].items() for g in index.groups(t, q)]
            term_groups.append(groups)
        ranked_here, more_here, finder = _rank(index, term_groups, weights, need, allowed[n])
        more = more or more_here
        field_finders.append(finder)
        for score, pid, fld in ranked_here:
            scored[index.keys[pid]] = (100 * score, fld, n, pid)
    for key, (n, pid, i) in direct.items():
        passing = allowed[n]
        if passing is not None and pid not in passing:
            continue
        old = scored.get(key, (0.0, -1, n, pid))[0]
        bonus = 100 * weights[i] / sum(weights)
        fld = ARXIV_FIELD if indexes[n].row(pid)[R_ARXIV] == terms[i] else 2
        scored[key] = (min(100.0, old + bonus), fld, n, pid)
    ranked = [(v, key, fld, n, pid) for key, (v, fld, n, pid) in scored.items() if v >= MIN_SCORE]
    # Among equal scores: a dated paper before an undated page, then the title a query covers
    # most (when the match is in the title), then the newer paper.
    ranked.sort(
        key=lambda r: (
            -r[0],
            not indexes[r[3]].years[r[4]],
            (r[2] in _MAYBE_TITLE and indexes[r[3]].title_lengths[r[4]]) or 65535,
            -indexes[r[3]].years[r[4]],
            r[1],
        )
    )

    # Whole-title similarity can lift a paper by up to 10 points: re-score the leaders.
    from rapidfuzz import fuzz

    wanted = " ".join(words(query.text))
    hits: list[Hit] = []
    for score, key, fld, n, pid in ranked[: need + 30]:
        if fld == UNKNOWN_FIELD:
            fld = field_finders[n](pid)
        row = indexes[n].row(pid)
        title = " ".join(words(row[R_TITLE]))
        similarity = fuzz.token_set_ratio(wanted, title)
        bonus = similarity if similarity >= 80 else 0.0
        final = min(100.0, 0.9 * score + 0.1 * bonus)
        matched = "arxiv_id" if fld == ARXIV_FIELD else FIELDS[fld] if fld >= 0 else "title"
        length = indexes[n].title_lengths[pid] if fld in _TITLE_FIELDS else 0
        hits.append(Hit(key, round(final, 1), matched, row, title == wanted, length))
    if query.phrases:
        hits = _with_phrases(library, hits, query.phrases)
    hits.sort(
        key=lambda h: (
            -h.score,
            not h.exact_title,
            not h.row[R_YEAR],
            h.title_length or 65535,
            -h.row[R_YEAR],
            h.key,
        )
    )
    # Say "there is more" only when the limit really left something out: with fewer hits than
    # the limit, what pruning skipped scored below the ones shown (and below MIN_SCORE).
    more = len(hits) > need or (more and len(hits) >= need)
    return Result(hits[:need], more, frozenset(highlight))


def _direct(indexes: list[WordIndex], terms: list[str]) -> dict[str, tuple[int, int, int]]:
    """Papers whose whole key or arXiv id is a query word: key -> (index, pid, word)."""
    found: dict[str, tuple[int, int, int]] = {}
    for i, term in enumerate(terms):
        is_key = bool(re.search(r"[a-z]", term) and re.search(r"\d", term))
        is_arxiv = bool(re.fullmatch(r"\d{4}\.\d{4,5}|[a-z-]+(\.[a-z]{2})?/\d{7}", term))
        for n, index in enumerate(indexes):
            if is_key:
                pid = _key_position(index.keys, term)
                if pid is not None:
                    found[index.keys[pid]] = (n, pid, i)
            if is_arxiv:
                needle = f"\x1e{term}\x1e".encode()
                start = index.find_row_text(needle, 0)
                while start >= 0:
                    p = bisect_left(index.row_starts, start + 1) - 1
                    row = index.row(p)
                    if row[R_ARXIV] == term:
                        found[row[R_KEY]] = (n, p, i)
                    start = index.find_row_text(needle, start + 1)
    return found


def _key_position(keys: list[str], term: str) -> int | None:
    """Where the key ``term`` (a query word, lower case) is in ``keys``, whatever its case:
    ``ando2005`` finds ``Ando2005``."""
    if term in keys:
        return keys.index(term)
    # Keys a .bib gave keep their capitals; only then is every key compared in lower case.
    return next((p for p, key in enumerate(keys) if key.lower() == term), None)


def _with_phrases(library: Library, hits: list[Hit], phrases: list[str]) -> list[Hit]:
    """Keep the hits that hold every phrase, word for word, in one field."""
    wanted = [" ".join(words(p)) for p in phrases]

    def holds(texts: Iterable[str]) -> int:
        joined = [f" {' '.join(words(t))} " for t in texts if t]
        return sum(1 for w in wanted if any(f" {w} " in j for j in joined))

    kept: list[Hit] = []
    unsure: dict[str, Hit] = {}
    for hit in hits:
        row = hit.row
        if holds([row[R_TITLE], row[R_VENUE], " ".join(row[R_TAGS]), *row[R_AUTHORS]]) == len(
            wanted
        ):
            kept.append(hit)
        else:
            unsure[hit.key] = hit
    if unsure:
        for paper in library.papers(sorted(unsure)):
            texts = [paper.title, paper.venue, paper.abstract, " ".join(paper.tags),
                     *paper.authors, *(n.text for n in paper.notes),
                     *(n.quote for n in paper.notes)]  # fmt: skip
            if holds(texts) == len(wanted):
                kept.append(unsure[paper.key])
    return kept


def hit_json(hit: Hit) -> dict[str, Any]:
    """A hit in the documented ``--json`` shape (``Paper.to_json`` keys the summary has, plus
    ``score`` and ``matched``)."""
    from papercli.models import display_author

    row = hit.row
    return {
        "key": row[R_KEY],
        "type": row[R_TYPE],
        "title": row[R_TITLE],
        "authors": [display_author(a) for a in row[R_AUTHORS]],
        "year": row[R_YEAR] or None,
        "date": row[R_DATE] or None,
        "arxiv_id": row[R_ARXIV] or None,
        "doi": row[R_DOI] or None,
        "url": row[R_URL] or (f"https://arxiv.org/abs/{row[R_ARXIV]}" if row[R_ARXIV] else None),
        "venue": row[R_VENUE] or None,
        "tags": list(row[R_TAGS]),
        "status": row[R_STATUS],
        "added": row[R_ADDED] or None,
        "score": hit.score,
        "matched": hit.matched,
    }
