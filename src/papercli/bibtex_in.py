"""BibTeX files (Zotero, Better BibTeX, Google Scholar, DBLP, ADS, JabRef, biblatex, papercli's
own export) into papers, losing nothing.

Parsing is bibtexparser 2.x, with papercli's own reading of values (``papercli.record``:
``@string`` macros and ``#`` concatenation, which bibtexparser leaves as written). Each entry
keeps its key verbatim, its entry type and every field as written (``Paper.bibtex``); the
normalised fields search and display use are derived from it (``papercli.record.view_of``),
with ``crossref``/``xdata`` parents in the same file filling in what a child inherits. A paper
the library already has (``papercli.merge``) is merged, its key kept as an alias. An entry that
cannot be read is reported as ``file:line: reason`` and the rest is imported.

``parse_bibtex`` does no I/O; ``import_bibtex`` reads the files and writes through
``Library.writing()``. Nothing here prints.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papercli.documents import read_document
from papercli.library import REMEMBER_MAX, Library, Writer, int_env
from papercli.models import FIELD_NAME_RE, Paper, fold_key, key_problem
from papercli.record import MONTHS, quiet, resolve_value, view_of

# Kept importable from here (the Markdown importer and older callers use them).
from papercli.record import authors_of, latex_to_text  # noqa: F401  isort: skip


@dataclass
class Skipped:
    where: str  # "refs.bib:12"
    why: str


@dataclass
class Parsed:
    """The papers a file holds (``key`` is the entry's own key), what was skipped, and
    remarks on what was read differently from the file (duplicate fields, undefined macros,
    preambles)."""

    papers: list[tuple[str, Paper]] = field(default_factory=list)  # (where, paper)
    skipped: list[Skipped] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)  # (key, where): nothing new
    remarks: list[Skipped] = field(default_factory=list)
    preambles: list[str] = field(default_factory=list)  # @preamble values as written
    texts: dict[str, dict[str, str]] = field(default_factory=dict)  # lower-case key -> fields


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "abort_reason", "") or error)
    return " ".join(text.split()) or type(error).__name__


def _raw_fields(block: object) -> list[tuple[str, str]]:
    return [(f.key, str(f.value)) for f in block.fields]  # type: ignore[attr-defined]


def _inherited(fields: dict[str, str], parents: list[dict[str, str]]) -> dict[str, str]:
    """A child's fields with what BibTeX's crossref and biblatex's xdata give it from its
    parents: every field it lacks, and the parent's title as its booktitle."""
    merged = dict(fields)
    for parent in parents:
        for name, value in parent.items():
            if name in ("crossref", "xdata", "ids", "key"):
                continue
            if name == "title":
                merged.setdefault("booktitle", value)
            else:
                merged.setdefault(name, value)
    return merged


@dataclass
class _Entry:
    where: str
    entry_type: str
    key: str
    record: dict[str, str]  # as the file has it (expressions for undefined macros)
    raw: list[str]  # the record's fields kept as BibTeX expressions
    text: dict[str, str]  # every value as text, for papercli's view


_BLOCK_START = re.compile(r"^[ \t]*@[ \t]*([^\s{(@]+)[ \t]*[{(]", re.M)
_PARENT_FIELD = re.compile(r"\b(?:crossref|xdata)\s*=\s*[{\"]\s*([^}\"]+)", re.I)


def _block_end(text: str, start: int) -> int:
    """Where the block (``@type{...}`` or ``@type(...)``) starting at ``start`` ends, as BibTeX
    reads it: at the brace or parenthesis closing its first one, braces balanced inside."""
    match = _BLOCK_START.match(text, start)
    if match is None:
        return start
    closing = "}" if text[match.end() - 1] == "{" else ")"
    depth = 0
    for found in re.finditer(r"[{}()]", text[match.end() :]):
        char = found.group(0)
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0 and closing == "}":
                return match.end() + found.end()
            depth -= 1
        elif char == ")" and depth == 0 and closing == ")":
            return match.end() + found.end()
    return len(text)


def _blocks_of(text: str, kinds: tuple[str, ...], keys: frozenset[str] = frozenset()) -> str:
    """The text of every block of the given types (``string``, ``preamble``), and of the
    entries whose lower-case key is in ``keys``, in file order."""
    out = []
    for match in _BLOCK_START.finditer(text):
        kind = match.group(1).lower()
        if kind in kinds:
            out.append(text[match.start() : _block_end(text, match.start())])
        elif keys and kind not in ("comment", "string", "preamble"):
            key = text[match.end() : match.end() + 200].split(",", 1)[0].strip().lower()
            if key in keys:
                out.append(text[match.start() : _block_end(text, match.start())])
    return "\n".join(out)


def string_macros(text: str, strings: dict[str, str] | None = None) -> dict[str, str]:
    """The @string macros a .bib text defines (lower-case names -> text), added to
    ``strings``: a file such as IEEEabrv.bib imported beside the one that uses them. Only the
    @string blocks are parsed, not the entries."""
    from bibtexparser.entrypoint import parse_string
    from bibtexparser.model import DuplicateBlockKeyBlock, String

    strings = {} if strings is None else strings
    with quiet():
        try:
            blocks = parse_string(_blocks_of(text, ("string",)), parse_stack=[]).blocks
        except Exception:  # the entries' parse reports it
            return strings
    for block in blocks:
        found = block.ignore_error_block if isinstance(block, DuplicateBlockKeyBlock) else block
        if isinstance(found, String):
            strings[str(found.key).lower()] = resolve_value(str(found.value), strings).text
    return strings


def split_entries(text: str, size: int) -> list[tuple[int, int, int]]:
    """``text`` as pieces of about ``size`` blocks: (start, end, lines before the start). A
    piece is cut only before a block that starts a line outside any braces, so each piece
    parses as it would within the whole file; a file whose braces never balance stays whole."""
    starts = [match.start() for match in _BLOCK_START.finditer(text)]
    cuts = [0]
    depth, last, count = 0, 0, 0
    for pos in starts:
        depth += text.count("{", last, pos) - text.count("}", last, pos)
        last = pos
        count += 1
        if count > size and depth == 0:
            cuts.append(pos)
            count = 1
    pieces = []
    line = 0
    for i, start in enumerate(cuts):
        end = cuts[i + 1] if i + 1 < len(cuts) else len(text)
        pieces.append((start, end, line))
        line += text.count("\n", start, end)
    return pieces


@dataclass
class FileContext:
    """What every piece of a large file needs from the whole of it: its @preamble values and
    the fields of the entries others name in ``crossref`` or ``xdata`` (which BibTeX wants
    after their children, so often in a later piece)."""

    preambles: list[str]
    parents: dict[str, dict[str, str]]  # lower-case key -> fields as text


def file_context(text: str, source: str, macros: dict[str, str]) -> FileContext:
    wanted = frozenset(
        name.strip().lower()
        for found in _PARENT_FIELD.finditer(text)
        for name in found.group(1).split(",")
        if name.strip()
    )
    parsed = parse_bibtex(_blocks_of(text, ("preamble",), wanted), source, macros)
    return FileContext(parsed.preambles, parsed.texts)


def parse_bibtex(
    text: str,
    source: str,
    macros: dict[str, str] | None = None,
    line_offset: int = 0,
    context: FileContext | None = None,
) -> Parsed:
    """Every entry of a .bib text as a Paper carrying its record; unreadable entries in
    ``skipped`` as ``source:line``. ``macros``: @string macros other files define (the
    file's own definitions come first). A piece of a larger file (``split_entries``) gives
    the lines before it and the whole file's ``FileContext``."""
    from bibtexparser.entrypoint import parse_string
    from bibtexparser.model import (
        DuplicateBlockKeyBlock,
        DuplicateFieldKeyBlock,
        Entry,
        ParsingFailedBlock,
        Preamble,
        String,
    )

    out = Parsed()
    strings: dict[str, str] = dict(macros or {})
    entries: list[_Entry] = []
    said: set[str] = set()  # undefined macros already noted
    preambles: list[str] = []  # @preamble values as written, kept with every entry
    with quiet():
        try:
            parsed = parse_string(text, parse_stack=[])
        except Exception as exc:  # bibtexparser failing on the file as a whole
            out.skipped.append(Skipped(f"{source}:1", f"cannot read the file: {_first_line(exc)}"))
            return out
        for block in parsed.blocks:
            where = f"{source}:{(block.start_line or 0) + 1 + line_offset}"
            if isinstance(block, String):
                strings[str(block.key).lower()] = resolve_value(str(block.value), strings).text
            elif isinstance(block, Preamble):
                if str(block.value).strip() not in preambles:
                    preambles.append(str(block.value).strip())
            elif isinstance(block, DuplicateBlockKeyBlock) and isinstance(
                block.ignore_error_block, String
            ):
                # BibTeX takes a macro's last definition.
                again = block.ignore_error_block
                strings[str(again.key).lower()] = resolve_value(str(again.value), strings).text
                why = f"@string {again.key!r} is defined again: its last definition is used"
                out.remarks.append(Skipped(where, why + ", as BibTeX does"))
            elif isinstance(block, DuplicateBlockKeyBlock):
                why = f"duplicate key {block.key!r} in the file (BibTeX uses the first)"
                out.skipped.append(Skipped(where, why))
            elif isinstance(block, DuplicateFieldKeyBlock) and isinstance(
                block.ignore_error_block, Entry
            ):
                inner = block.ignore_error_block
                names = [name.lower() for name, _ in _raw_fields(inner)]
                twice = sorted({n for n in names if names.count(n) > 1})
                why = f"entry {inner.key!r}: field(s) {', '.join(twice)} given twice"
                out.remarks.append(Skipped(where, why + "; kept the first, as BibTeX does"))
                entries.append(_entry(inner, strings, out, where, said))
            elif isinstance(block, ParsingFailedBlock):
                out.skipped.append(Skipped(where, f"malformed entry: {_first_line(block.error)}"))
            elif isinstance(block, Entry):
                entries.append(_entry(block, strings, out, where, said))
    _report_unread_entries(text, source, {e.key for e in entries}, out, line_offset)
    by_key = {entry.key.lower(): entry.text for entry in entries}
    out.texts = by_key
    if context is not None:
        by_key = {**context.parents, **by_key}
        preambles = context.preambles
    out.preambles = preambles
    for entry in entries:
        key = entry.key
        parents = [
            by_key[name.strip().lower()]
            for ref in ("crossref", "xdata")
            for name in entry.text.get(ref, "").split(",")
            if name.strip().lower() in by_key and name.strip().lower() != key.lower()
        ]
        fields = _inherited(entry.text, parents) if parents else entry.text
        try:
            paper = view_of(entry.entry_type, fields, key)
        except Exception as exc:  # a bug in reading one entry must not cost the others
            out.skipped.append(Skipped(entry.where, f"entry {key!r}: cannot read it ({exc!r})"))
            continue
        paper.bibtex_type = entry.entry_type.lower()
        paper.bibtex = entry.record
        paper.bibtex_raw = entry.raw
        paper.bibtex_preamble = list(preambles)
        if "title" in paper.incomplete:
            why = f"entry {key!r} has no title: shown as {paper.title!r}, marked incomplete"
            out.remarks.append(Skipped(entry.where, why))
        out.papers.append((entry.where, paper))
    return out


_ENTRY_START = re.compile(r"^[ \t]*@[ \t]*([^\s{(@]+)[ \t]*[{(][ \t]*([^,\s{}]*)", re.M)


def _report_unread_entries(
    text: str, source: str, read: set[str], out: Parsed, line_offset: int = 0
) -> None:
    """Name the entries bibtexparser passed over as comments (a type such as ``@my-type`` or
    ``@foo:bar``, which BibTeX itself reads), so none is lost without a word."""
    said = {s.where for s in out.skipped}
    for match in _ENTRY_START.finditer(text):
        kind, key = match.group(1), match.group(2)
        if kind.lower() in ("string", "preamble", "comment") or key in read:
            continue
        where = f"{source}:{text.count(chr(10), 0, match.start()) + 1 + line_offset}"
        if where in said:
            continue
        why = f"@{kind}{{{key}: not read (papercli reads entry types of letters, digits and _)"
        out.skipped.append(Skipped(where, why + "; rename the type to import it"))


def _entry(
    block: object, strings: dict[str, str], out: Parsed, where: str, said: set[str]
) -> _Entry:
    """An entry's fields: names lower-case, the first of a repeated field; values with the
    file's macros put in, and those using undefined macros kept as BibTeX expressions."""
    record: dict[str, str] = {}
    text: dict[str, str] = {}
    raw: list[str] = []
    for name, value in _raw_fields(block):
        lowered = name.lower()
        if lowered in record:
            continue
        if not FIELD_NAME_RE.match(lowered):
            why = f"field {name!r} not kept: not a name BibTeX reads as a field"
            out.remarks.append(Skipped(where, why))
            continue
        read = resolve_value(value, strings)
        text[lowered] = read.text
        if read.expression:
            record[lowered] = read.expression
            raw.append(lowered)
        else:
            record[lowered] = read.text
        for macro in read.macros:
            if macro.lower() in MONTHS or macro.lower() in said:
                continue
            said.add(macro.lower())
            why = f"@string macro {macro!r} is not defined in the files imported: kept as the "
            out.remarks.append(
                Skipped(where, why + "macro, so the draft's other .bib must define it")
            )
    kind, key = str(getattr(block, "entry_type", "")), str(getattr(block, "key", ""))
    return _Entry(where, kind, key, record, raw, text)


# ---------------------------------------------------------------------------------------------
# Import into a library


@dataclass
class ImportReport:
    added: list[tuple[str, str]] = field(default_factory=list)  # (key, where)
    merged: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (key, where, fields)
    rekeyed: list[tuple[str, str, str]] = field(default_factory=list)  # (old, new, why)
    aliased: list[tuple[str, str]] = field(default_factory=list)  # (the file's key, paper key)
    skipped: list[Skipped] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)  # (key, where): nothing new
    remarks: list[Skipped] = field(default_factory=list)  # read, but not as written: said
    notes: list[str] = field(default_factory=list)  # file-level remarks (encoding)
    empty: list[str] = field(default_factory=list)  # files with no entry at all, as named


