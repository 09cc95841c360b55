"""Papers from DOIs: the forms people write a DOI in, its metadata by DOI content negotiation
(CSL-JSON, which the DOI resolver serves for Crossref, DataCite and mEDRA DOIs alike), and that
metadata as a paper carrying a BibTeX record.

``GET {api}/{doi}`` with ``Accept: application/vnd.citationstyles.csl+json``; ``{api}`` is
``https://doi.org`` unless ``PAPERCLI_DOI_API`` or ``[doi] api`` in the config file says
otherwise. Like the arXiv source: an overall deadline per request, retries with back-off on 429
and 5xx, a size cap; the resolver's redirects to the registration agency are followed (at
most five). This module never prints and never touches the library.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import quote, urlsplit

from papercli.config import Settings
from papercli.errors import NetworkError, NotFoundError, UsageError
from papercli.models import Paper

DEFAULT_DOI_API = "https://doi.org"
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_PREFIX = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", re.IGNORECASE)
MAX_ANSWER_BYTES = 5 * 1024 * 1024
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)

# CSL type -> BibTeX entry type (what bibtex and biber both read).
_TYPES = {
    "article-journal": "article", "article-magazine": "article", "article-newspaper": "article",
    "paper-conference": "inproceedings", "chapter": "incollection", "book": "book",
    "report": "techreport", "thesis": "phdthesis", "dataset": "misc", "posted-content": "misc",
    "article": "misc", "manuscript": "unpublished", "webpage": "misc", "software": "misc",
}  # fmt: skip
# CSL's container-title: the BibTeX field of each entry type that names the container.
_CONTAINER_FIELDS = {
    "article": "journal", "inproceedings": "booktitle", "incollection": "booktitle",
    "book": "series",
}  # fmt: skip
# CSL types papercli files under a type of its own, and preprints (a @misc record) as papers.
_PAPER_TYPES = {
    "dataset": "dataset", "software": "repo", "webpage": "website", "book": "book",
    "posted-content": "paper", "article": "paper",
}  # fmt: skip


class ResolverUnreachable(NetworkError):
    """No network, or nothing listening at the resolver: every other DOI would fail alike.
    ``reason`` is the message without the DOI."""

    def __init__(self, doi: str, reason: str) -> None:
        super().__init__(f"{doi}: {reason}")
        self.reason = reason


def parse_doi(text: str) -> str | None:
    """``10.1038/nature14539``, ``doi:10.…``, ``https://doi.org/…`` or ``https://dx.doi.org/…``
    -> the DOI; None for anything else."""
    doi = _PREFIX.sub("", text.strip())
    return doi if _DOI.match(doi) else None


def doi_api(settings: Settings) -> str:
    import os

    section = settings.extra.get("doi")
    configured = section.get("api", "") if isinstance(section, dict) else ""
    api = os.environ.get("PAPERCLI_DOI_API") or str(configured) or DEFAULT_DOI_API
    if not re.match(r"^https?://[^\s/]+", api):
        raise UsageError(f"PAPERCLI_DOI_API / [doi] api {api!r} is not an http(s) URL")
    return api.rstrip("/")


def fetch_csl(doi: str, settings: Settings) -> dict[str, Any]:
    """The CSL-JSON item of ``doi``. ``NotFoundError`` for a DOI the resolver does not know,
    ``NetworkError`` when it cannot be reached or answers badly."""
    url = f"{doi_api(settings)}/{quote(doi, safe='/:;()._-')}"
    attempt = 0
    while True:
        try:
            return _get_csl(url, doi, settings.arxiv_timeout)
        except _Retry as exc:
            if attempt >= max(settings.arxiv_retries, 0):
                tries = f" (tried {attempt + 1} times)" if attempt else ""
                raise NetworkError(f"{doi}: {exc}{tries}") from None
            time.sleep(min(0.5 * 2**attempt, 8))
            attempt += 1


class _Retry(Exception):
    """A failure worth another try: 429, 5xx, a timeout, a dropped connection."""


def _get_csl(url: str, doi: str, timeout: float) -> dict[str, Any]:
    import threading

    import requests
    import urllib3

    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            with requests.get(
                url,
                headers={"Accept": "application/vnd.citationstyles.csl+json"},
                timeout=timeout,
                stream=True,
            ) as response:
                body = b""
                for chunk in response.iter_content(65536):
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise NetworkError(f"{doi}: the DOI resolver sent more than 5 MB")
                outcome["status"] = response.status_code
                outcome["body"] = body
        except requests.TooManyRedirects:
            outcome["error"] = NetworkError(f"{doi}: too many redirects")
        except requests.ConnectionError as exc:
            # No network, or nothing listening: said at once, as the arXiv source does, not
            # retried (retrying each DOI of an offline 'refresh --all' took seconds apiece).
            reason = getattr(exc.args[0] if exc.args else None, "reason", None)
            host = urlsplit(url).netloc
            if isinstance(reason, urllib3.exceptions.NameResolutionError):
                outcome["error"] = ResolverUnreachable(
                    doi, f"cannot reach the DOI resolver: host {host} not found (no network?)"
                )
            elif isinstance(reason, urllib3.exceptions.NewConnectionError):
                outcome["error"] = ResolverUnreachable(
                    doi,
                    f"cannot reach the DOI resolver at {host}: connection refused or no network",
                )
            else:
                outcome["retry"] = f"the connection to the DOI resolver ({host}) failed"
        except requests.RequestException as exc:
            outcome["retry"] = f"the DOI resolver could not be reached ({type(exc).__name__})"
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _Retry(f"the DOI resolver did not answer within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    if "retry" in outcome:
        raise _Retry(outcome["retry"])
    status = outcome["status"]
    if status == 404:
        raise NotFoundError(f"no such DOI: {doi}")
    if status == 429 or status >= 500:
        raise _Retry(f"the DOI resolver answered HTTP {status}")
    if status != 200:
        raise NetworkError(f"{doi}: the DOI resolver answered HTTP {status}")
    try:
        item = json.loads(outcome["body"])
    except (ValueError, UnicodeDecodeError):
        raise NetworkError(f"{doi}: the DOI resolver's answer is not CSL-JSON") from None
    if not isinstance(item, dict):
        raise NetworkError(f"{doi}: the DOI resolver's answer is not a CSL-JSON item")
    return item


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if value is None:
        return ""
    text = re.sub(r"<[^>]+>", "", str(value))  # JATS markup in titles and abstracts
    return " ".join(text.split())


def _date_parts(item: dict[str, Any]) -> list[int]:
    """``issued`` (else ``published-print``, ``created``) as [year, month?, day?]; [] when it
    holds no year (a resolver's answer is checked, not trusted)."""
    for name in ("issued", "published-print", "created"):
        date = item.get(name)
        parts = date.get("date-parts") if isinstance(date, dict) else None
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            try:
                numbers = [int(p) for p in parts[0][:3]]
            except (TypeError, ValueError):
                continue
            if 0 < numbers[0] < 10000:
                return numbers
    return []


def _names(value: Any) -> str:
    """CSL's institution: a name, or a list of ``{"name": ...}`` objects (Crossref)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name", "")
    return _text(value) if value else ""


def paper_from_csl(item: dict[str, Any], doi: str) -> Paper:
    """The paper a CSL-JSON item describes, with a BibTeX record built from it (text escaped
    for LaTeX, acronyms in the title braced)."""
    from papercli.bibtex import escape, format_author
    from papercli.models import literal_name, parse_author
    from papercli.record import view_of

    kind = _TYPES.get(str(item.get("type", "")), "misc")
    record: dict[str, str] = {}
    title = _text(item.get("title", ""))
    subtitle = _text(item.get("subtitle", ""))
    if subtitle:
        title = f"{title}: {subtitle}"
    authors = []
    for person in item.get("author") or []:
        if not isinstance(person, dict):
            continue
        if person.get("family"):
            given = _text(person.get("given", ""))
            name = f"{_text(person['family'])}, {given}" if given else _text(person["family"])
            authors.append(parse_author(name))
        elif person.get("literal") or person.get("name"):
            authors.append(literal_name(_text(person.get("literal") or person.get("name"))))
    if authors:
        record["author"] = " and ".join(format_author(a) for a in authors)
    if title:
        record["title"] = escape(title, protect_case=True)
    genre = _text(item.get("genre", ""))
    if kind == "phdthesis" and re.search(r"master|m\.?\s?sc|diplom", genre, re.IGNORECASE):
        kind = "mastersthesis"
    container = _text(item.get("container-title", ""))
    if container:
        record[_CONTAINER_FIELDS.get(kind, "howpublished")] = escape(container)
    elif kind == "misc" and _names(item.get("institution")):
        # A preprint server (posted-content: bioRxiv, SSRN, ...) names itself here.
        record["howpublished"] = escape(_names(item["institution"]))
    parts = _date_parts(item)
    if parts:
        record["year"] = str(parts[0])
        if len(parts) > 1 and isinstance(parts[1], int) and 1 <= parts[1] <= 12:
            # The styles' month macro, written bare (bibtex_raw), as a .bib would have it.
            record["month"] = "jan feb mar apr may jun jul aug sep oct nov dec".split()[
                parts[1] - 1
            ]
    # Who published it is the school of a thesis and the institution of a report.
    publisher = {"phdthesis": "school", "mastersthesis": "school",
                 "techreport": "institution"}.get(kind, "publisher")  # fmt: skip
    for csl, name in (("volume", "volume"), ("issue", "number"), ("number", "number"),
                      ("publisher", publisher), ("publisher-place", "address"),
                      ("edition", "edition"), ("collection-title", "series"),
                      ("version", "version")):  # fmt: skip
        if item.get(csl) and name not in record:
            record[name] = escape(_text(item[csl]))
    if genre and kind in ("techreport", "phdthesis", "mastersthesis"):
        record["type"] = escape(genre)
    if item.get("page"):
        pages = re.sub(r"\s*[-–—]+\s*", "--", _text(item["page"]))
        record["pages"] = re.sub(r"[^\w.,:+ -]", "", pages)  # page numbers and ranges only
    for csl, name in (("ISBN", "isbn"), ("ISSN", "issn")):
        if item.get(csl):
            record[name] = _text(item[csl])
    record["doi"] = doi
    arxiv = _ARXIV_DOI.match(doi)
    if arxiv:
        # arXiv's own DOI (DataCite): the paper is that preprint.
        record["eprint"], record["archiveprefix"] = arxiv.group(1), "arXiv"
    if item.get("URL"):
        record["url"] = _text(item["URL"])
    paper = view_of(kind, record, "")
    paper.type = _PAPER_TYPES.get(str(item.get("type", "")), paper.type)
    paper.bibtex_type = kind
    paper.bibtex = record
    paper.bibtex_raw = ["month"] if "month" in record else []
    if item.get("abstract"):
        paper.abstract = _text(item["abstract"])
    paper.provenance = [{"source": "doi", "id": doi}]
    return paper


def update_from_doi(paper: Paper, fetched: Paper, differing: list[str] | None = None) -> list[str]:
    """Bring ``paper`` up to date with ``fetched`` (from ``paper_from_csl``), in place, by the
    rules of the arXiv refresh: empty fields and placeholders (fields marked incomplete) are
    filled; a title, author list, abstract, year, date, venue or DOI that is set stays, as do
    tags, notes, status, key and type. A paper without a BibTeX record gets the DOI's; a
    record gets the fields it lacks (a volume or pages assigned since), and a field whose
    value differs is kept (its name goes to ``differing``). Returns what changed, as short
    phrases."""
    changes: list[str] = []
    filled = []
    for name in ("title", "authors", "year", "date", "venue", "doi", "url", "abstract"):
        mine, theirs = getattr(paper, name), getattr(fetched, name)
        empty = mine in ("", None, []) or name in paper.incomplete
        if empty and theirs not in ("", None, []) and mine != theirs:
            setattr(paper, name, list(theirs) if isinstance(theirs, list) else theirs)
            filled.append(name)
    if filled:
        changes.append("filled " + ", ".join(filled))
    still = [f for f in paper.incomplete if f not in filled]
    if still != paper.incomplete:
        paper.incomplete = still
        if not filled:
            changes.append("marked complete")
    if not paper.bibtex_type:
        paper.bibtex_type = fetched.bibtex_type
        paper.bibtex = dict(fetched.bibtex)
        paper.bibtex_raw = list(fetched.bibtex_raw)
        changes.append(f"record @{fetched.bibtex_type}")
    else:
        added = [n for n in fetched.bibtex if n not in paper.bibtex]
        for name in added:
            paper.bibtex[name] = fetched.bibtex[name]
            if name in fetched.bibtex_raw:
                paper.bibtex_raw.append(name)
        if added:
            changes.append("record: added " + ", ".join(added))
        differ = [
            n
            for n in fetched.bibtex
            if n not in added and " ".join(paper.bibtex[n].split()) != fetched.bibtex[n]
        ]
        if differing is not None:
            differing.extend(differ)
    if changes:
        for entry in paper.provenance:
            if entry.get("source") == "doi" and entry.get("id") == fetched.doi:
                break
        else:
            paper.provenance.append(dict(fetched.provenance[0]))
    return changes
