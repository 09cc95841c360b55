"""The paper files' stat, taken by a forked child while the parent imports Typer and rich.

Every command that reads the index first stats every paper file, so that a file edited in
place is seen (``Library._scan``): about 25 ms for 10,000 files, a sixth of what any Typer
command pays to start. That work needs nothing the imports bring, so ``start`` forks a child
before them; it lists and stats the papers directory and sends the result through a pipe,
on another core while the parent imports. ``take`` hands the result to ``Library._scan``.

What it does not do: decide anything. The result is a hint, used only when it is surely the
listing the parent would have made:
- asked for soon after the start: a command that waited (for the lock, the network, its
  input) lists again, so a file edited in place meanwhile is seen;
- of the same directory, not changed since the child listed it (its mtime);
- last changed well before the listing: file times are as coarse as a clock tick, so a change
  in the same tick could hide behind an equal mtime;
- on a file system that keeps times finer than a millisecond (on one that keeps seconds, a
  change in the same second could hide).
Anything else (no fork, a child that failed or was killed) gives None, and the parent lists
and stats as it would have. Above ``FULL_STAT_LIMIT`` files the child lists names and inodes
only (a large library stats only what changed), and nothing when the library will take its
listing from its cache (the child reads the same stamp first). A command that never
asks (``show`` of an exact key) leaves the child waiting on the pipe until the parent exits or
``discard`` ends it (before an editor runs).
"""

from __future__ import annotations

import marshal
import os
import signal
import sys
import time
from array import array
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papercli.errors import PapercliError

if TYPE_CHECKING:
    from papercli.library import Scan

# The commands that never read the index (help, version and completions return before).
_NO_INDEX = {"init"}

# A listing taken longer ago than this is not used: the command waited (for the lock, the
# network, its standard input) before reading the index, and a file edited in place meanwhile
# must be seen. A command that waits for nothing asks about 0.1 s after its start.
_FRESH_NS = 300_000_000

# (papers directory, child's pid, read end of its pipe, when it was forked: monotonic ns),
# while a child's answer is awaited.
_pending: tuple[Path, int, int, int] | None = None


def start(argv: list[str]) -> None:
    """Fork the child for the command line ``argv`` when its command reads the index."""
    global _pending
    papers_dir = _papers_dir_of(argv)
    threading = sys.modules.get("threading")  # not imported: no thread but this one
    if papers_dir is None or _pending is not None:
        return
    if (os.cpu_count() or 1) < 2:
        return  # on one core the child would only take turns with the parent
    if threading is not None and threading.active_count() > 1:
        return  # a fork copies no other thread, and a lock one of them holds stays held
    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError:
        return
    if pid == 0:  # the child
        try:
            os.close(read_end)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # a Ctrl-C ends it with the parent
            # Never holding the parent's terminal or pipes: `papercli list | head` sees its
            # end of input when the parent exits, whatever the child is doing.
            quiet = os.open(os.devnull, os.O_RDWR)
            for stdio in (0, 1, 2):
                os.dup2(quiet, stdio)
            _send(write_end, _listing(papers_dir))
        finally:
            os._exit(0)
    os.close(write_end)
    _pending = (papers_dir, pid, read_end, time.monotonic_ns())


def discard() -> None:
    """End the child and forget its answer (before running an editor or a viewer, which a
    child left waiting would outlive as a zombie)."""
    global _pending
    if _pending is None:
        return
    _, pid, read_end, _ = _pending
    _pending = None
    os.close(read_end)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _papers_dir_of(argv: list[str]) -> Path | None:
    """The papers directory of the library ``argv`` names (as the CLI will find it), when its
    command reads the index; None for help, version, completions, ``init`` and no command."""
    if os.environ.get("_PAPERCLI_COMPLETE") or os.environ.get("PAPERCLI_NO_EARLY_SCAN"):
        return None
    option: Path | None = None
    command = None
    words = iter(argv)
    for word in words:
        if word in ("--help", "-h", "--version"):
            return None
        if word in ("--library", "-L"):
            value = next(words, None)
            option = Path(value) if value else None
        elif word.startswith("--library="):
            option = Path(word.partition("=")[2])
        elif command is None and not word.startswith("-"):
            command = word
    if command is None or command in _NO_INDEX:
        return None
    from papercli.config import library_path
    from papercli.library import PAPERS_DIR

    try:
        root, _ = library_path(option)
    except (PapercliError, OSError, ValueError):
        return None  # the CLI reports a bad config file or option itself
    return root / PAPERS_DIR


