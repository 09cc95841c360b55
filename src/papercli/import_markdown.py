"""Reading lists in Markdown (awesome-list style) -> papers, and the import plan every importer
shares.

``parse_markdown(text, document)`` turns one document into candidate ``Paper`` records: one per
reference (a link in the place a list item names its subject), with the title cleaned, authors,
year, URL, arXiv id, the heading path as tags, and the item's nested commentary (sub-bullets,
``<details>`` blocks, quotations, the text after the link) as notes. arXiv and other paper links
met inside commentary or prose become entries of their own. What is not taken is listed with a
reason. The document is read as CommonMark by markdown-it-py: its blocks (headings, list items,
paragraphs, quotations, code, raw HTML) and its link reference definitions; lists nested by
less indentation than CommonMark asks, as hand-written lists often are, are nested as meant.
Within a block's text, ``scan_links`` finds the inline links and where they stand.

``ImportPlan`` merges candidates into a library: duplicates (same arXiv id, normalised URL or
title; see ``papercli.merge``) within the batch and against the library become one record, keys
come from ``papercli.keys``. ``ImportPlan.write`` saves the result through a ``Writer``.

This module never prints and writes only through ``Writer``; it does no network I/O.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from papercli.arxiv_ids import parse_arxiv_id, year_of
from papercli.errors import LibraryError, UsageError
from papercli.keys import make_key, unique_key
from papercli.library import Library, Writer
from papercli.merge import merge_into, norm_url
from papercli.models import Note, Paper, normalize_tag, parse_author

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# ---------------------------------------------------------------------------------------------
# Text repair


def repair_text(text: str) -> str:
    """Undo mojibake (UTF-8 decoded as cp1252 or a cousin: ``â€”`` -> ``—``) with ftfy, and
    nothing else (quotes, widths and ligatures stay as written).

    When ftfy finds mojibake, a lone ``Å`` left before a lower-case letter is the lead byte of
    ``Ł`` whose second byte (0x81, undefined in cp1252) was dropped: ``Åukasz`` -> ``Łukasz``.
    In a text that was mis-decoded every genuine ``Å`` would itself be mangled (``Ã…``), so the
    lone one can only be that.
    """
    import ftfy

    config = ftfy.TextFixerConfig(
        unescape_html=False,
        remove_terminal_escapes=False,
        fix_latin_ligatures=False,
        fix_character_width=False,
        uncurl_quotes=False,
        fix_line_breaks=False,
        remove_control_chars=False,
        explain=False,
    )
    fixed = ftfy.fix_text(text, config)
    if fixed != text:
        fixed = re.sub(r"Å(?=[a-z])", "Ł", fixed)
    return fixed


def markdown_from_json(text: str, field_name: str, shown: str) -> str:
    """The Markdown held in string field ``field_name`` of a JSON document (for instance a web
    page payload's ``readme_en``). Payloads that store values by reference (Nuxt/devalue: a
    top-level array where a field holds the index of its value) are followed."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{shown}: not JSON ({exc.msg} at line {exc.lineno})") from None

    def find(node: Any) -> Any:
        if isinstance(node, dict):
            if field_name in node:
                return node[field_name]
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            return None
        for child in children:
            found = find(child)
            if found is not None:
                return found
        return None

    value = find(data)
    if isinstance(value, int) and not isinstance(value, bool) and isinstance(data, list):
        value = data[value] if 0 <= value < len(data) else None
    if not isinstance(value, str):
        raise UsageError(f"{shown}: no text field {field_name!r} in this JSON document")
    return value


# ---------------------------------------------------------------------------------------------
# Links


class Link(NamedTuple):
    text: str  # the link text as written (Markdown)
    url: str
    start: int
    end: int
    side: bool  # inside brackets: [[Code](...)], or [[Code]](...)
    image: bool


def scan_links(text: str) -> list[Link]:
    """Every inline link ``[text](url)`` and image ``![alt](src)`` in ``text``, outermost only,
    in order."""
    links: list[Link] = []
    literal_depth = 0
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "]" and literal_depth:
            literal_depth -= 1
        if char != "[":
            i += 1
            continue
        close = _matching(text, i, "[", "]")
        if close is None or close + 1 >= n or text[close + 1] != "(":
            literal_depth += 1
            i += 1
            continue
        paren = _matching(text, close + 1, "(", ")")
        if paren is None:
            literal_depth += 1
            i += 1
            continue
        inner = text[i + 1 : close]
        target = text[close + 2 : paren].strip()
        url = target.split()[0].strip("<>") if target else ""
        image = i > 0 and text[i - 1] == "!"
        bracketed = inner.startswith("[") and inner.endswith("]")
        start = i - 1 if image else i
        links.append(Link(inner, url, start, paren + 1, literal_depth > 0 or bracketed, image))
        i = paren + 1
    return links


def _matching(text: str, start: int, opening: str, closing: str) -> int | None:
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return i
        elif char == "\n" and opening == "(":
            return None
        i += 1
    return None


def strip_links(text: str) -> str:
    """Markdown links and images replaced by their text."""
    out: list[str] = []
    last = 0
    for link in scan_links(text):
        out.append(text[last : link.start])
        out.append(strip_links(link.text.strip("[]")))
        last = link.end
    out.append(text[last:])
    return "".join(out)


