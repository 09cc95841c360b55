"""A stand-in for the DOI resolver's content negotiation on 127.0.0.1, for tests.

``GET /<doi>`` with ``Accept: application/vnd.citationstyles.csl+json`` answers the CSL-JSON
file ``tests/fixtures/doi/<doi with / as _>.json`` (written in the resolver's real format);
an unknown DOI gets 404, as the resolver answers. ``server.script`` scripts misbehaviour for
the next requests: ``("status", 503)``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "doi"


class DoiServer:
    def __init__(self) -> None:
        self.script: list[tuple[Any, ...]] = []
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.requests.append(self.path)
                if server.script:
                    action = server.script.pop(0)
                    self.send_response(action[1])
                    self.end_headers()
                    return
                doi = unquote(self.path.lstrip("/"))
                path = FIXTURES / (doi.replace("/", "_") + ".json")
                wants_csl = "citationstyles.csl+json" in self.headers.get("Accept", "")
                if not wants_csl or not path.is_file():
                    self.send_response(404)
                    self.end_headers()
                    self.wfile.write(b"DOI Not Found")
                    return
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.citationstyles.csl+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"

    def __enter__(self) -> DoiServer:
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
