"""Papers as a Markdown reading list: a table of contents, then each paper as a linked heading
with authors, year, venue and tags, its notes beneath (quoted passages as blockquotes, with
their page). Plain CommonMark, with GitHub-style heading anchors for the contents links.

This module builds text; it does not read the library or write files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from papercli.models import PAPER_TYPES, Paper, display_author

GROUPINGS = ("tag", "year", "type", "none")
_TYPE_HEADINGS = {
    "paper": "Papers", "article": "Articles", "book": "Books", "video": "Videos",
    "repo": "Code", "course": "Courses", "website": "Websites", "dataset": "Datasets",
    "thesis": "Theses", "misc": "Other",
}  # fmt: skip
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|!])")


def md_text(text: str) -> str:
    """Inline text with Markdown's punctuation escaped; ``$...$`` math kept for renderers."""
    pieces = re.split(r"(\$[^$\n]+\$)", " ".join(text.split()))
    return "".join(p if i % 2 else _MD_SPECIAL.sub(r"\\\1", p) for i, p in enumerate(pieces))


def md_url(url: str) -> str:
    return url.strip().replace(" ", "%20").replace("(", "%28").replace(")", "%29")


class _Slugs:
    """GitHub's heading anchors: lower-case, punctuation dropped, spaces to '-', -1 -2 ... for
    repeats."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, heading: str) -> str:
        plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # link text only
        plain = re.sub(r"\\(.)", r"\1", plain)
        slug = re.sub(r"[^\w\- ]", "", plain.lower()).replace(" ", "-")
        count = self.seen.get(slug, 0)
        self.seen[slug] = count + 1
        return slug if count == 0 else f"{slug}-{count}"


def _groups(
    papers: list[Paper], group_by: str, skip_tags: set[str]
) -> list[tuple[str, list[Paper]]]:
    if group_by == "none":
        return [("", papers)]
    buckets: dict[str, list[Paper]] = {}
    if group_by == "tag":
        for paper in papers:
            tags = [t for t in paper.tags if t not in skip_tags] or [""]
            for tag in tags:
                buckets.setdefault(tag, []).append(paper)
        named = sorted(k for k in buckets if k)
        order = named + ([""] if "" in buckets else [])
        return [(name or "Untagged", buckets[name]) for name in order]
    if group_by == "year":
        for paper in papers:
            buckets.setdefault(str(paper.year or ""), []).append(paper)
        years = sorted((y for y in buckets if y), reverse=True)
        order = years + ([""] if "" in buckets else [])
        return [(year or "Year unknown", buckets[year]) for year in order]
    for paper in papers:
        buckets.setdefault(paper.type, []).append(paper)
    return [(_TYPE_HEADINGS[t], buckets[t]) for t in PAPER_TYPES if t in buckets]


def _byline(paper: Paper) -> str:
    parts = []
    names = [display_author(a) for a in paper.authors]
    if len(names) > 6:
        names = names[:5] + ["et al."]
    if names:
        parts.append(md_text(", ".join(names)))
    if paper.year:
        parts.append(str(paper.year))
    venue = paper.venue or paper.journal_ref
    if venue:
        parts.append(f"*{md_text(venue)}*")
    if paper.arxiv_id:
        parts.append(f"arXiv:{paper.arxiv_id}")
    if paper.tags:
        parts.append(" ".join(f"`{t}`" for t in paper.tags))
    return " · ".join(parts)


def _note_block(note_text: str, quote: str, page: str, section: str) -> list[str]:
    lines: list[str] = []
    where = ", ".join(p for p in (f"p. {page}" if page else "", section) if p)
    if quote:
        lines.extend("> " + md_text(line) if line.strip() else ">" for line in quote.splitlines())
        if where:
            lines.extend([">", f"> — {md_text(where)}"])
        lines.append("")
    text = note_text.strip()
    if text:
        if where and not quote:
            text = f"**{md_text(where)}:** {text}"
        lines.extend([text, ""])
    return lines


def reading_list(
    papers: Iterable[Paper],
    group_by: str = "tag",
    title: str = "Reading list",
    skip_tags: Iterable[str] = (),
) -> str:
    """The Markdown document. Within a group papers go newest first, then by title.
    ``skip_tags`` (the tags the selection asked for) are not used as groups."""
    ordered = sorted(papers, key=lambda p: (-(p.year or 0), p.title.lower(), p.key))
    groups = _groups(ordered, group_by, set(skip_tags))
    slugs = _Slugs()
    slugs(md_text(title))
    slugs("Contents")
    body: list[str] = []
    contents: list[str] = []
    for name, members in groups:
        if name:
            anchor = slugs(md_text(name))
            contents.append(f"- [{md_text(name)}](#{anchor}) ({len(members)})")
            body.extend([f"## {md_text(name)}", ""])
        for paper in members:
            heading_text = md_text(paper.title)
            url = paper.best_url()
            heading = f"[{heading_text}]({md_url(url)})" if url else heading_text
            level = "###" if name else "##"
            anchor = slugs(heading)
            if not name:
                contents.append(f"- [{heading_text}](#{anchor})")
            body.extend([f"{level} {heading}", ""])
            byline = _byline(paper)
            if byline:
                body.extend([byline, ""])
            for note in paper.notes:
                body.extend(_note_block(note.text, note.quote, note.page, note.section))
    count = len(ordered)
    head = [f"# {md_text(title)}", "", f"{count} {'entry' if count == 1 else 'entries'}.", ""]
    if contents:
        head.extend(["## Contents", "", *contents, ""])
    return "\n".join(head + body).rstrip("\n") + "\n"