def _listing(papers_dir: Path) -> tuple[Any, ...] | None:
    """What ``Library._scan`` lists: the directory's identity and mtime, then each paper
    file's name, inode, size and change time. Above ``FULL_STAT_LIMIT`` files, the names and
    inodes alone (a large library stats only what changed, see ``Library._scan``), and nothing
    at all when that library will trust its cache's listing. None when it cannot be had in
    one go."""
    from papercli.library import FULL_STAT_LIMIT, Scan, _stat_all, cached_listing_trusted

    started = time.time_ns()
    try:
        info = os.stat(papers_dir)
        if cached_listing_trusted(papers_dir.parent, info.st_mtime_ns):
            return None  # listing 100,000 names beside the parent would only slow it
        with os.scandir(papers_dir) as entries:
            listed = [
                (entry.name, entry.inode())
                for entry in entries
                if entry.name.endswith(".toml") and entry.name[0] != "."  # as list_paper_files
            ]
    except OSError:
        return None
    header = (info.st_dev, info.st_ino, info.st_mtime_ns, started)
    names = [name for name, _ in listed]
    if len(names) > FULL_STAT_LIMIT:
        return (header, "\x00".join(names), array("q", [ino for _, ino in listed]).tobytes())
    try:
        fd = os.open(papers_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        scan = Scan()
        scan.names = names
        if not _stat_all(names, fd, scan):
            return None  # a file went away meanwhile: the parent's own scan handles that
    finally:
        os.close(fd)
    return (header, "\x00".join(names), *(column.tobytes() for column in scan.stat))


def _send(fd: int, listing: tuple[Any, ...] | None) -> None:
    data = memoryview(marshal.dumps(listing))
    while data:
        data = data[os.write(fd, data) :]


def take(papers_dir: Path, now: os.stat_result) -> Scan | None:
    """The child's ``Scan`` of ``papers_dir`` when it is still the directory's listing (``now``
    is the directory's stat, taken by the caller); else None. Asked once: the answer is gone
    after."""
    global _pending
    if _pending is None:
        return None
    asked_dir, pid, read_end, forked = _pending
    if asked_dir != papers_dir or time.monotonic_ns() - forked > _FRESH_NS:
        discard()
        return None
    _pending = None
    chunks = []
    try:
        while chunk := os.read(read_end, 1 << 20):
            chunks.append(chunk)
    except OSError:
        chunks = []
    finally:
        os.close(read_end)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    try:
        listing = marshal.loads(b"".join(chunks))
    except (EOFError, ValueError, TypeError):
        return None  # the child was killed before it finished
    if listing is None:
        return None
    (dev, ino, mtime, started), joined, *columns = listing
    if (now.st_dev, now.st_ino, now.st_mtime_ns) != (dev, ino, mtime):
        return None  # a file was created, removed or renamed since the child listed
    from papercli.library import SETTLED_NS, Scan

    if started - mtime < SETTLED_NS:
        return None  # changed in the tick of the listing: maybe after it
    if mtime % 1_000_000 == 0:
        # Whole milliseconds (or seconds): a file system keeping coarse times (FAT, HFS+, some
        # network mounts), where a change within the same second shows the same mtime.
        return None
    scan = Scan()
    scan.dir_mtime = mtime
    scan.names = joined.split("\x00") if joined else []
    scan.listed_only = len(columns) == 1  # a large library's: names and inodes
    for column, raw in zip(scan.stat, columns, strict=False):  # one column, or three
        column.frombytes(raw)
    return scan
