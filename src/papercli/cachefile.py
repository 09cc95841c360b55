"""Reading papercli's cache files without trusting whoever else could have written them.

The cache (``Library.cache_dir``) holds pickles: they load several times faster than any text
format, which the speed targets need. A pickle can name any function to call while it loads,
so papercli never loads one with the standard unpickler: ``safe_loads`` resolves only the few
classes papercli's caches hold (``Paper``, ``Note``, dates and times, ``array``, ``set``), and
any other name in the file makes it unreadable, so it is rebuilt, never run. And a cache file
or directory that another user owns, or that group or others may write, is not read at all
(``trusted``): the caller rebuilds elsewhere or reads the library itself.

No I/O beyond ``os.fstat``/``os.lstat`` on what the caller names.
"""

from __future__ import annotations

import io
import os
import pickle
import stat
from pathlib import Path
from typing import Any

# (module, name) -> what an unpickler may resolve. Nothing here runs code when called with
# the arguments a pickle can give it, other than building the value.
_ALLOWED = {
    ("papercli.models", "Paper"),
    ("papercli.models", "Note"),
    ("datetime", "datetime"),
    ("datetime", "date"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("array", "array"),
    ("array", "_array_reconstructor"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytearray"),
}


class UnsafeCacheError(pickle.UnpicklingError):
    """A cache file names something papercli's caches never hold."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise UnsafeCacheError(f"{module}.{name} is not something papercli caches")
        return super().find_class(module, name)


def safe_loads(data: bytes) -> Any:
    """Unpickle ``data`` resolving only the classes papercli's caches hold; raises
    ``pickle.UnpicklingError`` (``UnsafeCacheError``) for anything else."""
    return _Unpickler(io.BytesIO(data)).load()


def trusted(info: os.stat_result) -> bool:
    """True for a file or directory this user owns that neither group nor others may write
    (and that is not a symbolic link)."""
    if stat.S_ISLNK(info.st_mode):
        return False
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def private_dir(path: Path) -> bool:
    """Make ``path`` (and missing parents) a directory only this user may use (0700); True
    when it is one this user can trust. An existing directory is checked, not changed."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        try:
            path.mkdir(mode=0o700, parents=True)
            os.chmod(path, 0o700)  # mkdir's mode is masked by the umask
            info = os.lstat(path)
        except FileExistsError:
            info = os.lstat(path)
        except OSError:
            return False
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and trusted(info)


def read_trusted(path: Path) -> bytes | None:
    """The bytes of a cache file this user owns and only this user may write; None for a
    missing, unreadable or untrusted file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not trusted(info):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def pack(data: bytes) -> bytes:
    """``data`` compressed for the cache: Zstandard at level 1 compresses a pickled shard of
    papers in less than half the time of zlib's fastest level, and smaller; abstracts and
    notes shrink about fivefold, so the cache stays smaller than the library it indexes."""
    import zstandard

    return zstandard.ZstdCompressor(level=1).compress(data)


def unpack(data: bytes) -> bytes:
    """What ``pack`` compressed; raises ``ValueError`` for anything else."""
    import zstandard

    try:
        return zstandard.ZstdDecompressor().decompress(data)
    except zstandard.ZstdError as exc:
        raise ValueError(f"not a packed cache file: {exc}") from exc
