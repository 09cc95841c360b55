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

This module never prints.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import marshal
import os
import re
import time
import tomllib
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from papercli.errors import (
    AmbiguousRefError,
    LibraryError,
    LockTimeoutError,
    MalformedFileError,
    NotFoundError,
    UsageError,
)
from papercli.models import KEY_RE, Paper, validate_key

FORMAT_VERSION = 1
SETTINGS_FILE = "library.toml"
PAPERS_DIR = "papers"
LOCK_FILE = ".papercli.lock"
CACHE_VERSION = 3
SHARDS = 64


def _int_env(name: str, default: int) -> int:
    """A tuning knob from the environment; a value that is not a whole number is ignored."""
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


FULL_STAT_LIMIT = _int_env("PAPERCLI_FULL_STAT_LIMIT", 2000)
FULL_STAT_EVERY = 60.0  # seconds


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
    )


# How each Summary field is stored in the columnar cache: s string, t tuple of strings, i int.
_KINDS = "ssstistsssssits"
_SEP, _SUB = "\x00", "\x1f"


def _clean(value: str) -> str:
    return value.replace(_SEP, " ").replace(_SUB, " ")


def encode_index(
    sig: dict[str, tuple[int, int, int]],
    rows: dict[str, tuple[Any, ...]],
    problems: dict[str, str],
    tokens: list[int],
    root: str,
) -> bytes:
    """The index as columns (one joined string or int array per field): loading 100,000 rows
    this way is several times faster than unpickling 100,000 tuples."""
    names = list(sig)
    values = list(sig.values())
    cols: list[Any] = []
    table = list(rows.values())
    for i, kind in enumerate(_KINDS):
        column = [row[i] for row in table]
        if kind == "s":
            cols.append(_SEP.join(_clean(v) for v in column))
        elif kind == "t":
            cols.append(_SEP.join(_SUB.join(_clean(x) for x in v) for v in column))
        else:
            cols.append(array("q", column).tobytes())
    payload = {
        "version": CACHE_VERSION,
        "root": root,
        "n_names": len(names),
        "names": _SEP.join(names),
        "stat": [array("q", [v[j] for v in values]).tobytes() for j in range(3)],
        "n_rows": len(table),
        "cols": cols,
        "problems": problems,
        "tokens": tokens,
    }
    return marshal.dumps(payload)


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


def decode_index(data: bytes) -> dict[str, Any] | None:
    """The cache's payload, with the file signatures still packed (see ``Scan.matches``)."""
    try:
        payload = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or payload.get("version") != CACHE_VERSION:
        return None
    expected = {"root": str, "n_names": int, "names": str, "stat": list, "n_rows": int,
                "cols": list, "problems": dict, "tokens": list}  # fmt: skip
    if any(not isinstance(payload.get(k), t) for k, t in expected.items()):
        return None
    if len(payload["stat"]) != 3 or len(payload["cols"]) != len(_KINDS):
        return None
    # Cheap shape checks (counts, not decoding), so a damaged file is rebuilt, not trusted.
    n_names, n_rows = payload["n_names"], payload["n_rows"]
    if payload["names"].count(_SEP) != max(n_names - 1, 0) or any(
        not isinstance(raw, bytes) or len(raw) != 8 * n_names for raw in payload["stat"]
    ):
        return None
    for kind, raw in zip(_KINDS, payload["cols"], strict=True):
        if kind == "i":
            if not isinstance(raw, bytes) or len(raw) != 8 * n_rows:
                return None
        elif not isinstance(raw, str) or (n_rows and raw.count(_SEP) != n_rows - 1):
            return None
    return payload


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


