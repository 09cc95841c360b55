"""Reading the documents people import (reading lists, post dumps, .bib files).

UTF-8 (with or without a byte-order mark) is read as is; anything else is read as Windows-1252,
the usual culprit, and said so, so the importers can repair what they can. ``-`` is standard
input. No parsing here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from papercli.errors import UsageError


def read_document(path: Path) -> tuple[str, str]:
    """The text of ``path`` and a remark ('' or how it was decoded). Raises ``UsageError``
    naming the file when it cannot be read."""
    if str(path) == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise UsageError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise UsageError(f"{path} is a directory: name a file") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), f"{path}: not UTF-8, read as Windows-1252"
