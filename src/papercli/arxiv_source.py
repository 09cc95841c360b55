"""Paper metadata from the arXiv API: fetch it for a list of identifiers, map it to ``Paper``,
and bring an existing paper up to date with it.

Fetching uses the ``arxiv`` package (its ``Client`` builds the query URL and pages, its Atom
parser builds ``arxiv.Result``), with the request layer replaced: the package sends requests
without a timeout, retries at once on any error and hides the body of an HTTP error. Here every
request has a timeout; 429, 5xx, timeouts, dropped connections and unreadable answers are
retried with exponential back-off (honouring ``Retry-After``); a refused connection or an unknown
host fails at once; requests keep ``delay`` seconds apart, across papercli processes too (a
time stamp in the cache directory). Identifiers are sent without version so arXiv answers with
the latest version; up to 100 go in one request (``id_list``).

This module never prints, never touches the library, and imports ``arxiv`` (and ``requests``)
only when a fetch starts.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from papercli.arxiv_ids import parse_arxiv_id
from papercli.config import Settings
from papercli.errors import NetworkError, NotFoundError, PapercliError, UsageError
from papercli.models import Paper, parse_author, timestamp

BATCH_SIZE = 100  # ids per request; also the page size, so one request answers a batch
MAX_RETRY_AFTER = 60.0  # seconds; a longer Retry-After is cut to this
ATOM = "{http://www.w3.org/2005/Atom}"

# Author "names" that are groups, kept literal instead of split into family and given names.
_GROUP_WORDS = re.compile(
    r"\b(?:collaboration|consortium|team|group|project|collective|et al\.?)\b", re.IGNORECASE
)

# Fields whose empty value a fetch fills (the title too, when marked incomplete). Tags, notes,
# status, key, type and venue are the user's and never touched; a set abstract, author list,
# date or year is kept (papercli cannot tell a user's edit from an older arXiv version).
FILLED = (
    "authors", "year", "date", "abstract", "url", "pdf_url", "doi", "journal_ref", "comment",
    "primary_category", "categories", "arxiv_version",
)  # fmt: skip
# Fields that describe the arXiv record itself: replaced by arXiv's current value when arXiv
# has one (a new version may add a journal reference or change the comment).
ARXIV_OWNED = ("primary_category", "categories", "journal_ref", "comment")


def clean_text(text: str | None) -> str:
    """Runs of whitespace (arXiv wraps titles and abstracts) as single spaces, trimmed."""
    return " ".join((text or "").split())


@dataclass
class Fetched:
    """What a fetch brought back: papers by base id, and why the others failed."""

    papers: dict[str, Paper] = field(default_factory=dict)
    failures: dict[str, PapercliError] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0, or the most serious failure's code (a network failure outranks an unknown id)."""
        return max((e.exit_code for e in self.failures.values()), default=0)


def fetch_papers(
    ids: Sequence[str],
    settings: Settings,
    on_batch: Callable[[int], None] | None = None,
) -> Fetched:
    """Fetch base identifiers (validated, without version) in batches of ``BATCH_SIZE``.

    A batch that fails (network, HTTP error, unreadable answer) fails each of its ids with that
    error; the other batches still run, except after a failure to reach arXiv at all, which
    fails the remaining ids too (with no network, trying again per batch only waits). An id
    arXiv does not return fails with ``NotFoundError``. ``on_batch(n)`` is called after each
    batch with the number of ids it covered.
    """
    result = Fetched()
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return result
    client = make_client(settings)
    try:
        unreachable: NetworkError | None = None
        for start in range(0, len(wanted), BATCH_SIZE):
            batch = wanted[start : start + BATCH_SIZE]
            if unreachable is not None:
                for base in batch:
                    result.failures[base] = unreachable
            else:
                try:
                    found = client.fetch_batch(batch)
                except NetworkError as exc:
                    for base in batch:
                        result.failures[base] = exc
                    if getattr(exc, "unreachable", False):
                        unreachable = exc
                else:
                    for base in batch:
                        if base in found:
                            result.papers[base] = found[base]
                        else:
                            result.failures[base] = NotFoundError("no such paper on arXiv")
            if on_batch is not None:
                on_batch(len(batch))
    finally:
        client.close()
    return result