def _same_record(existing: Paper, incoming: Paper) -> bool:
    """The library's paper under an entry's key is that entry imported before: same record,
    or the same title or identifier (a file re-exported after an edit)."""
    from papercli.merge import clearly_different_titles, norm_doi

    if existing.bibtex_type == incoming.bibtex_type and existing.bibtex == incoming.bibtex:
        return True
    if existing.arxiv_id and existing.arxiv_id == incoming.arxiv_id:
        return True
    if existing.doi and norm_doi(existing.doi) == norm_doi(incoming.doi):
        return True
    return not clearly_different_titles(existing.title, incoming.title) and (
        existing.year == incoming.year or not (existing.year and incoming.year)
    )


# A large file is read, and written, this many entries at a time: the memory an import needs
# stays that of one piece, and the library's lock is held while a piece is written, not while
# the whole file is parsed.
PIECE_ENTRIES = int_env("PAPERCLI_IMPORT_PIECE", 2000)


class _Importer:
    """The state of one import across files and pieces: who owns which key, which papers are
    known (for duplicates), what was added or merged."""

    def __init__(self, library: Library, tags: list[str], report: ImportReport) -> None:
        self.library = library
        self.tags = tags
        self.report = report
        self.pending: dict[str, Paper] = {}  # dry run: added or merged, never written
        self.suffix_hints: dict[str, int] = {}  # see keys.unique_key
        self.seen_dir: int | None = None  # the papers directory's mtime when last read
        self.writer: Writer | None = None  # the piece's, while one is taken
        self.load()

    def load(self) -> None:
        """Keys, aliases and identities from the library's index."""
        from papercli.finder_cache import library_finder
        from papercli.merge import DuplicateFinder

        self.seen_dir = self._dir_mtime()  # before the index: a later write is then seen
        index = self.library.index()
        # The papers this import adds are known by their signatures; an identity is read back
        # when a later entry shares one (at 100,000 entries, holding them all cost 50 MB).
        self.finder = library_finder(
            self.library, lambda key: DuplicateFinder.identity(self.current(key, self.writer))
        )
        # Every key and alias, case-folded -> the key of its paper.
        self.owners = {fold_key(name): key for name, key in index.key_names().items()}
        self.exact = dict(index.key_names())  # every key and alias as spelled -> its paper

    def _dir_mtime(self) -> int | None:
        try:
            return os.stat(self.library.papers_dir).st_mtime_ns
        except OSError:
            return None

    def begin(self) -> None:
        """Under the lock, before a piece: another papercli that wrote since our last piece
        may have added keys or changed papers; start again from the library as it is."""
        if self._dir_mtime() != self.seen_dir:
            self.library.index()
            self.load()

    def end(self) -> None:
        self.seen_dir = self._dir_mtime()

    def current(self, key: str, writer: Writer | None) -> Paper:
        if key in self.pending:
            return self.pending[key]
        return writer.read(key) if writer else self.library.read(key)

    def take(self, parsed: Parsed, path: Path, writer: Writer | None) -> None:
        """Add or merge the papers of one parsed piece."""
        from papercli.keys import make_key
        from papercli.merge import merge_into

        self.writer = writer
        report = self.report
        report.skipped.extend(parsed.skipped)
        report.remarks.extend(parsed.remarks)
        owners, exact, finder = self.owners, self.exact, self.finder
        for where, paper in parsed.papers:
            paper.tags = list(self.tags)
            # No time stamp: importing the same file again then changes nothing.
            paper.provenance = [{"source": "bibtex", "file": path.name, "key": paper.key}]
            original = paper.key
            owner = owners.get(fold_key(original)) if not key_problem(original) else None
            match = finder.match(paper)
            same = match.key
            if (
                same is None
                and owner is not None
                and _same_record(self.current(owner, writer), paper)
            ):
                same = owner
            for other, shared in match.conflicts:
                if other != same:
                    kind, value = shared.split(":", 1)
                    why = f"{original!r} shares {kind.upper()} {value} with {other}, but "
                    report.remarks.append(Skipped(where, why + "the titles differ: two papers"))
            if same is not None:
                existing = self.current(same, writer)
                if original != same and exact.get(original, same) == same:
                    paper.aliases = [original]
                differing: list[str] = []
                changed = merge_into(existing, paper, differing)
                if "aliases" in changed:
                    owners.setdefault(fold_key(original), same)
                    exact[original] = same
                    report.aliased.append((original, same))
                if differing:
                    why = f"{original!r} is {same}: kept the library's {', '.join(differing)}"
                    report.remarks.append(Skipped(where, why + " (the file differs)"))
                if changed:
                    if writer is not None:
                        writer.save(existing)
                    else:
                        self.pending[same] = existing
                    report.merged.append((same, where, changed))
                else:
                    report.unchanged.append((same, where))
                continue
            problem = key_problem(original)
            if problem or owner is not None:
                paper.key = make_key(
                    paper.authors,
                    paper.year,
                    paper.title,
                    lambda k: fold_key(k) in owners,
                    self.suffix_hints,
                )
                if problem:
                    why = f"not a usable key: {problem}"
                elif original in exact:
                    why = f"the key is another paper's ({owner}); cite this one as {paper.key}"
                else:
                    # Only the case differs from another paper's key: the file's spelling
                    # stays an alias, so a draft citing it gets this paper.
                    paper.aliases = [original]
                    exact[original] = paper.key
                    why = (
                        f"{owner!r} differs only in case, which BibTeX and macOS/Windows "
                        f"file names ignore; {original!r} stays an alias of it"
                    )
                report.rekeyed.append((original, paper.key, why))
            owners[fold_key(paper.key)] = paper.key
            exact[paper.key] = paper.key
            if writer is not None:
                writer.create(paper)
            else:
                self.pending[paper.key] = paper
            finder.add(paper, keep=False)
            report.added.append((paper.key, where))


