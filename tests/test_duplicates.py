"""papercli duplicates and papercli merge on real temporary libraries: the groups and their
JSON shape, a merge that loses nothing and keeps old keys working, and merges killed midway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from papercli.library import Library, dump_paper
from papercli.merge import fold_into
from papercli.models import Note, Paper

from conftest import Runner


def put(library: Path, paper: Paper) -> None:
    """A paper file as papercli writes it (states a command could leave, written directly)."""
    (library / "papers" / f"{paper.key}.toml").write_bytes(dump_paper(paper))


def test_duplicates_groups_best_first_in_the_documented_json_shape(
    cli: Runner, library: Path
) -> None:
    attention = "Attention Is All You Need"
    for paper in (
        Paper(key="a1", title="Deep Learning", authors=["LeCun, Yann"], year=2015,
              doi="10.1038/nature14539", added="2024-01-02T00:00:00Z"),
        Paper(key="a2", title="Deep learning.", authors=["LeCun, Y."], year=2015,
              doi="https://doi.org/10.1038/NATURE14539", added="2024-01-01T00:00:00Z"),
        Paper(key="v1", title=attention, authors=["Vaswani, Ashish"], year=2017),
        Paper(key="v2", title=attention.lower(), authors=["Vaswani, A."], year=2017),
        # The same title by someone else, or ten years later: other papers.
        Paper(key="v3", title=attention, authors=["Smith, Jane"], year=2017),
        Paper(key="v4", title=attention, authors=["Vaswani, Ashish"], year=2027),
        Paper(key="m1", title="The Large N Limit of Superconformal Field Theories and "
              "Supergravity", authors=["Maldacena, Juan M."], year=1997,
              arxiv_id="hep-th/9711200"),
        Paper(key="m2", title="The Large-N Limit of Superconformal Field Theories and "
              "Supergravity", authors=["Maldacena, Juan"], year=1999,
              doi="10.1023/A:1026654312961"),
        Paper(key="r1", title="Deep Residual Learning for Image Recognition",
              authors=["He, Kaiming"], year=2016),
        Paper(key="r2", title="Deep Residual Learning for Image Recogntion",
              authors=["He, Kaiming"], year=2015),
        Paper(key="kept", title="Language Models are Few-Shot Learners", aliases=["gone"]),
        Paper(key="gone", title="Language Models are Few-Shot Learners"),
        Paper(key="p1", title="Scaling Sparse Experts", arxiv_id="2101.00001",
              doi="10.5555/moe", authors=["Ruiz, Ana"], year=2021),
        Paper(key="p2", title="Mixtures of Experts at Scale in Practice", doi="10.5555/MOE",
              authors=["Ruiz, Ana"], year=2022),
        Paper(key="alone", title="Something Else Entirely", authors=["Doe, Jane"], year=2020),
    ):  # fmt: skip
        put(library, paper)
    result = cli("duplicates", "--json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == [
        {"keys": ["gone", "kept"], "reason": "an interrupted merge: gone is an alias of kept "
         "and still a paper of its own ('papercli merge kept gone' finishes it)"},
        {"keys": ["a2", "a1"], "reason": "same DOI 10.1038/nature14539"},
        {"keys": ["v1", "v2"], "reason": "same title, first author and year"},
        {"keys": ["m1", "m2"], "reason": "a preprint and its published version (same title "
         "and first author, 1997 and 1999)"},
        {"keys": ["p1", "p2"], "reason": "a preprint and its published version (same DOI "
         "10.5555/moe)"},
        {"keys": ["r1", "r2"], "reason": "similar titles (99%), same first author"},
    ]  # fmt: skip
    result = cli("duplicates")
    assert result.stdout.splitlines()[1:3] == [
        "a2 a1\tsame DOI 10.1038/nature14539",
        "v1 v2\tsame title, first author and year",
    ]
    assert result.stderr == (
        "papercli: 6 group(s): 'papercli merge KEY OTHER...' folds the others into KEY\n"
    )


def test_no_duplicates_is_an_empty_list_and_exit_0(cli: Runner, library: Path) -> None:
    put(library, Paper(key="x", title="Only One Paper Here"))
    assert (cli("duplicates", "--json").stdout, cli("duplicates", "--json").exit_code) == (
        "[]\n", 0
    )  # fmt: skip
    result = cli("duplicates")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "", "papercli: no probable duplicates\n"
    )  # fmt: skip


KEEP = Paper(
    key="vaswani2017attention",
    title="Attention Is All You Need",
    authors=["Vaswani, Ashish", "Shazeer, Noam"],
    year=2017,
    status="read",
    tags=["transformers"],
    aliases=["Vaswani:17"],
    venue="NeurIPS",
    bibtex_type="inproceedings",
    bibtex={"title": "Attention Is All You Need", "author": "Vaswani, Ashish and Shazeer, Noam",
            "booktitle": "NeurIPS", "year": "2017"},
    provenance=[{"source": "bibtex", "file": "mine.bib"}],
    notes=[Note(text="multi-head attention", created="2024-01-01T00:00:00Z")],
    added="2024-01-01T00:00:00Z",
)  # fmt: skip
OTHER = Paper(
    key="vaswaniAttentionAllYou2017",
    title="Attention is all you need",
    authors=["Vaswani, Ashish"],
    year=2017,
    status="reading",
    tags=["attention", "transformers"],
    aliases=["DBLP:conf/nips/VaswaniSPUJGKP17"],
    arxiv_id="1706.03762",
    doi="10.5555/3295222.3295349",
    venue="Advances in Neural Information Processing Systems 30",
    bibtex_type="inproceedings",
    bibtex={"title": "Attention is all you need", "author": "Vaswani, Ashish",
            "booktitle": "Advances in Neural Information Processing Systems 30",
            "pages": "5998--6008", "year": "2017"},
    alias_bibtex={"DBLP:conf/nips/VaswaniSPUJGKP17": {"@type": "inproceedings",
                  "title": "Attention is All you Need", "booktitle": "NIPS", "year": "2017"}},
    provenance=[{"source": "bibtex", "file": "zotero.bib"}],
    notes=[Note(text="read with the annotated transformer"),
           Note(text="multi-head attention")],
    extra={"rating": 5},
    added="2024-06-01T00:00:00Z",
)  # fmt: skip


def test_merge_folds_everything_in_and_old_keys_lead_to_the_kept_paper(
    cli: Runner, library: Path, tmp_path: Path
) -> None:
    put(library, KEEP)
    put(library, OTHER)
    before = {p.name: p.read_bytes() for p in (library / "papers").iterdir()}
    result = cli("merge", "vaswani2017attention", "vaswaniAttentionAllYou2017", "--dry-run")
    assert result.exit_code == 0, result
    assert result.stdout.startswith("would merge vaswaniAttentionAllYou2017 into ")
    assert {p.name: p.read_bytes() for p in (library / "papers").iterdir()} == before
    result = cli("merge", "vaswani2017attention", "vaswaniAttentionAllYou2017")
    assert result.exit_code == 0, result
    assert result.stdout == (
        "merged vaswaniAttentionAllYou2017 into vaswani2017attention: arxiv_id, doi, tags, "
        "provenance, notes, aliases, bibtex.doi, bibtex.eprint; vaswaniAttentionAllYou2017 is "
        "an alias of vaswani2017attention\n"
    )
    assert result.stderr == (
        "papercli: vaswani2017attention keeps its own title, authors, status, venue, bibtex; "
        "vaswaniAttentionAllYou2017's other values are kept in its provenance (source = "
        '"merge", key = "vaswaniAttentionAllYou2017")\n'
    )
    assert os.listdir(library / "papers") == ["vaswani2017attention.toml"]
    paper = Library.open(library).read("vaswani2017attention")
    assert (paper.title, paper.status, paper.venue) == (KEEP.title, "read", "NeurIPS")
    assert (paper.arxiv_id, paper.doi) == ("1706.03762", "10.5555/3295222.3295349")
    assert paper.tags == ["transformers", "attention"]
    assert paper.aliases == [
        "Vaswani:17", "DBLP:conf/nips/VaswaniSPUJGKP17", "vaswaniAttentionAllYou2017"
    ]  # fmt: skip
    assert [n.text for n in paper.notes] == [
        "multi-head attention", "read with the annotated transformer"
    ]  # fmt: skip
    assert paper.alias_bibtex == OTHER.alias_bibtex
    assert paper.extra == {"rating": 5}
    assert paper.added == "2024-01-01T00:00:00Z"
    history = paper.provenance[-1]
    assert paper.provenance[:-1] == [*KEEP.provenance, *OTHER.provenance]
    assert history == {
        "source": "merge",
        "key": "vaswaniAttentionAllYou2017",
        "merged": history["merged"],
        "was.title": "Attention is all you need",
        "was.authors": ["Vaswani, Ashish"],
        "was.status": "reading",
        "was.venue": "Advances in Neural Information Processing Systems 30",
        "was.added": "2024-06-01T00:00:00Z",
        "was.bibtex.@type": "inproceedings",
        **{f"was.bibtex.{n}": v for n, v in OTHER.bibtex.items()},
    }
    # The old key (and the other's aliases) lead to the kept paper.
    shown = json.loads(cli("show", "vaswaniAttentionAllYou2017", "--json").stdout)
    assert shown["key"] == "vaswani2017attention"
    # A draft citing the old key gets the kept paper's entry under that key.
    draft = tmp_path / "draft.tex"
    draft.write_text("\\cite{vaswaniAttentionAllYou2017}\n")
    result = cli("export", "bibtex", "--cited", str(draft))
    assert result.exit_code == 0, result
    assert result.stdout == (
        "@inproceedings{vaswaniAttentionAllYou2017,\n"
        "  title = {Attention Is All You Need},\n"
        "  author = {Vaswani, Ashish and Shazeer, Noam},\n"
        "  booktitle = {NeurIPS},\n"
        "  year = {2017},\n"
        "  doi = {10.5555/3295222.3295349},\n"
        "  eprint = {1706.03762},\n"
        "  archiveprefix = {arXiv},\n"
        "}\n"
    )
    # Naming it again is nothing to do; naming the kept paper itself is a usage error.
    result = cli("merge", "vaswani2017attention", "vaswaniAttentionAllYou2017")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "already names vaswani2017attention (merged before)" in result.stderr
    result = cli("merge", "vaswani2017attention", "vaswani2017attention")
    assert result.exit_code == 2
    assert cli("merge", "vaswani2017attention", "nosuchkey").exit_code == 1


def test_a_merge_stopped_between_its_writes_loses_nothing_and_is_finished_by_rerunning(
    cli: Runner, library: Path
) -> None:
    put(library, KEEP)
    put(library, OTHER)
    # What a kill after the kept paper was written and before the other was removed leaves.
    with Library.open(library).writing() as writer:
        kept = writer.read("vaswani2017attention")
        fold_into(kept, writer.read("vaswaniAttentionAllYou2017"), "2026-01-01T00:00:00Z")
        writer.save(kept)
    assert sorted(os.listdir(library / "papers")) == [
        "vaswani2017attention.toml", "vaswaniAttentionAllYou2017.toml"
    ]  # fmt: skip
    # Nothing is lost meanwhile: each key still shows its paper, and duplicates says what to do.
    assert json.loads(cli("show", "vaswaniAttentionAllYou2017", "--json").stdout)["status"] == (
        "reading"
    )
    groups = json.loads(cli("duplicates", "--json").stdout)
    assert groups[0]["reason"].startswith("an interrupted merge: vaswaniAttentionAllYou2017 is")
    result = cli("merge", "vaswani2017attention", "vaswaniAttentionAllYou2017")
    assert result.exit_code == 0, result
    assert os.listdir(library / "papers") == ["vaswani2017attention.toml"]
    paper = Library.open(library).read("vaswani2017attention")
    assert [p["source"] for p in paper.provenance] == ["bibtex", "bibtex", "merge"]
    assert len(paper.notes) == 2 and paper.aliases.count("vaswaniAttentionAllYou2017") == 1

    # And with real kills at moments spread over the merge: both papers' data always survive.
    for attempt in range(5):
        keep, other = f"k{attempt}", f"o{attempt}"
        put(library, Paper(key=keep, title=f"Paper {attempt}", abstract="x " * 300_000))
        put(library, Paper(key=other, title=f"Paper {attempt}", tags=["mine"],
                           notes=[Note(text=f"note {attempt}")]))  # fmt: skip
        proc = subprocess.Popen([sys.executable, "-m", "papercli", "merge", keep, other],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(0.2 + 0.08 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        files = set(os.listdir(library / "papers"))
        assert f"{keep}.toml" in files
        if f"{other}.toml" not in files:  # the merge was done: the other is in the kept paper
            assert other in Library.open(library).read(keep).aliases
        assert cli("merge", keep, other).exit_code == 0
        assert f"{other}.toml" not in os.listdir(library / "papers")
        paper = Library.open(library).read(keep)
        assert (paper.tags, [n.text for n in paper.notes]) == (["mine"], [f"note {attempt}"])
        assert json.loads(cli("show", other, "--json").stdout)["key"] == keep


def test_merging_a_published_version_into_its_preprint_keeps_eprint(
    cli: Runner, library: Path
) -> None:
    title = "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    authors = ["Devlin, Jacob", "Chang, Ming-Wei"]
    put(library, Paper(key="pre", title=title, authors=authors, year=2018,
                       arxiv_id="1810.04805", tags=["nlp"]))  # fmt: skip
    put(library, Paper(key="pub", title=title, authors=authors, year=2019,
                       doi="10.18653/v1/N19-1423", bibtex_type="inproceedings",
                       bibtex={"title": "{BERT}: Pre-training", "booktitle": "NAACL",
                               "year": "2019", "doi": "10.18653/v1/N19-1423"}))  # fmt: skip
    groups = json.loads(cli("duplicates", "--json").stdout)
    assert groups == [{"keys": ["pre", "pub"], "reason": "a preprint and its published version "
                       "(same title and first author, 2018 and 2019)"}]  # fmt: skip
    result = cli("merge", "pre", "pub")
    assert result.exit_code == 0, result
    assert cli("export", "bibtex", "--key", "pre").stdout == (
        "@inproceedings{pre,\n"
        "  title = {{BERT}: Pre-training},\n"
        "  booktitle = {NAACL},\n"
        "  year = {2019},\n"
        "  doi = {10.18653/v1/N19-1423},\n"
        "  eprint = {1810.04805},\n"
        "  archiveprefix = {arXiv},\n"
        "}\n"
    )
    assert json.loads(cli("show", "pub", "--json").stdout)["key"] == "pre"


def test_cached_signatures_are_found_alike_in_text_and_as_maps(cli: Runner, library: Path) -> None:
    """add's duplicate check reads the cached signatures as text, an import's many lookups as
    maps; both find a signature with a character the text escapes (a URL edited by
    hand), and neither confuses one signature with another that starts the same."""
    from papercli.finder_cache import LOOKUPS_IN_TEXT, library_finder

    odd = "https://example.org/a\tb\nc\\d"
    put(library, Paper(key="odd2020", title="Odd", url=odd, year=2020))
    put(library, Paper(key="plain2020", title="Plain", url="https://example.org/a", year=2020))
    assert cli("list").exit_code == 0  # the cache, signatures included
    lib = Library.open(library)
    finder = library_finder(lib)
    found = finder.find(Paper(key="x", title="Another", url=odd))
    assert found == "odd2020"
    assert finder.find(Paper(key="y", title="Other", url="https://example.org/a")) == "plain2020"
    assert finder.find(Paper(key="z", title="Third", url="https://example.org/")) is None
    for _ in range(LOOKUPS_IN_TEXT + 1):  # as an import does: the texts become maps
        finder.find(Paper(key="w", title="Unrelated"))
    assert finder.find(Paper(key="x", title="Another", url=odd)) == "odd2020"
    assert finder.find(Paper(key="y", title="Other", url="https://example.org/a")) == "plain2020"
