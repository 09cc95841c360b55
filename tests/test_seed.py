"""The bundled library: rebuilt by python -m papercli.seed, identical to the committed one."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from papercli.keys import first_significant_word
from papercli.library import Library
from papercli.seed import LIBRARY_DIR, SOURCES_DIR, build, paper_files

from conftest import Runner


def test_rebuild_matches_the_committed_library(tmp_path: Path) -> None:
    started = time.monotonic()
    build(tmp_path / "lib")
    elapsed = time.monotonic() - started
    rebuilt = paper_files(tmp_path / "lib")
    committed = paper_files(LIBRARY_DIR)
    assert sorted(rebuilt) == sorted(committed)
    differing = [name for name in rebuilt if rebuilt[name] != committed[name]]
    assert differing == [], "run: python -m papercli.seed"
    assert elapsed < 15, elapsed


def test_what_the_bundled_library_holds(cli: Runner, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PAPERCLI_LIBRARY", str(LIBRARY_DIR))
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["by_type"]["paper"] == 182
    # Completed from data/sources/arxiv-metadata: the one paper left with a stand-in title is
    # the PMLR paper no source names (see docs/bundled-library.md).
    assert stats["papers"] == {
        "papers": 182,
        "placeholder_title": 1,
        "full_authors": 180,
        "year": 182,
        "arxiv_papers": 173,
        "arxiv_with_abstract": 152,
    }
    papers = list(Library.open(LIBRARY_DIR).papers())
    for p in papers:
        assert not re.search(r"\((?:paper|pdf)\)|\*\*|:fire:", p.title, re.IGNORECASE), p.title
        assert "â€" not in p.title and "â€" not in " ".join(n.text for n in p.notes), p.key
        # Never a bare year, a bare title word or an arXiv id.
        assert not re.fullmatch(r"\d{4}[a-z]*|arxiv.*", p.key), p.key
        word = first_significant_word(p.title)
        assert p.key not in {word, *(word + suffix for suffix in "abcd")}, p.key
        assert not any("Show more" in n.text for n in p.notes), p.key
    by_key = {p.key: p for p in papers}
    lora = by_key["hu2021lora"]
    assert len([n for n in lora.notes if n.source == "nlp-notes"]) == 6
    assert any(n.source == "researcher-posts" for n in lora.notes)
    # The lists' "Google Brain" was an affiliation: the metadata's authors replace it.
    t5 = by_key["raffel2019exploring"]
    assert (t5.authors[:2], len(t5.authors), t5.incomplete) == (
        ["Raffel, Colin", "Shazeer, Noam"],
        9,
        [],
    )
    assert t5.abstract.startswith("Transfer learning, where a model is first pre-trained")
    dpo = by_key["rafailov2023direct"]
    assert (
        dpo.title
        == "Direct Preference Optimization: Your Language Model is Secretly a Reward Model"
    )
    # A list's annotated form of the title ("GPT-3: ...", "(H3)") gives way to the real one.
    gpt3 = by_key["brown2020language"]
    assert (gpt3.title, gpt3.aliases) == ("Language Models are Few-Shot Learners", ["brown2020gpt"])
    assert by_key["fu2022hungry"].title.startswith("Hungry Hungry Hippos: Towards")
    # ... but not an earlier version's title.
    assert by_key["dai2022gpt"].title.startswith("Why Can GPT Learn In-Context? Language Models Se")
    # The seven papers the posts link outside arXiv are entries, their posts attached as notes.
    for key, url in [
        ("jiang2023low", "https://aclanthology.org/2023.findings-acl.426/"),
        ("girdhar2023imagebind", "https://dl.fbaipublicfiles.com/imagebind/imagebind_final.pdf"),
        ("madani2023large", "https://nature.com/articles/s41587-022-01618-2"),
        ("raschka2022https", "https://proceedings.mlr.press/v170/raschka22a.html"),
        ("kung2022performance", "https://medrxiv.org/content/10.1101/2022.12.19.22283643v2"),
        (
            "clark2002special",
            "https://researchgate.net/publication/228764857_That_special_"
            "something_Dennett_on_the_making_of_minds_and_selves",
        ),
    ]:
        assert by_key[key].url == url
        assert [n.source for n in by_key[key].notes] == ["researcher-posts"], key
    # SparK's OpenReview link is the arXiv paper 2301.03580: its post joins that entry.
    spark = by_key["tian2023designing"]
    assert any("openreview.net/forum?id=NRxydtWup1S" in n.text for n in spark.notes)


# The keys of well-known papers: first author's family name + year + first significant word.
WELL_KNOWN = {
    "vaswani2017attention": "1706.03762",
    "hoffmann2022training": "2203.15556",
    "dao2022flashattention": "2205.14135",
    "ouyang2022training": "2203.02155",
    "rafailov2023direct": "2305.18290",
    "chowdhery2022palm": "2204.02311",
    "devlin2019bert": "1810.04805",
    "hu2021lora": "2106.09685",
    "raffel2019exploring": "1910.10683",
    "bahdanau2014neural": "1409.0473",
    "yang2019xlnet": "1906.08237",
    "lan2019albert": "1909.11942",
    "clark2020electra": "2003.10555",
    "kitaev2020reformer": "2001.04451",
    "zhang2022opt": "2205.01068",
    "zhou2023lima": "2305.11206",
    "wei2022emergent": "2206.07682",
    "schick2023toolformer": "2302.04761",
    "bubeck2023sparks": "2303.12712",
    "howard2018universal": "1801.06146",
    "peters2018deep": "1802.05365",
    "openai2023gpt": "2303.08774",
}


def test_keys_of_well_known_papers() -> None:
    papers = {p.key: p for p in Library.open(LIBRARY_DIR).papers()}
    assert {key: papers[key].arxiv_id for key in WELL_KNOWN if key in papers} == WELL_KNOWN
    assert papers["alammar2019illustrated"].title == "The Illustrated Transformer"
    assert papers["karpathynanogpt"].url == "https://github.com/karpathy/nanoGPT"


def test_old_keys_stay_as_aliases(cli: Runner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every key of papercli 0.1's bundled library still names its paper."""
    lines = (SOURCES_DIR / "bundled-0.1-keys.tsv").read_text(encoding="utf-8").splitlines()
    old = [line.split("\t")[0] for line in lines if line and not line.startswith("#")]
    assert len(old) == 427
    library = Library.open(LIBRARY_DIR)
    names = {name for p in library.papers() for name in (p.key, *p.aliases)}
    assert [k for k in old if k not in names] == []
    assert library.resolve("openai2022training") == "ouyang2022training"
    assert library.resolve("hoffman2022training") == "hoffmann2022training"
    monkeypatch.setenv("PAPERCLI_LIBRARY", str(LIBRARY_DIR))
    shown = cli("show", "stanford2022flashattention")
    assert shown.exit_code == 0 and "dao2022flashattention" in shown.stdout


def test_sources_are_attributed() -> None:
    attribution = (SOURCES_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in attribution and "Cedric Chee" in attribution
    for source in SOURCES_DIR.iterdir():
        if source.name != "ATTRIBUTION.md":
            assert f"`{source.name}`" in attribution
