"""Citation keys in the Google Scholar style: surname + year + first significant title word.

``vaswani2017attention``, ``hu2021lora``, ``bommasani2021opportunities``. An entry without
authors (a repository, a blog post, a video) takes its site's name from its URL in their place
(``huggingface`` for github.com/huggingface/..., ``lilianweng`` for lilianweng.github.io), so
no key is a bare year or a bare word. Keys are lower-case
ASCII (accents folded: Łukasz -> lukasz, Kübler -> kubler) and made unique with ``a``, ``b``, ...
suffixes, as Better BibTeX does. A key is assigned once and stored as the paper's file name, so
later edits of the title or authors never change it (``papercli rekey`` does, on purpose).
This module does no I/O: callers pass the set of keys already taken.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Container
from urllib.parse import urlsplit

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


def first_significant_word(title: str, skip: str = "") -> str:
    """The first word of ``title`` that is not a stop word (nor ``skip``: the author's name,
    which a repository's title "owner/name" repeats)."""
    for word in _words(title):
        if word not in STOPWORDS and word != skip:
            return word
    words = _words(title)
    return words[0] if words else ""


# Hosts where the first path segment names the author (an account or an organisation).
_ACCOUNT_HOSTS = frozenset(
    "github.com gitlab.com bitbucket.org codeberg.org huggingface.co medium.com twitter.com "
    "x.com".split()
)
# First path segments that are the site's own pages, not an account.
_SITE_PAGES = frozenset("blog docs learn papers course tasks models topics orgs".split())
# Hosts that hold anyone's papers: their name says nothing of the author.
_NOT_AUTHORS = frozenset("arxiv.org export.arxiv.org doi.org dx.doi.org".split())
# Hosts under which each author has a subdomain of their own.
_PERSONAL_SUBDOMAINS = ("github.io", "gitlab.io", "substack.com", "medium.com", "blogspot.com")
# Second-level labels of country domains (co.uk, ac.jp): the name is the label before them.
_SECOND_LEVEL = frozenset("co ac com org net gov edu".split())


def site_name(url: str) -> str:
    """The name a URL's site gives its author, for a key: the account of a GitHub, Hugging Face,
    Medium or X path (``github.com/karpathy/nanoGPT`` -> ``karpathy``), the subdomain of a
    personal site (``lilianweng.github.io`` -> ``lilianweng``), else the domain's own name
    (``www.deeplearning.ai`` -> ``deeplearning``); '' when the URL has no host or is an
    archive of anyone's papers (arxiv.org, doi.org)."""
    parts = urlsplit(url.strip() if "://" in url else f"https://{url.strip()}")
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host == "youtu.be":
        return "youtube"
    if host in _NOT_AUTHORS:
        return ""
    if not host or "." not in host:
        return ""
    segments = [s for s in parts.path.split("/") if s]
    archived = re.match(r"/web/\d+/(https?://.+)", parts.path)
    if host == "web.archive.org" and archived:
        return site_name(archived.group(1))
    if host == "huggingface.co" and segments and segments[0] in ("datasets", "spaces"):
        segments = segments[1:]  # huggingface.co/datasets/OWNER/NAME
    if host in _ACCOUNT_HOSTS and segments and segments[0] not in _SITE_PAGES:
        account = _words(segments[0].lstrip("@"))
        if account:
            return "".join(account)
    labels = host.split(".")
    for suffix in _PERSONAL_SUBDOMAINS:
        if host.endswith("." + suffix):
            return "".join(_words(labels[0]))
    name = labels[-2]
    if name in _SECOND_LEVEL and len(labels) >= 3:
        name = labels[-3]
    return "".join(_words(name))


def base_key(authors: list[str], year: int | None, title: str, url: str = "") -> str:
    """The key before de-duplication; never empty (``paper`` when nothing can be used).
    Without authors, the site of ``url`` stands in for them (see ``site_name``)."""
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
    site = site_name(url) if not name and url else ""
    word = first_significant_word(title, skip=site)
    name = name or site
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
    url: str = "",
) -> str:
    return unique_key(base_key(authors, year, title, url), taken, hints)
