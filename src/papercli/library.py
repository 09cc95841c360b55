"""The library on disk: a directory of TOML files, written atomically under a lock, read through
a derived cache.

Layout (see docs/library-format.md)::

    library.toml          the library's settings and format version
    papers/<key>.toml     one paper per file; the file name is the citation key
    .papercli.lock        the write lock (flock); safe to delete when no papercli runs

Writes go to a temporary file in the same directory, are flushed and fsynced, then renamed over
the target, so a reader or a crash sees the old file or the new one, never half of one. Every
read-modify-write holds an exclusive ``flock`` on ``.papercli.lock`` and re-reads the file under
it, so two papercli processes never lose each other's changes. A file that does not parse is
never overwritten.

Reading commands go through ``Library.index()``: summaries of every paper kept in a pickle in the
user cache directory, checked against each file's inode, size and mtime on every call (a stat,
not a parse) and brought up to date by parsing only the files that changed. Full papers are kept
in 64 shards beside it, so a change rewrites one shard. The cache is never the source of truth:
delete it and it is rebuilt.

Paper files are parsed with rtoml (TOML 1.0 in Rust): tomllib reads papercli's files at about
0.2 ms each, most of it in its character-by-character string loop, so an empty cache at 10,000
papers cost 2-4 s; rtoml reads them 13 times faster. tomllib still names the line and column
of a file that does not parse.

This module never prints.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import marshal
import math
import os
import re
import stat as stat_module
import time
import tomllib
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from papercli.errors import (
    AmbiguousRefError,
    LibraryError,
    LockTimeoutError,
    MalformedFileError,
    NotFoundError,
    PapercliError,
    UsageError,
)
from papercli.models import (
    Paper,
    display_author,
    fold_key,
    is_valid_key,
    key_file_name,
    key_of_file_name,
    key_problem,
    validate_key,
)

FORMAT_VERSION = 2  # 2: keys verbatim, aliases, BibTeX records (see docs/library-format.md)
SETTINGS_FILE = "library.toml"
PAPERS_DIR = "papers"
LOCK_FILE = ".papercli.lock"
CACHE_VERSION = 9  # 6: shards compressed; 7: the index's rows in one file per shard; 8: zstd;
# 9: the authors as shown
SHARDS = 64


def int_env(name: str, default: int) -> int:
    """A tuning knob from the environment; a value that is not a whole number (or below 1)
    is ignored."""
    try:
        value = int(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value >= 1 else default


FULL_STAT_LIMIT = int_env("PAPERCLI_FULL_STAT_LIMIT", 20000)
FULL_STAT_EVERY = 60.0  # seconds
# A directory whose last change is this much older than a look at it cannot change again
# behind an equal mtime (file times move by clock ticks of a few milliseconds).
SETTLED_NS = 50_000_000
# From this many files to parse, a forked process parses half of them.
PARALLEL_PARSE_MIN = int_env("PAPERCLI_PARALLEL_PARSE_MIN", 2000)
REMEMBER_MAX = 10_000  # papers written in a batch handed to the cache unparsed (Writer.batch)
LOOKUPS_BEFORE_MAP = 16  # a writer's key questions answered from the index before a map


class Summary(NamedTuple):
    """What list, search filters and REF resolution need of a paper, without abstract or notes.

    Stored as a plain tuple in the cache (loads three times faster than a NamedTuple); wrap with
    ``Summary._make(row)`` where names read better than indices.
    """

    key: str
    type: str
    title: str
    authors: tuple[str, ...]
    year: int  # 0 when unknown
    status: str
    tags: tuple[str, ...]
    arxiv_id: str
    doi: str
    url: str
    venue: str
    added: str
    n_notes: int
    incomplete: tuple[str, ...]
    date: str
    aliases: tuple[str, ...]
    isbn: str  # from the BibTeX record, for finding duplicates
    bibtex_type: str  # the BibTeX record's entry type, '' when papercli types the paper
    # The authors as piped output shows them ("Edward J. Hu; Yelong Shen"): made once when the
    # paper is read, not for each of 10,000 papers a list writes. A change to display_author
    # must bump CACHE_VERSION and search.INDEX_VERSION, which keep it.
    authors_shown: str


def summarize(paper: Paper) -> tuple[Any, ...]:
    return (
        paper.key,
        paper.type,
        paper.title,
        tuple(paper.authors),
        paper.year or 0,
        paper.status,
        tuple(paper.tags),
        paper.arxiv_id,
        paper.doi,
        paper.url,
        paper.venue or paper.journal_ref,
        paper.added,
        len(paper.notes),
        tuple(paper.incomplete),
        paper.date,
        tuple(paper.aliases),
        paper.bibtex.get("isbn", ""),
        paper.bibtex_type,
        "; ".join([display_author(author) for author in paper.authors]),
    )


# How each Summary field is stored in the columnar cache: s string, t tuple of strings, i int.
_KINDS = "ssstistsssssitstsss"
ALIASES = 15  # the aliases column
_SEP, _SUB = "\x00", "\x1f"
_BOUNDS = (_SEP, _SUB)


def _clean(value: str) -> str:
    return value.replace(_SEP, " ").replace(_SUB, " ")


def encode_columns(table: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Rows as columns (one joined string or int array per field): loading 100,000 rows this
    way is several times faster than unpickling 100,000 tuples. ``marshal`` writes them."""
    cols: list[Any] = []
    for i, kind in enumerate(_KINDS):
        column = [row[i] for row in table]
        if kind == "s":
            joined = _SEP.join(column)
            # Separators inside a value are rare: clean value by value only when there are.
            if joined.count(_SEP) != max(len(column) - 1, 0) or _SUB in joined:
                joined = _SEP.join(_clean(v) for v in column)
            cols.append(joined)
        elif kind == "t":
            cells = [_SUB.join(v) for v in column]
            joined = _SEP.join(cells)
            if joined.count(_SEP) != max(len(column) - 1, 0) or joined.count(_SUB) != sum(
                max(len(v) - 1, 0) for v in column
            ):
                joined = _SEP.join(_SUB.join(_clean(x) for x in v) for v in column)
            cols.append(joined)
        else:
            cols.append(array("q", column).tobytes())
    return cols


def _cell(kind: str, value: Any) -> Any:
    """One value as its column stores it (see encode_columns)."""
    if kind == "s":
        return _clean(value)
    if kind == "t":
        return _SUB.join(_clean(x) for x in value)
    return value


def patched_columns(
    cols: list[Any], n_rows: int, rows: dict[str, tuple[Any, ...]], dropped: set[str]
) -> tuple[list[Any], int]:
    """``cols`` (``n_rows`` rows) with the rows of ``dropped`` keys removed and ``rows`` put in
    (in place when the key had a row, at the end when new), column by column: an update of a
    few papers splits and joins 19 strings instead of building every row's tuple."""
    keys = cols[0].split(_SEP) if n_rows else []
    position = {key: i for i, key in enumerate(keys)}
    replaced = {position[k]: row for k, row in rows.items() if k in position}
    gone = sorted((position[k] for k in dropped if k in position and k not in rows), reverse=True)
    added = [row for k, row in rows.items() if k not in position]
    patched: list[Any] = []
    for j, kind in enumerate(_KINDS):
        raw = cols[j]
        cells: Any
        if kind == "i":
            cells = array("q")
            cells.frombytes(raw)
        else:
            cells = raw.split(_SEP) if n_rows else []
        for i, row in replaced.items():
            cells[i] = _cell(kind, row[j])
        for i in gone:
            del cells[i]
        cells.extend(_cell(kind, row[j]) for row in added)
        patched.append(cells.tobytes() if kind == "i" else _SEP.join(cells))
    return patched, n_rows - len(gone) + len(added)


def index_payload(
    scan: Scan,
    problems: dict[str, str],
    tokens: list[int],
    root: str,
    parts: list[tuple[int, int]],
) -> dict[str, Any]:
    """What ``index.bin`` holds: every paper file's name and stat, the unreadable files, the
    shards' change tokens, and (id, number of rows) of each shard's rows file (``rows/NN.bin``,
    ``encode_columns`` of that shard's papers). A change rewrites its shards' rows files and
    this one, never the rows of 100,000 papers."""
    return {
        "version": CACHE_VERSION,
        "root": root,
        "n_names": len(scan.names),
        "names": _SEP.join(scan.names),
        "stat": [column.tobytes() for column in scan.stat],
        "problems": problems,
        "tokens": tokens,
        "parts": [list(part) for part in parts],
    }


def _decode_column(kind: str, raw: Any, n_rows: int) -> list[Any]:
    if kind == "i":
        numbers = array("q")
        numbers.frombytes(raw)
        return numbers.tolist()
    if not n_rows:
        return []
    if kind == "s":
        return list(raw.split(_SEP))
    return [tuple(v.split(_SUB)) if v else () for v in raw.split(_SEP)]


def _columns_fit(cols: Any, n_rows: int) -> bool:
    """Cheap shape checks (counts, not decoding), so a damaged file is rebuilt, not trusted."""
    if not isinstance(cols, list) or len(cols) != len(_KINDS):
        return False
    for kind, raw in zip(_KINDS, cols, strict=True):
        if kind == "i":
            if not isinstance(raw, bytes) or len(raw) != 8 * n_rows:
                return False
        elif not isinstance(raw, str) or (n_rows and raw.count(_SEP) != n_rows - 1):
            return False
    return True


def decode_index(data: bytes) -> dict[str, Any] | None:
    """The cache's payload, with the file signatures still packed (see ``Scan.matches``)."""
    try:
        payload = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or payload.get("version") != CACHE_VERSION:
        return None
    expected = {"root": str, "n_names": int, "names": str, "stat": list, "problems": dict,
                "tokens": list, "parts": list}  # fmt: skip
    if any(not isinstance(payload.get(k), t) for k, t in expected.items()):
        return None
    n_names = payload["n_names"]
    if (
        len(payload["stat"]) != 3
        or len(payload["tokens"]) != SHARDS
        or len(payload["parts"]) != SHARDS
        or payload["names"].count(_SEP) != max(n_names - 1, 0)
        or any(not isinstance(raw, bytes) or len(raw) != 8 * n_names for raw in payload["stat"])
        or any(
            not isinstance(part, list) or len(part) != 2 or not all(type(x) is int for x in part)
            for part in payload["parts"]
        )
    ):
        return None
    return payload


