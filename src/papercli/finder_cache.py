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
from collections.abc import Callable
from typing import Any

from papercli.library import SHARDS, Library, atomic_write, shard_of
from papercli.merge import DuplicateFinder

FINDER_CACHE_VERSION = 3  # 2: compressed; 3: signature -> keys per shard


def _path(library: Library, shard: int) -> Any:
    return library.cache_dir / "finder" / f"{shard:02d}.pickle"


def _version() -> tuple[int, str]:
    from papercli import __version__

    return (FINDER_CACHE_VERSION, __version__)


def _load(library: Library, shard: int, sig: tuple[int, ...]) -> dict[str, list[str]] | None:
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
    found = data.get("by")
    return found if isinstance(found, dict) else None


def _save(library: Library, shard: int, sig: tuple[int, ...], by: dict[str, list[str]]) -> None:
    from papercli.cachefile import private_dir

    if not private_dir(library.cache_dir / "finder"):
        return
    data = pickle.dumps({"version": _version(), "sig": sig, "by": by}, protocol=5)
    data = zlib.compress(data, 1)  # the cache stays smaller than the library
    try:
        atomic_write(_path(library, shard), data, durable=False)
    except OSError:
        pass  # a cache that cannot be written only costs speed


class _ShardedSignatures:
    """Signature -> keys, looked up in each shard's map (never merged into one map of
    400,000 signatures for one lookup); what a finder registers goes to an overlay."""

    def __init__(self, shards: list[dict[str, list[str]]], order: Callable[[str], int]) -> None:
        self._shards = shards
        self._order = order
        self._added: dict[str, list[str]] = {}

    def get(self, sig: str, default: Any = (), /) -> Any:
        found = [key for part in self._shards for key in part.get(sig, ())]
        found += self._added.get(sig, ())
        if len(found) > 1:  # the index's order, as from_rows gives it
            found = sorted(dict.fromkeys(found), key=self._order)
        return found or default

    def setdefault(self, sig: str, default: list[str], /) -> list[str]:
        return self._added.setdefault(sig, default)


def library_finder(library: Library) -> DuplicateFinder:
    """A finder of the library's papers, as ``DuplicateFinder.from_rows`` of its index."""
    index = library.index()
    keys = index.keys()
    sigs = library.shard_sigs() if library.cache_usable else None
    maps: list[dict[str, list[str]] | None] = []
    for shard in range(SHARDS):
        sig = sigs[shard] if sigs is not None else None
        cacheable = sig is not None and len(sig) > 1
        maps.append(_load(library, shard, sig) if sig is not None and cacheable else None)
    if any(found is None for found in maps):
        by_shard: dict[int, list[int]] = {}
        for i, key in enumerate(keys):
            shard = shard_of(key)
            if maps[shard] is None:
                by_shard.setdefault(shard, []).append(i)
        for shard in range(SHARDS):
            if maps[shard] is not None:
                continue
            by: dict[str, list[str]] = {}
            for i in by_shard.get(shard, ()):
                for one in dict.fromkeys(DuplicateFinder.row_signatures(index.row(i))):
                    by.setdefault(one, []).append(keys[i])
            maps[shard] = by
            sig = sigs[shard] if sigs is not None else None
            if sig is not None and len(sig) > 1:
                _save(library, shard, sig, by)
    positions: dict[str, int] = {}

    def position(key: str) -> int:
        if not positions:
            positions.update((k, i) for i, k in enumerate(keys))
        return positions.get(key, len(keys))

    shards = [found for found in maps if found]
    return DuplicateFinder.from_signatures(
        _ShardedSignatures(shards, position),
        lambda key: DuplicateFinder.row_identity(index.row(position(key))),
    )