# ---------------------------------------------------------------------------------------------
# Mapping arXiv's answer to a Paper


def author_from_arxiv(name: str) -> str:
    """An arXiv author name ("Edward J. Hu") in papercli's stored form ("Hu, Edward J.")."""
    name = clean_text(name)
    if _GROUP_WORDS.search(name):
        return name
    return parse_author(name)


def paper_from_result(result: Any, fetched: str | None = None) -> Paper | None:
    """An ``arxiv.Result`` as a new Paper (no key yet); None for an entry that is not a paper
    (arXiv's error entries, blank entries)."""
    parsed = parse_arxiv_id(getattr(result, "entry_id", "") or "")
    if parsed is None:
        return None
    base = parsed.base
    title = clean_text(result.title) or f"arXiv:{base}"
    paper = Paper(key="", title=title, type="paper")
    paper.authors = [author_from_arxiv(a.name) for a in result.authors if clean_text(a.name)]
    published = result.published
    if isinstance(published, dt.datetime) and published.year > 1:
        paper.date = published.date().isoformat()
        paper.year = published.year
    paper.arxiv_id = base
    paper.arxiv_version = parsed.version
    paper.url = f"https://arxiv.org/abs/{base}"
    paper.pdf_url = f"https://arxiv.org/pdf/{base}"
    paper.primary_category = clean_text(result.primary_category)
    categories = [clean_text(c) for c in [result.primary_category, *result.categories]]
    paper.categories = list(dict.fromkeys(c for c in categories if c))
    paper.doi = clean_text(result.doi)
    paper.journal_ref = clean_text(result.journal_ref)
    paper.comment = clean_text(result.comment)
    paper.abstract = clean_text(result.summary)
    paper.provenance = [{"source": "arxiv", "id": str(parsed), "fetched": fetched or timestamp()}]
    return paper


def update_from_arxiv(paper: Paper, fetched: Paper) -> list[str]:
    """Bring ``paper`` up to date with ``fetched`` (from ``paper_from_result``), in place.

    Empty fields, and fields marked ``incomplete`` (placeholders), are filled; the arXiv-owned
    fields (categories, journal reference, comment) take arXiv's current value; the version moves
    up, never down. Tags, notes, status, key, type and venue are never changed, nor a title,
    abstract, author list, DOI, date or year that is set and not marked incomplete.
    Returns what changed, as short phrases ("filled abstract", "v1 -> v2"), empty if nothing.
    """
    changes: list[str] = []
    filled: list[str] = []
    old_version = paper.arxiv_version
    loaded_view = paper.view()
    # A field marked incomplete holds a placeholder (an importer's link text for a title, a
    # list's year): arXiv's value replaces it, and the mark goes.
    placeholders = set(paper.incomplete)
    for name in ("title", *FILLED):
        mine, theirs = getattr(paper, name), getattr(fetched, name)
        empty = mine in ("", None, []) or name in placeholders
        if empty and theirs not in ("", None, []) and mine != theirs:
            setattr(paper, name, list(theirs) if isinstance(theirs, list) else theirs)
            if name != "arxiv_version":
                filled.append(name)
    if not paper.arxiv_id:
        paper.arxiv_id = fetched.arxiv_id
        filled.insert(0, "arxiv_id")
    if filled:
        changes.append("filled " + ", ".join(filled))
    if fetched.arxiv_version and (old_version or 0) < fetched.arxiv_version:
        paper.arxiv_version = fetched.arxiv_version
        if old_version:
            changes.append(f"v{old_version} -> v{fetched.arxiv_version}")
    refreshed = []
    for name in ARXIV_OWNED:
        theirs = getattr(fetched, name)
        if name in filled or theirs in ("", []) or getattr(paper, name) == theirs:
            continue
        setattr(paper, name, list(theirs) if isinstance(theirs, list) else theirs)
        refreshed.append(name)
    if refreshed:
        changes.append("updated " + ", ".join(refreshed))
    still = [
        f
        for f in paper.incomplete
        if getattr(paper, f, None) in ("", None, []) or not getattr(fetched, f, None)
    ]
    if still != paper.incomplete:
        paper.incomplete = still
        if not changes:
            changes.append("marked complete")
    if changes:
        _record_provenance(paper, fetched)
        if paper.bibtex_type:
            from papercli.record import carry_changes

            # A record (a published version's, a .bib's) learns what was filled: its eprint.
            carry_changes(paper, loaded_view)
    return changes


