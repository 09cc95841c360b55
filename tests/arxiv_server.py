"""A stand-in for arXiv's query API on 127.0.0.1, for tests.

It answers ``id_list`` queries with Atom feeds in arXiv's real format, built from the entry files
in ``tests/fixtures/arxiv/<style>/`` (one ``<entry>`` per file, named by id with ``/`` as ``_``).
Two styles, as arXiv has served both:

- ``new`` (since late 2025): namespaces declared once on the feed, links without rel/title
  attributes, unknown ids simply absent (``totalResults`` counts only the found ones);
- ``legacy``: inline ``xmlns`` on every arxiv/opensearch element, wrapped titles and abstracts,
  and a blank ``<entry>`` for each unknown id that still counts in ``totalResults``.

Misbehaviour is scripted: ``server.script`` is a list of actions taken by the next requests, one
each (``("status", 503)``, ``("status", 429, {"Retry-After": "0"})``, ``("status", 400, {},
body)``, ``("hang", seconds)``, ``("body", b"garbage")``, ``("drop",)``), after which
requests are answered normally. Ids in ``server.reject`` get arXiv's HTTP 400 error feed.
``server.requests`` records each request's query arguments, ``server.times`` when it came.

Usage::

    with ArxivServer() as server:
        env = {"PAPERCLI_ARXIV_API": server.url}
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "arxiv"
UPDATED = "2026-01-15T12:00:00Z"

_NEW_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
    "  <id>https://arxiv.org/api/papercli-test</id>\n"
    "  <title>arXiv Query: {query}</title>\n"
    f"  <updated>{UPDATED}</updated>\n"
    '  <link href="https://arxiv.org/api/query?{query}" type="application/atom+xml"/>\n'
    "  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>\n"
    "  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
    "  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
)
_OS = 'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
_LEGACY_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<feed xmlns="http://www.w3.org/2005/Atom">\n'
    '  <link href="http://arxiv.org/api/query?{query}" rel="self" '
    'type="application/atom+xml"/>\n'
    '  <title type="html">ArXiv Query: {query}</title>\n'
    "  <id>http://arxiv.org/api/papercli-test</id>\n"
    "  <updated>2026-01-15T00:00:00-05:00</updated>\n"
    f"  <opensearch:totalResults {_OS}>{{total}}</opensearch:totalResults>\n"
    f"  <opensearch:startIndex {_OS}>{{start}}</opensearch:startIndex>\n"
    f"  <opensearch:itemsPerPage {_OS}>{{per_page}}</opensearch:itemsPerPage>\n"
)
_LEGACY_BLANK = (
    "  <entry>\n"
    '    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="" '
    'scheme="http://arxiv.org/schemas/atom"/>\n'
    '    <category term="" scheme="http://arxiv.org/schemas/atom"/>\n'
    "  </entry>\n"
)


def entry_file(style: str, base: str) -> Path:
    return FIXTURES / style / (base.replace("/", "_") + ".xml")


def error_feed(bad_id: str) -> bytes:
    """arXiv's answer to a malformed id: HTTP 400 with one entry titled Error."""
    slug = bad_id.replace(" ", "_")
    return (
        _NEW_HEAD.format(query="", per_page=1, total=1, start=0) + "  <entry>\n"
        f"    <id>https://arxiv.org/api/errors#incorrect_id_format_for_{escape(slug)}</id>\n"
        "    <title>Error</title>\n"
        f"    <updated>{UPDATED}</updated>\n"
        f'    <link href="https://arxiv.org/api/errors#incorrect_id_format_for_{escape(slug)}" '
        'rel="alternate" type="text/html"/>\n'
        f"    <summary>incorrect id format for {escape(bad_id)}</summary>\n"
        "    <author>\n      <name>arXiv api core</name>\n    </author>\n"
        "  </entry>\n</feed>\n"
    ).encode()


class ArxivServer:
    """A threaded HTTP server on 127.0.0.1, port chosen by the system."""

    def __init__(self, style: str = "new") -> None:
        self.style = style
        self.script: list[tuple[Any, ...]] = []
        self.reject: set[str] = set()
        self.requests: list[dict[str, str]] = []
        self.times: list[float] = []  # time.monotonic() of each request
        self._stop = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/api/query"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> ArxivServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)

    # -- building answers -------------------------------------------------------------------

    def feed(self, ids: list[str], query: str, start: int = 0, per_page: int = 10) -> bytes:
        entries: list[str] = []
        found = 0
        for raw in ids:
            base = re.sub(r"v\d+$", "", raw)
            path = entry_file(self.style, base)
            if path.is_file():
                entries.append(path.read_text(encoding="utf-8"))
                found += 1
            elif self.style == "legacy":
                entries.append(_LEGACY_BLANK)
        total = len(ids) if self.style == "legacy" else found
        entries = entries[start:]
        head = _NEW_HEAD if self.style == "new" else _LEGACY_HEAD
        text = head.format(query=escape(query), per_page=per_page, total=total, start=start)
        return (text + "".join(entries) + "</feed>\n").encode("utf-8")

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        args = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:
            self.requests.append(args)
            self.times.append(time.monotonic())
            action = self.script.pop(0) if self.script else ("ok",)
        kind = action[0]
        if kind == "hang":
            self._stop.wait(action[1])
            if len(action) < 3:
                return self._send(handler, *self._answer(args, parts.query))
            return None
        if kind == "drop":
            handler.close_connection = True
            handler.connection.close()
            return None
        if kind == "status":
            headers = action[2] if len(action) > 2 else {}
            if len(action) > 3:
                return self._send(handler, action[1], action[3], extra=headers)
            body = b"<html><body>Service unavailable</body></html>"
            return self._send(handler, action[1], body, "text/html", headers)
        if kind == "body":
            return self._send(handler, 200, action[1])
        return self._send(handler, *self._answer(args, parts.query))

    def _answer(self, args: dict[str, str], query: str) -> tuple[int, bytes]:
        ids = [i for i in args.get("id_list", "").split(",") if i]
        for raw in ids:
            if raw in self.reject:
                return 400, error_feed(raw)
        start = int(args.get("start", "0") or 0)
        per_page = int(args.get("max_results", "10") or 10)
        return 200, self.feed(ids, query, start, per_page)

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str = "application/atom+xml; charset=utf-8",
        extra: dict[str, str] | None = None,
    ) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # the client gave up (a timeout test)
            pass

    def ids_requested(self) -> list[list[str]]:
        """The id_list of each request, in order."""
        return [r.get("id_list", "").split(",") for r in self.requests]


def running(style: str = "new") -> Iterator[ArxivServer]:
    """For a pytest fixture: ``yield from running()``."""
    with ArxivServer(style) as server:
        yield server