# Link texts that name a kind of thing, not the thing: never a title.
GENERIC_LINK_TEXTS = frozenset(
    "paper pdf code blog blog post post article tweet tweets thread video slides demo "
    "online demo website site web page homepage project page here link this source github "
    "huggingface hugging face fork repo repository notebook colab data dataset discussion "
    "comments official docs documentation arxiv openreview abstract summary tutorial "
    "preprint talk medium twitter reddit hn hacker news".split(" ")
) | {
    "blog post",
    "project page",
    "online demo",
    "hugging face",
    "web page",
    "hacker news",
    "code and paper",
    "paper and code",
    "official code",
}


def is_generic(text: str) -> bool:
    cleaned = clean_title(text).lower().strip(" .:")
    return not cleaned or cleaned in GENERIC_LINK_TEXTS or len(cleaned) < 2


_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1|(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\3(?![\w*])")
_SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
_PAPER_WORDS = re.compile(
    r"\(\s*(?:the\s+)?(?:paper|pdf|preprint|arxiv|code and paper|paper and code|"
    r"technical report|video|article|tweet|blog post|blog|slides|code)\s*\)",
    re.IGNORECASE,
)


def strip_emoji(text: str) -> str:
    return "".join(
        c
        for c in text
        if unicodedata.category(c) not in ("So", "Cs", "Co")
        and c not in "\ufe0f\ufe0e\u200d\u20e3"
        and not 0x1F3FB <= ord(c) <= 0x1F3FF
    )


def clean_title(text: str) -> str:
    """Link text -> title: links, images, emphasis, emoji and ``(paper)``/``(PDF)`` removed."""
    text = strip_links(text.strip())
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    for _ in range(2):
        text = _EMPHASIS.sub(lambda m: m.group(2) or m.group(4) or "", text)
    text = text.replace("`", "")
    text = _SHORTCODE.sub(" ", text)
    text = strip_emoji(text)
    text = _PAPER_WORDS.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" ,;:-–—|").strip()


# ---------------------------------------------------------------------------------------------
# What a URL points to


_PAPER_HOSTS = (
    "openreview.net",
    "aclanthology.org",
    "aclweb.org",
    "proceedings.mlr.press",
    "papers.nips.cc",
    "proceedings.neurips.cc",
    "jmlr.org",
    "dl.acm.org",
    "ieeexplore.ieee.org",
    "link.springer.com",
    "biorxiv.org",
    "semanticscholar.org",
    "doi.org",
    "ssrn.com",
    "medrxiv.org",
)
_REPO_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org")
_VIDEO_HOSTS = ("youtube.com", "youtu.be", "vimeo.com")
_SOCIAL_HOSTS = ("twitter.com", "x.com", "news.ycombinator.com", "reddit.com", "mastodon.social")
_SECTION_TYPES = (
    ("course", "course"),
    ("book", "book"),
    ("video", "video"),
    ("talk", "video"),
    ("dataset", "dataset"),
    ("tools", "website"),
)


def _host(url: str) -> str:
    host = urlsplit(url).netloc.lower()
    return host.removeprefix("www.").removeprefix("old.").removeprefix("m.")


def _on(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def is_paper_url(url: str) -> bool:
    """A research paper: arXiv, a paper venue, a PDF, a 'publications' or 'papers' page."""
    if parse_arxiv_id(url):
        return True
    parts = urlsplit(url)
    host = _host(url)
    path = parts.path.lower()
    if _on(host, _REPO_HOSTS) or _on(host, _SOCIAL_HOSTS):
        return False
    if _on(host, _PAPER_HOSTS):
        return True
    if host == "nature.com" and path.startswith("/articles/s"):
        return True  # a research article (news pieces are /articles/d...)
    if path.endswith(".pdf"):
        return True
    return bool(re.search(r"/(?:publications?|papers?)/[^/]", path))


def kind_of(url: str, section: list[str], title: str) -> str:
    """The entry's type, from the URL first and the section's heading second."""
    host = _host(url)
    if is_paper_url(url):
        return "paper"
    if _on(host, _VIDEO_HOSTS):
        return "video"
    if _on(host, _REPO_HOSTS):
        path = [p for p in urlsplit(url).path.split("/") if p]
        if len(path) >= 3 and path[2] in ("issues", "pull", "discussions"):
            return "misc"
        return "repo"
    if host == "huggingface.co":
        path = [p for p in urlsplit(url).path.split("/") if p]
        if path and path[0] == "datasets":
            return "dataset"
        if path and path[0] not in ("blog", "docs", "learn", "papers", "spaces", "course"):
            return "repo"
    if _on(host, _SOCIAL_HOSTS):
        return "misc"
    heading = " ".join(section).lower()
    for word, kind in _SECTION_TYPES:
        if word in heading:
            return kind
    if "course" in title.lower():
        return "course"
    if urlsplit(url).path.strip("/") == "":
        return "website"
    return "article"


# ---------------------------------------------------------------------------------------------
# Authors and years around a link

_MONTHS = {
    m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())
}
_YEAR = r"(?:19[5-9]\d|20[0-4]\d)"
_DATE_RE = re.compile(
    rf"\(?\b(?:(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+)?"
    rf"(?P<year>{_YEAR})\b\)?"
)
_ORG_WORDS = frozenset(
    "ai research lab labs laboratory group brain team university institute inc inc. corp "
    "google meta openai deepmind microsoft facebook nvidia apple amazon anthropic stanford "
    "berkeley cmu mit fair huggingface hugging face eleutherai salesforce baidu alibaba "
    "tencent yandex wechat tsinghua allen ibm intel uber databricks mosaic cohere "
    "school college center centre foundation society academy technologies platforms".split()
)
_ROLES = frozenset(
    "scientist engineer instructor professor researcher student ceo founder cto "
    "director author editor".split()
)
_ET_AL = re.compile(r"\bet\.?\s*al\b\.?", re.IGNORECASE)
_NAME_WORD = re.compile(
    r"^(?:[A-Z][a-zA-Z'’\-]*\.?|[A-Z]\.(?:-?[A-Z]\.)*|(?:van|von|der|de|del|da|di|la|le|du|dos)|[A-Z][a-z]+-[A-Z][a-z]+)$"
)