def import_bibtex(
    library: Library, paths: list[Path], tags: list[str], dry_run: bool = False
) -> ImportReport:
    """Import every entry of ``paths``; returns what was added, merged, re-keyed, skipped.

    Keys are kept as written. An entry whose paper the library has is merged into it and its
    key becomes an alias of that paper; an entry whose key another paper has (in any case) is
    added under a new key, said in ``rekeyed``. Importing a file again changes nothing.

    Files are read whole before anything is written; a large one is then parsed and written
    ``PIECE_ENTRIES`` entries at a time (each piece under the library's lock, its papers put in
    place together: ``Writer.batch``). The cache and the search index are left up to date, so
    the next command does not parse what was imported.
    """
    report = ImportReport()
    texts = []
    for path in paths:  # every file is read before anything is written
        text, remark = read_document(path)
        if remark:
            report.notes.append(remark)
        texts.append((path, text))
    macros: dict[str, str] = {}
    for _, text in texts:  # IEEEabrv.bib beside the file using its abbreviations
        string_macros(text, macros)
    importer = _Importer(library, tags, report)
    split = [split_entries(text, PIECE_ENTRIES) for _, text in texts]
    if sum(text.count("\n@") for _, text in texts) > 2 * REMEMBER_MAX:  # blocks, about
        # A large import's papers are parsed again by the sync at its end (two processes):
        # keeping the first 10,000 of 100,000 in memory saved a tenth of that parse and was
        # the largest part of the import's peak memory (48 MB).
        library.remember_max = 0
    text, context = "", None
    pieces: list[tuple[int, int, int]] = []
    for (path, text), pieces in zip(texts, split, strict=True):
        context = file_context(text, path.name, macros) if len(pieces) > 1 else None
        found = False
        for parsed in _parsed_pieces(text, pieces, path.name, macros, context):
            found = found or bool(parsed.papers or parsed.skipped)
            if dry_run:
                importer.take(parsed, path, None)
                continue
            with library.writing() as writer:
                importer.begin()
                with writer.batch():
                    importer.take(parsed, path, writer)
                importer.end()
        if not found:
            report.empty.append(str(path))
    # The files' text, their pieces and the importer's keys and identities (75 MB and more at
    # 100,000 entries) go before the search index is built: that build is the import's peak.
    del importer, texts, text, split, pieces, context
    if not dry_run and (report.added or report.merged):
        from papercli.search import word_indexes

        # The cache takes the papers written (up to remember_max of them unparsed), then the
        # search index is brought up to date: the next command starts at once.
        word_indexes(library)
    report.skipped.sort(key=lambda s: _position(s.where))
    report.remarks.sort(key=lambda s: _position(s.where))
    return report


