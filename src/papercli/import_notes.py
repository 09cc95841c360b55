"""Plain-text posts (a dump of researchers' posts, one after another between separator lines)
-> notes on the papers they discuss.

A post discusses a paper when it links it (on arXiv in any URL form, or at a paper's address
elsewhere: a venue, a PDF) or names it by its full title.
Title recognition is deliberately conservative: only titles of at least four words and 24
characters count, matched as a whole phrase (case, accents and punctuation ignored), so short or
generic titles ("Attention", "Prompt Engineering") never match. Each post is attached once per
paper (exact duplicate posts are dropped first); a post linking a paper the library lacks adds
that paper, titled from the post where the post names it ("Title: URL", "Title (URL)",
"In Title (URL), ...", a quoted title), else with a stand-in title; what the post cannot give
is marked incomplete so ``papercli refresh`` can fill it in.

A note keeps the post's words, less the scraper's residue: a closing "… Show more", thread
counters ("1/6", "[2/2]") on lines of their own, the ellipsis glued to truncated links. A post
cut by the scraper keeps one "…" where it was cut.

No I/O here: the caller reads the file and writes through ``ImportPlan.write``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from papercli.arxiv_ids import find_arxiv_ids, parse_arxiv_id, year_of
from papercli.import_markdown import (
    ImportPlan,
    ImportReport,
    Skip,
    is_generic,
    is_paper_url,
    repair_text,
)
from papercli.keys import STOPWORDS, ascii_fold
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


# Scraping residue: a "Show more" cut, thread counters alone on a line, "…" glued to a link.
_SHOW_MORE = re.compile(r"\s*(?:…|\.\.\.)?\s*Show more\s*$")
_COUNTER_LINE = re.compile(r"^\s*\[?\d{1,2}/\d{1,2}\]?\s*$")
_LINK_ELLIPSIS = re.compile(r"(https?://[^\s<>\"')\]…]+)…")


def clean_post(post: str) -> str:
    """The post as its author wrote it: the scraper's "Show more" (an ellipsis marks the cut),
    thread counters on lines of their own ("1/6", "[2/2]") and the ellipsis after truncated
    links removed."""
    text = _SHOW_MORE.sub("…", post)  # the ellipsis stays: the post is cut there
    text = _LINK_ELLIPSIS.sub(r"\1", text)
    lines = [line for line in text.splitlines() if not _COUNTER_LINE.match(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# Words that make a label a pointer to the paper, not its name ("Link to the paper: URL").
_POINTER_WORDS = frozenset("paper papers here link links abs arxiv pdf preprint at via".split())
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]+|\(?\d{1,2}[.)]|\[\d{1,2}/\d{1,2}\])\s*")


def _title_like(text: str) -> bool:
    """A name or title ("LLaMA-Adapter V1", "The Power of Scale for Parameter-Efficient Prompt
    Tuning"), not a sentence ("Researchers created a dataset"): short, most of its significant
    words capitalised, not a pointer such as "Full paper here"."""
    words = text.split()
    if not 1 <= len(words) <= 16 or not text[:1].isupper() and not text[:1].isdigit():
        return False
    if is_generic(text) or words[-1].lower().strip(".,:;") in _POINTER_WORDS:
        return False
    significant = [w for w in words if len(w) > 3 and w.lower() not in STOPWORDS]
    capitalised = [w for w in significant if re.search(r"[A-Z0-9]", w.lstrip('("“'))]
    return not significant or len(capitalised) / len(significant) >= 0.6


def _after_in(text: str) -> str:
    """``More details in Intrinsic Dimensionality ...`` -> ``Intrinsic Dimensionality ...``."""
    match = re.search(r"(?:^|\s)[Ii]n\s+(?=[A-Z])", text)
    return text[match.end() :] if match else ""


def title_before(line: str, start: int) -> str:
    """The title a post gives a link starting at ``start`` of ``line``, or ''. Recognised:
    ``"Title" (2016, URL)`` and an unclosed ``"Title URL``; ``Title (URL)`` and
    ``In Title (URL), ...``; ``Title: URL``; ``(Name, URL)``."""
    before = line[:start]
    quoted = re.search(r"[\"“]([^\"“”]{6,200}?)[\"”]?[\s,(:]*(?:(?:19|20)\d\d[\s,]*)?$", before)
    # The quote must open the title: one that closes an earlier quotation is followed by a
    # space, and a title holds no link.
    if (
        quoted
        and len(quoted.group(1).split()) >= 2
        and not quoted.group(1)[0].isspace()
        and "http" not in quoted.group(1)
    ):
        return quoted.group(1).strip(" ,:(")
    # '"Title" by Zhang et al.: URL': a quoted passage closing shortly before the link names it.
    passage = re.search(r"[\"“]([^\"“”\n]{10,200})[\"”]([^\"“”]{0,40})$", before)
    if (
        passage
        and len(passage.group(1).split()) >= 3
        and "http" not in passage.group(0)
        and not passage.group(1)[0].isspace()
    ):
        return passage.group(1).strip()
    named = re.search(r"\(([^()]{2,40}),\s*$", before)
    if named and _title_like(named.group(1).strip()):
        return named.group(1).strip()
    label = ""
    if re.search(r"\(\s*$", before):
        label = re.sub(r"\(\s*$", "", before)
    elif re.search(r":\s*$", before):
        label = re.sub(r":\s*$", "", before)
    label = re.split(r"(?<=[.!?])\s+", label.strip())[-1] if label.strip() else ""
    label = _LIST_MARKER.sub("", label).strip(" ,;")
    for candidate in (_after_in(label), label):
        candidate = candidate.strip(" ,;")
        if candidate and _title_like(candidate):
            return candidate
    return ""


def title_in_post(post: str, needle: str) -> str:
    """The title the post gives the first link containing ``needle`` (an arXiv id, a URL)."""
    for line in post.splitlines():
        at = line.find(needle)
        if at < 0:
            continue
        start = line.rfind("http", 0, at)
        title = title_before(line, start if start >= 0 else at)
        if title:
            return title
    return ""


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
        note_text = clean_post(post)
        arxiv_ids = find_arxiv_ids(post)
        for arxiv in arxiv_ids:
            paper = Paper(key="", title=f"arXiv:{arxiv.base}")
            quoted = title_in_post(post, arxiv.base) or (
                _title_in(post) if len(arxiv_ids) == 1 else ""
            )
            if quoted:
                paper.title = quoted
            # A name ("RWKV", "Detect GPT") rather than a title: kept, but marked a stand-in.
            titled = bool(quoted) and len(quoted.split()) >= MIN_TITLE_WORDS - 1
            paper.arxiv_id = arxiv.base
            paper.url = f"https://arxiv.org/abs/{arxiv.base}"
            paper.year = year_of(arxiv.base)
            paper.tags = list(tags or [])
            paper.incomplete = (
                ["authors", "abstract"] if titled else ["title", "authors", "abstract"]
            )
            paper.provenance = [{"source": "notes", "document": document}]
            paper.notes = [Note(text=note_text, source=document)]
            before = len(plan.new)
            key = plan.add(paper)
            if len(plan.new) > before:
                titles.add(key, paper.title)
            keys.append(key)
        for url in _new_papers_linked(plan, post):
            paper = Paper(key="", title=title_in_post(post, url) or url)
            paper.url = url
            paper.tags = list(tags or [])
            paper.incomplete = ["authors", "year", "abstract"]
            if len(paper.title.split()) < MIN_TITLE_WORDS - 1 or paper.title == url:
                paper.incomplete.insert(0, "title")
            paper.provenance = [{"source": "notes", "document": document}]
            paper.notes = [Note(text=note_text, source=document)]
            key = plan.add(paper)
            titles.add(key, paper.title)
            keys.append(key)
        for key in [*_papers_linked(plan, post), *titles.find(post)]:
            if key in keys:
                continue
            target = plan.paper(key)
            incoming = Paper(key="", title=target.title)
            incoming.tags = list(tags or [])
            incoming.provenance = [{"source": "notes", "document": document}]
            incoming.notes = [Note(text=note_text, source=document)]
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


def _new_papers_linked(plan: ImportPlan, post: str) -> list[str]:
    """URLs of papers outside arXiv that the post links and the library lacks."""
    urls: list[str] = []
    for match in _URL.finditer(post):
        url = match.group(0).rstrip("….,;:!?")
        if parse_arxiv_id(url) or not is_paper_url(url) or url in urls:
            continue
        if plan.find(Paper(key="", title="", url=url)) is None:
            urls.append(url)
    return urls


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
