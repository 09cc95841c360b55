"""papercli add DOI and refresh by DOI against a local resolver stand-in (doi_server.py): each
CSL type's BibTeX entry, a preprint and its published version as one paper, refusal and
--duplicate on every add path."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from doi_server import DoiServer
from papercli.library import Library

from arxiv_server import ArxivServer
from conftest import Runner

FIXTURES = Path(__file__).parent / "fixtures" / "doi"


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[DoiServer]:
    with DoiServer() as server, ArxivServer() as arxiv:
        monkeypatch.setenv("PAPERCLI_DOI_API", server.url)
        monkeypatch.setenv("PAPERCLI_ARXIV_API", arxiv.url)
        yield server


def files(library: Path) -> list[str]:
    return sorted(os.listdir(library / "papers"))


# -- each CSL type ----------------------------------------------------------------------------

ENTRIES = {  # DOI -> (its CSL type, papercli's type, the name of its entry in bib/)
    "10.1038/nature14539": ("article-journal", "paper", "lecun2015deep"),
    "10.18653/v1/N19-1423": ("paper-conference", "paper", "devlin2019bert"),
    "10.1007/978-3-319-24574-4_28": ("chapter", "paper", "ronneberger2015u"),
    "10.1007/978-0-387-84858-7": ("book", "book", "hastie2009elements"),
    "10.5555/report.2020.17": ("report", "paper", "ruiz2020scaling"),
    "10.5555/thesis.2019.042": ("thesis", "thesis", "macleoid2019neural"),
    "10.5555/zenodo.3522105": ("dataset", "dataset", "workshop2019wmt19"),
    "10.1101/2020.03.22.002386": ("posted-content", "paper", "gordon2020sars"),
}


@pytest.mark.parametrize("doi", list(ENTRIES))
def test_each_csl_type_becomes_its_bibtex_entry(
    doi: str, cli: Runner, library: Path, resolver: DoiServer
) -> None:
    csl_type, paper_type, name = ENTRIES[doi]
    assert json.loads((FIXTURES / (doi.replace("/", "_") + ".json")).read_text())["type"] == (
        csl_type
    )
    result = cli("add", doi)
    assert result.exit_code == 0, result
    (file_name,) = files(library)
    key = file_name.removesuffix(".toml")  # the key papercli made (keys.py decides it)
    shown = json.loads(cli("show", key, "--json").stdout)
    assert (shown["type"], shown["doi"]) == (paper_type, doi)
    entry = (FIXTURES / "bib" / f"{name}.bib").read_text().replace(f"{{{name},", f"{{{key},", 1)
    assert cli("export", "bibtex", "--key", key).stdout == entry


def test_jats_markup_is_dropped_from_an_abstract(
    cli: Runner, library: Path, resolver: DoiServer
) -> None:
    assert cli("add", "10.5555/thesis.2019.042").exit_code == 0
    shown = json.loads(cli("show", "macleoid2019neural", "--json").stdout)
    assert shown["abstract"] == "This thesis studies neural inflection models."


# -- a preprint and its published version are one paper --------------------------------------

PREPRINT = """\
type = "paper"
title = "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
authors = ["Devlin, Jacob", "Chang, Ming-Wei", "Lee, Kenton", "Toutanova, Kristina"]
year = 2018
status = "read"
tags = ["nlp"]
arxiv_id = "1810.04805"
primary_category = "cs.CL"
url = "https://arxiv.org/abs/1810.04805"
incomplete = ["abstract"]
bibtex_type = "misc"

[bibtex]
title = "{BERT}: Pre-training of Deep Bidirectional Transformers for Language Understanding"
author = "Devlin, Jacob and Chang, Ming-Wei and Lee, Kenton and Toutanova, Kristina"
journal = "arXiv preprint arXiv:1810.04805"
year = "2018"
keywords = "language models"