def _record_provenance(paper: Paper, fetched: Paper) -> None:
    """One arXiv provenance entry per paper, brought up to date (not one per refresh)."""
    incoming = fetched.provenance[0] if fetched.provenance else {"source": "arxiv"}
    for entry in paper.provenance:
        if entry.get("source") == "arxiv":
            entry.update(incoming)
            return
    paper.provenance.append(dict(incoming))


# ---------------------------------------------------------------------------------------------
# The request layer


class _Transient(Exception):
    """A failure worth another try: 429, 5xx, a timeout, a dropped connection, a bad answer."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _network_error(message: str, unreachable: bool = False) -> NetworkError:
    error = NetworkError(message)
    error.unreachable = unreachable  # type: ignore[attr-defined]
    return error


def api_url_format(api: str) -> str:
    """The ``arxiv.Client.query_url_format`` for a configured query URL."""
    return api + ("&{}" if "?" in api else "?{}")


def _retry_after(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 0.0
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _check_feed(content: bytes) -> str | None:
    """Raise ``_Transient`` unless ``content`` is an Atom feed; return arXiv's error message
    if the feed is an error report (an entry whose id is under ``/api/errors``), else None."""
    import xml.etree.ElementTree as ET

    if not content.strip():
        raise _Transient("arXiv sent an empty answer")
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        raise _Transient("arXiv's answer is not valid XML") from None
    if root.tag != f"{ATOM}feed":
        raise _Transient("arXiv's answer is not an Atom feed")
    for entry in root.iter(f"{ATOM}entry"):
        entry_id = entry.findtext(f"{ATOM}id") or ""
        if "/api/errors" in entry_id:
            return clean_text(entry.findtext(f"{ATOM}summary")) or "error"
    return None


class _Pacer:
    """Keeps requests ``delay`` seconds apart, in this process and across processes (through
    the modification time of a stamp file in the cache directory; best effort)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.last = 0.0  # time.time() of this process's last request
        self.stamp: Path | None = None
        if delay > 0:
            from papercli.config import cache_root

            self.stamp = cache_root() / "arxiv-last-request"

    def wait(self) -> None:
        if self.delay <= 0:
            return
        last = self.last
        if self.stamp is not None:
            try:
                last = max(last, self.stamp.stat().st_mtime)
            except OSError:
                pass
        pause = self.delay - (time.time() - last)
        if 0 < pause <= self.delay:
            time.sleep(pause)
        self.mark()

    def mark(self) -> None:
        self.last = time.time()
        if self.stamp is not None:
            try:
                self.stamp.parent.mkdir(parents=True, exist_ok=True)
                self.stamp.touch()
                os.utime(self.stamp, (self.last, self.last))
            except OSError:
                pass