def _recent_check(stamp: Path, dir_mtime: int, seconds: float) -> bool:
    """True when the last full check is younger than ``seconds`` and the papers directory has
    not changed since (its mtime is what the stamp file holds)."""
    try:
        if time.time() - os.stat(stamp).st_mtime > seconds:
            return False
        return stamp.read_text() == str(dir_mtime)
    except (OSError, ValueError):
        return False


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

    ``rows`` maps key -> Summary tuple. When the index comes straight from the cache it is
    kept as columns and decoded lazily: ``column(i)`` gives one field for every paper (aligned
    with ``keys()``) without building 100,000 tuples; ``rows`` builds them on first use.
    """

    def __init__(
        self,
        rows: dict[str, tuple[Any, ...]] | None,
        problems: dict[str, str],
        shard_tokens: list[int],
        columns: list[Any] | None = None,
        n_rows: int = 0,
    ) -> None:
        self._rows = rows
        self.problems = problems
        self.shard_tokens = shard_tokens
        self._raw_columns = columns
        self._n_rows = n_rows
        self._columns: dict[int, list[Any]] = {}
        self._split: dict[int, list[str]] = {}

    def __len__(self) -> int:
        return len(self._rows) if self._rows is not None else self._n_rows

    def column(self, i: int) -> list[Any]:
        """Field ``i`` of Summary for every paper, in ``keys()`` order."""
        if i not in self._columns:
            if self._rows is not None:
                self._columns[i] = [row[i] for row in self._rows.values()]
            else:
                assert self._raw_columns is not None
                self._columns[i] = _decode_column(_KINDS[i], self._raw_columns[i], self._n_rows)
        return self._columns[i]

    def keys(self) -> list[str]:
        return self.column(0)

    def row(self, i: int) -> Summary:
        """The i-th paper's summary (in ``keys()`` order), decoding only that row."""
        if self._rows is not None or self._raw_columns is None:
            return Summary._make(self.column(j)[i] for j in range(len(_KINDS)))
        values: list[Any] = []
        for j, kind in enumerate(_KINDS):
            if j in self._columns or kind != "t":
                values.append(self.column(j)[i])
            else:
                if j not in self._split:
                    raw = self._raw_columns[j]
                    self._split[j] = raw.split(_SEP) if self._n_rows else []
                cell = self._split[j][i]
                values.append(tuple(cell.split(_SUB)) if cell else ())
        return Summary._make(values)

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
    data: bytes | Sequence[bytes | memoryview],
    *,
    durable: bool = True,
    sync_dir: bool = True,
) -> None:
    """Write ``data`` to ``path`` so that readers and crashes see the old or the new content.

    ``durable`` fsyncs the data before the rename (the library's files); the cache, which can
    always be rebuilt, skips it. ``sync_dir`` fsyncs the directory after the rename; a caller
    writing many files does that once at the end."""
    import tempfile

    directory = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
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
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable and sync_dir:
        _fsync_dir(directory)


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


def dump_paper(paper: Paper) -> bytes:
    from papercli.tomlfmt import dumps

    return dumps(paper.to_toml()).encode("utf-8")


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
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedFileError(f"{shown_path}:1:1: not UTF-8 text ({exc.reason})") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MalformedFileError(_toml_error(shown_path, exc)) from exc
    try:
        return Paper.from_toml(key, raw)
    except ValueError as exc:
        raise MalformedFileError(f"{shown_path}:1:1: {exc}") from exc


# ---------------------------------------------------------------------------------------------