[[notes]]
text = "masked LM + next sentence prediction"
"""

PUBLISHED_ENTRY = """\
@inproceedings{bert,
  author = {Devlin, Jacob and Chang, Ming-Wei and Lee, Kenton and Toutanova, Kristina},
  title = {{BERT}: Pre-training of Deep Bidirectional Transformers for Language Understanding},
  booktitle = {Proceedings of the 2019 Conference of the North},
  year = {2019},
  publisher = {Association for Computational Linguistics},
  pages = {4171--4186},
  doi = {10.18653/v1/N19-1423},
  url = {https://doi.org/10.18653/v1/n19-1423},
  keywords = {language models},
  eprint = {1810.04805},
  archiveprefix = {arXiv},
  primaryclass = {cs.CL},
}
"""


def test_add_doi_merges_the_published_version_into_its_preprint(
    cli: Runner, library: Path, resolver: DoiServer
) -> None:
    (library / "papers" / "bert.toml").write_text(PREPRINT)
    result = cli("add", "10.18653/v1/N19-1423", "--tag", "naacl")
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert result.stderr == (
        "papercli: merged the published version 10.18653/v1/N19-1423 into the preprint bert: "
        "record @inproceedings (author, title, booktitle, year, publisher, pages, doi, url, "
        "keywords, archiveprefix, primaryclass, eprint kept); venue Proceedings of the 2019 "
        "Conference of the North; doi 10.18653/v1/N19-1423; year 2018 -> 2019; tagged naacl\n"
    )
    assert files(library) == ["bert.toml"]
    paper = Library.open(library).read("bert")
    # The user's fields stay; the published version's join.
    assert (paper.status, paper.tags) == ("read", ["nlp", "naacl"])
    assert [n.text for n in paper.notes] == ["masked LM + next sentence prediction"]
    assert (paper.arxiv_id, paper.primary_category) == ("1810.04805", "cs.CL")
    assert (paper.doi, paper.year, paper.venue) == (
        "10.18653/v1/N19-1423", 2019, "Proceedings of the 2019 Conference of the North"
    )  # fmt: skip
    # Nothing replaced is lost: the preprint's record and year are in provenance.
    history = paper.provenance[-1]
    assert history["source"] == "published-version"
    assert (history["was.year"], history["was.bibtex.@type"]) == (2018, "misc")
    assert history["was.bibtex.journal"] == "arXiv preprint arXiv:1810.04805"
    assert cli("export", "bibtex").stdout == PUBLISHED_ENTRY
    # Now the library has the published version: adding it again is refused, naming it.
    before = (library / "papers" / "bert.toml").read_bytes()
    result = cli("add", "https://doi.org/10.18653/v1/N19-1423")
    assert result.exit_code == 1
    assert "10.18653/v1/N19-1423 is already in the library as bert" in result.stderr
    assert (library / "papers" / "bert.toml").read_bytes() == before
    # And so is its arXiv id, by any add path.
    result = cli("add", "1810.04805")
    assert result.exit_code == 1
    assert "1810.04805 is already in the library as bert" in result.stderr
    title = "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    result = cli("add", "--title", title, "--author", "Jacob Devlin", "--year", "2019")
    assert result.exit_code == 1
    assert "the library has this paper already as bert" in result.stderr
    # Typed by hand as the preprint (2018) of the published paper the library has: one paper.
    result = cli("add", "--title", title, "--author", "J. Devlin", "--year", "2018")
    assert result.exit_code == 1
    assert "the library has this paper already as bert" in result.stderr
    assert files(library) == ["bert.toml"]
    assert cli("add", "10.18653/v1/N19-1423", "--duplicate").exit_code == 0
    assert len(files(library)) == 2


def test_the_bundled_bert_preprint_gets_its_naacl_version(
    cli: Runner, tmp_path: Path, resolver: DoiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("init", str(tmp_path / "bundled")).exit_code == 0
    monkeypatch.setenv("PAPERCLI_LIBRARY", str(tmp_path / "bundled"))
    before = json.loads(cli("show", "1810.04805", "--json").stdout)
    count = len(os.listdir(tmp_path / "bundled" / "papers"))
    result = cli("add", "doi:10.18653/v1/N19-1423")
    assert result.exit_code == 0, result
    assert f"into the preprint {before['key']}:" in result.stderr
    assert len(os.listdir(tmp_path / "bundled" / "papers")) == count
    after = json.loads(cli("show", "1810.04805", "--json").stdout)
    assert after["key"] == before["key"]
    assert (after["tags"], after["status"], after["notes"]) == (
        before["tags"], before["status"], before["notes"]
    )  # fmt: skip
    assert after["bibtex_type"] == "inproceedings"
    assert after["bibtex"]["eprint"] == "1810.04805"
    assert after["provenance"][: len(before["provenance"])] == before["provenance"]
    entry = cli("export", "bibtex", "--key", before["key"]).stdout
    assert entry.startswith(f"@inproceedings{{{before['key']},")
    assert "  pages = {4171--4186},\n" in entry and "  eprint = {1810.04805},\n" in entry


def test_add_arxiv_id_of_a_published_paper_in_the_library_is_refused(
    cli: Runner, library: Path, resolver: DoiServer
) -> None:
    assert cli("add", "10.18653/v1/N19-1423").exit_code == 0
    (file_name,) = files(library)
    key = file_name.removesuffix(".toml")
    result = cli("add", "arXiv:1810.04805")
    assert result.exit_code == 1
    assert result.stderr == (
        f"papercli: error: 1810.04805 is already in the library as {key} (same title or DOI, "
        f"or its published version): see 'papercli show {key}'; 'papercli add --update' "
        "merges arXiv's metadata into it, --duplicate adds it anyway\n"
    )
    assert files(library) == [file_name]
    result = cli("add", "1810.04805", "--update")
    assert result.exit_code == 0, result
    paper = Library.open(library).read(key)
    assert (paper.arxiv_id, paper.doi, paper.bibtex_type) == (
        "1810.04805", "10.18653/v1/N19-1423", "inproceedings"
    )  # fmt: skip
    assert (paper.bibtex["eprint"], paper.bibtex["archiveprefix"]) == ("1810.04805", "arXiv")
    assert cli("add", "1810.04805", "--duplicate").exit_code == 0
    assert len(files(library)) == 2


# -- refresh ----------------------------------------------------------------------------------


def test_refresh_a_doi_paper_fills_what_it_lacks_and_keeps_the_rest(
    cli: Runner, library: Path, resolver: DoiServer
) -> None:
    assert cli("add", "10.1038/nature14539", "--tag", "dl").exit_code == 0
    path = library / "papers" / "lecun2015deep.toml"
    text = path.read_text()
    for line in ('venue = "Nature"\n', 'pages = "436--444"\n'):
        assert line in text
        text = text.replace(line, "")
    text = text.replace('volume = "521"', 'volume = "521 (my edit)"')
    path.write_text(text)
    result = cli("refresh", "lecun2015deep")
    assert result.exit_code == 0, result
    assert result.stdout == (
        "lecun2015deep: filled venue; record: added pages\n"
        "refreshed 1 paper(s): 1 changed, 0 unchanged\n"
    )
    assert result.stderr == (
        "papercli: lecun2015deep: kept the record's volume (the DOI's metadata differs; "
        "'papercli edit' changes them)\n"
    )
    paper = Library.open(library).read("lecun2015deep")
    assert (paper.venue, paper.bibtex["pages"], paper.bibtex["volume"]) == (
        "Nature", "436--444", "521 (my edit)"
    )  # fmt: skip
    assert paper.tags == ["dl"]
    assert [p["source"] for p in paper.provenance] == ["doi"]
    result = cli("refresh", "lecun2015deep")
    assert result.stdout == "refreshed 1 paper(s): 0 changed, 1 unchanged\n"
    resolver.script = [("status", 404)]
    result = cli("refresh", "lecun2015deep")
    assert result.exit_code == 1
    # The paper the DOI resolver failed on is counted as failed, as one arXiv failed on is.
    assert result.stdout == "refreshed 0 paper(s): 0 changed, 0 unchanged, 1 failed\n"
    assert result.stderr == (
        "papercli: error: 10.1038/nature14539 (lecun2015deep): not refreshed: no such DOI: "
        "10.1038/nature14539\n"
    )


MALDACENA = """\
type = "paper"
title = "The Large N Limit of Superconformal Field Theories and Supergravity"
authors = ["Maldacena, Juan M."]
year = 1997
status = "reading"
tags = ["adscft"]
arxiv_id = "hep-th/9711200"
arxiv_version = 3

[[notes]]
text = "the AdS/CFT paper"
"""


def test_refresh_says_a_preprint_was_published_and_published_merges_it(
    cli: Runner, library: Path, resolver: DoiServer
) -> None:
    (library / "papers" / "adscft.toml").write_text(MALDACENA)
    result = cli("refresh", "adscft")
    assert result.exit_code == 0, result
    assert result.stderr == (
        "papercli: adscft has been published (DOI 10.1023/A:1026654312961): 'papercli refresh "
        "adscft --published' merges the published version into it\n"
    )
    assert Library.open(library).read("adscft").bibtex_type == ""
    assert resolver.requests == []  # nothing fetched by DOI without --published
    result = cli("refresh", "adscft", "--published")
    assert result.exit_code == 0, result
    assert result.stderr == (
        "papercli: merged the published version 10.1023/A:1026654312961 into adscft\n"
    )
    assert result.stdout == (
        "adscft: record @article (author, title, journal, year, volume, number, publisher, "
        "pages, issn, doi, url, archiveprefix, primaryclass, eprint kept); venue International "
        "Journal of Theoretical Physics; year 1997 -> 1999\n"
        "refreshed 1 paper(s): 1 changed, 0 unchanged\n"
    )
    paper = Library.open(library).read("adscft")
    assert (paper.status, paper.tags, [n.text for n in paper.notes]) == (
        "reading", ["adscft"], ["the AdS/CFT paper"]
    )  # fmt: skip
    assert paper.journal_ref == "Adv.Theor.Math.Phys.2:231-252,1998"  # arXiv's, kept
    assert cli("export", "bibtex", "--key", "adscft").stdout == (
        "@article{adscft,\n"
        "  author = {Maldacena, Juan},\n"
        "  title = {The {Large-N} Limit of Superconformal Field Theories and Supergravity},\n"
        "  journal = {International Journal of Theoretical Physics},\n"
        "  year = {1999},\n"
        "  volume = {38},\n"
        "  number = {4},\n"
        "  publisher = {Springer Science and Business Media LLC},\n"
        "  pages = {1113--1133},\n"
        "  issn = {0020-7748},\n"
        "  doi = {10.1023/A:1026654312961},\n"
        "  url = {https://doi.org/10.1023/a:1026654312961},\n"
        "  eprint = {hep-th/9711200},\n"
        "  archiveprefix = {arXiv},\n"
        "  primaryclass = {hep-th},\n"
        "}\n"
    )
    # Merged: no more offers.
    result = cli("refresh", "adscft")
    assert (result.exit_code, result.stderr) == (0, "")


def test_an_odd_answer_is_read_as_far_as_it_goes(
    cli: Runner, library: Path, resolver: DoiServer
) -> None:
    result = cli("add", "10.5555/odd")
    assert result.exit_code == 0, result
    (file_name,) = files(library)
    paper = Library.open(library).read(file_name.removesuffix(".toml"))
    assert (paper.title, paper.incomplete, paper.authors, paper.year) == (
        "untitled", ["title"], [], 2018
    )  # fmt: skip
    assert (paper.bibtex_type, paper.bibtex["pages"], paper.bibtex["volume"]) == (
        "misc", "12--20", "7"
    )  # fmt: skip


def test_check_add_of_a_cited_doi_merges_it_into_its_preprint(
    cli: Runner, library: Path, resolver: DoiServer, tmp_path: Path
) -> None:
    (library / "papers" / "bert.toml").write_text(PREPRINT)
    draft = tmp_path / "draft.tex"
    draft.write_text("\\cite{10.18653/v1/N19-1423}\n")
    result = cli("check", str(draft), "--add")
    assert result.exit_code == 0, result
    assert "merged the published version 10.18653/v1/N19-1423 into bert: " in result.stderr
    assert files(library) == ["bert.toml"]
    entry = cli("export", "bibtex", "--cited", str(draft)).stdout
    assert entry == PUBLISHED_ENTRY.replace(
        "@inproceedings{bert,", "@inproceedings{10.18653/v1/N19-1423,"
    )


def test_a_resolver_refusing_connections_is_said_at_once(cli: Runner, library: Path) -> None:
    # conftest points PAPERCLI_DOI_API at a closed loopback port: refused, as with no network.
    result = cli("add", "10.1038/nature14539")
    assert result.exit_code == 3
    assert result.stderr == (
        "papercli: error: 10.1038/nature14539: cannot reach the DOI resolver at 127.0.0.1:9: "
        "connection refused or no network\n"
    )
    assert files(library) == []


def test_refresh_with_the_resolver_unreachable_is_one_line(cli: Runner, library: Path) -> None:
    for title, doi in (("Deep learning", "10.1038/nature14539"), ("BERT", "10.18653/v1/N19-1423")):
        assert cli("add", "--title", title, "--doi", doi, "--year", "2015").exit_code == 0
    before = {name: (library / "papers" / name).read_bytes() for name in files(library)}
    result = cli("refresh", "--all")
    assert result.exit_code == 3
    assert result.stdout == "refreshed 0 paper(s): 0 changed, 0 unchanged, 2 failed\n"
    assert result.stderr == (
        "papercli: error: 2 papers not refreshed: cannot reach the DOI resolver at 127.0.0.1:9: "
        "connection refused or no network\n"
    )
    assert {name: (library / "papers" / name).read_bytes() for name in files(library)} == before
