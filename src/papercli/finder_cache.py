"""The signatures ``papercli.merge.DuplicateFinder`` matches on (arXiv id, DOI, ISBN, URL,
normalised title of every paper), kept in the cache per library shard, so that ``add`` refuses
a paper the library already has without normalising 10,000 titles and URLs first (that took
longer than the rest of the command).

A shard's signatures are valid while its signature (``Library.shard_sigs``) and papercli's
version are unchanged; a changed shard's are computed again from the index's rows. Each
shard's are kept as one text, a line per signature (``sig<TAB>key<TAB>key``), searched in
place: ``add`` looks up a handful of signatures, and finding them in 64 texts costs less than
building 64 maps of 6,000 signatures each (unpickling them was a third of an ``add`` at 100,000
papers). After many lookups (an import) the texts are made into maps once. Loaded with
``marshal`` (strings only, nothing to run); a cache that cannot be read or written costs speed
only. Never prints.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable
from typing import Any

from papercli.library import SHARDS, Library, atomic_write
from papercli.merge import DuplicateFinder, Identity

FINDER_CACHE_VERSION = 5  # 2: compressed; 3: signature -> keys per shard; 4: as text; 5: plain
# Lookups in the texts before they are made into maps (an import looks up every entry).
LOOKUPS_IN_TEXT = 64


def _path(library: Library, shard: int) -> Any:
    return library.cache_dir / "finder" / f"{shard:02d}.bin"


def _version() -> list[Any]:
    from papercli import __version__

    return [FINDER_CACHE_VERSION, __version__]


def _line_safe(text: str) -> str:
    """``text`` with no tab or newline (escaped one to one), so it fits in a line's field."""
    if "\t" in text or "\n" in text or "\\" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return text


def _as_text(by: dict[str, list[str]]) -> str:
    """The map as lines ``sig<TAB>key<TAB>key``, with a newline before the first and after
    the last (keys hold no tab or newline: papercli refuses such keys)."""
    lines = [_line_safe(sig) + "\t" + "\t".join(keys) for sig, keys in by.items()]
    return "\n" + "\n".join(lines) + "\n" if lines else "\n"


def _load(library: Library, shard: int, sig: tuple[int, ...]) -> str | None:
    from papercli.cachefile import read_trusted

    raw = read_trusted(_path(library, shard))
    if raw is None:
        return None
    try:
        data = marshal.loads(raw)
    except (EOFError, ValueError, TypeError):
        return None
    if (
        not isinstance(data, list)
        or len(data) != 3
        or data[0] != _version()
        or data[1] != list(sig)
        or not isinstance(data[2], str)
    ):
        return None
    text: str = data[2]
    return text


def _save(library: Library, shard: int, sig: tuple[int, ...], text: str) -> None:
    from papercli.cachefile import private_dir

    if not private_dir(library.cache_dir / "finder"):
        return
    # Not compressed: decompressing 16 MB at 100,000 papers cost 50 ms of every add; the cache
    # stays smaller than the library all the same (see the README, Speed).
    data = marshal.dumps([_version(), list(sig), text])
    try:
        atomic_write(_path(library, shard), data, durable=False)
        # The pickled maps an earlier papercli kept here: never read now.
        (library.cache_dir / "finder" / f"{shard:02d}.pickle").unlink(missing_ok=True)
    except (OSError, ValueError):
        pass  # a cache that cannot be written only costs speed


class _ShardedSignatures:
    """Signature -> keys, found in each shard's text (never merged into one map of 400,000
    signatures for one lookup); what a finder registers goes to an overlay."""

    def __init__(self, texts: list[str], order: Callable[[str], int]) -> None:
        self._texts = texts
        self._maps: list[dict[str, list[str]]] | None = None
        self._lookups = 0
        self._order = order
        self._added: dict[str, list[str]] = {}

    def _in_texts(self, sig: str) -> list[str]:
        self._lookups += 1
        if self._maps is None and self._lookups > LOOKUPS_IN_TEXT:
            self._maps = [_as_map(text) for text in self._texts]
        line = _line_safe(sig)
        if self._maps is not None:
            return [key for part in self._maps for key in part.get(line, ())]
        needle = "\n" + line + "\t"
        found: list[str] = []
        for text in self._texts:
            start = text.find(needle)
            if start >= 0:
                start += len(needle)
                found += text[start : text.index("\n", start)].split("\t")
        return found

    def get(self, sig: str, default: Any = (), /) -> Any:
        found = self._in_texts(sig) + self._added.get(sig, [])
        if len(found) > 1:  # the index's order, as from_rows gives it
            found = sorted(dict.fromkeys(found), key=self._order)
        return found or default

    def setdefault(self, sig: str, default: list[str], /) -> list[str]:
        return self._added.setdefault(sig, default)


def _as_map(text: str) -> dict[str, list[str]]:
    """A shard's text as signature (line-safe) -> keys."""
    found: dict[str, list[str]] = {}
    for line in text.split("\n"):
        if line:
            sig, *keys = line.split("\t")
            found[sig] = keys
    return found


def library_finder(
    library: Library, added: Callable[[str], Identity] | None = None
) -> DuplicateFinder:
    """A finder of the library's papers, as ``DuplicateFinder.from_rows`` of its index.
    ``added``: the identity of a paper added since the index was read, for a caller that adds
    papers with ``keep=False`` (an import of 100,000 does not hold their identities)."""
    index = library.index()
    sigs = library.shard_sigs() if library.cache_usable else None
    texts: list[str] = []
    for shard in range(SHARDS):
        # A shard whose file could not be written has only a token: nothing to key on.
        sig = sigs[shard] if sigs is not None and len(sigs[shard]) > 1 else None
        text = _load(library, shard, sig) if sig is not None else None
        if text is None:
            by: dict[str, list[str]] = {}
            for row in index.shard_rows(shard)[1]:
                for one in dict.fromkeys(DuplicateFinder.row_signatures(row)):
                    by.setdefault(one, []).append(row.key)
            text = _as_text(by)
            if sig is not None:
                _save(library, shard, sig, text)
        texts.append(text)

    def position(key: str) -> int:
        found = index.position(key)
        return len(index) if found is None else found

    def identity_of(key: str) -> Identity:
        found = index.position(key)
        if found is None and added is not None:
            return added(key)
        return DuplicateFinder.row_identity(index.row(len(index) if found is None else found))

    shards = [text for text in texts if text and text != "\n"]
    return DuplicateFinder.from_signatures(_ShardedSignatures(shards, position), identity_of)