class Library:
    """A library directory. Construct with ``Library.open(path)`` or ``Library.create(path)``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.papers_dir = root / PAPERS_DIR
        self._index: Index | None = None
        self._cache_dir: Path | None = None

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
        if not isinstance(version, int) or isinstance(version, bool):
            raise MalformedFileError(
                f"{settings}:1:1: 'format' must be an integer (this papercli writes "
                f"{FORMAT_VERSION})"
            )
        if version > FORMAT_VERSION:
            raise LibraryError(
                f"{settings}: library format {version!r} is newer than this papercli "
                f"understands ({FORMAT_VERSION}): upgrade papercli"
            )
        library = cls(root)
        library.settings = data
        return library

    settings: dict[str, Any] = {}

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
                key = file_name.removesuffix(".toml")
                validate_key(key)
                atomic_write(root / PAPERS_DIR / f"{key}.toml", data, sync_dir=False)
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
        return self.papers_dir / f"{validate_key(key)}.toml"

    def shown(self, key: str) -> str:
        return f"{PAPERS_DIR}/{key}.toml"

    def exists(self, key: str) -> bool:
        return bool(KEY_RE.match(key)) and (self.papers_dir / f"{key}.toml").is_file()

    def keys(self) -> list[str]:
        """Every paper file's key, from a directory listing (no parsing)."""
        try:
            names = os.listdir(self.papers_dir)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise LibraryError(f"cannot list {self.papers_dir}: {exc.strerror}") from exc
        return [n[:-5] for n in names if n.endswith(".toml") and not n.startswith(".")]

    def read(self, key: str) -> Paper:
        """Parse one paper's file. ``NotFoundError`` if absent, ``MalformedFileError`` if bad."""
        path = self.path_for(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"no paper with key {key!r}: see 'papercli list'") from None
        except OSError as exc:
            raise LibraryError(f"{path}: cannot read ({exc.strerror})") from exc
        return parse_paper_bytes(key, data, str(path))

    # -- REF resolution ---------------------------------------------------------------------

    def resolve(self, ref: str) -> str:
        """A REF (key, arXiv id or URL, or unambiguous key prefix) -> the paper's key."""
        ref = ref.strip()
        if not ref:
            raise UsageError("an empty REF: give a key, an arXiv id or the start of a key")
        if KEY_RE.match(ref) and (self.papers_dir / f"{ref}.toml").is_file():
            return ref
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
            raise NotFoundError(f"no paper with arXiv id {base}: add it with 'papercli add {base}'")
        lowered = ref.lower()
        candidates = sorted(k for k in self.keys() if k.startswith(lowered))
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise NotFoundError(f"no paper matches {ref!r}: try 'papercli search {ref}'")
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
                raise UsageError(
                    f"PAPERCLI_LOCK_TIMEOUT={raw!r} is not a number of seconds"
                ) from None
        lock_path = self.root / LOCK_FILE
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
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
            yield Writer(self)
        finally:
            os.close(fd)  # releases the flock
            self._index = None

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
        (``echo >> file``) within a minute.
        """
        scan = Scan()
        names, (inos, sizes, mtimes) = scan.names, scan.stat
        try:
            dir_mtime = os.stat(self.papers_dir).st_mtime_ns
            with os.scandir(self.papers_dir) as entries:
                for entry in entries:
                    name = entry.name
                    if name.endswith(".toml") and not name.startswith("."):
                        names.append(name)
                        inos.append(entry.inode())
        except FileNotFoundError:
            return scan
        except OSError as exc:
            raise LibraryError(f"cannot list {self.papers_dir}: {exc.strerror}") from exc
        stamp = self.cache_dir / "verified"
        full = (
            cache is None
            or len(names) <= FULL_STAT_LIMIT
            or not _recent_check(stamp, dir_mtime, FULL_STAT_EVERY)
        )
        known: dict[str, tuple[int, int, int]] = {}
        if not full and cache is not None:
            if (
                cache["n_names"] == len(names)
                and cache["names"] == _SEP.join(names)
                and cache["stat"][0] == inos.tobytes()
            ):
                sizes.frombytes(cache["stat"][1])
                mtimes.frombytes(cache["stat"][2])
                return scan
            known = unpack_sig(cache)
        try:
            fd = os.open(self.papers_dir, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise LibraryError(f"cannot list {self.papers_dir}: {exc.strerror}") from exc
        gone: list[int] = []
        try:
            stat = os.stat
            for i, name in enumerate(names):
                old = known.get(name)
                if old is not None and old[0] == inos[i]:
                    sizes.append(old[1])
                    mtimes.append(old[2])
                    continue
                try:
                    # Relative to an open directory: a third faster than full paths.
                    st = stat(name, dir_fd=fd)
                except FileNotFoundError:  # removed while we looked
                    gone.append(i)
                    sizes.append(0)
                    mtimes.append(0)
                    continue
                inos[i] = st.st_ino
                sizes.append(st.st_size)
                mtimes.append(st.st_mtime_ns)
        finally:
            os.close(fd)
        for i in reversed(gone):
            del names[i], inos[i], sizes[i], mtimes[i]
        if full and len(names) > FULL_STAT_LIMIT:
            _write_stamp(stamp, dir_mtime)
        return scan

    def _load_cache(self) -> dict[str, Any] | None:
        try:
            with open(self.cache_dir / "index.bin", "rb") as handle:
                data = decode_index(handle.read())
        except OSError:
            return None
        if data is None or data.get("root") != str(self.root.resolve()):
            return None
        return data

    def shard_path(self, shard: int) -> Path:
        """The cache file holding shard ``shard``'s full papers (derived caches key on it)."""
        return self.cache_dir / "shards" / f"{shard:02d}.pickle"

    def _load_shard(self, shard: int) -> dict[str, Paper] | None:
        try:
            with open(self.shard_path(shard), "rb") as handle:
                data = _pickle().loads(handle.read())
        except (OSError, _pickle().UnpicklingError, EOFError, AttributeError, ValueError):
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
        if cache is not None and scan.matches(cache):
            return Index(None, cache["problems"], cache["tokens"], cache["cols"], cache["n_rows"])
        sig = scan.sig()
        old_sig = unpack_sig(cache) if cache else {}
        rows: dict[str, tuple[Any, ...]] = {}
        if cache:
            rows = Index(None, {}, [], cache["cols"], cache["n_rows"]).rows
        problems: dict[str, str] = dict(cache["problems"]) if cache else {}
        tokens: list[int] = list(cache["tokens"]) if cache else [0] * SHARDS
        by_shard: dict[int, list[str]] = {}
        for name, stat in sig.items():
            if old_sig.get(name) != stat:
                by_shard.setdefault(shard_of(name[:-5]), []).append(name)
        for name in old_sig:
            if name not in sig:
                by_shard.setdefault(shard_of(name[:-5]), []).append(name)
        full_rebuild = cache is None
        writable = self._prepare_cache_dir()
        # One shard at a time, so a first run over 100,000 files holds one shard's papers in
        # memory, not all of them.
        for shard in sorted(by_shard) if not full_rebuild else range(SHARDS):
            papers = {} if full_rebuild or not writable else (self._load_shard(shard) or {})
            for name in by_shard.get(shard, ()):
                key = name[:-5]
                problems.pop(name, None)
                rows.pop(key, None)
                papers.pop(key, None)
                if name not in sig:
                    continue
                paper = self._parse_for_cache(name, sig, problems)
                if paper is not None:
                    rows[key] = summarize(paper)
                    papers[key] = paper
            if writable:
                writable = self._write_shard(shard, papers)
                tokens[shard] = (tokens[shard] + 1) % (1 << 62)
        if writable:
            try:
                data = encode_index(sig, rows, problems, tokens, str(self.root.resolve()))
                atomic_write(self.cache_dir / "index.bin", data, durable=False)
            except (OSError, ValueError, OverflowError, TypeError):
                pass  # a cache that cannot be written only costs speed
        return Index(rows, problems, tokens)

    def _parse_for_cache(
        self, name: str, sig: dict[str, tuple[int, int, int]], problems: dict[str, str]
    ) -> Paper | None:
        """One changed file, parsed; its problem recorded when it cannot be."""
        key = name[:-5]
        if not KEY_RE.match(key):
            problems[name] = (
                f"{PAPERS_DIR}/{name}:1:1: the file name is not a valid key "
                "(lower-case ASCII letters, digits, '-', '_', '.'); rename it"
            )
            return None
        try:
            data = (self.papers_dir / name).read_bytes()
            return parse_paper_bytes(key, data, f"{PAPERS_DIR}/{name}")
        except FileNotFoundError:
            sig.pop(name, None)
        except OSError as exc:
            problems[name] = f"{PAPERS_DIR}/{name}:1:1: cannot read ({exc.strerror})"
        except MalformedFileError as exc:
            problems[name] = str(exc)
        return None

    def _prepare_cache_dir(self) -> bool:
        try:
            (self.cache_dir / "shards").mkdir(parents=True, exist_ok=True)
            return True
        except OSError:
            return False

    def _write_shard(self, shard: int, papers: dict[str, Paper]) -> bool:
        """Best effort: a cache that cannot be written only costs speed."""
        try:
            atomic_write(self.shard_path(shard), _pickle().dumps(papers, protocol=5), durable=False)
            return True
        except (OSError, ValueError, TypeError):
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
        for shard in by_shard:
            loaded[shard] = self._load_shard(shard) or {}
        for key in wanted:
            paper = loaded[shard_of(key)].get(key)
            if paper is None:
                if key not in known:
                    continue
                try:
                    paper = self.read(key)
                except (NotFoundError, MalformedFileError):
                    continue
            yield paper


