"""papercli check: a draft's citations against the library, in text and as exact JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import Runner

BIB = r"""
@article{hoffmann2022training, author={Hoffmann, Jordan and Borgeaud, Sebastian},
  title={Training Compute-Optimal Large Language Models}, journal={arXiv}, year=2022,
  eprint={2203.15556}, archivePrefix={arXiv}}
@inproceedings{Vaswani2017, author={Vaswani, Ashish}, title={Attention Is All You Need},
  booktitle={NeurIPS}, year=2017, doi={10.5555/3295222.3295349}}
@article{noyear, author={Doe, Jane}, title={A Paper Without a Year}, journal={J}}
@misc{hu2021lora, author={Hu, Edward J.}, title={LoRA: Low-Rank Adaptation of Large Language
  Models}, year=2021, eprint={2106.09685}, archivePrefix={arXiv}}
"""


def test_check_reports_missing_incomplete_and_duplicates(
    cli: Runner, library: Path, tmp_path: Path
) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB + "@misc{uncited2020, title={Never Cited}, year=2020}\n")
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    # A second record of LoRA under the key Google Scholar would give it: an alias.
    other = tmp_path / "scholar.bib"
    other.write_text(
        "@article{hu2022lora, author={Hu, Edward J.}, title={LoRA: Low-Rank "
        "Adaptation of Large Language Models}, year=2021, journal={ICLR}}\n"
    )
    assert cli("import", "bibtex", str(other)).exit_code == 0
    (tmp_path / "intro.tex").write_text(
        "\\citet{hofmann2022training} and \\cite{vaswani2017} % \\cite{commented}\n"
    )
    draft = tmp_path / "paper.tex"
    draft.write_text(
        "\\newcommand{\\mycite}[1]{\\citep{#1}}\n\\input{intro}\n"
        "\\mycite{noyear} \\cite{2203.15556} \\cite{hu2021lora,hu2022lora}\n"
        "\\begin{verbatim}\\cite{inverbatim}\\end{verbatim}\n"
    )
    result = cli("check", str(draft), "--json", "--unused", str(bib))
    assert result.exit_code == 1, result
    assert json.loads(result.stdout) == {
        "cited": ["hofmann2022training", "vaswani2017", "noyear", "2203.15556", "hu2021lora",
                  "hu2022lora"],
        "missing": [
            {"key": "hofmann2022training", "suggestions": ["hoffmann2022training"]},
            {"key": "vaswani2017", "suggestions": ["Vaswani2017"]},
            {"key": "2203.15556", "suggestions": ["hoffmann2022training"]},
        ],
        "incomplete": ["noyear"],
        "duplicates": [["hu2021lora", "hu2022lora"]],
        "unused": ["hoffmann2022training", "Vaswani2017", "uncited2020"],
    }  # fmt: skip
    result = cli("check", str(draft))
    assert result.stdout.splitlines() == [
        "missing     hofmann2022training: did you mean hoffmann2022training?",
        "missing     vaswani2017: did you mean Vaswani2017?",
        "missing     2203.15556: did you mean hoffmann2022training?",
        "incomplete  noyear: no year",
        "same paper  hu2021lora and hu2022lora",
        "6 cited, 3 missing, 1 incomplete, 1 cited twice",
    ]


def test_a_preprint_and_its_published_version_cited_are_one_paper_cited_twice(
    cli: Runner, library: Path, tmp_path: Path
) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        BIB + "@inproceedings{hu2022lora, author={Hu, Edward J.}, title={{LoRA}: Low-Rank "
        "Adaptation of Large Language Models}, booktitle={ICLR}, year=2022}\n"
    )
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    duplicates = cli("duplicates", "--json")
    assert [group["keys"] for group in json.loads(duplicates.stdout)] == [
        ["hu2021lora", "hu2022lora"]
    ]
    draft = tmp_path / "paper.tex"
    draft.write_text("\\cite{hu2021lora} and \\cite{hu2022lora}\n")
    result = cli("check", str(draft))
    assert result.exit_code == 0, result
    assert result.stdout == (
        "same paper  hu2021lora and hu2022lora\n2 cited, 0 missing, 0 incomplete, 1 cited twice\n"
    )


def test_a_clean_markdown_draft_exits_0(cli: Runner, library: Path, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB)
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    draft = tmp_path / "paper.md"
    draft.write_text("As @hoffmann2022training show [see @Vaswani2017, p. 3]. Mail a@b.org.\n")
    result = cli("check", str(draft))
    assert (result.exit_code, result.stdout) == (
        0, "2 cited, 0 missing, 0 incomplete, 0 cited twice\n"
    )  # fmt: skip
    # export --cited reads the same draft the same way.
    out = cli("export", "bibtex", "--cited", str(draft)).stdout
    assert out.startswith("@article{hoffmann2022training,") and "@inproceedings{Vaswani2017," in out


def test_watch_keeps_the_bib_in_step_with_the_draft_and_the_library(
    cli: Runner, library: Path, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    bib = tmp_path / "refs.bib"
    bib.write_text(BIB)
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    draft = tmp_path / "paper.tex"
    draft.write_text("\\cite{hu2021lora}\n")
    (tmp_path / "chapters").mkdir()
    chapter = tmp_path / "chapters" / "intro.tex"
    chapter.write_text("No citation yet.\n")
    out = tmp_path / "out.bib"
    said = tmp_path / "stderr.txt"  # a file, read while the watch runs
    with said.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "papercli", "export", "bibtex", "--cited", str(draft), "-o",
             str(out), "--watch"],
            stderr=stderr, text=True, env=dict(os.environ),
        )  # fmt: skip

    def wait_for(check: object, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if check():  # type: ignore[operator]
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("refs.bib did not follow")

    try:
        wait_for(lambda: "@misc{hu2021lora," in out.read_text())
        written = out.stat().st_mtime_ns
        draft.write_text("\\cite{hu2021lora} \\input{chapters/intro}\n")  # the draft changes
        time.sleep(1)
        chapter.write_text("As \\citet{noyear} says.\n")  # a file it includes changes
        wait_for(lambda: "@article{noyear," in out.read_text())
        assert cli("tag", "noyear", "unrelated").exit_code == 0  # same bytes: not rewritten
        written = out.stat().st_mtime_ns
        paper = library / "papers" / "noyear.toml"
        paper.write_text(paper.read_text().replace("A Paper Without a Year", "A Renamed Paper"))
        wait_for(lambda: "A Renamed Paper" in out.read_text())  # the library changes
        assert out.stat().st_mtime_ns != written
        # It says so just after the file is in place: not interrupted before that.
        wait_for(lambda: said.read_text().count("papercli: updated") == 3)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    err = said.read_text()
    assert proc.returncode in (0, 130)
    assert "Traceback" not in err
    assert err.splitlines()[:3] == [
        f"papercli: updated {out} (1 entry)",
        f"papercli: updated {out} (2 entries)",
        f"papercli: updated {out} (2 entries)",
    ]


def test_csl_json_for_a_markdown_draft(cli: Runner, library: Path, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@inproceedings{lewis2020, author={Lewis, Patrick and {{Mathpix, Inc.}}}, title={Retrieval"
        " on {L1} Data}, booktitle={Advances in Neural Information Processing Systems}, "
        "volume={33}, pages={9459--9474}, year={2020}, month=dec, doi={10.5555/1}}\n"
        "@misc{hu2021lora, author={Hu, Edward J.}, title={{LoRA}: Low-Rank Adaptation}, "
        "year=2021, eprint={2106.09685}, archivePrefix={arXiv}}\n"
    )
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    draft = tmp_path / "paper.md"
    draft.write_text("See @hu2021lora and [@lewis2020, p. 3].\n")
    result = cli("export", "csl-json", "--cited", str(draft))
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == [
        {"id": "hu2021lora", "type": "document", "title": "LoRA: Low-Rank Adaptation",
         "author": [{"family": "Hu", "given": "Edward J."}], "issued": {"date-parts": [[2021]]},
         "URL": "https://arxiv.org/abs/2106.09685", "number": "arXiv:2106.09685",
         "publisher": "arXiv"},
        {"id": "lewis2020", "type": "paper-conference", "title": "Retrieval on L1 Data",
         "author": [{"family": "Lewis", "given": "Patrick"}, {"literal": "Mathpix, Inc."}],
         "issued": {"date-parts": [[2020, 12]]},
         "container-title": "Advances in Neural Information Processing Systems",
         "volume": "33", "page": "9459–9474", "DOI": "10.5555/1"},
    ]  # fmt: skip


def test_check_add_fetches_cited_arxiv_ids_and_dois(
    cli: Runner, library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from doi_server import DoiServer

    from arxiv_server import ArxivServer

    with ArxivServer() as server, DoiServer() as resolver:
        monkeypatch.setenv("PAPERCLI_ARXIV_API", server.url)
        monkeypatch.setenv("PAPERCLI_ARXIV_DELAY", "0")
        monkeypatch.setenv("PAPERCLI_DOI_API", resolver.url)
        draft = tmp_path / "paper.tex"
        draft.write_text(
            "\\cite{arXiv:2106.09685} and \\cite{10.1038/nature14539} \\cite{10.1000/nosuch}\n"
        )
        result = cli("check", str(draft), "--add", "--json")
        assert result.exit_code == 1, result  # the unknown DOI is still missing
        report = json.loads(result.stdout)
        assert report["missing"] == [{"key": "10.1000/nosuch", "suggestions": []}]
        assert "arXiv:2106.09685 is now an alias of hu2021lora" in result.stderr
        assert "added lecun2015deep from DOI 10.1038/nature14539" in result.stderr
        assert "10.1000/nosuch: not added: no such DOI: 10.1000/nosuch" in result.stderr
    shown = json.loads(cli("show", "arXiv:2106.09685", "--json").stdout)
    assert shown["key"] == "hu2021lora" and shown["aliases"] == ["arXiv:2106.09685"]
    draft.write_text("\\cite{10.1038/nature14539}\n")
    out = cli("export", "bibtex", "--cited", str(draft)).stdout
    assert out == (
        "@article{10.1038/nature14539,\n"
        "  author = {LeCun, Yann and Bengio, Yoshua and Hinton, Geoffrey},\n"
        "  title = {Deep learning},\n"
        "  journal = {Nature},\n"
        "  year = {2015},\n"
        "  month = may,\n"
        "  volume = {521},\n"
        "  number = {7553},\n"
        "  publisher = {Springer Science and Business Media LLC},\n"
        "  pages = {436--444},\n"
        "  issn = {0028-0836},\n"
        "  doi = {10.1038/nature14539},\n"
        "  url = {https://doi.org/10.1038/nature14539},\n"
        "}\n"
    )


def test_doi_forms_and_a_failing_resolver(
    cli: Runner, library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from doi_server import DoiServer
    from papercli.doi_source import parse_doi

    doi = "10.1038/nature14539"
    forms = (doi, f"doi:{doi}", f"https://doi.org/{doi}", f"https://dx.doi.org/{doi}")
    for text in forms:
        assert parse_doi(text) == "10.1038/nature14539"
    assert parse_doi("10.10/x") is None and parse_doi("nature14539") is None
    with DoiServer() as resolver:
        monkeypatch.setenv("PAPERCLI_DOI_API", resolver.url)
        monkeypatch.setenv("PAPERCLI_ARXIV_RETRIES", "1")
        resolver.script = [("status", 503), ("status", 503)]
        draft = tmp_path / "paper.md"
        draft.write_text("See @{10.1038/nature14539}.\n")
        result = cli("check", str(draft), "--add")
        assert result.exit_code == 1
        assert "the DOI resolver answered HTTP 503 (tried 2 times)" in result.stderr
        assert len(resolver.requests) == 2
        assert os.listdir(library / "papers") == []


def test_add_by_doi_and_duplicates_refused_at_the_door(
    cli: Runner, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from doi_server import DoiServer

    with DoiServer() as resolver:
        monkeypatch.setenv("PAPERCLI_DOI_API", resolver.url)
        result = cli("add", "https://doi.org/10.1038/nature14539", "--tag", "dl")
        assert result.exit_code == 0, result
        paper = json.loads(cli("show", "lecun2015deep", "--json").stdout)
        assert (paper["doi"], paper["venue"], paper["year"], paper["tags"]) == (
            "10.1038/nature14539", "Nature", 2015, ["dl"]
        )  # fmt: skip
        assert paper["bibtex_type"] == "article" and paper["bibtex"]["pages"] == "436--444"
        result = cli("add", "doi:10.1038/nature14539")
        assert result.exit_code == 1
        assert "10.1038/nature14539 is already in the library as lecun2015deep" in result.stderr
        result = cli("add", "10.1000/nosuch")
        assert (result.exit_code, result.stderr) == (
            1, "papercli: error: no such DOI: 10.1000/nosuch\n"
        )  # fmt: skip
        assert cli("add", "doi:10.1038/nature14539", "--duplicate").exit_code == 0
    assert sorted(os.listdir(library / "papers")) == ["lecun2015deep.toml", "lecun2015deepa.toml"]
    # A hand-typed paper the library has is refused too, naming it.
    result = cli("add", "--title", "Deep learning", "--author", "Yann LeCun", "--year", "2015")
    assert result.exit_code == 1
    assert "the library has this paper already as lecun2015deep" in result.stderr
