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
