"""Citation keys in the Google Scholar style: surname + year + first significant title word.

``vaswani2017attention``, ``hu2021lora``, ``bommasani2021opportunities``. Keys are lower-case
ASCII (accents folded: Łukasz -> lukasz, Kübler -> kubler) and made unique with ``a``, ``b``, ...
suffixes, as Better BibTeX does. A key is assigned once and stored as the paper's file name, so
later edits of the title or authors never change it (``papercli rekey`` does, on purpose).
This module does no I/O: callers pass the set of keys already taken.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Container

from papercli.models import family_name, is_person

# Letters NFKD does not decompose into ASCII.
LETTER_FOLDS = str.maketrans({
    "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D",
    "þ": "th", "Þ": "Th", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i",
    "’": "'", "‘": "'",
})  # fmt: skip

# Words Google Scholar skips at the start of a title.
STOPWORDS = frozenset(
    "a an the on of in for and to with towards toward via from by at is are what how why do "
    "does can we our your its as into when where which who whose be being this that these "
    "there their it".split()
)


def ascii_fold(text: str) -> str:
    """Transliterate to plain ASCII, dropping what has no ASCII form."""
    text = unicodedata.normalize("NFKD", text.translate(LETTER_FOLDS))
    return text.encode("ascii", "ignore").decode("ascii")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", ascii_fold(text).lower().replace("'", ""))


def first_significant_word(title: str) -> str:
    for word in _words(title):
        if word not in STOPWORDS:
            return word
    words = _words(title)
    return words[0] if words else ""


def base_key(authors: list[str], year: int | None, title: str) -> str:
    """The key before de-duplication; never empty (``paper`` when nothing can be used)."""
    name = ""
    if authors:
        first = authors[0]
        surname = family_name(first) if is_person(first) else first
        if is_person(first):
            # Lower-case particles go ("van Beethoven" -> "beethoven"); the rest of the family
            # name is kept whole ("Ben-David" -> "bendavid", "García Márquez" -> "garciamarquez").
            parts = [w for w in surname.split() if not w[:1].islower()] or surname.split()[-1:]
            name = "".join(_words(" ".join(parts)))
        else:
            words = _words(surname)  # an organisation keeps its first word ("google")
            name = words[0] if words else ""
    word = first_significant_word(title)
    key = f"{name}{year or ''}{word}"[:60]
    return key or "paper"


def unique_key(
    base: str,
    taken: Container[str] | Callable[[str], bool],
    hints: dict[str, int] | None = None,
) -> str:
    """``base`` itself if free, else ``base`` + a, b, ..., z, aa, ab, ...

    ``hints`` (kept by a caller making many keys, such as an import) remembers, per base,
    the suffix to try first, so 20,000 entries sharing one base try each suffix once rather
    than 1 + 2 + ... + 20,000 times. Every candidate is still checked."""
    is_taken = taken if callable(taken) else taken.__contains__
    if not is_taken(base):
        return base
    n = hints.get(base, 0) if hints is not None else 0
    while True:
        suffix = ""
        m = n
        while True:
            suffix = chr(ord("a") + m % 26) + suffix
            m = m // 26 - 1
            if m < 0:
                break
        if not is_taken(base + suffix):
            if hints is not None:
                hints[base] = n + 1
            return base + suffix
        n += 1


def make_key(
    authors: list[str],
    year: int | None,
    title: str,
    taken: Container[str] | Callable[[str], bool],
    hints: dict[str, int] | None = None,
) -> str:
    return unique_key(base_key(authors, year, title), taken, hints)
