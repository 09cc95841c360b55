"""Writing paper files as TOML people like to read and edit: one field a line, short lists on one
line, long text as multi-line strings, notes and provenance as ``[[notes]]`` sections, times as
``2026-11-22T15:55:00Z``. tomli_w does the escaping of every value; this module only lays them
out. A file a person wrote comments in is rewritten by ``papercli.tomlkeep`` instead, so the
comments survive. Reading is rtoml's job (library.parse_paper_bytes). No I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import tomli_w

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ONE_LINE = 88


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _scalar(name, multiline=False)


# What tomli_w escapes in a basic string: a string without any of these is written as is.
_ESCAPED = re.compile(r'["\\\x00-\x1f\x7f]')


def _scalar(value: Any, multiline: bool = True) -> str:
    if isinstance(value, str) and not _ESCAPED.search(value):
        return f'"{value}"'  # the common case, without a tomli_w call (a third of an import)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dt.datetime) and value.utcoffset() == dt.timedelta(0):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = tomli_w.dumps({"v": value}, multiline_strings=multiline)
    return text[len("v = ") :].rstrip("\n")


def _is_plain(value: Any) -> bool:
    """True for what fits on ``key = value`` lines: not a table, not an array of tables."""
    if isinstance(value, dict):
        return False
    if isinstance(value, list):
        return all(_is_plain(v) and not isinstance(v, list) for v in value)
    return True


def _value(value: Any) -> str:
    if isinstance(value, list):
        items = [_scalar(v, multiline=False) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if len(one_line) <= _ONE_LINE:
            return one_line
        return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
    return _scalar(value)


def _lines(table: dict[str, Any]) -> str:
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in table.items())


def dumps(document: dict[str, Any], sections: tuple[str, ...] = ("provenance", "notes")) -> str:
    """Lay out ``document``; ``sections`` (arrays of flat tables) become ``[[name]]`` blocks.

    Anything this layout cannot express simply (nested tables inside notes, say) is handed to
    tomli_w whole, so no data is ever dropped.
    """
    plain = {k: v for k, v in document.items() if k not in sections and _is_plain(v)}
    tables = {k: v for k, v in document.items() if k not in sections and not _is_plain(v)}
    arrays = {k: document[k] for k in sections if k in document}
    for items in arrays.values():
        if not isinstance(items, list) or not all(
            isinstance(t, dict) and all(_is_plain(v) for v in t.values()) for t in items
        ):
            return tomli_w.dumps(document, multiline_strings=True)
    out = _lines(plain)
    if tables:
        out += "\n" + tomli_w.dumps(tables, multiline_strings=True)
    for name, items in arrays.items():
        for item in items:
            out += f"\n[[{name}]]\n" + _lines(item)
    return out


# A '#' that may start a comment: at a line's start, or after anything but a letter or '/'
# (which put it inside a word, as in C# or a URL's #fragment) or after the end of a value.
_MAYBE_COMMENT = re.compile(r"(?m)(?:^|[^/\w]|\d|true|false|Z)#")


def may_have_comments(text: str) -> bool:
    """False when ``text`` surely has no TOML comment (no '#' at all, the common case, or only
    inside words such as URL fragments and C#); True (a comment, or a string that looks like
    one) sends it through ``papercli.tomlkeep``."""
    return "#" in text and _MAYBE_COMMENT.search(text) is not None