@functools.cache
def _client_class() -> type[Any]:
    """``arxiv.Client`` with papercli's request layer (built on first use: imports arxiv)."""
    import logging

    import arxiv
    import requests
    import urllib3

    # arXiv's blank and error entries make the parser log warnings; papercli reports missing
    # ids itself, and Python's last-resort handler would print them on stderr.
    logging.getLogger("arxiv").addHandler(logging.NullHandler())
    logging.getLogger("arxiv").propagate = False

    class PapercliClient(arxiv.Client):  # type: ignore[misc]
        def __init__(self, settings: Settings) -> None:
            super().__init__(
                page_size=BATCH_SIZE,
                delay_seconds=settings.arxiv_delay,
                num_retries=max(settings.arxiv_retries, 0),
            )
            self.query_url_format = api_url_format(settings.arxiv_api)
            self.timeout = settings.arxiv_timeout
            self.api = settings.arxiv_api
            self.pacer = _Pacer(settings.arxiv_delay)
            self.host = urlsplit(settings.arxiv_api).netloc or settings.arxiv_api
            from papercli import __version__

            self.user_agent = f"papercli/{__version__} ({arxiv._USER_AGENT})"

        def close(self) -> None:
            self._session.close()

        def fetch_batch(self, batch: list[str]) -> dict[str, Paper]:
            """Base id -> Paper for the ids of ``batch`` that arXiv knows (one request)."""
            search = arxiv.Search(id_list=batch, max_results=len(batch))
            stamp = timestamp()
            found: dict[str, Paper] = {}
            for item in self.results(search):
                paper = paper_from_result(item, stamp)
                if paper is not None and paper.arxiv_id in batch:
                    found.setdefault(paper.arxiv_id, paper)
            return found

        def _parse_feed(self, url: str, first_page: bool = True, _try_index: int = 0) -> Any:
            """Replaces the package's request-and-retry step (see the module's docstring)."""
            from arxiv import _feed

            attempt = 0
            while True:
                self.pacer.wait()
                try:
                    feed = _feed.parse(self._get(url))
                    if feed.malformed:
                        raise _Transient("arXiv's answer could not be read")
                    # An id_list batch fits in one page: blank entries for unknown ids (the
                    # legacy backend) still count in totalResults, and must not make the
                    # package ask for a second page.
                    feed.header.total_results = len(feed.results)
                    return feed
                except _Transient as exc:
                    if attempt >= self.num_retries:
                        tries = f" (tried {attempt + 1} times)" if attempt else ""
                        raise _network_error(f"{exc}{tries}") from None
                    pause = max(exc.retry_after, self.delay_seconds * 2**attempt)
                    time.sleep(pause)
                    attempt += 1

        def _get(self, url: str) -> bytes:
            """One request, done within ``timeout`` seconds overall: a server that sends one
            byte a second would keep each socket read within its own timeout forever."""
            import threading

            outcome: dict[str, Any] = {}

            def work() -> None:
                try:
                    outcome["content"] = self._get_following(url)
                except BaseException as exc:  # handed to the waiting thread
                    outcome["error"] = exc

            worker = threading.Thread(target=work, daemon=True)
            worker.start()
            worker.join(self.timeout)
            if worker.is_alive():
                raise _Transient(f"arXiv ({self.host}) did not answer within {self.timeout:g} s")
            if "error" in outcome:
                raise outcome["error"]
            content: bytes = outcome["content"]
            return content

        def _get_following(self, url: str) -> bytes:
            """Redirects are followed only within the same origin (scheme, host, port)."""
            for _ in range(MAX_REDIRECTS + 1):
                content, location = self._get_once(url)
                if location is None:
                    return content
                target = urljoin(url, location)
                if _origin(target) != _origin(url):
                    raise _network_error(
                        f"arXiv ({self.host}) redirected to another site ({_origin(target)}): "
                        "not followed; check PAPERCLI_ARXIV_API / [arxiv] api"
                    )
                url = target
            raise _network_error(f"arXiv ({self.host}) redirected more than {MAX_REDIRECTS} times")

        def _get_once(self, url: str) -> tuple[bytes, str | None]:
            try:
                response = self._session.get(
                    url,
                    headers={"user-agent": self.user_agent},
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                )
            except requests.Timeout:
                raise _Transient(
                    f"arXiv ({self.host}) did not answer within {self.timeout:g} s"
                ) from None
            except requests.ConnectionError as exc:
                reason = getattr(exc.args[0] if exc.args else None, "reason", None)
                if isinstance(reason, urllib3.exceptions.NameResolutionError):
                    raise _network_error(
                        f"cannot reach arXiv: host {self.host} not found (no network?)", True
                    ) from None
                if isinstance(reason, urllib3.exceptions.NewConnectionError):
                    raise _network_error(
                        f"cannot reach arXiv at {self.host}: connection refused or no network",
                        True,
                    ) from None
                raise _Transient(f"the connection to arXiv ({self.host}) failed") from None
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema,
                requests.exceptions.URLRequired,
            ) as exc:
                raise bad_api(self.api, str(exc)) from None
            except requests.RequestException as exc:
                raise _network_error(f"cannot query arXiv at {self.host}: {exc}") from None
            except ValueError as exc:  # requests rejects the timeout or the URL before sending
                raise UsageError(
                    f"{API_SETTING} {self.api!r} or PAPERCLI_ARXIV_TIMEOUT / [arxiv] timeout "
                    f"{self.timeout!r} cannot be used: {exc}"
                ) from None
            with response:
                status = response.status_code
                if status in (301, 302, 303, 307, 308) and response.headers.get("location"):
                    return b"", response.headers["location"]
                content = _capped_body(response, self.host)
                if status == 429 or status >= 500:
                    raise _Transient(
                        f"arXiv answered HTTP {status}",
                        _retry_after(response.headers.get("Retry-After")),
                    )
            if status != 200:
                try:
                    message = _check_feed(content)
                except _Transient:
                    message = None
                detail = f": {message}" if message else ""
                raise _network_error(f"arXiv answered HTTP {status}{detail}")
            message = _check_feed(content)
            if message:
                raise _network_error(f"arXiv refused the request: {message}")
            return content, None

    return PapercliClient


