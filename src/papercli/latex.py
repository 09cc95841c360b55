"""Which citation keys a LaTeX draft uses.

From ``.tex`` sources: every ``\\cite``-like command (natbib, biblatex, starred forms, optional
arguments, several keys, ``\\cites`` multi-citations) in the file and in the files it pulls in
with ``\\input``, ``\\include``, ``\\subfile`` and ``\\import``/``\\subimport``. What LaTeX
would not typeset is not read: ``%`` comments, ``verbatim``, ``lstlisting``, ``minted``,
``comment`` (and similar) environments, ``\\verb`` and ``\\iffalse … \\fi``. A macro definition
(``\\newcommand``, ``\\def``, ``\\DeclareRobustCommand``, ...) is not a citation, but each use
of a macro whose body cites (``\\newcommand{\\mycite}[1]{\\citep{#1}}``) cites what the use
gives it. From ``.aux`` files: the ``\\citation`` (BibTeX) and ``\\abx@aux@cite`` (biblatex)
lines, following ``\\@input`` of included parts.

Written by hand: a LaTeX parser (pylatexenc) reads a whole document's structure, slowly, and
knows nothing of which macros cite; this reads only what citations need, in one pass a file.
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
    {"citestyle", "citeindextrue", "citeindexfalse", "citenumfont", "bibpunct", "citeform",
     "citesetup", "citereset", "citetrackerfalse", "citetrackertrue", "citepunct",
     "defcitealias", "citeindextype"}
)  # fmt: skip
_DEFINERS = re.compile(r"^(?:Declare|declare|new|renew|provide|Provide|Renew|New)")
_COMMAND = re.compile(r"\\([A-Za-z@]+)(\*?)")
_INPUT_BARE = re.compile(r"[^\s{}%\\]+")
# Environments whose content LaTeX does not read as LaTeX (or not at all).
_VERBATIM_ENVS = (
    "verbatim", "Verbatim", "BVerbatim", "LVerbatim", "lstlisting", "minted", "comment",
    "filecontents", "filecontents*", "verbatim*", "Verbatim*", "spverbatim", "alltt*",
)  # fmt: skip
_VERBATIM = re.compile(
    r"\\begin\s*\{(" + "|".join(re.escape(e) for e in _VERBATIM_ENVS) + r")\}.*?\\end\s*\{\1\}",
    re.DOTALL,
)
_VERB = re.compile(r"\\(?:verb|lstinline|mintinline\{[^}]*\})\*?([^A-Za-z\s{])(.*?)\1")
_MAX_DEPTH = 64  # \input nesting and macro expansion, as LaTeX's own limits would stop them
_MAX_FILES = 2000


@dataclass
class Citations:
    """Keys in first-citation order, once each, and the pulled-in files that could not be read."""

    keys: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # every file read (--watch follows them)

    def add(self, key: str) -> None:
        key = key.strip()
        if key and key not in self.keys and "#" not in key:
            self.keys.append(key)


def strip_comments(tex: str) -> str:
    """``tex`` without ``%`` comments (an escaped ``\\%`` stays), verbatim-like environments,
    ``\\verb`` text and ``\\iffalse … \\fi`` blocks."""
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
    text = _VERBATIM.sub("", text)
    text = _VERB.sub("", text)
    return _strip_iffalse(text)


_IF_OR_FI = re.compile(r"\\(iffalse|if[A-Za-z@]*|fi)(?![A-Za-z@])")


def _strip_iffalse(text: str) -> str:
    """``text`` without ``\\iffalse … \\fi`` (nested conditionals inside counted)."""
    if "\\iffalse" not in text:
        return text
    out: list[str] = []
    pos = 0
    for match in re.finditer(r"\\iffalse(?![A-Za-z@])", text):
        if match.start() < pos:
            continue
        out.append(text[pos : match.start()])
        depth = 0
        end = len(text)
        for token in _IF_OR_FI.finditer(text, match.start()):
            depth += -1 if token.group(1) == "fi" else 1
            if depth == 0:
                end = token.end()
                break
        pos = end
    out.append(text[pos:])
    return "".join(out)


class _Pairs:
    """Where each ``{`` (or ``[``, ``(``) of one text closes, found in one pass per kind (the
    last text asked about is kept): a draft with thousands of unclosed ``\\cite{`` or
    ``\\cite[`` must not be rescanned from each."""

    text: str | None = None
    closing: dict[str, dict[int, int]] = {}

    @classmethod
    def close_of(cls, text: str, pos: int, open_char: str, close_char: str) -> int | None:
        if cls.text is not text:
            cls.text, cls.closing = text, {}
        if open_char not in cls.closing:
            closing: dict[int, int] = {}
            stack: list[int] = []
            pattern = "(?<!\\\\)[" + re.escape(open_char + close_char) + "]"
            for match in re.finditer(pattern, text):
                if match.group(0) == open_char:
                    stack.append(match.start())
                elif stack:
                    closing[stack.pop()] = match.start()
            cls.closing[open_char] = closing
        return cls.closing[open_char].get(pos)


def _group(text: str, pos: int, open_char: str, close_char: str) -> tuple[str, int] | None:
    """The balanced group starting at ``text[pos]`` (which must be ``open_char``) and the
    position after it, or None."""
    if pos >= len(text) or text[pos] != open_char:
        return None
    end = _Pairs.close_of(text, pos, open_char, close_char)
    return (text[pos + 1 : end], end + 1) if end is not None else None


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
    if name == "nocite":
        return True
    return "cite" in name.lower() and name not in _NOT_CITES and not _DEFINERS.match(name)


_NEWCOMMANDS = frozenset({"newcommand", "renewcommand", "providecommand", "DeclareRobustCommand"})
_DEFS = frozenset({"def", "gdef", "edef", "xdef"})
_DOCUMENT_COMMANDS = frozenset(
    {"NewDocumentCommand", "RenewDocumentCommand", "ProvideDocumentCommand",
     "DeclareDocumentCommand", "NewExpandableDocumentCommand"}
)  # fmt: skip
_INPUTS = frozenset({"input", "include", "subfile", "import", "subimport", "inputfrom",
                     "subinputfrom", "includefrom", "subincludefrom"})  # fmt: skip


@dataclass
class _Macro:
    """A user macro whose body cites: its arguments (``m`` mandatory, ``o`` optional) and,
    for ``\\newcommand``'s optional first argument, its default."""

    args: str
    body: str
    default: str = ""


class _Scanner:
    """One pass over a draft, file by file in document order, as LaTeX reads it."""

    def __init__(self, root: Path, result: Citations) -> None:
        self.root = root
        self.result = result
        self.seen: set[Path] = set()
        self.macros: dict[str, _Macro] = {}
        self.plain: set[str] = set()  # user macros that do not cite (\\noncite{x})

    def scan_file(self, path: Path, depth: int) -> None:
        """Scan one source file; ``\\input`` paths are relative to the main file's directory
        (where LaTeX runs), not to the file that names them."""
        if depth > _MAX_DEPTH or len(self.seen) >= _MAX_FILES:
            raise UsageError(
                f"{path}: \\input files nest more than {_MAX_DEPTH} deep or number more than "
                f"{_MAX_FILES}; is there a loop of \\input commands?"
            )
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):
            self.result.unreadable.append(str(path))
            return
        if resolved in self.seen:
            return
        self.seen.add(resolved)
        text = _read_source(path)
        if text is None:
            self.result.unreadable.append(str(path))
            return
        self.scan_text(strip_comments(text), depth, path.parent)

    def scan_text(self, tex: str, depth: int, here: Path) -> None:
        pos = 0
        while True:
            match = _COMMAND.search(tex, pos)
            if match is None:
                return
            name = match.group(1)
            pos = match.end()
            if name in _NEWCOMMANDS or name in _DEFS or name in _DOCUMENT_COMMANDS:
                pos = self._define(tex, name, pos)
            elif name in _INPUTS:
                pos = self._input(tex, name, pos, depth, here)
            elif name in self.macros:  # before the name test: \\twocite{a}{b} is a macro
                if depth > _MAX_DEPTH:
                    continue  # a macro that uses itself: LaTeX would not finish either
                expanded, pos = self._expand(self.macros[name], tex, pos)
                self.scan_text(expanded, depth + 1, here)
            elif _is_cite(name) and name not in self.plain:
                multi = name.endswith("cites")
                arguments, pos = _cite_arguments(tex, pos, multi)
                for argument in arguments:
                    for key in argument.split(","):
                        self.result.add(key)

    def _define(self, tex: str, kind: str, pos: int) -> int:
        """Record a macro definition that cites; returns the position after it."""
        pos = _skip_space(tex, pos)
        if pos < len(tex) and tex[pos] == "*":
            pos = _skip_space(tex, pos + 1)
        group = _group(tex, pos, "{", "}")
        if group is not None:
            target, pos = group[0].strip(), group[1]
        else:
            token = _COMMAND.match(tex, pos)
            if token is None:
                return pos
            target, pos = token.group(0), token.end()
        name = target.lstrip("\\").rstrip("*")
        args, default = "", ""
        if kind in _DEFS:
            params = re.match(r"[^{]*", tex[pos:])
            assert params is not None
            args = "m" * len(re.findall(r"#\d", params.group(0)))
            pos += params.end()
        elif kind in _DOCUMENT_COMMANDS:
            spec = _group(tex, _skip_space(tex, pos), "{", "}")
            if spec is None:
                return pos
            args = "".join(c for c in re.sub(r"\{[^}]*\}", "", spec[0]) if c in "mo")
            pos = spec[1]
        else:
            count = _group(tex, _skip_space(tex, pos), "[", "]")
            if count is not None:
                pos = count[1]
                n = int(count[0]) if count[0].strip().isdigit() else 0
                option = _group(tex, _skip_space(tex, pos), "[", "]")
                if option is not None and n:
                    default, pos = option[0], option[1]
                    args = "o" + "m" * (n - 1)
                else:
                    args = "m" * n
        body = _group(tex, _skip_space(tex, pos), "{", "}")
        if body is None:
            return pos
        if self._cites(body[0]):
            self.macros[name] = _Macro(args, body[0], default)
            self.plain.discard(name)
        else:
            self.macros.pop(name, None)  # redefined as something that does not cite
            self.plain.add(name)
        return body[1]

    def _cites(self, body: str) -> bool:
        return any(
            _is_cite(m.group(1)) or m.group(1) in self.macros for m in _COMMAND.finditer(body)
        )

    def _expand(self, macro: _Macro, tex: str, pos: int) -> tuple[str, int]:
        """The macro's body with the arguments of its use at ``pos`` put in."""
        values: list[str] = []
        for kind in macro.args:
            at = _skip_space(tex, pos)
            if kind == "o":
                group = _group(tex, at, "[", "]")
                if group is None:
                    values.append(macro.default)
                    continue
            else:
                group = _group(tex, at, "{", "}")
                if group is None:
                    token = re.compile(r"\\[A-Za-z@]+|\S").match(tex, at)
                    group = (token.group(0), token.end()) if token else ("", at)
            values.append(group[0])
            pos = group[1]
        body = re.sub(
            r"#(\d)",
            lambda m: values[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(values) else "",
            macro.body,
        )
        return body, pos

    def _input(self, tex: str, name: str, pos: int, depth: int, here: Path) -> int:
        """Follow ``\\input{f}``, ``\\include{f}``, ``\\subfile{f}`` and the import
        package's ``\\import{dir}{f}`` (``\\subimport``: ``dir`` relative to this file)."""
        targets: list[str] = []
        count = 2 if name in ("import", "subimport", "inputfrom", "subinputfrom",
                              "includefrom", "subincludefrom") else 1  # fmt: skip
        for _ in range(count):
            at = _skip_space(tex, pos)
            if at < len(tex) and tex[at] == "*":
                at = _skip_space(tex, at + 1)
            group = _group(tex, at, "{", "}")
            if group is not None:
                targets.append(group[0].strip())
                pos = group[1]
                continue
            bare = _INPUT_BARE.match(tex, at)
            if bare is None or count == 2:
                return pos
            targets.append(bare.group(0))
            pos = bare.end()
        if count == 2:
            base = here if name.startswith("sub") else self.root
            directory = Path(targets[0]) if Path(targets[0]).is_absolute() else base / targets[0]
            self.scan_file(_tex_path(directory, targets[1]), depth + 1)
        else:
            self.scan_file(_tex_path(self.root, targets[0]), depth + 1)
        return pos


_MAX_SOURCE = 64 * 1024 * 1024


def _read_source(path: Path) -> str | None:
    """A source file's text; None when it is missing, unreadable, not a regular file (a FIFO,
    /dev/zero) or larger than any draft (64 MB)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_SOURCE:
            return None
        with path.open("rb") as handle:
            data = handle.read(_MAX_SOURCE + 1)
    except OSError:
        return None
    return data.decode("utf-8", errors="replace")


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
        raise UsageError(f"--cited {path} is a directory: name a .tex, .aux or .md file")
    if not stat.S_ISREG(mode):
        raise UsageError(f"--cited {path} is not a regular file: name a .tex, .aux or .md file")


def cited_keys(paths: list[Path]) -> Citations:
    """The keys cited by the given drafts (``.tex``, ``.aux``, biber's ``.bcf``, Markdown), in
    first-citation order.

    Raises ``UsageError`` when a named file is missing, is not a regular file, or is none of
    these. A file pulled in by ``\\input`` that cannot be read is listed in
    ``unreadable``.
    """
    result = Citations()
    seen: set[Path] = set()
    for path in paths:
        _check_draft(path)
        result.files.append(str(path))
        suffix = path.suffix.lower()
        if suffix == ".aux":
            _scan_aux(path, result, seen)
        elif suffix in (".tex", ".ltx", ".latex"):
            scanner = _Scanner(path.parent, result)
            scanner.seen = seen
            scanner.scan_file(path, 0)
            result.files.extend(str(p) for p in seen if str(p) not in result.files)
        elif suffix == ".bcf":
            _scan_bcf(path, result)
        elif suffix in MARKDOWN_SUFFIXES:
            from papercli.pandoc import cited_in_markdown

            text = _read_source(path)
            if text is None:
                raise UsageError(f"--cited {path}: cannot read it")
            for key in cited_in_markdown(text):
                result.add(key)
        else:
            raise UsageError(
                f"--cited {path}: give a LaTeX draft (.tex), the .aux or .bcf file LaTeX or "
                "biber wrote, or a Markdown draft (.md, .markdown, .qmd, .Rmd)"
            )
    return result


MARKDOWN_SUFFIXES = (".md", ".markdown", ".qmd", ".rmd")
_BCF_KEY = re.compile(r"<bcf:citekey\b[^>]*>([^<]*)</bcf:citekey>")


def _scan_bcf(path: Path, result: Citations) -> None:
    """biber's control file: every ``<bcf:citekey>`` (``*`` for ``\\nocite{*}``). Read with a
    pattern, not an XML parser, so a hostile file cannot expand entities."""
    from xml.sax.saxutils import unescape

    text = _read_source(path)
    if text is None:
        raise UsageError(f"--cited {path}: cannot read it")
    for match in _BCF_KEY.finditer(text):
        result.add(unescape(match.group(1), {"&quot;": '"', "&apos;": "'"}))
