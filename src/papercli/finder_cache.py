"""The signatures ``papercli.merge.DuplicateFinder`` matches on (arXiv id, DOI, ISBN, URL,
normalised title of every paper), kept in the cache per library shard, so that ``add`` refuses
a paper the library already has without normalising 10,000 titles and URLs first (that took
longer than the rest of the command).

A shard's signatures are valid while its signature (``Library.shard_sigs``) and papercli's
version are unchanged; a changed shard's are computed again from the index's rows. Plain
strings and tuples only, loaded with ``papercli.cachefile.safe_loads``; a cache that cannot be
read or written costs speed only. Never prints.
"""

from __future__ import annotations

import pickle
import zlib
from typing import Any

from papercli.library import Library, atomic_write, shard_of
from papercli.merge import DuplicateFinder

FINDER_CACHE_VERSION = 2  # 2: compressed


def _path(library: Library, shard: int) -> Any:
    return library.cache_dir / "finder" / f"{shard:02d}.pickle"


def _version() -> tuple[int, str]:
    from papercli import __version__

    return (FINDER_CACHE_VERSION, __version__)


def _load(library: Library, shard: int, sig: tuple[int, ...]) -> dict[str, tuple[str, ...]] | None:
    from papercli.cachefile import read_trusted, safe_loads

    raw = read_trusted(_path(library, shard))
    if raw is None:
        return None
    try:
        data = safe_loads(zlib.decompress(raw))
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError,
            IndexError, KeyError, MemoryError, RecursionError, zlib.error):  # fmt: skip
        return None
    if not isinstance(data, dict) or data.get("version") != _version() or data.get("sig") != sig:
        return None
    found = data.get("keys")
    return found if isinstance(found, dict) else None


def _save(library: Library, shard: int, sig: tuple[int, ...], keys: dict[str, Any]) -> None:
    from papercli.cachefile import private_dir

    if not private_dir(library.cache_dir / "finder"):
        return
    data = pickle.dumps({"version": _version(), "sig": sig, "keys": keys}, protocol=5)
    data = zlib.compress(data, 1)  # the cache stays smaller than the library
    try:
        atomic_write(_path(library, shard), data, durable=False)
    except OSError:
        pass  # a cache that cannot be written only costs speed


def library_finder(library: Library) -> DuplicateFinder:
    """A finder of the library's papers, as ``DuplicateFinder.from_rows`` of its index."""
    index = library.index()
    keys = index.keys()
    position = {key: i for i, key in enumerate(keys)}
    by_shard: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        by_shard.setdefault(shard_of(key), []).append(i)
    sigs = library.shard_sigs() if library.cache_usable else None
    by: dict[str, list[str]] = {}
    for shard in sorted(by_shard):
        sig = sigs[shard] if sigs is not None else None
        cacheable = sig is not None and len(sig) > 1
        stored = _load(library, shard, sig) if sig is not None and cacheable else None
        if stored is None or len(stored) != len(by_shard[shard]):
            stored = {
                keys[i]: tuple(dict.fromkeys(DuplicateFinder.row_signatures(index.row(i))))
                for i in by_shard[shard]
            }
            if sig is not None and cacheable:
                _save(library, shard, sig, stored)
        for key, key_sigs in stored.items():
            for one in key_sigs:
                by.setdefault(one, []).append(key)
    for found in by.values():
        if len(found) > 1:  # the index's order, as from_rows gives it
            found.sort(key=lambda key: position.get(key, len(position)))
    return DuplicateFinder.from_signatures(
        by, lambda key: DuplicateFinder.row_identity(index.row(position[key]))
    )
