"""What counts as the same paper, and merging two records of it without losing anything."""

from __future__ import annotations

from papercli.merge import DuplicateFinder, merge_into, norm_title, norm_url
from papercli.models import Note, Paper


def finder_with(*papers: Paper) -> DuplicateFinder:
    finder = DuplicateFinder()
    for paper in papers:
        finder.add(paper)
    return finder


def test_same_paper_by_arxiv_id_any_version_url_or_title() -> None:
    known = Paper(
        key="vaswani2017attention", title="Attention Is All You Need", arxiv_id="1706.03762"
    )
    finder = finder_with(known)
    assert finder.find(Paper(key="x", title="other", url="https://arxiv.org/pdf/1706.03762v5.pdf"))
    assert finder.find(Paper(key="x", title="other", arxiv_id="1706.03762v2"))
    assert finder.find(Paper(key="x", title="attention is all you need!")) == known.key
    assert (
        finder.find(Paper(key="x", title="Attention is all you need", arxiv_id="2001.00001"))
        is None
    )
    assert (
        finder.find(Paper(key="x", title="Attention Is All You Need (video)", type="video")) is None
    )
    assert finder.find(Paper(key="x", title="Attention Is All You Need", type="video")) is None


def test_normalisation() -> None:
    assert norm_url("http://www.Example.com/a/b/") == "example.com/a/b"
    assert norm_url("https://arxiv.org/abs//2106.09685") == "arxiv:2106.09685"
    assert norm_title("LoRA: Low-Rank Adaptation (paper)") == "lora low rank adaptation"
    assert norm_title("BERT") == ""  # too short to identify a paper


def test_merge_fills_and_combines_without_overwriting() -> None:
    existing = Paper(
        key="hu2021lora",
        title="My LoRA title",
        tags=["peft"],
        status="read",
        notes=[Note(text="mine")],
        incomplete=["authors", "abstract"],
        authors=["Google Brain"],
    )
    incoming = Paper(
        key="x",
        title="LoRA",
        abstract="We propose...",
        tags=["peft", "lora"],
        notes=[Note(text="mine"), Note(text="theirs")],
        authors=["Hu, Edward"],
        incomplete=["authors"],
        arxiv_id="2106.09685",
    )
    changed = merge_into(existing, incoming)
    assert existing.title == "My LoRA title" and existing.status == "read"
    assert existing.tags == ["peft", "lora"]
    assert [n.text for n in existing.notes] == ["mine", "theirs"]
    assert existing.abstract == "We propose..." and existing.arxiv_id == "2106.09685"
    assert existing.authors == ["Google Brain"]
    # The abstract arrived; the incoming authors were themselves incomplete.
    assert existing.incomplete == ["authors"]
    assert set(changed) >= {"abstract", "tags", "notes", "arxiv_id", "incomplete"}


def test_merge_replaces_placeholders_marked_incomplete() -> None:
    existing = Paper(
        key="hu2021lora",
        title="LoRA",
        authors=["Hu, E."],
        tags=["peft"],
        incomplete=["authors", "abstract"],
    )
    incoming = Paper(
        key="x",
        title="LoRA: Low-Rank Adaptation of Large Language Models",
        authors=["Hu, Edward J.", "Shen, Yelong"],
    )
    changed = merge_into(existing, incoming)
    assert existing.authors == ["Hu, Edward J.", "Shen, Yelong"]
    assert existing.title == "LoRA"  # not marked incomplete: the user's title stays
    assert existing.incomplete == ["abstract"]
    assert "authors" in changed


def test_a_preprint_and_its_published_version() -> None:
    preprint = Paper(
        key="pre", title="The Large N Limit of Superconformal Field Theories and Supergravity",
        authors=["Maldacena, Juan M."], year=1997, arxiv_id="hep-th/9711200",
        journal_ref="Int.J.Theor.Phys.38:1113-1133,1999",
    )  # fmt: skip
    finder = finder_with(preprint)
    published = Paper(
        key="pub", title="The Large-N Limit of Superconformal Field Theories and Supergravity",
        authors=["Maldacena, Juan"], year=1999, doi="10.1023/A:1026654312961",
    )  # fmt: skip
    assert finder.find(published) is None  # another year: not the same record
    assert finder.other_version(published) == "pre"
    # Years further apart, and another first author: not its published version...
    later = Paper(key="x", title=published.title, authors=["Maldacena, Juan"], year=2005)
    assert finder.other_version(later) is None
    other = Paper(key="y", title=published.title, authors=["Witten, Edward"], year=1998)
    assert finder.other_version(other) is None
    # ...unless the preprint's journal reference names its volume and first page.
    later.bibtex = {"volume": "38", "pages": "1113--1133"}
    assert finder.other_version(later) == "pre"
    # A preprint whose arXiv record names the DOI, even under another title.
    named = Paper(key="n", title="A Preprint Title", arxiv_id="2001.00001", doi="10.5555/x")
    renamed = Paper(key="r", title="The Title It Was Published Under", doi="10.5555/X")
    assert finder_with(named).other_version(renamed) == "n"
    # Two published papers with one title are not a preprint and its version.
    assert finder_with(published).other_version(later) is None
