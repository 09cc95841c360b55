"""Prepared BibTeX entries kept in the cache, so an export formats only the papers that changed
since the last one.

Preparing an entry (escaping, LaTeX encoding of non-ASCII text, protecting acronyms, making
the text safe) costs about 0.1 ms a paper: a second for every export of 10,000 papers. The
prepared entries (``papercli.bibtex.Prepared``) of each library cache shard are kept here in
one file per shard and flavour (BibTeX or biblatex), valid while the shard's signature
(``Library.shard_sigs``) and papercli's formatting code are unchanged: a change to any paper
of a shard drops that shard's entries, and the next export prepares them again. Papers are read
one shard at a time, so preparing 100,000 entries never holds every paper in memory.

Plain tuples and strings only, loaded with ``papercli.cachefile.safe_loads``. A cache that
cannot be read or written costs speed, never an entry. This module does not write the .bib
(``papercli.cli_export`` does) and never prints.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from functools import lru_cache, partial
from itertools import chain
from typing import Any

from papercli.bibtex import Prepared, prepare_entry
from papercli.library import Library, atomic_write, shard_of

ENTRY_CACHE_VERSION = 4  # 2: what each entry lacks for a citation; 3: compressed; 4: zstd
# key -> (aliases with a record of their own, {name written under -> Prepared as a tuple})
_Stored = dict[str, tuple[tuple[str, ...], dict[str, tuple[Any, ...]]]]


@lru_cache(maxsize=1)
def _code_sig() -> tuple[Any, ...]:
    """What the prepared text depends on besides the paper: the modules that write it (their
    mtimes, so an upgrade or an edited checkout never serves text an older papercli wrote)."""
    from papercli import __version__, bibtex, models, record, texsafe

    stamps = []
    for module in (bibtex, models, record, texsafe):
        try:
            stamps.append(os.stat(str(module.__file__)).st_mtime_ns)
        except OSError:
            stamps.append(0)
    return (ENTRY_CACHE_VERSION, __version__, *stamps)


def _path(library: Library, shard: int, biblatex: bool) -> Any:
    flavour = "biblatex" if biblatex else "bibtex"
    return library.cache_dir / "entries" / f"{shard:02d}-{flavour}.pickle"


def _load(library: Library, shard: int, biblatex: bool, sig: tuple[int, ...]) -> _Stored:
    from papercli.cachefile import read_trusted, safe_loads, unpack

    raw = read_trusted(_path(library, shard, biblatex))
    if raw is None:
        return {}
    try:
        data = safe_loads(unpack(raw))
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError,
            IndexError, KeyError, MemoryError, RecursionError):  # fmt: skip
        return {}
    if (
        not isinstance(data, dict)
        or data.get("code") != _code_sig()
        or data.get("sig") != sig
        or not isinstance(data.get("papers"), dict)
    ):
        return {}
    papers: _Stored = data["papers"]
    return papers


def _save(
    library: Library, shard: int, biblatex: bool, sig: tuple[int, ...], papers: _Stored
) -> None:
    from papercli.cachefile import pack, private_dir

    folder = library.cache_dir / "entries"
    if not private_dir(folder):
        return
    data = {"code": _code_sig(), "sig": sig, "papers": papers}
    try:
        packed = pack(pickle.dumps(data, protocol=5))  # text: about a fifth
        atomic_write(_path(library, shard, biblatex), packed, durable=False)
    except (OSError, ValueError, TypeError, pickle.PicklingError):
        pass  # a cache that cannot be written only costs speed


def prepared_entries(
    library: Library, requests: Sequence[tuple[str, str | None]], biblatex: bool
) -> list[Prepared]:
    """The entries for ``requests``, in their order: (paper key, name to write it under), where
    a name of None means the paper under its key followed by every alias with a BibTeX record
    of its own (a whole-library export writes each entry that was imported). A key the library
    no longer has gives nothing."""
    by_shard: dict[int, list[int]] = {}
    for position, (key, _) in enumerate(requests):
        by_shard.setdefault(shard_of(key), []).append(position)
    # Per request: its entries as plain tuples (more than one for a paper with aliases).
    results: list[Sequence[tuple[Any, ...]] | None] = [None] * len(requests)
    sigs = library.shard_sigs() if library.cache_usable else None
    for shard in sorted(by_shard):
        positions = by_shard[shard]
        sig = sigs[shard] if sigs is not None else None
        # A shard whose file could not be written is served from memory: nothing to key on.
        cacheable = sig is not None and len(sig) > 1
        stored = _load(library, shard, biblatex, sig) if sig is not None and cacheable else {}
        wanted: dict[str, set[str | None]] = {}
        for position in positions:
            key, name = requests[position]
            hit = stored.get(key)
            if hit is None:
                wanted.setdefault(key, set()).add(name)
                continue
            aliases, entries = hit
            if name is None and not aliases:
                found = entries.get(key)  # the common case, without building a list of names
                if found is None:
                    wanted.setdefault(key, set()).add(name)
                else:
                    results[position] = (found,)
                continue
            names = [name] if name is not None else [key, *aliases]
            if any(one not in entries for one in names):
                wanted.setdefault(key, set()).add(name)
            else:
                results[position] = [entries[one] for one in names]
        if not wanted:
            continue
        for paper in library.papers(sorted(wanted)):
            aliases = tuple(paper.alias_bibtex)
            entries = dict(stored[paper.key][1]) if paper.key in stored else {}
            for name in wanted.get(paper.key, ()):
                for one in [name] if name is not None else [paper.key, *aliases]:
                    if one not in entries:
                        entries[one] = tuple(prepare_entry(paper, one, biblatex))
            stored[paper.key] = (aliases, entries)
        for position in positions:
            key, name = requests[position]
            if results[position] is not None or key not in wanted:
                continue
            found = stored.get(key)
            if found is None:
                continue  # removed since the selection was made
            names = [name] if name is not None else [key, *found[0]]
            results[position] = [found[1][one] for one in names]
        if cacheable and sig is not None:
            _save(library, shard, biblatex, sig, stored)
    # tuple.__new__ makes a Prepared of a stored tuple in C: Prepared(*t) calls Python code,
    # a tenth of a second for 100,000 entries.
    make = partial(tuple.__new__, Prepared)
    return list(map(make, chain.from_iterable(filter(None, results))))