class Writer:
    """Changes to a library, made while its write lock is held (see ``Library.writing``)."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def read(self, key: str) -> Paper:
        """The paper as it is on disk now; a malformed file raises (and so is never rewritten)."""
        return self.library.read(key)

    def exists(self, key: str) -> bool:
        return self.library.exists(key)

    def save(self, paper: Paper, *, touch: bool = True) -> None:
        """Write a paper (new or changed) atomically."""
        from papercli.models import timestamp

        validate_key(paper.key)
        stamp = timestamp()
        if not paper.added:
            paper.added = stamp
        if touch:
            paper.updated = stamp
        self._write(self.library.path_for(paper.key), dump_paper(paper))

    def create(self, paper: Paper) -> None:
        """Write a new paper; refuses to replace an existing file."""
        if self.exists(paper.key):
            raise UsageError(f"a paper with key {paper.key!r} already exists")
        self.save(paper)

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

    def rename(self, old: str, new: str) -> Paper:
        """Give paper ``old`` the key ``new`` (a new file, then the old one removed)."""
        validate_key(new)
        if self.exists(new):
            raise UsageError(f"a paper with key {new!r} already exists")
        paper = self.read(old)
        paper.key = new
        self.save(paper)
        self.delete(old)
        return paper

    def _write(self, path: Path, data: bytes) -> None:
        try:
            atomic_write(path, data)
        except OSError as exc:
            raise LibraryError(f"{path}: cannot write ({exc.strerror})") from exc
