"""arXiv identifiers: recognise, validate and normalise them, in every form people paste.

New style (April 2007 on): ``YYMM.NNNN`` (to December 2014) or ``YYMM.NNNNN`` (from January
2015), optionally ``vN``. Old style (1991 to March 2007): ``archive[.SUBJ]/YYMMNNN``, e.g.
``hep-th/9901001``, ``math.GT/0309136``. Accepted wrappers: ``arXiv:``, and URLs on arxiv.org or
export.arxiv.org under ``/abs/``, ``/pdf/`` (with or without ``.pdf``), including the doubled
slash some pages carry (``/abs//2106.09685``). No I/O and no network here.

The base identifier is arXiv's canonical one: an old-style subject class is not part of it
(``math.GT/0309136`` is ``math/0309136``, the form arXiv's API and abs pages use), so both
spellings name the same paper everywhere papercli compares identifiers.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Archives that had old-style identifiers.
OLD_ARCHIVES = frozenset(
    "acc-phys adap-org alg-geom ao-sci astro-ph atom-ph bayes-an chao-dyn chem-ph cmp-lg "
    "comp-gas cond-mat cs dg-ga funct-an gr-qc hep-ex hep-lat hep-ph hep-th math math-ph "
    "mtrl-th nlin nucl-ex nucl-th patt-sol physics plasm-ph q-alg q-bio quant-ph solv-int "
    "supr-con".split()
)

_NEW = r"(?P<new>(?P<yy>\d\d)(?P<mm>\d\d)\.(?P<num>\d{4,5}))"
_OLD = (
    r"(?P<old>(?P<arch>[a-z][a-z-]*)(?:\.(?P<subj>[A-Za-z]{2}))?"
    r"/(?P<oyy>\d\d)(?P<omm>\d\d)(?P<onum>\d{3}))"
)
_VERSION = r"(?:v(?P<ver>\d{1,3}))?"
_ID_RE = re.compile(rf"^(?:{_NEW}|{_OLD}){_VERSION}$")
_URL_RE = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format)/+(?P<rest>[^?#\s]+)",
    re.IGNORECASE,
)
# Finds identifiers inside running text and URLs (for the importers).
_FIND_RE = re.compile(
    r"arxiv\.org/(?:abs|pdf|html)/+(?P<url>[a-z-]+(?:\.[A-Za-z]{2})?/\d{7}(?:v\d+)?|\d{4}\.\d{4,5}(?:v\d+)?)"
    r"|arxiv:\s*(?P<pre>[a-z-]+(?:\.[A-Za-z]{2})?/\d{7}(?:v\d+)?|\d{4}\.\d{4,5}(?:v\d+)?)",
    re.IGNORECASE,
)


class ArxivId(NamedTuple):
    base: str  # without version
    version: int | None

    def __str__(self) -> str:
        return f"{self.base}v{self.version}" if self.version else self.base


def parse_arxiv_id(text: str) -> ArxivId | None:
    """The identifier in ``text`` (an id, ``arXiv:id`` or an arXiv URL), or None if there is
    none or it cannot exist (month 13, a 5-digit number before 2015, an unknown archive)."""
    text = text.strip()
    match = _URL_RE.match(text)
    if match:
        text = match.group("rest")
        text = re.sub(r"\.pdf$", "", text, flags=re.IGNORECASE).rstrip("/")
    elif text[:6].lower() == "arxiv:":
        text = text[6:].strip()
    match = _ID_RE.match(text)
    if not match:
        return None
    version = int(match.group("ver")) if match.group("ver") else None
    if version == 0:
        return None
    if match.group("new"):
        yy, mm, num = int(match.group("yy")), int(match.group("mm")), match.group("num")
        if not 1 <= mm <= 12:
            return None
        if (yy, mm) < (7, 4):
            return None
        if (len(num) == 5) != (yy >= 15):
            return None
        return ArxivId(match.group("new"), version)
    archive = match.group("arch")
    if archive not in OLD_ARCHIVES:
        return None
    yy, mm = int(match.group("oyy")), int(match.group("omm"))
    if not 1 <= mm <= 12 or (7 < yy < 91) or (yy == 7 and mm > 3):
        return None
    return ArxivId(
        f"{archive}/{match.group('oyy')}{match.group('omm')}{match.group('onum')}", version
    )


def normalize_arxiv_id(text: str) -> str | None:
    """``parse_arxiv_id`` as a string (``2106.09685v2``), or None."""
    parsed = parse_arxiv_id(text)
    return str(parsed) if parsed else None


def find_arxiv_ids(text: str) -> list[ArxivId]:
    """Every valid arXiv identifier linked or cited (``arXiv:``) in ``text``, in order, once."""
    found: dict[str, ArxivId] = {}
    for match in _FIND_RE.finditer(text):
        parsed = parse_arxiv_id(match.group("url") or match.group("pre"))
        if parsed and parsed.base not in found:
            found[parsed.base] = parsed
    return list(found.values())


def year_of(base: str) -> int | None:
    """The submission year an identifier encodes (``2106.09685`` -> 2021, ``hep-th/9901001``
    -> 1999)."""
    parsed = parse_arxiv_id(base)
    if parsed is None:
        return None
    digits = parsed.base.split("/")[-1][:2] if "/" in parsed.base else parsed.base[:2]
    yy = int(digits)
    return 1900 + yy if yy >= 91 else 2000 + yy