class Authorship(NamedTuple):
    authors: list[str]
    complete: bool  # every author is a named person and there is no "et al."


def parse_authors(text: str) -> Authorship:
    """``J. Devlin et al`` / ``Full Name, Full Name and Full Name`` / ``Google Brain`` ->
    stored author names, and whether the list is complete (no "et al.", no organisation)."""
    text = re.sub(r"\([^)]*\)", " ", text)
    has_et_al = bool(_ET_AL.search(text))
    text = _ET_AL.sub(" ", text)
    text = re.sub(r"\s+(?:at|from)\s+.*$", "", text)
    parts = re.split(r",\s*(?:and\s+|&\s+)?|\s+and\s+|\s+&\s+", text)
    authors: list[str] = []
    complete = not has_et_al
    for part in parts:
        name = part.strip(" .,;:")
        if not name or name.lower() in ("others", "al", "co") or not name[0].isupper():
            continue  # "an Instructor from ...": a description, not a name
        if re.search(r"\b(?:19|20)\d\d\b", name) or set(name.lower().split()) & _ROLES:
            continue  # a date, a venue ("ICLR 2024") or a role ("Research Scientist")
        if len(name) > 60:
            return Authorship([], False)
        words = name.split()
        person = (
            2 <= len(words) <= 5
            and words[0] != "The"
            and all(_NAME_WORD.match(w) for w in words)
            and not any(w.lower().strip(".") in _ORG_WORDS for w in words)
        )
        if person:
            authors.append(parse_author(name))
        else:
            authors.append(name)  # an organisation (or a surname alone): kept literally
            complete = False
    return Authorship(list(dict.fromkeys(authors)), complete and bool(authors))


def _cut_author_text(text: str) -> str:
    """The author list at the start of ``text``: up to a dash, a bracket, a colon or a full
    stop that ends a sentence (not an initial's)."""
    stop = len(text)
    for pattern in (r"\s[-–—]\s", r"\s?\[", r"\s\(\s*(?:19|20)\d\d", r"[:;]", r"\s-\s*$"):
        match = re.search(pattern, text)
        if match:
            stop = min(stop, match.start())
    for match in re.finditer(r"\.(?=\s|$)", text):
        before = text[: match.start()].split()
        last = before[-1] if before else ""
        if re.fullmatch(r"[A-Z]|al|et\.?\s*al|[A-Z]\.[A-Z]|Jr|Sr|St|Dr", last):
            continue
        stop = min(stop, match.start())
        break
    return text[:stop]


def find_date(text: str) -> tuple[int | None, str]:
    """The first year (and month) in ``text``: ``(2019)``, ``, 2021``, ``Apr 2023``."""
    match = _DATE_RE.search(text)
    if not match:
        return None, ""
    year = int(match.group("year"))
    month = match.group("mon")
    return year, f"{year}-{_MONTHS[month[:3].lower()]:02d}" if month else ""


# ---------------------------------------------------------------------------------------------
# Markdown structure

_SKIP_SECTIONS = re.compile(
    r"^(?:table of contents|contents|toc|license|licence|licensing|contributing|"
    r"contributors|contribute|acknowledg(?:e)?ments?|citation|how to cite|code of conduct)$",
    re.IGNORECASE,
)


_TOC = re.compile(r"^(?:table of contents|contents|toc)$", re.IGNORECASE)


@dataclass
class Block:
    """A list item (with its continuation lines) or a paragraph, and the blocks nested in it."""

    text: str
    indent: int
    ordered: bool
    section: list[str]
    is_item: bool
    quote: bool = False
    children: list[Block] = field(default_factory=list)
    paper: Paper | None = None  # the entry this block names, once parsed


def _heading_title(raw: str) -> str:
    title = clean_title(raw)
    title = re.sub(r"^\d+(?:\.\d+)*[.)]?\s+", "", title)
    return title.strip()


def heading_tag(title: str) -> str | None:
    """``Large Language Model (LLM)`` -> ``large-language-model``; None when nothing is left."""
    text = re.sub(r"\([^)]*\)", " ", title)
    text = re.sub(r"[^\w+#.\s-]|_", " ", text.lower())
    text = re.sub(r"(?<!\w)\.|\.(?!\w)", " ", text)
    words = text.split()
    if not words:
        return None
    tag = "-".join(words)
    while len(tag) > 64 and "-" in tag:
        tag = tag.rsplit("-", 1)[0]
    try:
        return normalize_tag(tag)
    except UsageError:
        return None