def _parsed_pieces(
    text: str,
    pieces: list[tuple[int, int, int]],
    source: str,
    macros: dict[str, str],
    context: FileContext | None,
) -> Iterator[Parsed]:
    """Each piece of ``text`` parsed, in order. With several pieces, a forked helper parses
    them (one piece ahead of the caller, the pipe between holding it back), so parsing, which is
    processor time, overlaps with writing the papers, which is mostly the file system's. If
    the helper fails, what it has not sent is parsed here."""
    import pickle
    import threading

    done = 0
    helper = None
    if len(pieces) > 1 and hasattr(os, "fork") and threading.active_count() == 1:
        helper = _fork_parser(text, pieces, source, macros, context)
    if helper is not None:
        pid, stream = helper
        try:
            while done < len(pieces):
                head = stream.read(8)
                if len(head) < 8:
                    break
                size = int.from_bytes(head, "little")
                data = stream.read(size)
                if len(data) < size:
                    break
                # From our own child, through a pipe: not a file anyone else could write.
                parsed = pickle.loads(data)
                done += 1
                yield parsed
        finally:
            stream.close()
            os.waitpid(pid, 0)
    for start, end, line in pieces[done:]:
        yield parse_bibtex(text[start:end], source, macros, line, context)


def _fork_parser(
    text: str,
    pieces: list[tuple[int, int, int]],
    source: str,
    macros: dict[str, str],
    context: FileContext | None,
) -> tuple[int, Any] | None:
    """Fork a process that parses ``pieces`` and sends each as a length and a pickle; returns
    (its pid, the stream to read), or None when it cannot be forked."""
    import pickle

    from papercli.library import fork_with_pipe

    forked = fork_with_pipe()
    if forked is None:
        return None
    pid, fd = forked
    if pid:
        return pid, os.fdopen(fd, "rb")
    code = 1
    try:
        with os.fdopen(fd, "wb") as out:
            for start, end, line in pieces:
                parsed = parse_bibtex(text[start:end], source, macros, line, context)
                parsed.texts = {}  # only a whole file's context needs them
                data = pickle.dumps(parsed, protocol=5)
                out.write(len(data).to_bytes(8, "little") + data)
                out.flush()
        code = 0
    except BaseException:  # noqa: BLE001 - the parent parses what was not sent
        code = 1
    finally:
        os._exit(code)


def _position(where: str) -> tuple[str, int]:
    name, _, line = where.rpartition(":")
    return (name, int(line)) if line.isdigit() else (where, 0)
