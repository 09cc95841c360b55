"""What shell completion offers: paper keys and aliases, tags, statuses, types and the values of
``tag:``-style filters in a query.

Everything comes from the library's index as the cache last wrote it (``Library.cached_index``),
so a completion neither parses paper files nor stats every one of them, unless a file in papers/
was created, renamed or removed since (papercli's own writes, most editors' saves): then the
index is brought up to date first, as any reading command does, parsing only what changed.

A candidate a shell could not offer as typed (control characters, whitespace, backslashes,
bidirectional marks, as a hand-edited tag might hold) is left out rather than escaped: an
escaped value would complete to a different word.

This module neither prints nor knows about Typer: ``papercli.cli_common`` wires it to the
command line. Filtering by what was typed so far is left to the caller (Typer does it).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

from papercli.library import Index, Library, Summary
from papercli.models import PAPER_TYPES, STATUSES
from papercli.visible import visible

# bash breaks words at ':' (COMP_WORDBREAKS): "tag:pe" reaches the completer as "tag", ":", "pe".
_COLON = ":"
_TAGS = Summary._fields.index("tags")


# Whitespace splits a word in the shells' completion scripts, and zsh's evaluates what it is
# given with backslashes unescaped.
_UNSHELLABLE = re.compile(r"[\s\\]")


def offerable(word: str) -> bool:
    """Whether a shell can offer ``word`` as it is: not empty, no whitespace or backslash,
    nothing ``visible`` would escape."""
    return bool(word) and not _UNSHELLABLE.search(word) and visible(word, True) == word


def _index(library: Library) -> Index:
    """The cached index while papers/ is as it was when the cache was written; else brought up
    to date (parsing only the changed files), as after ``papercli tag``."""
    return library.cached_index(fresh=True) or library.index()


def ref_names(library: Library, start: str = "") -> list[str]:
    """The keys and aliases that begin with ``start``, sorted."""
    names = _index(library).key_names()
    return sorted(n for n in names if n.startswith(start) and offerable(n))


def library_tags(library: Library) -> list[str]:
    """Every tag in the library, sorted."""
    tags: set[str] = set()
    for paper_tags in _index(library).column(_TAGS):
        tags.update(paper_tags)
    return sorted(t for t in tags if offerable(t))


def paper_tags(library: Library, ref: str) -> list[str]:
    """The tags of the paper ``ref`` names (a key or alias as typed); every tag when ``ref``
    names none."""
    index = _index(library)
    key = index.key_names().get(ref)
    if key is None:
        return library_tags(library)
    row = index.keys().index(key)
    return sorted(t for t in index.column(_TAGS)[row] if offerable(t))


def tag_list(tags: Sequence[str], incomplete: str) -> list[str]:
    """Completions for a comma-separated tag list (``--tag nlp,pe``): the last item completed,
    the earlier ones kept, a tag already listed not offered again."""
    head, comma, _ = incomplete.rpartition(",")
    listed = set(head.split(",")) if comma else set()
    return [f"{head}{comma}{t}" for t in tags if t not in listed]


def filter_values(library: Library, name: str) -> list[str]:
    """The values a query filter can take, for those with a known set of values."""
    if name == "tag":
        return library_tags(library)
    if name == "status":
        return list(STATUSES)
    if name == "type":
        return list(PAPER_TYPES)
    return []


def query_words(library: Library, args: Sequence[str], incomplete: str) -> list[str]:
    """Completions for a word of a query: the value of ``tag:``, ``status:`` or ``type:`` (with
    or without a leading ``-``), as zsh and fish pass it ("tag:pe") and as bash does ("tag",
    ":", "pe" as three words, or "tag", ":" with the cursor after the colon)."""
    name, colon, value = incomplete.partition(_COLON)
    if name and colon:
        bare = name.removeprefix("-").lower()
        return [f"{name}:{v}" for v in tag_list(filter_values(library, bare), value)]
    if incomplete == _COLON and args:
        return [f":{v}" for v in filter_values(library, args[-1].removeprefix("-").lower())]
    if len(args) >= 2 and args[-1] == _COLON:
        return tag_list(filter_values(library, args[-2].removeprefix("-").lower()), incomplete)
    return []


def words_before_cursor(environ: Mapping[str, str]) -> list[str]:
    """The words a shell completion request holds before the word being completed, program
    name left out: from bash's ``COMP_WORDS`` and ``COMP_CWORD``, or the command line zsh and
    fish pass in ``_TYPER_COMPLETE_ARGS`` (a last word with no space after it is the one being
    completed). Empty when the words cannot be split."""
    try:
        if "COMP_WORDS" in environ:
            words = shlex.split(environ["COMP_WORDS"])
            return words[1 : int(environ.get("COMP_CWORD", len(words)))]
        line = environ.get("_TYPER_COMPLETE_ARGS", "")
        words = shlex.split(line)
    except ValueError:  # an open quote, a bad number
        return []
    return words[1:] if line.endswith(" ") else words[1:-1]