MAX_REDIRECTS = 3
# An answer for a batch of 100 papers is about 300 KB; anything far larger is not arXiv's.
MAX_ANSWER_BYTES = 20 * 1024 * 1024


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0)
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


def _capped_body(response: Any, host: str) -> bytes:
    """The decoded body, refused past ``MAX_ANSWER_BYTES`` (a small gzip can unpack to
    gigabytes)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise _network_error(
                f"arXiv ({host}) sent more than {MAX_ANSWER_BYTES // (1024 * 1024)} MB: "
                "not an answer papercli reads"
            )
        chunks.append(chunk)
    return b"".join(chunks)


API_SETTING = "PAPERCLI_ARXIV_API / [arxiv] api"


def bad_api(api: str, detail: str = "") -> UsageError:
    """The error for a query URL no request can use, naming where it is set."""
    return UsageError(
        f"{API_SETTING} is not an http(s) URL: {api!r}" + (f" ({detail})" if detail else "")
    )


def check_settings(settings: Settings) -> None:
    """Raise ``UsageError`` naming the setting when the arXiv settings cannot make a request
    (``config.load_settings`` validates them too; this guards any other ``Settings``)."""
    api = settings.arxiv_api
    try:
        parts = urlsplit(api)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # a bad port raises
    except ValueError as exc:
        raise bad_api(api, str(exc)) from None
    if not usable:
        raise bad_api(api)
    timeout = settings.arxiv_timeout
    if not math.isfinite(timeout) or timeout <= 0:
        raise UsageError(
            f"PAPERCLI_ARXIV_TIMEOUT / [arxiv] timeout must be a positive number of seconds: "
            f"{timeout!r}"
        )
    delay = settings.arxiv_delay
    if not math.isfinite(delay) or delay < 0:
        raise UsageError(
            f"PAPERCLI_ARXIV_DELAY / [arxiv] delay must be 0 or more seconds: {delay!r}"
        )


def make_client(settings: Settings) -> Any:
    """A ready ``arxiv.Client`` subclass with ``fetch_batch(ids)`` and ``close()``.
    Raises ``UsageError`` when the settings cannot make a request."""
    check_settings(settings)
    return _client_class()(settings)
