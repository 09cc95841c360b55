"""Plain-text posts (a dump of researchers' posts, one after another between separator lines)
-> notes on the papers they discuss.

A post discusses a paper when it links it on arXiv (any URL form) or names it by its full title.
Title recognition is deliberately conservative: only titles of at least four words and 24
characters count, matched as a whole phrase (case, accents and punctuation ignored), so short or
generic titles ("Attention", "Prompt Engineering") never match. Each post is attached once per
paper (exact duplicate posts are dropped first); a post linking an arXiv paper the library lacks
adds that paper, marked incomplete so ``papercli refresh`` can fill it in.

No I/O here: the caller reads the file and writes through ``ImportPlan.write``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from papercli.arxiv_ids import find_arxiv_ids, year_of
from papercli.import_markdown import ImportPlan, ImportReport, Skip, repair_text
from papercli.keys import ascii_fold
from papercli.models import Note, Paper

DEFAULT_SEPARATOR = "------"
MIN_TITLE_WORDS = 4
MIN_TITLE_CHARS = 24


def split_posts(text: str, separator: str = DEFAULT_SEPARATOR) -> list[str]:
    """The posts of a dump: the text between lines that are exactly ``separator`` (after
    trimming), each trimmed, empty ones dropped."""
    posts: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip() == separator:
            posts.append("\n".join(current).strip())
            current = []
        else:
            current.append(line)
    posts.append("\n".join(current).strip())
    return [p for p in posts if p]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", ascii_fold(text).lower())


@dataclass
class _Title:
    key: str
    words: tuple[str, ...]


class TitleIndex:
    """Finds the distinctive titles a text names, by whole-phrase match.

    Titles are indexed by their first two words, so each post costs one pass over its word
    pairs rather than one search per title.
    """

    def __init__(self) -> None:
        self._by_start: dict[tuple[str, str], list[_Title]] = {}

    @staticmethod
    def distinctive(title: str) -> tuple[str, ...] | None:
        words = tuple(_words(title))
        if len(words) < MIN_TITLE_WORDS or len(" ".join(words)) < MIN_TITLE_CHARS:
            return None
        return words

    def add(self, key: str, title: str) -> None:
        words = self.distinctive(title)
        if words is None:
            return
        bucket = self._by_start.setdefault((words[0], words[1]), [])
        if all(t.words != words or t.key != key for t in bucket):
            bucket.append(_Title(key, words))

    def find(self, text: str) -> list[str]:
        words = _words(text)
        found: dict[str, None] = {}
        for i in range(len(words) - 1):
            for title in self._by_start.get((words[i], words[i + 1]), ()):
                n = len(title.words)
                if tuple(words[i : i + n]) == title.words:
                    found.setdefault(title.key)
        return list(found)


_QUOTED = re.compile(r"[\"“]([A-Z][^\"“”\n]{10,160})[\"”]")


def _title_in(post: str) -> str:
    """A paper title the post gives in quotes ("LIMA: Less Is More for Alignment"), when it
    gives exactly one."""
    quoted = {m.group(1).strip() for m in _QUOTED.finditer(post)}
    candidates = [q for q in quoted if len(q.split()) >= 3 and not q.endswith((".", "!", "?"))]
    return candidates[0] if len(candidates) == 1 else ""


def import_notes(
    plan: ImportPlan,
    text: str,
    document: str,
    separator: str = DEFAULT_SEPARATOR,
    tags: list[str] | None = None,
) -> ImportReport:
    """Attach each post of ``text`` to the papers it discusses (see the module's docstring)."""
    report = plan.report
    titles = TitleIndex()
    for key, title in _known_titles(plan):
        titles.add(key, title)
    seen: set[str] = set()
    recognised = 0
    for post in split_posts(repair_text(text), separator):
        fingerprint = " ".join(post.split())
        if fingerprint in seen:
            report.skipped.append(Skip("duplicate post", post))
            continue
        seen.add(fingerprint)
        keys: list[str] = []
        for arxiv in find_arxiv_ids(post):
            paper = Paper(key="", title=f"arXiv:{arxiv.base}")
            quoted = _title_in(post) if len(find_arxiv_ids(post)) == 1 else ""
            if quoted:
                paper.title = quoted
            paper.arxiv_id = arxiv.base
            paper.url = f"https://arxiv.org/abs/{arxiv.base}"
            paper.year = year_of(arxiv.base)
            paper.tags = list(tags or [])
            paper.incomplete = (
                ["authors", "abstract"] if quoted else ["title", "authors", "abstract"]
            )
            paper.provenance = [{"source": "notes", "document": document}]
            paper.notes = [Note(text=post, source=document)]
            before = len(plan.new)
            key = plan.add(paper)
            if len(plan.new) > before:
                titles.add(key, paper.title)
            keys.append(key)
        for key in [*_papers_linked(plan, post), *titles.find(post)]:
            if key in keys:
                continue
            target = plan.paper(key)
            incoming = Paper(key="", title=target.title)
            incoming.tags = list(tags or [])
            incoming.provenance = [{"source": "notes", "document": document}]
            incoming.notes = [Note(text=post, source=document)]
            plan.merge(key, incoming)
            keys.append(key)
        if not keys:
            report.skipped.append(Skip("no paper recognised", post))
        report.notes_attached += len(keys)
        recognised += len(keys)
    if not recognised:
        report.empty.append(document)
    return plan.finish()


_URL = re.compile(r"https?://[^\s<>\"')\]]+")


def _papers_linked(plan: ImportPlan, post: str) -> list[str]:
    """Keys of the papers (type paper, not arXiv: those are handled by id) whose URL the post
    links; a trailing ellipsis, as in truncated post links, is ignored."""
    keys: list[str] = []
    for match in _URL.finditer(post):
        url = match.group(0).rstrip("….,;:!?")
        key = plan.find(Paper(key="", title="", url=url))
        if key and key not in keys and plan.paper(key).type == "paper":
            keys.append(key)
    return keys


def _known_titles(plan: ImportPlan) -> list[tuple[str, str]]:
    """(key, title) of every paper in the library and the plan whose title is not a stand-in."""
    out: list[tuple[str, str]] = []
    for key, row in plan.library.index().rows.items():
        if not row[13] or "title" not in row[13]:
            out.append((key, row[2]))
    for key in plan.new:
        paper = plan.papers[key]
        if "title" not in paper.incomplete:
            out.append((key, paper.title))
    return out
