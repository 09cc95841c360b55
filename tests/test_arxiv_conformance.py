"""papercli's fetch path against real recorded arXiv API answers (/work/shared/fixtures/arxiv,
read in place, skipped when absent): each recorded body is served by the local server and
fetched through ``fetch_papers``, exactly as ``papercli add`` does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from papercli.arxiv_source import Fetched, fetch_papers
from papercli.config import Settings

from arxiv_server import ArxivServer
from conftest import SHARED

RECORDED = SHARED / "fixtures" / "arxiv"

pytestmark = pytest.mark.skipif(
    not RECORDED.is_dir(), reason=f"no recorded arXiv answers at {RECORDED}"
)


def recorded(name: str) -> tuple[int, bytes]:
    """(status, body) of a recording: an arxiv.py/ name prefix, or an rsxiv/ path."""
    if name.startswith("rsxiv/"):
        return 200, (RECORDED / name).read_bytes()
    [xml] = sorted((RECORDED / "arxiv.py").glob(f"{name}_s0_*.xml"))
    meta = xml.with_suffix(".meta").read_text()
    status = int(meta.split("status:")[1].split()[0])
    return status, xml.read_bytes()


@pytest.fixture
def server() -> Iterator[ArxivServer]:
    with ArxivServer() as running:
        yield running


def fetch(server: ArxivServer, name: str, ids: list[str]) -> Fetched:
    status, body = recorded(name)
    server.script = [("status", status, {"Content-Type": "application/atom+xml"}, body)]
    settings = Settings(arxiv_api=server.url, arxiv_delay=0, arxiv_timeout=2, arxiv_retries=0)
    result = fetch_papers(ids, settings)
    assert len(server.requests) == 1  # never a second page
    return result


def test_single_new_style_id(server: ArxivServer) -> None:
    got = fetch(server, "id_1605.08386", ["1605.08386"])
    paper = got.papers["1605.08386"]
    assert not got.failures
    assert paper.arxiv_version == 1
    assert paper.url == "https://arxiv.org/abs/1605.08386"
    assert paper.pdf_url == "https://arxiv.org/pdf/1605.08386"
    assert paper.title and paper.abstract and paper.authors and paper.date.startswith("2016-05")
    assert "\n" not in paper.abstract and "  " not in paper.abstract


def test_34_authors_with_non_ascii_names(server: ArxivServer) -> None:
    paper = fetch(server, "id_1707.08567", ["1707.08567"]).papers["1707.08567"]
    assert len(paper.authors) == 34
    assert "Wübben, Dirk" in paper.authors
    assert all(", " in a for a in paper.authors)


def test_old_style_id_with_journal_ref(server: ArxivServer) -> None:
    paper = fetch(server, "id_astro-ph_0601001", ["astro-ph/0601001"]).papers["astro-ph/0601001"]
    assert paper.arxiv_id == "astro-ph/0601001"
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.authors == [
        "Gould, Andrew",
        "Dorsher, Susan",
        "Gaudi, B. Scott",
        "Udalski, Andrzej",
    ]
    assert paper.comment.startswith("62 pages including 16 figures")
    assert (paper.date, paper.year) == ("2006-01-02", 2006)
    assert paper.primary_category == "astro-ph"


def test_old_style_versioned_id_with_two_categories(server: ArxivServer) -> None:
    got = fetch(server, "id_quant-ph_0201082v1", ["quant-ph/0201082"])
    paper = got.papers["quant-ph/0201082"]
    assert paper.arxiv_version == 1
    assert len(paper.categories) == 2
    assert paper.categories[0] == paper.primary_category


def test_title_0_is_a_title(server: ArxivServer) -> None:
    paper = fetch(server, "id_2104.12255v1", ["2104.12255"]).papers["2104.12255"]
    assert paper.title == "0"
    assert "$35,000" in paper.abstract


@pytest.mark.parametrize("name", ["id_0000.0000", "id_0808.05394"])
def test_unknown_ids_are_not_found(server: ArxivServer, name: str) -> None:
    got = fetch(server, name, ["0808.0539"])
    assert got.papers == {}
    assert str(got.failures["0808.0539"]) == "no such paper on arXiv"
    assert got.exit_code == 1


def test_one_bad_one_good(server: ArxivServer) -> None:
    got = fetch(server, "id_0808.05394_1707.08567", ["0808.0539", "1707.08567"])
    assert list(got.papers) == ["1707.08567"]
    assert list(got.failures) == ["0808.0539"]


def test_http_400_error_entry(server: ArxivServer) -> None:
    got = fetch(server, "id_abc", ["1707.08567"])
    assert str(got.failures["1707.08567"]) == "arXiv answered HTTP 400: incorrect id format for abc"
    assert got.exit_code == 3


def test_search_feed_doi_and_escaped_title(server: ArxivServer) -> None:
    got = fetch(server, "q_testing", ["2202.12139", "2405.13786"])
    assert got.papers["2202.12139"].doi == "10.1109/ICSTW55395.2022.00035"
    assert got.papers["2405.13786"].doi == "10.1109/ICSTW58534.2023.00023"


@pytest.mark.parametrize("backend", ["legacy-bee2ed9-2025-08", "new-9446af9-2025-11"])
def test_missing_ids_in_both_backend_formats(server: ArxivServer, backend: str) -> None:
    ids = ["2201.13455", "2201.13452", "2201.13453", "2201.13454"]
    got = fetch(server, f"rsxiv/{backend}/query_missing_id.xml", ids)
    assert list(got.papers) == ["2201.13452"]
    assert sorted(got.failures) == ["2201.13453", "2201.13454", "2201.13455"]
    paper = got.papers["2201.13452"]
    assert paper.title == (
        "Asymptotic Analysis for a Nonlinear Reaction-Diffusion System Modeling an Infectious "
        "Disease"
    )
    assert paper.authors == ["Yin, Hong-Ming", "Zou, Jun"]
    assert paper.abstract.startswith("In this paper we study a nonlinear")
    assert "\n" not in paper.abstract
    assert (paper.comment, paper.primary_category) == ("34 pages", "math.AP")
    assert paper.pdf_url == "https://arxiv.org/pdf/2201.13452"


@pytest.mark.parametrize("backend", ["legacy-bee2ed9-2025-08", "new-9446af9-2025-11"])
def test_empty_answers_in_both_formats(server: ArxivServer, backend: str) -> None:
    got = fetch(server, f"rsxiv/{backend}/query_empty.xml", ["1201.5678"])
    assert got.papers == {}
    assert list(got.failures) == ["1201.5678"]


@pytest.mark.parametrize("backend", ["legacy-bee2ed9-2025-08", "new-9446af9-2025-11"])
def test_search_pages_in_both_formats_give_the_same_papers(
    server: ArxivServer, backend: str
) -> None:
    body = (RECORDED / "rsxiv" / backend / "query.xml").read_bytes()
    import re

    ids = [m.decode() for m in re.findall(rb"<id>http://arxiv.org/abs/(\S+?)v\d+</id>", body)]
    assert len(ids) == 10
    got = fetch(server, f"rsxiv/{backend}/query.xml", ids)
    assert sorted(got.papers) == sorted(ids)
    for base, paper in got.papers.items():
        # New-format links carry no title="pdf": the PDF URL comes from the id.
        assert paper.pdf_url == f"https://arxiv.org/pdf/{base}"
        assert paper.title and paper.authors and paper.primary_category


def test_recordings_are_where_the_provenance_says() -> None:
    assert (RECORDED / "PROVENANCE.txt").is_file()
    assert Path(RECORDED / "rsxiv").is_dir()