def decode_part(data: bytes | None, part_id: int, n_rows: int) -> list[Any] | None:
    """A shard's rows file's columns when it is the one ``index.bin`` names (its id and row
    count), else None: a rows file another process wrote meanwhile, or a damaged one, makes
    that shard parsed again, never mixed with another moment's names and stats."""
    if data is None:
        return None
    try:
        part = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    if (
        not isinstance(part, dict)
        or part.get("version") != CACHE_VERSION
        or part.get("id") != part_id
        or part.get("n_rows") != n_rows
        or not _columns_fit(part.get("cols"), n_rows)
    ):
        return None
    cols: list[Any] = part["cols"]
    return cols


class JoinedColumns:
    """The index's columns over every shard's rows, each column joined on first use (a
    search reads a few of the 19)."""

    def __init__(self, parts: Sequence[tuple[list[Any], int] | None]) -> None:
        self._parts = [cols for cols, n in filter(None, parts) if n]
        self._joined: dict[int, Any] = {}

    def __getitem__(self, j: int) -> Any:
        if j not in self._joined:
            glue: Any = b"" if _KINDS[j] == "i" else _SEP
            self._joined[j] = glue.join([cols[j] for cols in self._parts])
        return self._joined[j]


def unpack_sig(payload: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    names = payload["names"].split(_SEP) if payload["n_names"] else []
    stats = []
    for raw in payload["stat"]:
        column = array("q")
        column.frombytes(raw)
        stats.append(column.tolist())
    return dict(zip(names, zip(*stats, strict=True), strict=True))


class Scan:
    """Every paper file's name, inode, size and mtime, as the directory listed them."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.stat: tuple[array[int], array[int], array[int]] = (array("q"), array("q"), array("q"))
        self.dir_mtime = 0  # the papers directory's, read before listing it
        # When the scan matched the listing against the cache (Library._scan_against): the
        # files new or changed since, and the cache's files that are gone. None: not known.
        self.changed: dict[str, tuple[int, int, int]] | None = None
        self.gone: list[str] | None = None
        # Names and inodes only, no sizes and mtimes (the early scan of a large library).
        self.listed_only = False

    def without(self, names: set[str]) -> Scan:
        """This scan less the files ``names``."""
        kept = Scan()
        kept.dir_mtime = self.dir_mtime
        for i, name in enumerate(self.names):
            if name not in names:
                kept.names.append(name)
                for column, value in zip(kept.stat, self.stat, strict=True):
                    column.append(value[i])
        return kept

    def sig(self) -> dict[str, tuple[int, int, int]]:
        ino, size, mtime = self.stat
        return dict(zip(self.names, zip(ino, size, mtime, strict=True), strict=True))

    def matches(self, payload: dict[str, Any]) -> bool:
        """True when nothing changed since the cache was written (compared packed: fast)."""
        return (
            payload["n_names"] == len(self.names)
            and payload["names"] == _SEP.join(self.names)
            and all(a.tobytes() == b for a, b in zip(self.stat, payload["stat"], strict=True))
        )


def list_paper_files(papers_dir: Path) -> list[str]:
    """The names of the paper files in ``papers_dir``, listed in C (a third of the time of a
    scandir loop in Python); hidden files (editors' swap files) are not papers."""
    return [n for n in os.listdir(papers_dir) if n.endswith(".toml") and n[0] != "."]


def _stat_all(names: list[str], fd: int, scan: Scan) -> bool:
    """Every file's inode, size and change time into ``scan`` (the common case, in one tight
    loop); False, with ``scan`` untouched, when a file went away meanwhile (the caller's
    slower loop handles that)."""
    stat = os.stat
    try:
        results = [stat(name, dir_fd=fd) for name in names]
    except OSError:  # gone, or a link that loops: the caller's loop sees which
        return False
    inos, sizes, mtimes = scan.stat
    del inos[:]
    inos.extend([st.st_ino for st in results])
    sizes.extend([st.st_size for st in results])
    # The change time too: cp -p and touch -r put an old mtime back, never ctime.
    mtimes.extend([max(st.st_mtime_ns, st.st_ctime_ns) for st in results])
    return True


class _Stamp(NamedTuple):
    """The stamp of the last full check (``cache_dir/verified``), read once per command."""

    times: tuple[int, int]  # the file's atime and mtime; the mtime is when that check ran
    dir_mtime: str  # the papers directory's mtime then
    written: list[str]  # the files papercli wrote since (``Library._carry_full_check``)


def _read_stamp(path: Path) -> _Stamp | None:
    try:
        info = os.stat(path)
        first, *written = path.read_text().split("\n")
    except (OSError, ValueError):
        return None
    return _Stamp((info.st_atime_ns, info.st_mtime_ns), first, written)


def _recent_check(
    stamp: _Stamp | None, dir_mtime: int, seconds: float, settled: bool = False
) -> bool:
    """True when the last full check is younger than ``seconds`` and the papers directory has
    not changed since (its mtime is what the stamp holds). ``settled``: and the directory's
    last change was well before that check, so a change in the same tick of the clock as the
    check (file times are that coarse) cannot hide behind an equal mtime."""
    if stamp is None:
        return False
    checked = stamp.times[1]
    if time.time_ns() - checked > seconds * 1e9:
        return False
    if settled and checked - dir_mtime < SETTLED_NS:
        return False
    return stamp.dir_mtime == str(dir_mtime)


def cached_listing_trusted(root: Path, dir_mtime: int) -> bool:
    """Whether the library at ``root``, if large, takes its paper files' listing from its
    cache (``Library._scan``) while its papers directory's mtime is ``dir_mtime``."""
    stamp = _read_stamp(Library(root).cache_dir / "verified")
    return _recent_check(stamp, dir_mtime, FULL_STAT_EVERY, settled=True)


def _write_stamp(stamp: Path, dir_mtime: int) -> None:
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(str(dir_mtime))
    except OSError:
        pass


def _pickle() -> Any:
    import pickle  # only the full-paper shards need it

    return pickle


def shard_of(key: str) -> int:
    return zlib.crc32(key.encode()) % SHARDS


class Index:
    """Summaries of every readable paper, and the files that could not be read.

    Kept as each shard's columns (see ``encode_columns``) and decoded lazily: ``column(i)``
    gives one field for every paper (aligned with ``keys()``) without building 100,000 tuples;
    ``row(i)`` and ``shard_rows`` decode only the shard that holds the rows; ``rows`` builds
    every tuple on first use.
    """

    def __init__(
        self,
        problems: dict[str, str],
        shard_tokens: list[int],
        parts: Sequence[tuple[list[Any], int] | None],
    ) -> None:
        self.problems = problems
        self.shard_tokens = shard_tokens
        self._parts = [part or (None, 0) for part in parts]
        self._joined = JoinedColumns(parts)
        self._offsets = [0]
        for _, n_rows in self._parts:
            self._offsets.append(self._offsets[-1] + n_rows)
        self._rows: dict[str, tuple[Any, ...]] | None = None
        self._columns: dict[int, list[Any]] = {}
        self._decoded: dict[int, list[list[Any]]] = {}  # shard -> its decoded columns
        self._names: dict[str, str] | None = None
        self._folded: dict[str, list[str]] | None = None
        self._folded_text: tuple[str, str] | None = None

    def __len__(self) -> int:
        return self._offsets[-1]

    def column(self, i: int) -> list[Any]:
        """Field ``i`` of Summary for every paper, in ``keys()`` order."""
        if i not in self._columns:
            self._columns[i] = _decode_column(_KINDS[i], self._joined[i], len(self))
        return self._columns[i]

    def keys(self) -> list[str]:
        return self.column(0)

    def key_names(self) -> dict[str, str]:
        """Every key and every alias -> the key of the paper it names."""
        if self._names is None:
            keys = self.keys()
            names = dict(zip(keys, keys, strict=True))
            for key, aliases in zip(keys, self.column(ALIASES), strict=True):
                for alias in aliases:
                    names.setdefault(alias, key)
            self._names = names
        return self._names

    def folded_names(self) -> dict[str, list[str]]:
        """Keys and aliases grouped by their case-folded spelling."""
        if self._folded is None:
            folded: dict[str, list[str]] = {}
            for name in self.key_names():
                folded.setdefault(fold_key(name), []).append(name)
            self._folded = folded
        return self._folded

    def owners_folded(self, folded: str) -> set[str]:
        """The keys of the papers with a key or alias that case-folds to ``folded``, found in
        the joined key and alias columns (one search each) rather than by folding 100,000
        names into a map for one question."""
        if not folded or _SEP in folded or _SUB in folded:
            return {k for name, k in self.key_names().items() if fold_key(name) == folded}
        if self._folded_text is None:
            keys = _SEP + self._joined[0].casefold() + _SEP
            aliases = _SEP + self._joined[ALIASES].casefold() + _SEP
            self._folded_text = (keys, aliases)
        owners: set[str] = set()
        for text in self._folded_text:
            start = text.find(folded)
            while start >= 0:
                end = start + len(folded)
                if text[start - 1] in _BOUNDS and text[end] in _BOUNDS:
                    owners.add(self.row(text.count(_SEP, 0, start) - 1).key)
                start = text.find(folded, end)
        return owners

    def _shard_columns(self, shard: int) -> list[list[Any]]:
        if shard not in self._decoded:
            cols, n_rows = self._parts[shard]
            self._decoded[shard] = [
                _decode_column(kind, cols[j], n_rows) if cols is not None else []
                for j, kind in enumerate(_KINDS)
            ]
        return self._decoded[shard]

    def row(self, i: int) -> Summary:
        """The i-th paper's summary (in ``keys()`` order), decoding only its shard."""
        if len(self._columns) == len(_KINDS):
            return Summary._make(self._columns[j][i] for j in range(len(_KINDS)))
        shard = bisect_right(self._offsets, i) - 1
        local = i - self._offsets[shard]
        return Summary._make(column[local] for column in self._shard_columns(shard))

    def shard_rows(self, shard: int) -> tuple[int, list[Summary]]:
        """The position of shard ``shard``'s first paper and its papers' summaries."""
        columns = self._shard_columns(shard)
        return self._offsets[shard], list(map(Summary._make, zip(*columns, strict=True)))

    def position(self, key: str) -> int | None:
        """Where paper ``key`` is in ``keys()`` order (None when absent), looking only in its
        shard."""
        shard = shard_of(key)
        try:
            return self._offsets[shard] + self._shard_columns(shard)[0].index(key)
        except ValueError:
            return None

    def values_at(self, field: int, positions: Sequence[int]) -> list[Any]:
        """Summary field ``field`` of the papers at ``positions``: from their shards when
        there are few (the first 20 of 100,000 papers decode 20 shards, not every row)."""
        if len(positions) >= 64 or field in self._columns:
            column = self.column(field)
            return [column[i] for i in positions]
        return [self.row(i)[field] for i in positions]

    def texts_at(self, field: int, separator: str, positions: Sequence[int]) -> list[str]:
        """``values_at`` of a tuple field, each tuple joined by ``separator``: made from the
        joined column with one replace and one split, never building 10,000 tuples."""
        if len(positions) < 64 or _KINDS[field] != "t":
            return [separator.join(value) for value in self.values_at(field, positions)]
        texts = self._joined[field].replace(_SUB, separator).split(_SEP) if len(self) else []
        return [texts[i] for i in positions]

    def rows_at(self, positions: Sequence[int]) -> list[Summary]:
        """The summaries at ``positions``: column by column when there are many (decoding a
        row at a time cost 20 µs a row, most of listing 10,000 papers)."""
        if len(positions) < 64:
            return [self.row(i) for i in positions]
        picked = [[column[i] for i in positions] for column in map(self.column, range(len(_KINDS)))]
        return list(map(Summary._make, zip(*picked, strict=True)))

    @property
    def rows(self) -> dict[str, tuple[Any, ...]]:
        if self._rows is None:
            columns = [self.column(i) for i in range(len(_KINDS))]
            self._rows = dict(zip(columns[0], zip(*columns, strict=True), strict=True))
        return self._rows

    def summaries(self) -> Iterator[Summary]:
        return (Summary._make(row) for row in self.rows.values())


# ---------------------------------------------------------------------------------------------
# Low-level file operations


def atomic_write(
    path: Path,
    data: bytes | Iterable[bytes | memoryview],
    *,
    durable: bool = True,
    sync_dir: bool = True,
) -> None:
    """Write ``data`` to ``path`` so that readers and crashes see the old or the new content.

    ``durable`` fsyncs the data before the rename (the library's files); the cache, which can
    always be rebuilt, skips it. ``sync_dir`` fsyncs the directory after the rename; a caller
    writing many files does that once at the end."""
    tmp = stage_file(path, data, durable=durable)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable and sync_dir:
        _fsync_dir(path.parent)


def stage_file(
    path: Path, data: bytes | Iterable[bytes | memoryview], *, durable: bool = False
) -> str:
    """``data`` in a new temporary file beside ``path`` (hidden, ``.tmp``), with the mode
    ``path`` has (else the umask's); fsynced when ``durable``. Returns its path; the caller
    renames it into place or removes it."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes 0600 files: keep the replaced file's mode, else honour the umask.
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~_umask()
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            for part in [data] if isinstance(data, bytes) else data:
                handle.write(part)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def dump_paper(paper: Paper, previous: bytes | None = None) -> bytes:
    """The file for ``paper``. When the file it replaces (``previous``) has comments, they are
    kept (see ``papercli.tomlkeep``); otherwise the fast layout of ``tomlfmt.dumps``."""
    from papercli.tomlfmt import dumps, may_have_comments

    document = paper.to_toml()
    if previous and b"#" in previous:
        text = previous.decode("utf-8", "replace").removeprefix("\ufeff")
        if may_have_comments(text):
            from papercli.tomlkeep import keep_comments

            kept = keep_comments(text, document)
            if kept is not None:
                return kept.encode("utf-8")
    return dumps(document).encode("utf-8")


def _previous(path: Path) -> bytes | None:
    """The file about to be replaced, for its comments; None when there is none."""
    try:
        return path.read_bytes()
    except OSError:
        return None


_LINE_COL = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _toml_error(shown_path: str, exc: Exception) -> str:
    """tomllib's message as ``file:line:column: message``."""
    message = str(exc)
    match = _LINE_COL.search(message)
    if match:
        line, col = match.group(1), match.group(2)
        message = message[: match.start()]
    else:
        line, col = "1", "1"
    return f"{shown_path}:{line}:{col}: {message}"


def parse_paper_bytes(key: str, data: bytes, shown_path: str) -> Paper:
    """Parse one paper file; raises ``MalformedFileError`` as ``file:line:column: message``."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")  # a BOM some editors write
    except UnicodeDecodeError as exc:
        raise MalformedFileError(f"{shown_path}:1:1: not UTF-8 text ({exc.reason})") from exc
    import rtoml

    try:
        raw = rtoml.loads(text)
    except (rtoml.TomlParsingError, ValueError, RecursionError):
        # tomllib's messages (file:line:column) are the ones papercli documents; and should
        # the two parsers ever disagree on a file, the standard library's reading stands.
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise MalformedFileError(_toml_error(shown_path, exc)) from exc
        except RecursionError:
            raise MalformedFileError(
                f"{shown_path}:1:1: arrays or tables nested too deeply to be a paper"
            ) from None
    try:
        paper = Paper.from_toml(key, raw)
    except ValueError as exc:
        raise MalformedFileError(f"{shown_path}:1:1: {exc}") from exc
    if paper.extra or any(note.extra for note in paper.notes):
        # Fields papercli does not know are kept as parsed: rtoml's time zones become the
        # standard library's, which the cache can pickle and tomli_w writes back alike.
        paper.extra = _standard_times(paper.extra)
        for note in paper.notes:
            note.extra = _standard_times(note.extra)
    return paper


def _standard_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _standard_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_standard_times(v) for v in value]
    if isinstance(value, (dt.datetime, dt.time)) and value.tzinfo is not None:
        offset = value.utcoffset()
        zone = dt.UTC if not offset else dt.timezone(offset)
        return value.replace(tzinfo=zone)
    return value


# ---------------------------------------------------------------------------------------------


class Library:
    """A library directory. Construct with ``Library.open(path)`` or ``Library.create(path)``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.papers_dir = root / PAPERS_DIR
        self._index: Index | None = None
        self._cache_dir: Path | None = None
        self._cache_usable: bool | None = None
        # Papers parsed while the cache could not be written: served instead of its shards.
        self._fresh: dict[str, Paper] = {}
        # Papers this process wrote: file name -> (the file's signature after the write, the
        # paper), so the cache takes them without parsing the files again (an import of
        # 100,000 papers leaves the cache ready).
        self._written: dict[str, tuple[tuple[int, int, int], Paper]] = {}
        # How many written papers the cache may take unparsed (``Writer._remember``).
        self.remember_max = REMEMBER_MAX
        # [id, number of rows] of each shard's rows file as index.bin last named them.
        self._part_ids: list[list[int]] | None = None
        self.notices: list[str] = []  # said once by the CLI (an untrusted cache)

    # -- opening and creating ---------------------------------------------------------------

    @classmethod
    def open(cls, root: Path) -> Library:
        root = root.expanduser()
        settings = root / SETTINGS_FILE
        try:
            is_library = settings.is_file()
            not_a_dir = not is_library and root.exists() and not root.is_dir()
        except OSError as exc:  # a name too long, a loop of links
            raise LibraryError(f"{root}: not a usable path ({exc.strerror})") from None
        if not is_library:
            if not_a_dir:
                raise LibraryError(f"{root} is not a directory: name a library directory")
            raise LibraryError(
                f"no papercli library at {root}: create one with 'papercli init {root}'"
            )
        try:
            text = settings.read_bytes().decode("utf-8")
            data = tomllib.loads(text)
        except UnicodeDecodeError as exc:
            raise MalformedFileError(f"{settings}:1:1: not UTF-8 text ({exc.reason})") from None
        except tomllib.TOMLDecodeError as exc:
            raise MalformedFileError(_toml_error(str(settings), exc)) from None
        except OSError as exc:
            raise LibraryError(f"{settings}: cannot read ({exc.strerror})") from exc
        version = data.get("format", FORMAT_VERSION)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise MalformedFileError(
                f"{settings}:1:1: 'format' must be a positive integer (this papercli writes "
                f"{FORMAT_VERSION})"
            )
        if version > FORMAT_VERSION:
            raise LibraryError(
                f"{settings}: library format {version!r} is newer than this papercli "
                f"understands ({FORMAT_VERSION}): upgrade papercli"
            )
        library = cls(root)
        library.settings = data
        if version < FORMAT_VERSION:
            library._migrate()
        return library

    settings: dict[str, Any] = {}
    # (format before, papers rewritten) when ``open`` upgraded the library; the CLI says so.
    migrated: tuple[int, int] | None = None

    # -- format migration -------------------------------------------------------------------

    def _migrate(self) -> None:
        """Bring a format-1 library to format 2, once, under the write lock.

        Format 1 lower-cased or replaced BibTeX keys on import, keeping the original only in
        ``[[provenance]]``: each such original key becomes an alias, so drafts citing it find
        the paper again. Every paper file is rewritten atomically (only those that change) and
        ``library.toml`` last, so a crash midway leaves a library the next command migrates
        again from where it stopped. A library papercli cannot lock (read-only, busy) is read
        as it is: format-1 files are valid format-2 files.
        """
        with contextlib.ExitStack() as stack:
            try:
                writer = stack.enter_context(self.writing())
            except LibraryError:
                return
            settings = self.root / SETTINGS_FILE
            try:
                text = settings.read_text(encoding="utf-8")
                version = tomllib.loads(text).get("format", 1)
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise LibraryError(f"{settings}: cannot read it to upgrade the library") from exc
            if not isinstance(version, int) or version >= FORMAT_VERSION:
                return  # another papercli upgraded it while this one waited for the lock
            keys = self.keys()
            folded = {fold_key(k): k for k in keys}
            changed = 0
            for key in sorted(keys):
                try:
                    paper = self.read(key)
                except (MalformedFileError, NotFoundError):
                    continue  # reported by every reading command; nothing to carry over
                for alias in _original_keys(paper):
                    if folded.setdefault(fold_key(alias), key) == key and alias != key:
                        if alias not in paper.aliases:
                            paper.aliases.append(alias)
                if paper.aliases:
                    before = self.path_for(key).read_bytes()
                    data = dump_paper(paper, before)
                    if data != before:
                        writer._write(self.path_for(key), data)
                        changed += 1
            if re.search(r"(?m)^format\s*=\s*\d+\s*$", text):
                text = re.sub(r"(?m)^format\s*=\s*\d+\s*$", f"format = {FORMAT_VERSION}", text)
            else:
                text = f"format = {FORMAT_VERSION}\n" + text
            writer._write(settings, text.encode("utf-8"))
            self.settings = dict(self.settings, format=FORMAT_VERSION)
            self.migrated = (version, changed)

    @classmethod
    def create(
        cls, root: Path, papers: Iterable[tuple[str, bytes]] = (), name: str = ""
    ) -> Library:
        """Make a new library at ``root`` (empty or missing), with the given paper files."""
        root = root.expanduser()
        if (root / SETTINGS_FILE).exists():
            raise UsageError(f"{root} is already a papercli library")
        if root.exists() and not root.is_dir():
            raise UsageError(f"{root} exists and is not a directory")
        if root.is_dir() and any(root.iterdir()):
            raise UsageError(f"{root} is not empty: choose a new or empty directory")
        import tomli_w

        try:
            (root / PAPERS_DIR).mkdir(parents=True, exist_ok=True)
            for file_name, data in papers:
                if not key_of_file_name(file_name):
                    raise UsageError(f"{file_name!r} is not a paper file name papercli writes")
                atomic_write(root / PAPERS_DIR / file_name, data, sync_dir=False)
            _fsync_dir(root / PAPERS_DIR)
            settings = {"format": FORMAT_VERSION, "name": name or root.name}
            # Written last: a library without library.toml is not a library, so a crash
            # midway leaves something 'init' can be re-run on after clearing it.
            atomic_write(root / SETTINGS_FILE, tomli_w.dumps(settings).encode())
        except OSError as exc:
            raise LibraryError(f"cannot create the library at {root}: {exc.strerror}") from exc
        return cls.open(root)

    # -- paths and single files -------------------------------------------------------------

    def path_for(self, key: str) -> Path:
        return self.papers_dir / key_file_name(validate_key(key))

    def shown(self, key: str) -> str:
        return f"{PAPERS_DIR}/{key_file_name(key)}"

    def exists(self, key: str) -> bool:
        return is_valid_key(key) and (self.papers_dir / key_file_name(key)).is_file()

    def keys(self) -> list[str]:
        """Every paper file's key, from a directory listing (no parsing)."""
        try:
            names = os.listdir(self.papers_dir)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise LibraryError(f"cannot list {self.papers_dir}: {exc.strerror}") from exc
        keys = (key_of_file_name(n) for n in names if not n.startswith("."))
        return [k for k in keys if k]

    def read(self, key: str) -> Paper:
        """Parse one paper's file. ``NotFoundError`` if absent, ``MalformedFileError`` if bad."""
        path = self.path_for(key)
        try:
            data = self.read_file(path, str(path))
        except FileNotFoundError:
            raise NotFoundError(f"no paper with key {key!r}: see 'papercli list'") from None
        except OSError as exc:
            raise LibraryError(f"{path}: cannot read ({exc.strerror})") from exc
        return parse_paper_bytes(key, data, str(path))

    def read_staged(self, key: str, staged: str) -> Paper:
        """``key``'s paper as a writer's batch staged it in the temporary file ``staged``."""
        with open(staged, "rb") as handle:
            return parse_paper_bytes(key, handle.read(), self.shown(key))

    def read_file(self, path: Path | str, shown: str) -> bytes:
        """A paper file's bytes. A FIFO, device or socket, a symlink that leaves the library
        and a file larger than any paper (64 MB) raise ``MalformedFileError`` (naming it as
        ``shown``) instead of hanging or filling memory; ``OSError`` as the system gives it.

        The common case is three system calls besides the open: a stat, one read of the size
        the stat gave plus a byte, and the close (an empty cache parses 100,000 files this way,
        and a second read for the end of each file, with an lstat for links, cost a second)."""
        # O_NONBLOCK: opening a FIFO with no writer must not wait.
        flags = os.O_RDONLY | os.O_NONBLOCK
        try:
            fd, link = os.open(path, flags | os.O_NOFOLLOW), False
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.EMLINK):  # EMLINK: BSDs
                raise
            fd, link = os.open(path, flags), True
        too_large = f"{shown}: larger than 64 MB: not a paper file"
        try:
            info = os.fstat(fd)
            if not stat_module.S_ISREG(info.st_mode):
                raise MalformedFileError(
                    f"{shown}: not a regular file (a directory, FIFO, device or socket): remove it"
                )
            if link and not _inside(self.papers_dir, Path(path)):
                raise MalformedFileError(
                    f"{shown}: a symbolic link to a file outside the library: papercli does not "
                    "follow it"
                )
            if info.st_size > MAX_PAPER_BYTES:
                raise MalformedFileError(too_large)
            data = os.read(fd, info.st_size + 1)
            if len(data) == info.st_size:
                return data  # all of it: a byte more was asked for and there was none
            # Grown or shrunk since the stat, or a short read: to the end (still bounded: a
            # file that keeps growing is no paper either).
            chunks, total = [data], len(data)
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
                total += len(chunk)
                if total > MAX_PAPER_BYTES:
                    raise MalformedFileError(too_large)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def names(self) -> dict[str, str]:
        """Every key and alias -> its paper's key, for checking a new key: the keys from the
        directory listing (exact), the aliases from the index when it is already loaded, else
        from the cache as last written (papercli updates it on every reading command), without
        the stat of every file a full ``index()`` costs."""
        if self._index is not None:
            return self._index.key_names()
        keys = self.keys()
        names = dict(zip(keys, keys, strict=True))
        cached = self.cached_index()
        if cached is not None:
            present = set(keys)
            for key, aliases in zip(cached.keys(), cached.column(ALIASES), strict=True):
                if key in present:
                    for alias in aliases:
                        names.setdefault(alias, key)
        else:
            names = self.index().key_names()
        return names

    def cached_index(self, fresh: bool = False) -> Index | None:
        """The index as the cache last wrote it, without looking at the files: it lags behind
        changes to them until the next reading command brings it up to date. None when there
        is no usable cache; with ``fresh``, None too when a file in papers/ was created,
        renamed or removed since it was last found true (as every papercli write and most
        editors do), which two stats tell (see ``_mark_current``). For quick answers (shell
        completion)."""
        if fresh:
            try:
                written = os.stat(self.cache_dir / "index.bin").st_mtime_ns
                if os.stat(self.papers_dir).st_mtime_ns >= written:
                    return None
            except OSError:
                return None
        cache = self._load_cache()
        if cache is None or None in cache["part_cols"]:
            return None
        return Index(cache["problems"], cache["tokens"], cache["part_cols"])

    # -- REF resolution ---------------------------------------------------------------------

    def lookup(self, name: str) -> tuple[str, str, str] | None:
        """A citation key as a draft or a user writes it -> (the paper's key, how it matched,
        the library's spelling): how is ``key``, ``alias``, or ``case`` when it matches a key
        or alias only when case is ignored. None when nothing matches or the case-insensitive
        match is not unique."""
        if is_valid_key(name) and (self.papers_dir / key_file_name(name)).is_file():
            return name, "key", name
        index = self.index()
        names = index.key_names()
        if name in names:
            return names[name], "key" if names[name] == name else "alias", name
        matches = index.folded_names().get(fold_key(name), [])
        owners = {names[m] for m in matches}
        if len(owners) == 1:
            return owners.pop(), "case", matches[0]
        return None

    def resolve_exact(self, ref: str) -> str:
        """A REF for a destructive command: an exact key or alias, or a key prefix that is
        unique with its case kept (``Foo`` never picks ``foobar2020x``)."""
        ref = ref.strip()
        if not ref:
            raise UsageError("an empty REF: give a key")
        found = self.lookup(ref)
        if found is not None and found[1] != "case":
            return found[0]
        candidates = sorted(k for k in self.keys() if k.startswith(ref))
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            hint = f" (did you mean {found[2]!r}?)" if found is not None else ""
            raise NotFoundError(f"no paper has the key {ref!r}{hint}: give the exact key")
        shown = ", ".join(candidates[:10]) + (" ..." if len(candidates) > 10 else "")
        raise AmbiguousRefError(
            f"{ref!r} starts {len(candidates)} keys: {shown}; give the whole key"
        )

    def resolve(self, ref: str) -> str:
        """A REF (key or alias, arXiv id or URL, or unambiguous key prefix) -> the paper's key.
        A key or alias that differs only in case is found too."""
        ref = ref.strip()
        if not ref:
            raise UsageError("an empty REF: give a key, an arXiv id or the start of a key")
        found = self.lookup(ref)
        if found is not None and found[1] != "case":
            return found[0]
        from papercli.arxiv_ids import parse_arxiv_id

        parsed = parse_arxiv_id(ref)
        if parsed:
            base = parsed.base
            hits = [k for k, row in self.index().rows.items() if row[7] == base]
            if len(hits) == 1:
                return hits[0]
            if hits:
                raise AmbiguousRefError(
                    f"arXiv id {base} is in several papers: {', '.join(sorted(hits))}"
                )
            if found is None:
                raise NotFoundError(
                    f"no paper with arXiv id {base}: add it with 'papercli add {base}'"
                )
        if found is not None:
            return found[0]
        lowered = fold_key(ref)
        candidates = sorted(k for k in self.keys() if fold_key(k).startswith(lowered))
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            # 'search Gusfield:97' would read 'Gusfield:' as a filter: the words search alone.
            words = " ".join(re.findall(r"[^\W_]+", ref)) if ":" in ref else ref
            raise NotFoundError(f"no paper matches {ref!r}: try 'papercli search {words}'")
        shown = ", ".join(candidates[:10]) + (" ..." if len(candidates) > 10 else "")
        raise AmbiguousRefError(
            f"{ref!r} matches {len(candidates)} papers: {shown}; give more of the key"
        )

    # -- writing ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self, timeout: float | None = None) -> Iterator[Writer]:
        """Hold the library's write lock; yields a ``Writer``. Waits up to ``timeout`` seconds
        (default ``PAPERCLI_LOCK_TIMEOUT`` or 10) for another papercli to finish."""
        if timeout is None:
            raw = os.environ.get("PAPERCLI_LOCK_TIMEOUT", "10")
            try:
                timeout = float(raw)
            except ValueError:
                timeout = math.nan
            if not (math.isfinite(timeout) and 0 <= timeout <= 86400):
                raise UsageError(
                    f"PAPERCLI_LOCK_TIMEOUT={raw!r} is not a number of seconds (0 to 86400)"
                ) from None
        lock_path = self.root / LOCK_FILE
        try:
            # Never through a symlink: a planted link would make papercli create or lock
            # another file.
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise LibraryError(
                    f"{lock_path} is a symbolic link: papercli does not follow it; remove it"
                ) from exc
            if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
                raise LibraryError(
                    f"the library at {self.root} is read-only: papercli cannot change it"
                ) from exc
            raise LibraryError(f"{lock_path}: cannot open the lock ({exc.strerror})") from exc
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeoutError(
                            f"the library at {self.root} is locked by another papercli process; "
                            "try again when it has finished"
                        ) from None
                    time.sleep(0.01)
            if not self.papers_dir.is_dir():
                raise LibraryError(
                    f"{self.papers_dir} is missing or not a directory: the library is damaged"
                )
            if not os.access(self.papers_dir, os.W_OK):
                raise LibraryError(
                    f"{self.papers_dir} is read-only: papercli cannot change the library"
                )
            # The lock file says whether the last writer finished: only after one that did
            # not (killed, or the file is new) can temporary files be left in papers/, and
            # looking for them lists 100,000 names.
            if _lock_state(fd) != _FINISHED:
                _remove_leftovers(self.papers_dir)
            _set_lock_state(fd, _WRITING)
            checked = self._full_check_current()
            writer = Writer(self)
            try:
                yield writer
            except PapercliError:
                # A refusal: the writes remove their own temporary files then.
                _set_lock_state(fd, _FINISHED)
                raise
            else:
                _set_lock_state(fd, _FINISHED)
            # Any other exit (an interrupt during a batch's sync, a crash, a kill) leaves the
            # state "writing": the next writer looks for temporary files left behind.
            finally:
                if checked is not None:
                    self._carry_full_check(checked, writer.written)
        finally:
            os.close(fd)  # releases the flock
            self._index = None

    def _full_check_current(self) -> _Stamp | None:
        """The stamp of the last full check (large libraries only, see ``_scan``) and the
        names papercli wrote since, when nothing else created, removed or renamed a file in
        papers/ since it; else None."""
        if not self.cache_usable:
            return None
        stamp = _read_stamp(self.cache_dir / "verified")
        try:
            if stamp is not None and stamp.dir_mtime == str(os.stat(self.papers_dir).st_mtime_ns):
                return stamp
        except OSError:
            pass
        return None

    def _carry_full_check(self, checked: _Stamp, written: set[str]) -> None:
        """After this process's own writes (under the lock), the last full check still holds
        for every file it did not write: the stamp takes the directory's new mtime, keeps its
        age, and names the files written, which the next commands stat (``_scan_against``)
        until the next full check. Otherwise each ``add`` to a library of 100,000 papers made
        the next command stat every file again (0.3 s) because papercli itself had changed the
        directory. The names are needed: a file replaced twice can get its old inode back."""
        stamp = self.cache_dir / "verified"
        # A full check made while this writer held the lock (its sync) wrote a newer stamp:
        # that one is carried, else the next command would find the check a minute old.
        current = _read_stamp(stamp) or checked
        names = sorted(set(current.written).union(written))
        with contextlib.suppress(OSError):
            stamp.write_text("\n".join([str(os.stat(self.papers_dir).st_mtime_ns), *names]))
            os.utime(stamp, ns=current.times)

    # -- the derived cache ------------------------------------------------------------------

    @property
    def cache_dir(self) -> Path:
        if self._cache_dir is None:
            from papercli.config import cache_root

            # Readable and unique enough; the index also records its root and is ignored
            # when another library's.
            root = str(self.root.resolve())
            tail = re.sub(r"[^A-Za-z0-9_.-]+", "-", root).strip("-")[-40:]
            self._cache_dir = cache_root() / f"{tail}-{zlib.crc32(root.encode()):08x}"
        return self._cache_dir

    @property
    def cache_usable(self) -> bool:
        """True when the cache directory is this user's alone (created 0700 when missing).
        Otherwise nothing is read from it or written to it, said once in ``notices``."""
        if self._cache_usable is None:
            from papercli.cachefile import private_dir
            from papercli.config import cache_root

            ok = all(
                private_dir(d) for d in (cache_root(), self.cache_dir, self.cache_dir / "shards")
            )
            if not ok:
                self.notices.append(
                    f"the cache directory {cache_root()} is not yours alone (another user owns "
                    "it, or others may write to it): papercli does not use it and reads the "
                    "library itself; set PAPERCLI_CACHE_DIR to a directory of your own"
                )
            self._cache_usable = ok
        return self._cache_usable

    def _scan(self, cache: dict[str, Any] | None) -> Scan:
        """Every paper file's name, inode, size and mtime (no parsing).

        Names and inodes come with the directory listing. Sizes and mtimes need a stat per
        file: about 4 µs each here, 40 ms for 10,000 files, 0.4 s for 100,000. Up to
        ``FULL_STAT_LIMIT`` files every file is stat'ed on every command. Above it, every file
        is stat'ed when the papers directory's mtime changed since the last full check (an
        editor's swap, lock or backup file, git, papercli) or that check is more than
        ``FULL_STAT_EVERY`` seconds old; otherwise a file whose name and inode are unchanged
        keeps its cached size and mtime. So whatever creates, deletes or renames files is seen
        at once, and an in-place rewrite that touches nothing else in the directory
        (``echo >> file``) within a minute. A listing the console script's child took
        (``early_scan``) is used instead of listing again when it is surely the same.
        """
        scan = Scan()
        names, (inos, sizes, mtimes) = scan.names, scan.stat
        stamp_path = self.cache_dir / "verified"
        large = cache is not None and cache["n_names"] > FULL_STAT_LIMIT
        stamp = _read_stamp(stamp_path) if large else None
        try:
            dir_info = os.stat(self.papers_dir)
            dir_mtime = scan.dir_mtime = dir_info.st_mtime_ns
            if cache is not None and _recent_check(stamp, dir_mtime, FULL_STAT_EVERY, settled=True):
                # No file was created, removed or renamed since the last full check (the
                # directory's mtime says so): its listing is the cache's; listing 100,000
                # names would cost more than the rest of a command. (Only a large library
                # has a stamp.)
                names.extend(cache["names"].split(_SEP))
                for column, raw in zip(scan.stat, cache["stat"], strict=True):
                    column.frombytes(raw)
                return scan
            from papercli import early_scan

            early = early_scan.take(self.papers_dir, dir_info)
            if early is not None and not early.listed_only:
                return early  # every file stat'ed, as below
            if early is not None:
                # The names and inodes the early scan listed beside the imports.
                names.extend(early.names)
                inos.extend(early.stat[0])
            elif not large:
                # Every file is stat'ed (below), which gives the inodes: the names alone are
                # listed, in C (a third of the time of a scandir loop in Python).
                names.extend(list_paper_files(self.papers_dir))
                inos.frombytes(bytes(8 * len(names)))  # placeholders: the stat gives them
            else:
                # Names and inodes (no stat): a comprehension per field, a third faster than
                # a loop appending both.
                with os.scandir(self.papers_dir) as entries:
                    listed = list(entries)
                every = [entry.name for entry in listed]
                inodes = [entry.inode() for entry in listed]
                for i in reversed(
                    [i for i, n in enumerate(every) if n[:1] == "." or not n.endswith(".toml")]
                ):
                    del every[i], inodes[i]
                names.extend(every)
                inos.extend(inodes)
        except FileNotFoundError:
            return scan
        except OSError as exc:
            raise LibraryError(f"cannot list {self.papers_dir}: {exc.strerror}") from exc
        full = (
            not large
            or len(names) <= FULL_STAT_LIMIT
            or not _recent_check(stamp, dir_mtime, FULL_STAT_EVERY)
        )
        if not full and cache is not None:
            written = set(stamp.written) if stamp is not None else set()
            if (
                not written
                and cache["n_names"] == len(names)
                and cache["names"] == _SEP.join(names)
                and cache["stat"][0] == inos.tobytes()
            ):
                sizes.frombytes(cache["stat"][1])
                mtimes.frombytes(cache["stat"][2])
                return scan
            return self._scan_against(scan, cache, written)
        try:
            fd = os.open(self.papers_dir, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise LibraryError(f"cannot list {self.papers_dir}: {exc.strerror}") from exc
        gone: list[int] = []
        try:
            done = _stat_all(names, fd, scan)
            stat = os.stat
            for i, name in enumerate([] if done else names):
                try:
                    # Relative to an open directory: a third faster than full paths.
                    st = stat(name, dir_fd=fd)
                except OSError as exc:
                    if isinstance(exc, FileNotFoundError):  # removed while we looked
                        gone.append(i)
                    # Else a symbolic link that loops or leads nowhere readable: kept, so
                    # that reading it says what is wrong (one line, not a traceback).
                    sizes.append(0)
                    mtimes.append(0)
                    continue
                inos[i] = st.st_ino
                sizes.append(st.st_size)
                # The change time too: cp -p and touch -r put an old mtime back, never ctime.
                mtimes.append(max(st.st_mtime_ns, st.st_ctime_ns))
        finally:
            os.close(fd)
        for i in reversed(gone):
            del names[i], inos[i], sizes[i], mtimes[i]
        if full and len(names) > FULL_STAT_LIMIT:
            _write_stamp(stamp_path, dir_mtime)
        return scan

    def _scan_against(self, scan: Scan, cache: dict[str, Any], written: set[str]) -> Scan:
        """``scan``'s sizes and mtimes (it has the names and inodes just listed): the cache's
        for a file whose name and inode it knows, a stat for the others; and which files
        changed (``scan.changed``) or went (``scan.gone``), so that nobody compares 100,000
        names again. Dictionaries and sets do the matching, not a loop per file."""
        names, (inos, sizes, mtimes) = scan.names, scan.stat
        old_names = cache["names"].split(_SEP) if cache["n_names"] else []
        old_ino, old_size, old_mtime = array("q"), array("q"), array("q")
        for column, raw in zip((old_ino, old_size, old_mtime), cache["stat"], strict=True):
            column.frombytes(raw)
        where = dict(zip(old_names, range(len(old_names)), strict=True))
        found = list(map(where.get, names))
        picked = [0 if at is None else at for at in found]  # the new ones are stat'ed below
        same_inode: Iterator[bool]
        if len(picked) > 1:
            same_inode = map(int.__eq__, itemgetter(*picked)(old_ino), inos)
        else:
            same_inode = iter([bool(old_ino) and old_ino[at] == inos[0] for at in picked])
        new = [i for i, same in enumerate(same_inode) if not same or found[i] is None]
        # Files papercli wrote since the last full check are stat'ed even under a known inode:
        # a file replaced twice can get its old inode back.
        recheck = [i for i, name in enumerate(names) if name in written and found[i] is not None]
        for i in new:
            found[i] = None  # a file replaced under its name: its cached row goes
        if len(picked) > 1:
            sizes.extend(itemgetter(*picked)(old_size))
            mtimes.extend(itemgetter(*picked)(old_mtime))
        else:
            sizes.extend([old_size[at] if old_size else 0 for at in picked])
            mtimes.extend([old_mtime[at] if old_mtime else 0 for at in picked])
        vanished: list[int] = []
        if new or recheck:
            fd = os.open(self.papers_dir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                for i in new + recheck:
                    try:
                        st = os.stat(names[i], dir_fd=fd)
                        stat = (st.st_ino, st.st_size, max(st.st_mtime_ns, st.st_ctime_ns))
                    except FileNotFoundError:  # removed while we looked
                        vanished.append(i)
                        continue
                    except OSError:  # a link that loops: kept, its read says so
                        stat = (inos[i], 0, 0)
                    if found[i] is not None:  # rechecked: changed only if its stat did
                        if stat == (inos[i], sizes[i], mtimes[i]):
                            continue
                        found[i] = None
                        new.append(i)
                    inos[i], sizes[i], mtimes[i] = stat
            finally:
                os.close(fd)
        changed = {names[i]: (inos[i], sizes[i], mtimes[i]) for i in new if i not in vanished}
        for i in reversed(vanished):
            del names[i], inos[i], sizes[i], mtimes[i]
        kept = set(found)
        kept.discard(None)
        scan.changed = changed
        scan.gone = [
            old_names[at] for at in range(len(old_names))
            if at not in kept and old_names[at] not in changed
        ]  # fmt: skip
        return scan

    def _load_cache(self) -> dict[str, Any] | None:
        """``index.bin``'s payload with ``part_cols``: each shard's (columns, number of rows),
        None for a shard whose rows file is missing, damaged or not the one named."""
        if not self.cache_usable:
            return None
        from papercli.cachefile import read_trusted

        raw = read_trusted(self.cache_dir / "index.bin")
        data = decode_index(raw) if raw is not None else None
        if data is None or data.get("root") != str(self.root.resolve()):
            return None
        empty = None
        part_cols: list[tuple[list[Any], int] | None] = []
        for shard, (part_id, n_rows) in enumerate(data["parts"]):
            if not n_rows:
                empty = empty or encode_columns([])
                part_cols.append((empty, 0))
                continue
            cols = decode_part(read_trusted(self._rows_path(shard)), part_id, n_rows)
            part_cols.append(None if cols is None else (cols, n_rows))
        data["part_cols"] = part_cols
        self._part_ids = data["parts"]
        return data

    def shard_path(self, shard: int) -> Path:
        """The cache file holding shard ``shard``'s full papers (derived caches key on it)."""
        return self.cache_dir / "shards" / f"{shard:02d}.pickle"

    def shard_sigs(self) -> list[tuple[int, ...]]:
        """Per cache shard: its change token and its file's identity (a rewritten shard file
        has a new inode and mtime even if the tokens restarted after the cache was deleted);
        only the token for a shard whose file is missing. Derived caches (the search index,
        prepared BibTeX entries) are valid while their shard's signature is unchanged."""
        sigs: list[tuple[int, ...]] = []
        for shard, token in enumerate(self.index().shard_tokens):
            try:
                st = os.stat(self.shard_path(shard))
                sigs.append((token, st.st_ino, st.st_mtime_ns, st.st_size))
            except OSError:
                sigs.append((token,))
        return sigs

    def _load_shard(self, shard: int) -> dict[str, Paper] | None:
        if not self.cache_usable:
            return None
        from papercli.cachefile import read_trusted, safe_loads, unpack

        raw = read_trusted(self.shard_path(shard))
        if raw is None:
            return None
        try:
            data = safe_loads(unpack(raw))
        except (_pickle().UnpicklingError, EOFError, AttributeError, ValueError, TypeError,
                IndexError, KeyError, MemoryError, RecursionError):  # fmt: skip
            return None
        return data if isinstance(data, dict) else None

    def index(self) -> Index:
        """Summaries of every paper, brought up to date with the files on disk."""
        if self._index is None:
            self._index = self._sync()
        return self._index

    def _sync(self) -> Index:
        cache = self._load_cache()
        scan = self._scan(cache)
        parts: list[tuple[list[Any], int] | None] = cache["part_cols"] if cache else []
        if cache is not None and None not in parts and scan.matches(cache):
            self._mark_current(scan.dir_mtime)
            return Index(cache["problems"], cache["tokens"], parts)
        # The files to parse (name -> its stat) and the names whose rows go or change.
        sig: dict[str, tuple[int, int, int]]
        if cache is not None and scan.changed is not None and scan.gone is not None:
            sig = dict(scan.changed)
            touched = [*sig, *scan.gone]
        else:
            every = scan.sig()
            old_sig = unpack_sig(cache) if cache else {}
            touched = [name for name, stat in every.items() if old_sig.get(name) != stat]
            touched += [name for name in old_sig if name not in every]
            sig = every if cache is None else {n: every[n] for n in touched if n in every}
        unreadable = {shard for shard, part in enumerate(parts) if part is None}
        if unreadable:  # shards whose rows file is missing or not the one named: parse them
            for name, stat in zip(scan.names, zip(*scan.stat, strict=True), strict=True):
                if name not in sig and shard_of(key_of_file_name(name) or name) in unreadable:
                    sig[name] = stat
                    touched.append(name)
        listed = set(sig)
        # The rows of papers parsed now; the other rows stay as their shard's columns, and a
        # changed shard's are patched (patched_columns), not decoded and encoded again.
        problems: dict[str, str] = dict(cache["problems"]) if cache else {}
        tokens: list[int] = list(cache["tokens"]) if cache else [0] * SHARDS
        by_shard: dict[int, list[str]] = {shard: [] for shard in unreadable}
        for name in touched:
            by_shard.setdefault(shard_of(key_of_file_name(name) or name), []).append(name)
        full_rebuild = cache is None
        writable = self._prepare_cache_dir()
        todo = sorted(by_shard) if not full_rebuild else list(range(SHARDS))
        helper = None
        to_parse = sum(
            1
            for names in by_shard.values()
            for name in names
            if name in sig and self._written.get(name, ((),))[0] != sig[name]
        )
        if writable and to_parse >= PARALLEL_PARSE_MIN:
            helper = self._parse_in_child(todo[1::2], by_shard, sig, full_rebuild, parts)
            if helper is not None:
                todo = todo[::2]
        new_parts: dict[int, tuple[list[Any], int, int]] = {}

        # One shard at a time, so a first run over 100,000 files holds one shard's papers in
        # memory, not all of them.
        def parse_shards(shards: list[int]) -> None:
            nonlocal writable
            for shard in shards:
                papers = {} if full_rebuild or not writable else (self._load_shard(shard) or {})
                rows, dropped = self._parse_shard(by_shard.get(shard, ()), sig, problems, papers)
                if writable:
                    writable = self._write_shard(shard, papers)
                if not writable:
                    # The shard on disk (if any) is older than these files: serve them instead.
                    self._fresh.update((key, papers[key]) for key in rows)
                # Bumped even when nothing can be written: derived caches (the search index)
                # then see the change in this process too.
                tokens[shard] = (tokens[shard] + 1) % (1 << 62)
                # As columns at once: a first command over 100,000 files never holds every
                # paper's row as a tuple (it stays under 300 MB).
                cols, n_rows = self._new_part(parts[shard] if parts else None, rows, dropped)
                new_parts[shard] = (cols, n_rows, _new_id())

        parse_shards(todo)
        if helper is not None:
            done = _child_result(*helper)
            if done is None:  # the helper failed: its shards are parsed here after all
                parse_shards(helper[2])
            else:
                child_parts, child_problems, child_vanished = done
                for shard in helper[2]:
                    tokens[shard] = (tokens[shard] + 1) % (1 << 62)
                    for name in by_shard.get(shard, ()):
                        problems.pop(name, None)
                    new_parts[shard] = (*child_parts[shard], _new_id())
                problems.update(child_problems)
                for name in child_vanished:
                    sig.pop(name, None)
        self._written.clear()
        vanished = listed.difference(sig)  # removed while this command parsed them
        if vanished:
            scan = scan.without(vanished)
        if writable:
            writable = self._write_index(scan, problems, tokens, new_parts)
            if writable:
                self._mark_current(scan.dir_mtime)
        merged: list[tuple[list[Any], int] | None] = list(parts) if parts else [None] * SHARDS
        for shard, (cols, n_rows, _) in new_parts.items():
            merged[shard] = (cols, n_rows)
        return Index(problems, tokens, merged)

    @staticmethod
    def _new_part(
        old: tuple[list[Any], int] | None,
        rows: dict[str, tuple[Any, ...]],
        dropped: set[str],
    ) -> tuple[list[Any], int]:
        """A shard's columns and number of rows: ``old`` patched with ``rows`` and ``dropped``,
        or ``rows`` alone when it had none (a new cache, or a rows file missing or not the
        one named)."""
        if old is None:
            return encode_columns(list(rows.values())), len(rows)
        return patched_columns(*old, rows, dropped)

    def _parse_shard(
        self,
        names: Iterable[str],
        sig: dict[str, tuple[int, int, int]],
        problems: dict[str, str],
        papers: dict[str, Paper],
    ) -> tuple[dict[str, tuple[Any, ...]], set[str]]:
        """The files ``names`` of one shard parsed into ``papers`` (updated in place, a file
        gone taken out): their summary rows, and the keys whose cached rows go."""
        rows: dict[str, tuple[Any, ...]] = {}
        dropped: set[str] = set()
        for name in names:
            key = key_of_file_name(name) or name
            problems.pop(name, None)
            dropped.add(key)
            papers.pop(key, None)
            if name not in sig:
                continue
            paper = self._written_or_parsed(name, sig, problems)
            if paper is not None:
                rows[key] = summarize(paper)
                papers[key] = paper
        return rows, dropped

    def _write_index(
        self,
        scan: Scan,
        problems: dict[str, str],
        tokens: list[int],
        new_parts: dict[int, tuple[list[Any], int, int]],
    ) -> bool:
        """The changed shards' rows files, then ``index.bin`` naming them (each under a new id:
        a reader that meets a rows file and an ``index.bin`` of different writers parses that
        shard again). Best effort: False when the cache cannot be written."""
        from papercli.cachefile import private_dir

        ids = list(self._part_ids) if self._part_ids else [[0, 0]] * SHARDS
        try:
            if not private_dir(self.cache_dir / "rows"):
                return False
            for shard, (cols, n_rows, part_id) in new_parts.items():
                ids[shard] = [part_id, n_rows]
                if n_rows:
                    part = {"version": CACHE_VERSION, "id": part_id, "n_rows": n_rows,
                            "cols": cols}  # fmt: skip
                    atomic_write(self._rows_path(shard), marshal.dumps(part), durable=False)
            root = str(self.root.resolve())
            payload = index_payload(scan, problems, tokens, root, [(i, n) for i, n in ids])
            atomic_write(self.cache_dir / "index.bin", marshal.dumps(payload), durable=False)
            self._part_ids = ids
            return True
        except (OSError, ValueError, OverflowError, TypeError):
            return False  # a cache that cannot be written only costs speed

    def _rows_path(self, shard: int) -> Path:
        return self.cache_dir / "rows" / f"{shard:02d}.bin"

    def _mark_current(self, dir_mtime: int) -> None:
        """Record in the index file's mtime that it holds papers/ as it was at ``dir_mtime``
        (just after it), for ``cached_index(fresh=True)``: a later file created, renamed or
        removed in papers/ moves the directory's mtime past it."""
        if not dir_mtime or not self.cache_usable:
            return
        path = self.cache_dir / "index.bin"
        with contextlib.suppress(OSError):
            if os.stat(path).st_mtime_ns != dir_mtime + 1:
                os.utime(path, ns=(dir_mtime + 1, dir_mtime + 1))

    def _parse_in_child(
        self,
        shards: list[int],
        by_shard: dict[int, list[str]],
        sig: dict[str, tuple[int, int, int]],
        full_rebuild: bool,
        parts: list[tuple[list[Any], int] | None],
    ) -> tuple[int, int, list[int]] | None:
        """Parse the files of ``shards`` in a forked process (a second processor does half
        the work of a first command on a new or rebuilt cache): it writes those shards and
        sends back their rows as columns (``_new_part`` of ``parts``), the problems and the
        files that vanished. Returns (pid, the pipe to read, the shards), or None when forking
        is not possible or not worth it."""
        import threading

        if (
            not shards
            or not hasattr(os, "fork")
            or (os.cpu_count() or 1) < 2
            or threading.active_count() > 1  # forking a threaded process is unsafe
        ):
            return None
        forked = fork_with_pipe()
        if forked is None:
            return None
        pid, fd = forked
        if pid:
            return pid, fd, shards
        code = 1
        try:
            columns: dict[int, list[Any]] = {}
            problems: dict[str, str] = {}
            for shard in shards:
                papers = {} if full_rebuild else (self._load_shard(shard) or {})
                rows, dropped = self._parse_shard(by_shard.get(shard, ()), sig, problems, papers)
                if not self._write_shard(shard, papers):
                    raise OSError("cannot write the cache")
                # As columns, here: the parent then neither decodes nor encodes these rows.
                columns[shard] = list(
                    self._new_part(parts[shard] if parts else None, rows, dropped)
                )
            vanished = [n for s in shards for n in by_shard.get(s, ()) if n not in sig]
            data = marshal.dumps((columns, problems, vanished))
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            code = 0
        except BaseException:  # noqa: BLE001 - the parent parses these shards itself
            code = 1
        finally:
            os._exit(code)

    def _written_or_parsed(
        self, name: str, sig: dict[str, tuple[int, int, int]], problems: dict[str, str]
    ) -> Paper | None:
        """The paper of file ``name``: as this process wrote it when the file is still what
        it wrote (``Writer.batch``), else parsed."""
        known = self._written.get(name)
        if known is not None and known[0] == sig[name]:
            return known[1]
        return self._parse_for_cache(name, sig, problems)

    def _parse_for_cache(
        self, name: str, sig: dict[str, tuple[int, int, int]], problems: dict[str, str]
    ) -> Paper | None:
        """One changed file, parsed; its problem recorded when it cannot be."""
        key = key_of_file_name(name)
        if not key:
            stem = name[:-5]
            problem = key_problem(stem)
            advice = (
                f"rename it to {key_file_name(stem)}"
                if not problem
                else f"it is not a valid key ({problem}); rename it"
            )
            problems[name] = f"{PAPERS_DIR}/{name}:1:1: the file name is not papercli's: {advice}"
            return None
        try:
            data = self.read_file(os.path.join(self.papers_dir, name), f"{PAPERS_DIR}/{name}")
            return parse_paper_bytes(key, data, f"{PAPERS_DIR}/{name}")
        except FileNotFoundError:
            sig.pop(name, None)
        except OSError as exc:
            problems[name] = f"{PAPERS_DIR}/{name}:1:1: cannot read ({exc.strerror})"
        except MalformedFileError as exc:
            problems[name] = str(exc)
        return None

    def _prepare_cache_dir(self) -> bool:
        return self.cache_usable

    def _write_shard(self, shard: int, papers: dict[str, Paper]) -> bool:
        """Best effort: a cache that cannot be written only costs speed."""
        try:
            from papercli.cachefile import pack

            # Compressed (cachefile.pack): the cache stays smaller than the library.
            data = pack(_pickle().dumps(papers, protocol=5))
            atomic_write(self.shard_path(shard), data, durable=False)
            return True
        except (OSError, ValueError, TypeError, _pickle().PicklingError):
            return False

    def papers(self, keys: Iterable[str] | None = None) -> Iterator[Paper]:
        """Full papers (abstracts, notes) from the cache shards, in key order when ``keys`` is
        None. A shard the cache lacks is read from the files."""
        index = self.index()
        known = set(index.keys())
        wanted = sorted(known) if keys is None else list(keys)
        by_shard: dict[int, list[str]] = {}
        for key in wanted:
            by_shard.setdefault(shard_of(key), []).append(key)
        loaded: dict[int, dict[str, Paper]] = {}
        for shard, shard_keys in by_shard.items():
            fresh = all(k in self._fresh for k in shard_keys)
            loaded[shard] = {} if fresh else (self._load_shard(shard) or {})
        for key in wanted:
            paper = self._fresh.get(key) or loaded[shard_of(key)].get(key)
            if paper is None:
                if key not in known:
                    continue
                try:
                    paper = self.read(key)
                except (NotFoundError, MalformedFileError):
                    continue
            yield paper


MAX_PAPER_BYTES = 64 * 1024 * 1024


def _new_id() -> int:
    """A rows file's id (see ``decode_part``)."""
    return int.from_bytes(os.urandom(7), "big")


def fork_with_pipe() -> tuple[int, int] | None:
    """Fork, with a pipe from the child to the parent: (child's pid, the end to read) in the
    parent, (0, the end to write) in the child; None when the system cannot fork now."""
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid:
        os.close(write_fd)
        return pid, read_fd
    os.close(read_fd)
    return 0, write_fd


def _child_result(
    pid: int, read_fd: int, shards: list[int]
) -> tuple[dict[int, tuple[list[Any], int]], dict[str, str], list[str]] | None:
    """What the helper of ``Library._parse_in_child`` sent (each of ``shards`` as columns,
    the problems, the files that vanished), or None when it failed or sent something else."""
    with os.fdopen(read_fd, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not data:
        return None
    try:
        columns, problems, vanished = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    parts: dict[int, tuple[list[Any], int]] = {}
    for shard in shards:
        part = columns.get(shard) if isinstance(columns, dict) else None
        if not isinstance(part, list) or len(part) != 2 or not _columns_fit(*part):
            return None
        parts[shard] = (part[0], part[1])
    return parts, problems, vanished


def _inside(directory: Path, path: Path) -> bool:
    """True when ``path``, its links followed, is a file inside ``directory``."""
    try:
        return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(directory))
    except (OSError, ValueError):
        return False


_FINISHED, _WRITING = b"finished\n", b"writing\n\n"  # the same length: no truncation


def _lock_state(fd: int) -> bytes:
    try:
        return os.pread(fd, len(_FINISHED), 0)
    except OSError:
        return b""


def _set_lock_state(fd: int, state: bytes) -> None:
    with contextlib.suppress(OSError):
        os.pwrite(fd, state, 0)


def _remove_leftovers(directory: Path) -> None:
    """Remove the temporary files of writes a kill interrupted (``.NAME.XXXX.tmp``). Called
    under the write lock, when no papercli is writing one."""
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith(".") and name.endswith(".tmp"):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
    except OSError:
        pass


def _original_keys(paper: Paper) -> list[str]:
    """Keys a .bib gave this paper that papercli 0.1 changed on import (kept in provenance)."""
    found = []
    for record in paper.provenance:
        key = record.get("key")
        if record.get("source") == "bibtex" and isinstance(key, str) and is_valid_key(key):
            if key != paper.key and key not in found:
                found.append(key)
    return found


class Writer:
    """Changes to a library, made while its write lock is held (see ``Library.writing``)."""

    def __init__(self, library: Library) -> None:
        self.library = library
        # Keys and aliases by case-folded spelling, loaded on the first new key and kept up to
        # date by this writer (the index is not re-read between its writes).
        self._folded: dict[str, str] | None = None
        # Until that map is built: what this writer took and removed, over the index.
        self._taken: dict[str, str] = {}
        self._gone: set[str] = set()
        self._asked = 0
        self._exact_claimed: set[str] = set()  # aliases created by this writer
        # Inside ``batch()``: target path -> (temporary file written, its paper).
        self._staged: dict[Path, tuple[str, Paper]] | None = None
        self.written: set[str] = set()  # names of the paper files this writer put in place

    def read(self, key: str) -> Paper:
        """The paper as it is on disk now (or as this writer's batch will put it there); a
        malformed file raises (and so is never rewritten)."""
        if self._staged is not None:
            staged = self._staged.get(self.library.path_for(key))
            if staged is not None:
                return self.library.read_staged(key, staged[0])
        return self.library.read(key)

    def exists(self, key: str) -> bool:
        if self._staged is not None and self.library.path_for(key) in self._staged:
            return True
        return self.library.exists(key)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes put in place together, for imports: each paper is written to its own
        temporary file; at the end one ``sync`` makes them all durable, then each is renamed
        over its target and the directory synced once. A crash before the renames leaves only
        temporary files (removed under the next lock); a crash during them leaves some papers
        written whole and the others as they were, never half a file. One fsync per file (two
        with the directory's) made an import of 10,000 papers spend most of its time waiting.

        The papers saved in a batch go to the cache as they are (their files are not parsed
        again): a paper must not change after its last ``save`` in the batch."""
        self._staged = {}
        try:
            yield
            staged, self._staged = self._staged, None
            if staged:
                os.sync()
            placed = 0
            for path, (tmp, paper) in staged.items():
                try:
                    os.replace(tmp, path)
                except OSError as exc:
                    self._staged = dict(list(staged.items())[placed:])  # removed below
                    raise LibraryError(f"{path}: cannot write ({exc.strerror})") from exc
                placed += 1
                self.written.add(path.name)
                self._remember(path, paper)
            if staged:
                _fsync_dir(self.library.papers_dir)
        finally:
            for tmp, _ in (self._staged or {}).values():
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            self._staged = None

    def _remember(self, path: Path, paper: Paper) -> None:
        """Hand a written paper to the cache, keyed on the file's signature now; beyond
        ``REMEMBER_MAX`` papers they are parsed by the next sync instead (a paper in memory
        costs more than parsing it again, and an import of 100,000 must not hold them all)."""
        if len(self.library._written) >= self.library.remember_max:
            return
        try:
            st = os.stat(path)
        except OSError:
            return
        sig = (st.st_ino, st.st_size, max(st.st_mtime_ns, st.st_ctime_ns))
        self.library._written[path.name] = (sig, paper)

    def _names_by_fold(self) -> dict[str, str]:
        if self._folded is None:
            names = self.library.names()
            folded = {fold_key(name): key for name, key in names.items()}
            for key in self._gone:
                folded = {f: k for f, k in folded.items() if k != key}
            folded.update(self._taken)
            self._folded = folded
        return self._folded

    def owner_of(self, name: str) -> str | None:
        """The key of the paper whose key or alias is ``name`` up to case, or None."""
        index = self.library._index
        self._asked += 1
        if self._folded is not None or index is None or self._asked > LOOKUPS_BEFORE_MAP:
            return self._names_by_fold().get(fold_key(name))
        # A few questions (adding a paper) against the loaded index, without the map of every
        # name folded (45 ms at 100,000 papers).
        folded = fold_key(name)
        if folded in self._taken:
            return self._taken[folded]
        owners = index.owners_folded(folded) - self._gone
        if len(owners) > 1:  # names that collide already: the map decides, as it always has
            return self._names_by_fold().get(folded)
        return next(iter(owners), None)

    def claim(self, paper: Paper) -> None:
        """Record ``paper``'s key and aliases as taken (the caller has checked them)."""
        for name in [paper.key, *paper.aliases]:
            if self.owner_of(name) is None:
                self._take(fold_key(name), paper.key)

    def _take(self, folded: str, key: str) -> None:
        self._taken[folded] = key
        if self._folded is not None:
            self._folded[folded] = key

    def check_new_key(self, key: str, owner: str | None = None) -> None:
        """Raise ``UsageError`` when ``key`` is taken by another paper, as a key or alias, in
        any case (keys that differ only in case collide in BibTeX and as file names on macOS
        and Windows)."""
        validate_key(key)
        taken = self.owner_of(key)
        if taken is None and self.exists(key):
            taken = key
        if taken is not None and taken != owner:
            names = self.library.index().key_names()
            spelled = next(
                (n for n, k in names.items() if k == taken and fold_key(n) == fold_key(key)),
                taken,
            )
            if spelled == key:
                raise UsageError(f"a paper with key {key!r} already exists")
            how = "key" if spelled == taken else f"an alias of {taken}"
            raise UsageError(
                f"key {key!r} differs only in case from {spelled!r} ({how}): keys that differ "
                "only in case collide in BibTeX and as file names on macOS and Windows; choose "
                "another"
            )

    def save(self, paper: Paper, *, touch: bool = True, comments_of: str | None = None) -> None:
        """Write a paper (new or changed) atomically, keeping the comments of the file it
        replaces (or of paper ``comments_of``'s file: a renamed paper)."""
        from papercli.models import timestamp

        validate_key(paper.key)
        stamp = timestamp()
        if not paper.added:
            paper.added = stamp
        if touch:
            paper.updated = stamp
        path = self.library.path_for(paper.key)
        previous = _previous(self.library.path_for(comments_of or paper.key))
        self._write(path, dump_paper(paper, previous), paper)

    def create(self, paper: Paper) -> None:
        """Write a new paper; refuses a key another paper has as key or alias, in any case, and
        an alias another paper has spelled the same (an alias may differ from another paper's
        key in case only: exact spelling finds each)."""
        self.check_new_key(paper.key)
        names = self.library.names() if paper.aliases else {}
        for alias in paper.aliases:
            validate_key(alias)
            if names.get(alias, paper.key) != paper.key or alias in self._exact_claimed:
                raise UsageError(f"{alias!r} already names another paper: it cannot be an alias")
        self.save(paper)
        self.claim(paper)
        self._exact_claimed.update(paper.aliases)

    def update(self, key: str, change: Callable[[Paper], None]) -> Paper:
        """Read ``key`` fresh, apply ``change``, write it back. Returns the new paper."""
        paper = self.read(key)
        change(paper)
        self.save(paper)
        return paper

    def delete(self, key: str) -> None:
        path = self.library.path_for(key)
        try:
            path.unlink()
        except FileNotFoundError:
            raise NotFoundError(f"no paper with key {key!r}") from None
        except OSError as exc:
            raise LibraryError(f"{path}: cannot remove ({exc.strerror})") from exc
        _fsync_dir(path.parent)
        self._gone.add(key)
        self._taken = {f: k for f, k in self._taken.items() if k != key}
        if self._folded is not None:
            self._folded = {f: k for f, k in self._folded.items() if k != key}

    def rename(self, old: str, new: str) -> Paper:
        """Give paper ``old`` the key ``new`` (a new file, then the old one removed). The old
        key becomes an alias, so drafts citing it still find the paper; ``new`` may be one of
        the paper's own aliases or differ from ``old`` only in case."""
        validate_key(new)
        if new == old:
            raise UsageError(f"{old!r} already has the key {new!r}")
        if self.exists(new) and self.exists(old) and fold_key(old) != fold_key(new):
            finished = self.read(new)
            if old in finished.aliases:
                # An earlier rename was stopped between its two steps: finish it.
                self.delete(old)
                return finished
        self.check_new_key(new, owner=old)
        paper = self.read(old)
        own = paper.alias_bibtex.pop(new, None)
        if own is not None:
            # The new key came with a record of its own: it becomes the paper's record, and
            # the old key keeps the one it had.
            if paper.bibtex_type:
                paper.alias_bibtex[old] = paper.record_table()
            paper.set_record(own)
        paper.key = new
        paper.aliases = [a for a in paper.aliases if a != new]
        if fold_key(old) != fold_key(new) and old not in paper.aliases:
            paper.aliases.append(old)
        if fold_key(old) == fold_key(new):
            # Same file on a case-insensitive file system: write the new name through a
            # temporary one, so the old file is never removed after the new one was written.
            self._write_renamed_case(paper, old)
        else:
            self.save(paper, comments_of=old)
            self.delete(old)
        for name in [new, *paper.aliases]:
            self._take(fold_key(name), new)
        return paper

    def _write_renamed_case(self, paper: Paper, old: str) -> None:
        from papercli.models import timestamp

        paper.updated = timestamp()
        old_path = self.library.path_for(old)
        new_path = self.library.path_for(paper.key)
        atomic_write(old_path, dump_paper(paper, _previous(old_path)))
        self.written.add(old_path.name)
        try:
            os.rename(old_path, new_path)
        except OSError as exc:
            raise LibraryError(f"{new_path}: cannot rename ({exc.strerror})") from exc
        self.written.add(new_path.name)
        _fsync_dir(new_path.parent)

    def _write(self, path: Path, data: bytes, paper: Paper | None = None) -> None:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            mode = None
        if mode is not None and not mode & 0o222:
            # The user made it read-only: a rename over it would change it all the same.
            raise LibraryError(
                f"{path} is read-only (mode {mode & 0o777:o}): papercli does not change it; "
                "make it writable (chmod u+w) to let papercli change it"
            )
        try:
            if self._staged is not None and paper is not None:
                old = self._staged.pop(path, None)
                if old is not None:
                    os.unlink(old[0])
                self._staged[path] = (stage_file(path, data), paper)
                return
            atomic_write(path, data)
            self.written.add(path.name)
        except OSError as exc:
            raise LibraryError(f"{path}: cannot write ({exc.strerror})") from exc
