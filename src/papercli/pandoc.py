"""Which citation keys a Markdown draft (pandoc, Quarto, R Markdown) uses.

Pandoc's citation syntax: ``[@key]``, ``[see @a, p. 3; -@b]``, ``@key`` in running text,
``{@key}`` and ``@{odd key}`` for keys with unusual characters, and keys listed in the YAML
front matter's ``nocite:`` (``@*`` for every entry). What pandoc does not read as citations is
skipped: fenced and indented code, inline code spans, e-mail addresses, URLs and link targets,
``\\@``. A key ends before trailing punctuation (``@doe99.`` cites ``doe99``).

Written by hand: Markdown parsers (markdown-it-py, which papercli uses for reading lists)
do not know pandoc's citation extension; this only needs to know where code and links are.
No I/O.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^( {0,3})(`{3,}+|~{3,}+)[^\n]*+\n.*?(?:^\1?\2[`~]*+[ \t]*$|\Z)", re.M | re.S)
_INDENTED = re.compile(r"(?:(?<=\n\n)|\A)(?:(?: {4}|\t)[^\n]*\n?)+")
_TICKS = re.compile(r"`+")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_URL = re.compile(r"(?:https?|ftp|mailto|file)://\S+|<[^<>\s]+>|\]\([^)\n\]]{0,2000}\)")
# A citation: '@' not preceded by a word character or a backslash, then a braced key or a key
# of letters, digits, '_' and inner punctuation pandoc allows.
_CITE = re.compile(r"\{-?@([^{}\n]+)\}|(?<![\w\\@])-?@(?:\{([^{}\n]+)\}|([\w][\w:.#$%&+?<>~/-]*))")
_TRAILING = ":.#$%&-+?<>~/"


def _blank(match: re.Match[str]) -> str:
    """The matched text replaced by spaces, its newlines kept (so lines stay lines)."""
    return re.sub(r"[^\n]", " ", match.group(0))


def _without_code_spans(text: str) -> str:
    """``text`` with inline code blanked: a run of n backticks opens a span that the next run
    of exactly n closes (in one pass over the runs, so no input makes it slow)."""
    runs = [(m.start(), m.end()) for m in _TICKS.finditer(text)]
    if not runs:
        return text
    later: dict[int, list[int]] = {}  # run length -> indexes of runs, in order
    for i, (start, end) in enumerate(runs):
        later.setdefault(end - start, []).append(i)
    used = dict.fromkeys(later, 0)  # how far into each list has been consumed
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(runs):
        start, end = runs[i]
        length = end - start
        indexes = later[length]
        while used[length] < len(indexes) and indexes[used[length]] <= i:
            used[length] += 1
        if used[length] >= len(indexes):
            i += 1
            continue  # no closing run: literal backticks
        closer = indexes[used[length]]
        used[length] += 1
        close_end = runs[closer][1]
        out.append(text[pos:start])
        out.append(re.sub(r"[^\n]", " ", text[start:close_end]))
        pos = close_end
        i = closer + 1
    out.append(text[pos:])
    return "".join(out)


def _keys_in(text: str) -> list[str]:
    keys: list[str] = []
    for match in _CITE.finditer(text):
        braced = match.group(1) or match.group(2)
        key = braced if braced is not None else match.group(3).rstrip(_TRAILING)
        key = key.strip()
        if key and key not in keys:
            keys.append(key)
    return keys


def cited_in_markdown(text: str) -> list[str]:
    """The keys a pandoc Markdown draft cites, in first-use order (``*`` for ``nocite: @*``)."""
    keys: list[str] = []
    front = _FRONT.match(text)
    if front is not None:
        nocite = re.search(r"^nocite:[ \t]*(.*(?:\n[ \t]+.*)*)", front.group(1), re.M)
        if nocite is not None:
            keys.extend("*" if k == "*" else k for k in _keys_in(nocite.group(1)))
            if re.search(r"(?<![\w\\])@\*", nocite.group(1)):
                keys.append("*")
        text = text[front.end() :]
    text = _FENCE.sub(_blank, text)
    text = _INDENTED.sub(_blank, text)
    text = _without_code_spans(text)
    text = _URL.sub(_blank, text)
    for key in _keys_in(text):
        if key not in keys:
            keys.append(key)
    return keys
