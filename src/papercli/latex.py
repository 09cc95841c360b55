"""Which citation keys a LaTeX draft uses.

From ``.tex`` sources: every ``\\cite``-like command (natbib, biblatex, starred forms, optional
arguments, several keys, ``\\cites`` multi-citations) in the file and in the files it pulls in
with ``\\input`` and ``\\include``, comments ignored. From ``.aux`` files: the ``\\citation``
(BibTeX) and ``\\abx@aux@cite`` (biblatex) lines, following ``\\@input`` of included parts.

This module reads the draft's files and nothing else; it does not know the library.
``*`` in the result stands for ``\\nocite{*}`` (every entry).
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from papercli.errors import UsageError

# Commands whose name contains "cite" but whose argument is not a key.
_NOT_CITES = frozenset(
    {"citestyle", "citeindextrue", "citeindexfalse", "citenumfont", "bibpunct", "citeform"}
)
_COMMAND = re.compile(r"\\([A-Za-z@]+)(\*?)")
_INPUT_BARE = re.compile(r"[^\s{}%\\]+")


@dataclass
class Citations:
    """Keys in first-citation order, once each, and the pulled-in files that could not be read."""

    keys: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def add(self, key: str) -> None:
        key = key.strip()
        if key and key not in self.keys:
            self.keys.append(key)


def strip_comments(tex: str) -> str:
    """``tex`` without ``%`` comments (an escaped ``\\%`` stays) and ``comment`` environments."""
    lines = []
    for line in tex.splitlines():
        cut = len(line)
        i = line.find("%")
        while i != -1:
            backslashes = len(line[:i]) - len(line[:i].rstrip("\\"))
            if backslashes % 2 == 0:
                cut = i
                break
            i = line.find("%", i + 1)
        lines.append(line[:cut])
    text = "\n".join(lines)
    return re.sub(r"\\begin\{comment\}.*?\\end\{comment\}", "", text, flags=re.DOTALL)


def _group(text: str, pos: int, open_char: str, close_char: str) -> tuple[str, int] | None:
    """The balanced group starting at ``text[pos]`` (which must be ``open_char``) and the
    position after it, or None."""
    if pos >= len(text) or text[pos] != open_char:
        return None
    depth = 0
    for i in range(pos, len(text)):
        ch = text[i]
        if ch == "\\":
            continue
        if ch == open_char and (i == pos or text[i - 1] != "\\"):
            depth += 1
        elif ch == close_char and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[pos + 1 : i], i + 1
    return None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n":
        pos += 1
    return pos


def _cite_arguments(text: str, pos: int, multi: bool) -> tuple[list[str], int]:
    """The key arguments of a cite command whose name ends before ``pos``: optional ``[..]``
    and ``(..)`` arguments are skipped; a multi-cite (``\\cites``) takes every ``{..}``."""
    found: list[str] = []
    while True:
        pos = _skip_space(text, pos)
        if pos < len(text) and text[pos] in "[(":
            group = _group(text, pos, text[pos], "]" if text[pos] == "[" else ")")
            if group is None:
                return found, pos
            pos = group[1]
            continue
        group = _group(text, pos, "{", "}")
        if group is None:
            return found, pos
        found.append(group[0])
        pos = group[1]
        if not multi:
            return found, pos


def _is_cite(name: str) -> bool:
    return name == "nocite" or ("cite" in name.lower() and name not in _NOT_CITES)


def _scan_tex(path: Path, root: Path, result: Citations, seen: set[Path]) -> None:
    """Scan one source file; ``\\input`` paths are relative to ``root`` (the main file's
    directory, where LaTeX runs), not to the file that names them."""
    resolved = path.resolve()
    if resolved in seen:
        return
    seen.add(resolved)
    try:
        tex = strip_comments(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        result.unreadable.append(str(path))
        return
    for match in _COMMAND.finditer(tex):
        name = match.group(1)
        if name in ("input", "include", "subfile"):
            pos = _skip_space(tex, match.end())
            group = _group(tex, pos, "{", "}")
            if group is not None:
                target = group[0].strip()
            else:
                bare = _INPUT_BARE.match(tex, pos)
                if bare is None:
                    continue
                target = bare.group(0)
            _scan_tex(_tex_path(root, target), root, result, seen)
        elif _is_cite(name):
            multi = name.endswith("cites")
            arguments, _ = _cite_arguments(tex, match.end(), multi)
            for argument in arguments:
                for key in argument.split(","):
                    result.add(key)


def _tex_path(base: Path, target: str) -> Path:
    """Where ``\\input{target}`` reads from: ``target.tex`` when it exists, as LaTeX does."""
    with_tex = base / f"{target}.tex"
    try:
        return with_tex if with_tex.is_file() else base / target
    except OSError:  # e.g. a name too long for the file system: reading it will fail too
        return base / target


_AUX_CITATION = re.compile(r"\\citation\{([^}]*)\}")
_AUX_BIBLATEX = re.compile(r"\\abx@aux@cite(?:\{[^}]*\})?\{([^}]*)\}")
_AUX_INPUT = re.compile(r"\\@input\{([^}]*)\}")


def _scan_aux(path: Path, result: Citations, seen: set[Path]) -> None:
    resolved = path.resolve()
    if resolved in seen:
        return
    seen.add(resolved)
    try:
        aux = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        result.unreadable.append(str(path))
        return
    for line in aux.splitlines():
        for match in _AUX_CITATION.finditer(line):
            for key in match.group(1).split(","):
                result.add(key)
        for match in _AUX_BIBLATEX.finditer(line):
            result.add(match.group(1))
        for match in _AUX_INPUT.finditer(line):
            _scan_aux(path.parent / match.group(1), result, seen)


def _check_draft(path: Path) -> None:
    """Raise ``UsageError`` unless ``path`` is an existing regular file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UsageError(f"--cited {path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"--cited {path}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"--cited {path} is a directory: name a .tex or .aux file")
    if not stat.S_ISREG(mode):
        raise UsageError(f"--cited {path} is not a regular file: name a .tex or .aux file")


def cited_keys(paths: list[Path]) -> Citations:
    """The keys cited by the given ``.tex`` or ``.aux`` files, in first-citation order.

    Raises ``UsageError`` when a named file is missing, is not a regular file, or is neither
    ``.tex`` nor ``.aux``. A file pulled in by ``\\input`` that cannot be read is listed in
    ``unreadable``.
    """
    result = Citations()
    seen: set[Path] = set()
    for path in paths:
        _check_draft(path)
        suffix = path.suffix.lower()
        if suffix == ".aux":
            _scan_aux(path, result, seen)
        elif suffix in (".tex", ".ltx", ".latex"):
            _scan_tex(path, path.parent, result, seen)
        else:
            raise UsageError(f"--cited {path}: give a .tex draft or the .aux file LaTeX wrote")
    return result