def _indent_width(text: str) -> int:
    return len(text.expandtabs(4)) - len(text.expandtabs(4).lstrip(" "))


_HTML_WRAPPERS = re.compile(r"</?(?:details|summary|b|p|br|sup|sub|div)\b[^>]*>")


def _commonmark() -> MarkdownIt:
    """A CommonMark parser that sees lists nested beyond MAX_NESTING (a list and its item are
    two levels), so parse_markdown refuses them rather than have their depth cut off."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"maxNesting": 2 * MAX_NESTING + 20})


def split_blocks(text: str) -> tuple[str, list[Block]]:
    """The document's title and its top-level blocks as CommonMark (markdown-it-py) reads them:
    list items with the blocks nested in them, paragraphs, quotations, each knowing its heading
    path. Front matter, HTML comments, code and skipped sections are dropped; ``<details>`` and
    ``<summary>`` wrap commentary, so their text is kept without the tags."""
    title = ""
    front = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, re.DOTALL)
    if front:
        found = re.search(r"^title:\s*(.+)$", front.group(1), re.MULTILINE)
        title = found.group(1).strip().strip("'\"") if found else ""
        text = text[front.end() :]
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    tokens = _commonmark().parse(text)
    lines = text.splitlines()
    roots: list[Block] = []
    open_blocks: list[Block | None] = []  # per open container token: its block (None: a list)
    ordered: list[bool] = []
    headings: list[tuple[int, str]] = []
    skip_level = 0
    seen_content = False

    def container() -> Block | None:
        return next((b for b in reversed(open_blocks) if b is not None), None)

    def attach(block: Block) -> None:
        parent = container()
        siblings = parent.children if parent is not None else roots
        # Lists are often nested by less indentation than CommonMark asks ("1. Paper" with
        # "  - comment" under it, which CommonMark reads as a new list): an item indented two
        # or more columns beyond the item before it belongs to that item, as its author meant.
        while block.is_item and siblings and siblings[-1].is_item:
            if block.indent - siblings[-1].indent < 2:
                break
            siblings = siblings[-1].children
        siblings.append(block)

    def add_text(content: str) -> None:
        nonlocal seen_content
        parent = container()
        section = [h for _, h in headings]
        if parent is None:
            seen_content = True
            roots.append(Block(content, 0, False, section, is_item=False))
        elif parent.quote:  # the quotation's paragraphs, a blank line apart
            parent.text = f"{parent.text}\n\n{content}" if parent.text else content
        elif parent.is_item and not parent.text and not parent.children:
            parent.text = content
        else:
            parent.children.append(Block(content, 0, False, section, is_item=False))

    position = 0
    while position < len(tokens):
        token = tokens[position]
        position += 1
        if token.type == "heading_open":
            name = _heading_title(tokens[position].content)
            position += 1  # its inline text is the name, not a paragraph
            level = int(token.tag[1])
            if skip_level > 0 and level > skip_level and not _SKIP_SECTIONS.match(name):
                continue
            skip_level = 0
            if not name:
                continue
            if _SKIP_SECTIONS.match(name):
                skip_level = -1 if _TOC.match(name) else level
                continue
            if level == 1 and not seen_content and not title:
                title = name
                continue
            headings = [(lv, h) for lv, h in headings if lv < level] + [(level, name)]
            continue
        if skip_level or token.type in ("heading_close", "fence", "code_block", "hr"):
            continue
        section = [h for _, h in headings]
        if token.type in ("bullet_list_open", "ordered_list_open"):
            ordered.append(token.type == "ordered_list_open")
            open_blocks.append(None)
        elif token.type == "list_item_open":
            seen_content = True
            column = _indent_width(lines[token.map[0]]) if token.map else 0
            item = Block("", column, ordered[-1] if ordered else False, section, True)
            attach(item)
            open_blocks.append(item)
        elif token.type == "blockquote_open":
            quote = Block("", 0, False, section, is_item=False, quote=True)
            if container() is None:
                seen_content = True
            attach(quote)
            open_blocks.append(quote)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            ordered.pop()
            open_blocks.pop()
        elif token.type in ("list_item_close", "blockquote_close"):
            open_blocks.pop()
        elif token.type == "inline" and token.content.strip():
            add_text(token.content.strip())
        elif token.type == "html_block":
            # Keep what <details>/<summary> say; drop other raw HTML (images, tables, videos).
            for line in token.content.splitlines():
                kept = _HTML_WRAPPERS.sub(" ", line).strip()
                if kept and not re.match(r"^</?[a-zA-Z][^>]*>", kept):
                    add_text(kept)
    # An item holding only nested blocks (a label line that is itself a list) keeps ''.
    return title, roots


# ---------------------------------------------------------------------------------------------
# From blocks to papers


@dataclass
class Skip:
    reason: str
    detail: str


@dataclass
class Parsed:
    """What one document gave: candidate papers in document order, and what was skipped."""

    document: str
    title: str
    papers: list[Paper] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


def _http(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


# The end of a sentence (not an initial's "E." nor "et al."): the text before it is prose.
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)][a-z0-9)])(?<!\bal)[.!?](?:\s|$)")
_LABELS = frozenset(
    "github gitlab code notebook notebooks tokenizers paper papers blog video videos slides "
    "demo tutorial docs website twitter tweet thread podcast course book repo".split()
)


def _primary(block: Block, links: list[Link]) -> Link | None:
    """The link a list item is about: the first plain link, with at most a short author or
    label prefix ("E. Hu et al:", "Watch") before it."""
    for link in links:
        if link.side or link.image or not _http(link.url):
            continue
        prefix = strip_links(block.text[: link.start])
        prefix = re.sub(r"^\s*(?:\d+[.)]\s*)?", "", prefix)
        words = prefix.split()
        if len(words) > 8 or len(prefix) > 70 or _SENTENCE_END.search(prefix.rstrip(" :")):
            return None
        if prefix.strip().startswith(('"', "“", ">")):
            return None
        if is_generic(link.text):
            return None
        return link
    return None


def _date_after(rest: str) -> tuple[int | None, str]:
    """A year written right after the link or its authors: ``(2019)``, ``, 2021``,
    ``Apr 2023``, ``et al., 2023``."""
    head = rest[:80]
    match = re.match(
        rf"^[\s,(]*(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+)?{_YEAR}\b",
        head,
    )
    if match:
        return find_date(match.group(0))
    return None, ""


class _Builder:
    def __init__(self, document: str, tags: list[str]) -> None:
        self.document = document
        self.extra_tags = tags
        self.out = Parsed(document, "")

    def skip(self, reason: str, detail: str) -> None:
        self.out.skipped.append(Skip(reason, " ".join(detail.split())[:120]))

    def tags_for(self, section: list[str]) -> list[str]:
        tags = [t for t in (heading_tag(h) for h in section) if t]
        return list(dict.fromkeys([*tags, *self.extra_tags]))

    def provenance(self, section: list[str]) -> dict[str, Any]:
        prov: dict[str, Any] = {"source": "markdown", "document": self.document}
        if section:
            prov["section"] = " > ".join(section)
        return prov

    def note(self, text: str, section: list[str], quote: str = "") -> Note:
        return Note(
            text=text.strip(), source=self.document, section=" > ".join(section), quote=quote
        )

    def entry(self, link: Link, title: str, section: list[str], *, in_prose: bool = False) -> Paper:
        url = link.url.strip()
        arxiv = parse_arxiv_id(url)
        title_is_placeholder = not title
        kind = kind_of(url, section, title)
        if kind == "paper":
            title = re.sub(r"\s+paper$", "", title, flags=re.IGNORECASE)
        paper = Paper(key="", title=title or (f"arXiv:{arxiv.base}" if arxiv else url), type=kind)
        if arxiv:
            paper.arxiv_id = arxiv.base
            paper.arxiv_version = arxiv.version
            paper.url = f"https://arxiv.org/abs/{arxiv.base}"
        else:
            paper.url = url
        paper.tags = self.tags_for(section)
        paper.provenance = [self.provenance(section)]
        if in_prose or title_is_placeholder:
            paper.incomplete.append("title")
        self.out.papers.append(paper)
        return paper

    def finish(self, paper: Paper, authorship: Authorship | None) -> None:
        if authorship is not None and authorship.authors:
            paper.authors = authorship.authors
        if paper.year is None and paper.arxiv_id:
            paper.year = year_of(paper.arxiv_id)
        if paper.type == "paper":
            missing = list(paper.incomplete)
            if authorship is None or not authorship.complete:
                missing.append("authors")
            if not paper.year:
                missing.append("year")
            missing.append("abstract")
            paper.incomplete = list(dict.fromkeys(missing))

    # -- one block ------------------------------------------------------------------------

    def visit(self, block: Block, owner: Paper | None, previous: Block | None) -> None:
        links = scan_links(block.text)
        primary = _primary(block, links) if block.is_item else None
        if primary is None and not block.is_item and not block.quote:
            # A paragraph that is only a link (or a linked image) names an entry.
            only = [lk for lk in links if _http(lk.url) and not lk.side]
            if len(only) == 1 and not strip_links(
                block.text.replace(block.text[only[0].start : only[0].end], "")
            ).strip(" .:-"):
                primary = only[0]
        if primary is not None and owner is not None and _on(_host(primary.url), _SOCIAL_HOSTS):
            primary = None  # a tweet or a thread under an entry is commentary on it
        if primary is None:
            self.commentary(block, owner, previous, links)
            return
        paper = self.reference(block, primary, links)
        block.paper = paper
        child_previous: Block | None = None
        for child in block.children:
            self.visit(child, paper, child_previous)
            child_previous = child

    def reference(self, block: Block, link: Link, links: list[Link]) -> Paper:
        text = block.text
        title = clean_title(link.text)
        prefix = strip_links(text[: link.start]).strip()
        prefix = re.sub(r"^\s*(?:\d+[.)]\s*)", "", prefix).strip()
        rest = text[link.end :]
        paper = self.entry(link, title, block.section)
        # Generic links right after the main one ("[github](...)") are part of it.
        rest_plain = rest
        while True:
            match = re.match(r"^\s*\[[^\]]*\]\([^)]*\)", rest_plain)
            if not match or not is_generic(match.group(0)[: match.group(0).index("](")]):
                break
            rest_plain = rest_plain[match.end() :]
        authorship: Authorship | None = None
        year, date = _date_after(rest_plain)
        consumed = 0
        by = re.match(
            r"^\s*(?:\([^)]*\)\s*)?(?:,\s*)?(?:paper|tutorial|blog post|post|video)?\s*by\s+",
            rest_plain,
            re.IGNORECASE,
        )
        comma_names = re.match(
            r"^\s*,\s*((?:[A-Z]\.\s*)+[A-Z][\w'’-]+(?:\s+et\.?\s*al\.?)?)"
            r"(?:,\s*[A-Z][\w ]+?)?\s*(?=\(|,|$)",
            rest_plain,
        )
        if by:
            names = _cut_author_text(rest_plain[by.end() :])
            authorship = parse_authors(names)
            consumed = by.end() + len(names)
            if year is None:
                year, date = _date_after(rest_plain[consumed:])
            if year is None:
                year, date = find_date(names)
        elif comma_names:
            authorship = parse_authors(comma_names.group(1))
            consumed = comma_names.end()
            if year is None:
                year, date = _date_after(rest_plain[consumed:])
        elif prefix:
            # "E. Hu et al: [Title](url)" / "OpenAI: S. Bills et al: [...]" / "Watch [...]"
            labels = [p.strip() for p in prefix.rstrip(": ").split(":") if p.strip()]
            if labels and prefix.rstrip().endswith(":"):
                candidate = re.sub(
                    r"\s+(?:tweets?|thread|talk|blog|post|video|paper)$", "", labels[-1]
                )
                parsed = parse_authors(candidate)
                if (
                    parsed.authors
                    and candidate.lower() not in _LABELS
                    and not re.search(r"\.\w{2,}$", candidate)
                ):
                    authorship = parsed
        if year is None:
            year, date = _date_after(rest_plain[consumed:])
        paper.year = year
        paper.date = date
        # "[GPT-3: Language Models are Few-Shot Learners](youtube...) (Paper Explained)": for
        # a video or an article, a remark right after the link belongs to its title, which
        # then does not pass for the paper's.
        remark = re.match(r"^\s*\(([A-Za-z][^()]{2,40})\)", rest_plain)
        if (
            paper.type not in ("paper", "repo")
            and remark
            and not find_date(remark.group(1))[0]
            and not _PAPER_WORDS.fullmatch(remark.group(0).strip())
        ):
            paper.title = f"{paper.title} ({remark.group(1).strip()})"
        self.finish(paper, authorship)
        # The item's own description (after the link, its authors and year) is a note.
        description = rest_plain[consumed:]
        description = re.sub(
            rf"^[\s,.(]*(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+)?"
            rf"(?:{_YEAR})?\)?[\s,.]*",
            "",
            description,
        )
        description = re.sub(r"^[\s\-–—:]+", "", description).strip()
        plain = strip_links(description)
        if len(re.findall(r"\w+", plain)) >= 3 or "](" in description:
            paper.notes.append(self.note(description, block.section, _quotation(description)))
        # Further links in the item: papers become entries of their own; a bare list of
        # links ("Tokenizers: [a](...), [b](...)") gives one entry per link.
        others = [lk for lk in links if lk is not link and lk.start >= link.end]
        bare_list = (
            len(re.findall(r"\w+", strip_links(re.sub(r"\[[^\]]*\]\([^)]*\)", "", rest)))) <= 3
        )
        for other in others:
            self.extra_link(other, block.section, bare_list, in_prose=True, kept=bool(paper.notes))
        return paper

    def extra_link(
        self, link: Link, section: list[str], as_entry: bool, in_prose: bool, kept: bool = False
    ) -> None:
        if link.image or not _http(link.url):
            return
        if is_paper_url(link.url):
            title = "" if is_generic(link.text) else clean_title(link.text)
            paper = self.entry(link, title, section, in_prose=in_prose)
            self.finish(paper, None)
        elif as_entry and not link.side and not is_generic(link.text):
            paper = self.entry(link, clean_title(link.text), section)
            self.finish(paper, None)
        elif not kept:
            self.skip("link in prose, not a paper", f"{clean_title(link.text)} {link.url}")

    def commentary(
        self, block: Block, owner: Paper | None, previous: Block | None, links: list[Link]
    ) -> None:
        """A block that names no entry: a note on its owner (or on the entry just before it,
        for a bullet following a numbered item), papers linked in it become entries."""
        target = owner
        if target is None and previous is not None and previous.paper is not None:
            if block.is_item and previous.is_item and block.ordered != previous.ordered:
                target = previous.paper
        text = render_block(block)
        if target is not None:
            quote = block.text.strip() if block.quote else _quotation(block.text)
            target.notes.append(self.note(text, block.section, quote))
        elif block.is_item and block.children:
            pass  # a label grouping the entries below it ("Databricks:")
        elif not links:
            self.skip("text without a link", block.text)
        for link in links:
            if target is None or is_paper_url(link.url):
                self.extra_link(
                    link, block.section, target is None and block.is_item, True, target is not None
                )
        child_previous: Block | None = None
        for child in block.children:
            if target is not None and not _names_entry(child):
                child_previous = child
                continue  # already part of the note
            self.visit(child, target, child_previous)
            child_previous = child


def _names_entry(block: Block) -> bool:
    return block.is_item and _primary(block, scan_links(block.text)) is not None


def _quotation(text: str) -> str:
    """The quoted passage when a comment is a quotation (``"..." — Someone``), else ''."""
    match = re.match(r'^\s*(?:>\s*)?["“](.{20,}?)["”]\s*(?:[-–—]|$)', text.strip(), re.DOTALL)
    return match.group(1).strip() if match else ""


def render_block(block: Block, depth: int = 0) -> str:
    """A block and the commentary under it as Markdown (nested bullets kept)."""
    lines: list[str] = []
    if block.quote:
        lines.extend("> " + line for line in block.text.splitlines())
    else:
        lines.append(block.text)
    for child in block.children:
        rendered = render_block(child, depth + 1)
        bullet = "- " if child.is_item else ""
        first, *others = rendered.splitlines() or [""]
        lines.append("  " + bullet + first)
        lines.extend("  " + ("  " if bullet else "") + line for line in others)
    return "\n".join(lines)


MAX_NESTING = 100


_REFERENCE_LINK = re.compile(r"(!?)\[([^\[\]\n]+)\](?:\[([^\[\]\n]*)\]|(?![(:\[]))")
_AUTOLINK = re.compile(r"<(https?://[^\s<>]+)>")
# "- Title <https://...>": a list item naming its subject, then linking it.
_TITLED_AUTOLINK = re.compile(
    r"^(\s*(?:[-*+]|\d{1,9}[.)])\s+)([^\[\]<>()]{3,}?)\s*[:\-–—]?\s*<(https?://[^\s<>]+)>"
    r"(?=\s*(?:$|\(|,|\s[-–—]\s))"
)


def inline_links(text: str) -> str:
    """``text`` with the links CommonMark reads elsewhere than inline written inline, so the
    item parser sees every link: reference-style links (``[title][1]``, ``[title][]``,
    ``[title]``, their definitions dropped) and autolinks (``<https://...>``; ``- Title <url>``
    as ``- [Title](url)``). markdown-it-py, a CommonMark parser, decides which definitions
    exist and where code is; a bracket that names no definition is left as written."""
    from markdown_it.common.utils import normalizeReference

    env: dict[str, Any] = {}
    tokens = _commonmark().parse(text, env)
    references: dict[str, Any] = env.get("references", {})
    if not references and "<http" not in text:
        return text
    lines = text.splitlines(keepends=True)
    untouched: set[int] = set()  # code and raw HTML keep their brackets
    for token in tokens:
        if token.type in ("fence", "code_block", "html_block") and token.map:
            untouched.update(range(*token.map))
    definitions: set[int] = set()
    for reference in references.values():
        definitions.update(range(*reference.get("map", (0, 0))))

    def target(label: str) -> str:
        found = references.get(normalizeReference(label))
        return found["href"].replace(" ", "%20").replace(")", "%29") if found else ""

    def reference_link(match: re.Match[str]) -> str:
        bang, label, ref = match.group(1), match.group(2), match.group(3)
        href = target(ref or label)
        return f"{bang}[{label}]({href})" if href else match.group(0)

    out = []
    for number, line in enumerate(lines):
        if number in definitions:
            continue
        if number not in untouched:
            line = _TITLED_AUTOLINK.sub(r"\1[\2](\3)", line)
            line = _AUTOLINK.sub(r"[\1](\1)", line)
            if references:
                line = _REFERENCE_LINK.sub(reference_link, line)
        out.append(line)
    return "".join(out)


def parse_markdown(text: str, document: str, tags: list[str] | None = None) -> Parsed:
    """Every reference in one Markdown document as candidate papers (no keys yet)."""
    builder = _Builder(document, list(tags or []))
    title, roots = split_blocks(inline_links(repair_text(text)))
    stack = [(block, 1) for block in roots]
    while stack:  # reading lists nest a few levels; a thousand is not one papercli can read
        block, depth = stack.pop()
        if depth > MAX_NESTING:
            raise UsageError(
                f"{document}: lists nested more than {MAX_NESTING} levels deep: not a reading "
                "list papercli reads; flatten it"
            )
        stack.extend((child, depth + 1) for child in block.children)
    builder.out.title = title
    previous: Block | None = None
    for block in roots:
        builder.visit(block, None, previous)
        previous = block
    return builder.out


# ---------------------------------------------------------------------------------------------
# Merging into a library


def combine(existing: Paper, incoming: Paper) -> list[str]:
    """``merge_into`` plus what it cannot know: a title or author list marked incomplete is
    replaced by a complete one, and a field stays marked incomplete until a record really
    supplies it (``merge_into`` unmarks any field that is not empty, such as an author list
    that is only "Google Brain")."""
    changed: list[str] = []
    before = list(existing.incomplete)

    def supplies(name: str) -> bool:
        return name not in incoming.incomplete and bool(getattr(incoming, name, None))

    if "title" in before and supplies("title") and incoming.title != existing.title:
        existing.title = incoming.title
        changed.append("title")
    if "authors" in before and incoming.authors and existing.authors != incoming.authors:
        if supplies("authors") or len(incoming.authors) > len(existing.authors):
            existing.authors = list(incoming.authors)
            changed.append("authors")
    for name in merge_into(existing, incoming):
        if name not in changed:
            changed.append(name)
    still = [f for f in before if not supplies(f)]
    if still != existing.incomplete:
        existing.incomplete = still
    if still != before:
        if "incomplete" not in changed:
            changed.append("incomplete")
    elif "incomplete" in changed:
        changed.remove("incomplete")
    return changed


def _kinds_clash(existing: Paper, incoming: Paper) -> bool:
    """True when two records matched only by title are different kinds of thing."""
    kinds = {existing.type, incoming.type}
    if len(kinds) == 1 or "misc" in kinds:
        return False
    if existing.arxiv_id and existing.arxiv_id == incoming.arxiv_id:
        return False
    return not (existing.url and norm_url(existing.url) == norm_url(incoming.url))


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)  # keys, in order
    merged: dict[str, list[str]] = field(default_factory=dict)  # key -> fields changed
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    notes_attached: int = 0
    titles: dict[str, str] = field(default_factory=dict)
    empty: list[str] = field(default_factory=list)  # documents in which nothing was recognised

    def skipped_by_reason(self) -> list[tuple[str, int]]:
        return Counter(s.reason for s in self.skipped).most_common()

    def to_json(self) -> dict[str, Any]:
        return {
            "added": [{"key": k, "title": self.titles.get(k, "")} for k in self.added],
            "merged": [{"key": k, "fields": v} for k, v in self.merged.items()],
            "unchanged": list(self.unchanged),
            "skipped": [{"reason": s.reason, "detail": s.detail} for s in self.skipped],
            "notes_attached": self.notes_attached,
        }


class ImportPlan:
    """Candidates merged with each other and with a library, ready to write.

    Build it while holding the library's write lock (or for a dry run, without): it reads the
    index and the papers it merges into, and changes nothing until ``write``.
    """

    def __init__(self, library: Library) -> None:
        from papercli.finder_cache import library_finder

        self.library = library
        index = library.index()
        if index.problems:
            first = next(iter(index.problems.values()))
            raise LibraryError(
                f"{len(index.problems)} paper file(s) cannot be read ({first}); "
                "fix them before importing, so no duplicate is created"
            )
        self.finder = library_finder(self.library)
        self.taken: set[str] = set(index.rows)
        self.papers: dict[str, Paper] = {}
        self.new: list[str] = []
        self.touched: dict[str, list[str]] = {}
        self.seen_existing: list[str] = []
        self.report = ImportReport()

    def paper(self, key: str) -> Paper:
        if key not in self.papers:
            self.papers[key] = self.library.read(key)
        return self.papers[key]

    def find(self, incoming: Paper) -> str | None:
        return self.finder.find(incoming)

    def add(self, incoming: Paper) -> str:
        """Add a candidate: merged into the record of the same paper, or new. Returns its key."""
        key = self.finder.find(incoming)
        if key is not None and _kinds_clash(self.paper(key), incoming):
            key = None  # a video explaining a paper, under the paper's title, is not the paper
        if key is None:
            if incoming.arxiv_id and incoming.title == f"arXiv:{incoming.arxiv_id}":
                base = "arxiv" + incoming.arxiv_id.replace("/", "-").lower()
                key = unique_key(base, self.taken)
            else:
                key = make_key(
                    incoming.authors, incoming.year, incoming.title, self.taken, url=incoming.url
                )
            incoming.key = key
            self.taken.add(key)
            self.papers[key] = incoming
            self.new.append(key)
            self.finder.add(incoming)
            return key
        self.merge(key, incoming)
        return key

    def merge(self, key: str, incoming: Paper) -> None:
        """Merge ``incoming`` into the paper ``key`` (in the library or already planned)."""
        existing = self.paper(key)
        changed = combine(existing, incoming)
        if key not in self.new:
            if key not in self.seen_existing:
                self.seen_existing.append(key)
            if changed:
                fields = self.touched.setdefault(key, [])
                fields.extend(f for f in changed if f not in fields)
        self.finder.add(existing)

    def finish(self) -> ImportReport:
        report = self.report
        report.added = list(self.new)
        report.merged = {k: self.touched[k] for k in self.seen_existing if k in self.touched}
        report.unchanged = [k for k in self.seen_existing if k not in self.touched]
        report.titles = {k: self.papers[k].title for k in self.papers}
        return report

    def write(self, writer: Writer, stamp: str = "") -> None:
        """Save new and changed papers. With ``stamp`` (ISO date-time), new papers get it as
        ``added`` and nothing gets an ``updated`` time: reproducible output."""
        for key in self.new:
            paper = self.papers[key]
            if stamp:
                paper.added = stamp
                if writer.exists(key):
                    raise LibraryError(f"a paper with key {key!r} appeared during the import")
                writer.save(paper, touch=False)
            else:
                writer.create(paper)
        for key in self.touched:
            writer.save(self.papers[key], touch=not stamp)


def import_markdown(
    plan: ImportPlan, documents: list[tuple[str, str]], tags: list[str] | None = None
) -> ImportReport:
    """Parse each (document name, text) and add its references to ``plan``."""
    for name, text in documents:
        parsed = parse_markdown(text, name, tags)
        if parsed.papers:
            plan.report.skipped.extend(parsed.skipped)
        else:  # one line for a document of topics without links, not one per line
            plan.report.skipped.append(Skip("document without links", name))
            plan.report.empty.append(name)
        for paper in parsed.papers:
            plan.report.notes_attached += len(paper.notes)
            plan.add(paper)
    return plan.finish()
