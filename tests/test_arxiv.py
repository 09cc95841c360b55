"""papercli add ID... and papercli refresh, against a local arXiv stand-in (arxiv_server.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from papercli.arxiv_source import fetch_papers
from papercli.config import Settings, load_settings
from papercli.errors import UsageError
from papercli.library import Library

from arxiv_server import ArxivServer
from conftest import Runner, run_papercli

LORA_ABSTRACT = (
    "An important paradigm of natural language processing consists of large-scale pre-training "
    "on general domain data and adaptation to particular tasks or domains. We propose Low-Rank "
    "Adaptation, or LoRA, which freezes the pre-trained model weights and injects trainable rank "
    "decomposition matrices into each layer of the Transformer architecture, greatly reducing the "
    "number of trainable parameters for downstream tasks."
)
LORA_AUTHORS = [
    "Hu, Edward J.",
    "Shen, Yelong",
    "Wallis, Phillip",
    "Allen-Zhu, Zeyuan",
    "Li, Yuanzhi",
    "Wang, Shean",
    "Wang, Lu",
    "Chen, Weizhu",
]


def _serve(style: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ArxivServer]:
    with ArxivServer(style) as server:
        monkeypatch.setenv("PAPERCLI_ARXIV_API", server.url)
        monkeypatch.setenv("PAPERCLI_ARXIV_TIMEOUT", "1")
        monkeypatch.setenv("PAPERCLI_ARXIV_RETRIES", "2")
        yield server


@pytest.fixture
def arxiv(monkeypatch: pytest.MonkeyPatch) -> Iterator[ArxivServer]:
    yield from _serve("new", monkeypatch)


@pytest.fixture
def legacy_arxiv(monkeypatch: pytest.MonkeyPatch) -> Iterator[ArxivServer]:
    yield from _serve("legacy", monkeypatch)


def paper_files(library: Path) -> list[str]:
    return sorted(p.name for p in (library / "papers").iterdir())


def snapshot(library: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (library / "papers").iterdir()}


# -- add: what is stored ----------------------------------------------------------------------


def test_add_prints_a_table_and_stores_every_field(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    r = cli("add", "2106.09685", "--tag", "peft", "--note", "rank 4 is enough", "--status", "read")
    assert r.exit_code == 0, r
    assert r.stdout == (
        "hu2021lora\t2021\tread\tEdward J. Hu; Yelong Shen; Phillip Wallis; Zeyuan Allen-Zhu; "
        "Yuanzhi Li; Shean Wang; Lu Wang; Weizhu Chen\tpeft\t"
        "LoRA: Low-Rank Adaptation of Large Language Models\n"
    )
    assert r.stderr == ""
    paper = Library.open(library).read("hu2021lora")
    assert paper.type == "paper"
    assert paper.title == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert paper.authors == LORA_AUTHORS
    assert (paper.year, paper.date) == (2021, "2021-06-17")
    assert (paper.arxiv_id, paper.arxiv_version) == ("2106.09685", 2)
    assert paper.primary_category == "cs.CL"
    assert paper.categories == ["cs.CL", "cs.AI", "cs.LG"]
    assert paper.url == "https://arxiv.org/abs/2106.09685"
    assert paper.pdf_url == "https://arxiv.org/pdf/2106.09685"
    assert paper.comment == (
        "Draft V2 includes better baselines, experiments on GLUE, and more on adapter latency"
    )
    assert paper.abstract == LORA_ABSTRACT
    assert (paper.doi, paper.journal_ref) == ("", "")
    assert (paper.tags, paper.status) == (["peft"], "read")
    assert [n.text for n in paper.notes] == ["rank 4 is enough"]
    assert len(paper.provenance) == 1
    prov = paper.provenance[0]
    assert (prov["source"], prov["id"]) == ("arxiv", "2106.09685v2")
    assert prov["fetched"].endswith("Z")
    assert arxiv.ids_requested() == [["2106.09685"]]


def test_old_style_ids_with_doi_and_journal_ref(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    r = cli("add", "arXiv:hep-th/9711200v2", "math.GT/0309136")
    assert r.exit_code == 0, r
    assert arxiv.ids_requested() == [["hep-th/9711200", "math/0309136"]]
    lib = Library.open(library)
    assert paper_files(library) == ["beethoven2003invariants.toml", "maldacena1997large.toml"]
    adscft = lib.read("maldacena1997large")
    assert adscft.arxiv_id == "hep-th/9711200"
    assert adscft.arxiv_version == 3
    assert adscft.authors == ["Maldacena, Juan M."]
    assert adscft.doi == "10.1023/A:1026654312961"
    assert adscft.journal_ref == "Adv.Theor.Math.Phys.2:231-252,1998"
    assert adscft.date == "1997-11-27"
    assert adscft.url == "https://arxiv.org/abs/hep-th/9711200"
    assert adscft.pdf_url == "https://arxiv.org/pdf/hep-th/9711200"
    knots = lib.read("beethoven2003invariants")
    assert knots.arxiv_id == "math/0309136"
    # Wrapped title and abstract come out on one line each.
    assert (
        knots.title
        == "Invariants of Knots in Thickened Surfaces: a Test Entry with a Wrapped Title"
    )
    assert knots.abstract == (
        "This entry stands in for an old-style math paper whose identifier carries a subject "
        "class (math.GT/0309136). Its abstract is wrapped over several lines, as arXiv sends them."
    )
    assert knots.authors == ["van Beethoven, Ludwig", "Lovelace, Ada"]
    assert knots.categories == ["math.GT", "math.QA"]


def test_many_authors_with_non_ascii_names_keep_their_order(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    r = cli("add", "2301.00001")
    assert r.exit_code == 0, r
    paper = Library.open(library).read("kowalski2023many")
    assert len(paper.authors) == 34
    assert paper.authors[:5] == [
        "Kowalski, Łukasz",
        "Wübben, Dirk",
        "Ramírez, José María",
        "Ørsted, Zoë",
        "An, Nguyễn Văn",
    ]
    assert "de Icaza, Miguel" in paper.authors
    assert "Thrun, Jr., Sebastian" in paper.authors
    assert "ATLAS Collaboration" in paper.authors  # a group stays a literal name
    assert paper.authors[-1] == "Şahin, Emre"
    assert paper.title == "A Many-Author Test Entry: Ünïcödé Names & Collaborations"
    assert paper.abstract.endswith("mentions $35,000 & a <tag>.")
    assert (paper.primary_category, paper.categories) == ("stat.ML", ["stat.ML", "cs.LG"])


def test_every_accepted_form_goes_in_one_request_without_versions(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    r = cli(
        "add",
        "https://arxiv.org/abs/2106.09685v2",
        "https://export.arxiv.org/abs/1706.03762",
        "https://arxiv.org/pdf/hep-th/9711200v1.pdf",
        "arXiv:math.GT/0309136",
        "2106.09685v1",  # the same paper again: asked for once
    )
    assert r.exit_code == 0, r
    assert arxiv.ids_requested() == [["2106.09685", "1706.03762", "hep-th/9711200", "math/0309136"]]
    assert paper_files(library) == [
        "beethoven2003invariants.toml",
        "hu2021lora.toml",
        "maldacena1997large.toml",
        "vaswani2017attention.toml",
    ]


def test_batches_of_100_ids_per_request(arxiv: ArxivServer) -> None:
    ids = [f"2201.{n:05d}" for n in range(1, 151)] + ["2106.09685"]
    seen: list[int] = []
    fetched = fetch_papers(ids, load_settings(), on_batch=seen.append)
    assert [len(i) for i in arxiv.ids_requested()] == [100, 51]
    assert [r["max_results"] for r in arxiv.requests] == ["100", "100"]
    assert seen == [100, 51]
    assert list(fetched.papers) == ["2106.09685"]
    assert len(fetched.failures) == 150
    assert fetched.exit_code == 1


def test_keys_are_deduplicated(cli: Runner, library: Path, arxiv: ArxivServer) -> None:
    assert cli("add", "--title", "LoRA again", "-a", "Hu, Someone", "--year", "2021").exit_code == 0
    r = cli("add", "2106.09685")
    assert r.exit_code == 0, r
    # 'LoRA again' took hu2021lora; the fetched paper gets the next free key.
    assert paper_files(library) == ["hu2021lora.toml", "hu2021loraa.toml"]
    assert Library.open(library).read("hu2021loraa").arxiv_id == "2106.09685"


# -- the legacy feed format ---------------------------------------------------------------------


def test_legacy_format_stores_the_same_paper(
    cli: Runner, library: Path, legacy_arxiv: ArxivServer, tmp_path: Path
) -> None:
    r = cli("add", "2106.09685", "2106.99999", "hep-th/9711200")
    assert r.exit_code == 1, r
    assert r.stderr == "papercli: error: 2106.99999: no such paper on arXiv\n"
    # The blank entry counts in totalResults, yet no second page is asked for.
    assert legacy_arxiv.ids_requested() == [["2106.09685", "2106.99999", "hep-th/9711200"]]
    lib = Library.open(library)
    lora = lib.read("hu2021lora")
    assert lora.title == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert lora.abstract == LORA_ABSTRACT
    assert lora.authors == LORA_AUTHORS
    assert lora.comment == (
        "Draft V2 includes better baselines, experiments on GLUE, and more on adapter latency"
    )
    assert (lora.arxiv_version, lora.categories) == (2, ["cs.CL", "cs.AI", "cs.LG"])
    adscft = lib.read("maldacena1997large")
    assert adscft.doi == "10.1023/A:1026654312961"
    assert adscft.journal_ref == "Adv.Theor.Math.Phys.2:231-252,1998"


# -- failures ---------------------------------------------------------------------------------


def test_unknown_id_exits_1_and_keeps_the_others(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    r = cli("add", "2106.99999", "2106.09685", "1706.00001")
    assert r.exit_code == 1
    assert r.stderr == (
        "papercli: error: 2106.99999: no such paper on arXiv\n"
        "papercli: error: 1706.00001: no such paper on arXiv\n"
    )
    assert paper_files(library) == ["hu2021lora.toml"]
    assert len(arxiv.requests) == 1


def test_invalid_ids_exit_2_before_any_request(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    r = cli("add", "2106.09685", "abc", "1313.00001", "https://example.org/abs/2106.09685")
    assert r.exit_code == 2
    hint = "(expected e.g. 2106.09685, 2106.09685v2, hep-th/9901001 or an arxiv.org URL)"
    assert r.stderr.splitlines() == [
        f"papercli: error: abc: not an arXiv identifier {hint}",
        f"papercli: error: 1313.00001: not an arXiv identifier {hint}",
        f"papercli: error: https://example.org/abs/2106.09685: not an arXiv identifier {hint}",
    ]
    assert arxiv.requests == []
    assert paper_files(library) == []


def test_503_then_success_is_retried(cli: Runner, library: Path, arxiv: ArxivServer) -> None:
    arxiv.script = [("status", 503), ("status", 429, {"Retry-After": "0"})]
    r = cli("add", "2106.09685")
    assert r.exit_code == 0, r
    assert len(arxiv.requests) == 3
    assert paper_files(library) == ["hu2021lora.toml"]


def test_5xx_every_time_is_a_network_failure(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    arxiv.script = [("status", 502)] * 3
    r = cli("add", "2106.09685", "1706.03762")
    assert r.exit_code == 3
    assert (
        r.stderr == "papercli: error: 2 papers not added: arXiv answered HTTP 502 (tried 3 times)\n"
    )
    assert len(arxiv.requests) == 3
    assert paper_files(library) == []


def test_a_hang_times_out(
    cli: Runner, library: Path, arxiv: ArxivServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERCLI_ARXIV_RETRIES", "1")
    monkeypatch.setenv("PAPERCLI_ARXIV_TIMEOUT", "0.5")
    arxiv.script = [("hang", 10, "no answer"), ("hang", 10, "no answer")]
    started = time.monotonic()
    r = cli("add", "2106.09685")
    elapsed = time.monotonic() - started
    assert r.exit_code == 3
    assert r.stderr == (
        f"papercli: error: 2106.09685: arXiv (127.0.0.1:{arxiv.port}) did not answer "
        "within 0.5 s (tried 2 times)\n"
    )
    assert 1 <= elapsed < 3
    assert paper_files(library) == []


def test_a_hang_then_an_answer_succeeds(cli: Runner, library: Path, arxiv: ArxivServer) -> None:
    arxiv.script = [("hang", 10, "no answer")]
    r = cli("add", "2106.09685")
    assert r.exit_code == 0, r
    assert paper_files(library) == ["hu2021lora.toml"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>oops", "arXiv's answer is not valid XML"),
        (b"", "arXiv sent an empty answer"),
        (b"<?xml version='1.0'?><rss><channel/></rss>", "arXiv's answer is not an Atom feed"),
    ],
)
def test_garbage_answers_are_network_failures(
    cli: Runner, library: Path, arxiv: ArxivServer, body: bytes, message: str
) -> None:
    arxiv.script = [("body", body)] * 3
    r = cli("add", "2106.09685")
    assert r.exit_code == 3
    assert r.stderr == f"papercli: error: 2106.09685: {message} (tried 3 times)\n"
    assert paper_files(library) == []


def test_a_dropped_connection_is_retried(cli: Runner, library: Path, arxiv: ArxivServer) -> None:
    arxiv.script = [("drop",)]
    r = cli("add", "2106.09685")
    assert r.exit_code == 0, r
    assert len(arxiv.requests) == 2


def test_http_400_reports_arxivs_error_entry(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    arxiv.reject = {"1706.03762"}
    r = cli("add", "1706.03762")
    assert r.exit_code == 3
    assert r.stderr == (
        "papercli: error: 1706.03762: arXiv answered HTTP 400: incorrect id format for 1706.03762\n"
    )
    assert len(arxiv.requests) == 1  # a 400 is not retried
    assert paper_files(library) == []


def test_refused_connection_fails_at_once(
    cli: Runner, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ArxivServer() as server:
        port = server.port
    monkeypatch.setenv("PAPERCLI_ARXIV_API", f"http://127.0.0.1:{port}/api/query")
    monkeypatch.setenv("PAPERCLI_ARXIV_DELAY", "5")  # a retry would take seconds
    started = time.monotonic()
    r = cli("add", "2106.09685", "hep-th/9711200")
    assert time.monotonic() - started < 2
    assert r.exit_code == 3
    line = f"cannot reach arXiv at 127.0.0.1:{port}: connection refused or no network"
    # One line for the failed request, not one per id it carried.
    assert r.stderr == f"papercli: error: 2 papers not added: {line}\n"
    assert paper_files(library) == []


def test_requests_keep_the_configured_delay_across_runs(
    cli: Runner, library: Path, arxiv: ArxivServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERCLI_ARXIV_DELAY", "0.4")
    arxiv.script = [("status", 503)]
    assert cli("add", "2106.09685").exit_code == 0
    assert cli("add", "1706.03762").exit_code == 0  # a new client: the stamp file paces it
    gaps = [b - a for a, b in zip(arxiv.times, arxiv.times[1:], strict=False)]
    assert len(gaps) == 2
    assert all(gap >= 0.39 for gap in gaps), gaps


# -- papers already in the library ------------------------------------------------------------


def test_a_paper_is_not_added_twice(cli: Runner, library: Path, arxiv: ArxivServer) -> None:
    assert cli("add", "2106.09685").exit_code == 0
    before = snapshot(library)
    r = cli("add", "https://arxiv.org/abs/2106.09685v1", "--tag", "x")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr == (
        "papercli: error: 2106.09685 is already in the library as hu2021lora: see 'papercli "
        "show hu2021lora'; 'papercli add --update' refreshes it, --duplicate adds it anyway\n"
    )
    assert len(arxiv.requests) == 1  # nothing fetched for it
    assert snapshot(library) == before
    # The others of the same command are added all the same.
    r = cli("add", "2106.09685", "1706.03762")
    assert r.exit_code == 1
    assert paper_files(library) == ["hu2021lora.toml", "vaswani2017attention.toml"]
    r = cli("add", "2106.09685", "--duplicate", "--tag", "x")
    assert r.exit_code == 0, r
    assert paper_files(library) == [
        "hu2021lora.toml", "hu2021loraa.toml", "vaswani2017attention.toml"
    ]  # fmt: skip
    assert Library.open(library).read("hu2021loraa").tags == ["x"]


def test_same_title_without_arxiv_id_is_the_same_paper(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    r = cli("add", "--title", "Attention is all you need", "-a", "Ashish Vaswani", "--year", "2017")
    assert r.exit_code == 0
    r = cli("add", "1706.03762")
    assert r.exit_code == 1
    assert r.stderr == (
        "papercli: error: 1706.03762 is already in the library as vaswani2017attention (same "
        "title or DOI, or its published version): see 'papercli show vaswani2017attention'; "
        "'papercli add --update' merges arXiv's metadata into it, --duplicate adds it anyway\n"
    )
    assert paper_files(library) == ["vaswani2017attention.toml"]
    r = cli("add", "1706.03762", "--update")
    assert r.exit_code == 0, r
    assert r.stdout == (
        "updated vaswani2017attention: filled arxiv_id, date, abstract, url, pdf_url, comment, "
        "primary_category, categories\n"
    )
    paper = Library.open(library).read("vaswani2017attention")
    assert paper.title == "Attention is all you need"  # the user's title stays
    assert paper.authors == ["Vaswani, Ashish"]  # a non-empty author list stays
    assert (paper.arxiv_id, paper.arxiv_version) == ("1706.03762", 7)
    assert [p["source"] for p in paper.provenance] == ["manual", "arxiv"]


def _edit(library: Path, key: str, old: str, new: str) -> None:
    path = library / "papers" / f"{key}.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_update_refreshes_arxiv_fields_and_keeps_the_users(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    assert cli("add", "2106.09685", "--tag", "peft").exit_code == 0
    assert cli("note", "hu2021lora", "my note").exit_code == 0
    assert cli("status", "hu2021lora", "reading").exit_code == 0
    _edit(library, "hu2021lora", 'title = "LoRA: Low-Rank', 'title = "My LoRA: Low-Rank')
    _edit(library, "hu2021lora", "arxiv_version = 2", "arxiv_version = 1")
    _edit(
        library, "hu2021lora", 'categories = ["cs.CL", "cs.AI", "cs.LG"]', 'categories = ["cs.CL"]'
    )
    _edit(library, "hu2021lora", "comment = ", "old_comment = ")
    _edit(library, "hu2021lora", 'abstract = "An important', 'abstract = "My summary. An important')
    r = cli("add", "2106.09685", "--update", "--tag", "lora", "--status", "read")
    assert r.exit_code == 0, r
    assert r.stdout == (
        "updated hu2021lora: filled comment; v1 -> v2; updated categories; tagged lora\n"
    )
    paper = Library.open(library).read("hu2021lora")
    assert paper.title.startswith("My LoRA")
    assert paper.abstract.startswith("My summary.")
    assert paper.status == "reading"  # --status applies to new papers only
    assert paper.tags == ["peft", "lora"]
    assert [n.text for n in paper.notes] == ["my note"]
    assert paper.arxiv_version == 2
    assert paper.categories == ["cs.CL", "cs.AI", "cs.LG"]
    assert len(paper.provenance) == 1
    r = cli("add", "2106.09685", "--update")
    assert r.stdout == "hu2021lora: already up to date\n"


# -- refresh ----------------------------------------------------------------------------------

INCOMPLETE = """\
type = "paper"
title = "LoRA (my title)"
status = "read"
tags = ["peft"]
arxiv_id = "2106.09685"
arxiv_version = 1
incomplete = ["authors", "abstract"]

[[notes]]
text = "keep me"
"""

NO_ARXIV = """\
type = "book"
title = "Deep Learning"
"""


def _write(library: Path, key: str, text: str) -> None:
    (library / "papers" / f"{key}.toml").write_text(text, encoding="utf-8")


def test_refresh_missing_fills_incomplete_entries_only(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    _write(library, "lora", INCOMPLETE)
    _write(library, "goodfellow2016deep", NO_ARXIV)
    assert cli("add", "1706.03762").exit_code == 0
    r = cli("refresh", "--missing")
    assert r.exit_code == 0, r
    assert r.stdout == (
        "lora: filled authors, year, date, abstract, url, pdf_url, comment, primary_category, "
        "categories; v1 -> v2\n"
        "refreshed 1 paper(s): 1 changed, 0 unchanged\n"
    )
    assert arxiv.ids_requested()[-1] == ["2106.09685"]
    paper = Library.open(library).read("lora")
    assert paper.title == "LoRA (my title)"
    assert (paper.status, paper.tags) == ("read", ["peft"])
    assert [n.text for n in paper.notes] == ["keep me"]
    assert paper.authors == LORA_AUTHORS
    assert paper.abstract == LORA_ABSTRACT
    assert paper.incomplete == []
    assert paper.arxiv_version == 2
    assert (paper.year, paper.date) == (2021, "2021-06-17")


def test_refresh_all_and_unchanged_papers_are_not_rewritten(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    assert cli("add", "2106.09685", "1706.03762").exit_code == 0
    before = snapshot(library)
    r = cli("refresh", "--all")
    assert r.exit_code == 0, r
    assert r.stdout == "refreshed 2 paper(s): 0 changed, 2 unchanged\n"
    assert snapshot(library) == before
    assert arxiv.ids_requested()[-1] == ["2106.09685", "1706.03762"]


def test_refresh_refs_and_failures(cli: Runner, library: Path, arxiv: ArxivServer) -> None:
    assert cli("add", "2106.09685").exit_code == 0
    _write(library, "goodfellow2016deep", NO_ARXIV)
    _write(library, "ghost", 'title = "Ghost"\narxiv_id = "2106.99999"\n')
    r = cli("refresh", "hu2021lora", "goodfellow", "ghost")
    assert r.exit_code == 1
    assert r.stdout == "refreshed 1 paper(s): 0 changed, 1 unchanged, 1 failed\n"
    assert r.stderr == (
        "papercli: error: goodfellow2016deep: has no arXiv id or DOI, nothing to refresh\n"
        "papercli: error: 2106.99999 (ghost): no such paper on arXiv\n"
    )


def test_refresh_network_failure_changes_nothing(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    _write(library, "lora", INCOMPLETE)
    before = snapshot(library)
    arxiv.script = [("status", 500)] * 3
    r = cli("refresh", "--all")
    assert r.exit_code == 3
    assert (
        r.stderr == "papercli: error: 2106.09685 (lora): arXiv answered HTTP 500 (tried 3 times)\n"
    )
    assert snapshot(library) == before


def test_refresh_needs_something_to_do(cli: Runner, library: Path, arxiv: ArxivServer) -> None:
    r = cli("refresh")
    assert r.exit_code == 2
    assert r.stderr == ("papercli: error: name the papers to refresh, or use --all or --missing\n")
    r = cli("refresh", "--missing")
    assert r.exit_code == 1
    assert r.stderr == (
        "papercli: error: no incomplete papers with an arXiv id or a DOI to refresh\n"
    )
    r = cli("refresh", "x", "--all")
    assert r.exit_code == 2
    assert arxiv.requests == []


# -- round trip and process-level behaviour ---------------------------------------------------


def test_add_then_show(cli: Runner, library: Path, arxiv: ArxivServer) -> None:
    assert cli("add", "hep-th/9711200").exit_code == 0
    r = cli("show", "hep-th/9711200", "--json")
    assert r.exit_code == 0, r
    import json

    shown = json.loads(r.stdout)
    assert {k: shown[k] for k in ("key", "title", "authors", "year", "date", "arxiv_id")} == {
        "key": "maldacena1997large",
        "title": "The Large N Limit of Superconformal Field Theories and Supergravity",
        "authors": ["Juan M. Maldacena"],
        "year": 1997,
        "date": "1997-11-27",
        "arxiv_id": "hep-th/9711200",
    }
    assert shown["arxiv_version"] == 3
    assert shown["doi"] == "10.1023/A:1026654312961"
    assert shown["venue"] == "Adv.Theor.Math.Phys.2:231-252,1998"
    assert shown["categories"] == ["hep-th"]
    r = cli("show", "maldacena1997large")
    assert "- **arXiv**: hep-th/9711200v3 [hep-th]" in r.stdout


def test_subprocess_add_with_a_flaky_server(library: Path, arxiv: ArxivServer) -> None:
    arxiv.script = [("status", 503)]
    env = {"PAPERCLI_ARXIV_API": arxiv.url, "PAPERCLI_ARXIV_TIMEOUT": "1"}
    proc = run_papercli("add", "2106.09685", "2106.99999", env=env)
    assert proc.returncode == 1
    assert proc.stderr == "papercli: error: 2106.99999: no such paper on arXiv\n"
    assert "hu2021lora" in proc.stdout
    assert paper_files(library) == ["hu2021lora.toml"]


@pytest.mark.parametrize("command", ["list", "search lora", "show x"])
def test_reading_commands_do_not_import_arxiv(library: Path, command: str) -> None:
    code = (
        "import sys\n"
        "from papercli.cli import main\n"
        f"sys.argv = ['papercli', *{command.split()!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('arxiv', 'requests', 'lxml') if m in sys.modules))\n"
    )
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ)
    )
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_refresh_replaces_a_title_marked_incomplete(
    cli: Runner, library: Path, arxiv: ArxivServer
) -> None:
    _write(
        library,
        "2021lora",
        'title = "LoRA"\nyear = 2021\ntags = ["peft"]\narxiv_id = "2106.09685"\n'
        'incomplete = ["title", "authors", "abstract"]\n',
    )
    r = cli("refresh", "2021lora")
    assert r.exit_code == 0, r
    assert r.stdout.splitlines()[0] == (
        "2021lora: filled title, authors, date, abstract, url, pdf_url, comment, "
        "primary_category, categories"
    )
    paper = Library.open(library).read("2021lora")
    assert paper.title == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert paper.incomplete == []
    assert paper.tags == ["peft"]
    # Once complete, a later title edit is the user's and is kept.
    _edit(library, "2021lora", 'title = "LoRA: Low-Rank', 'title = "Mine: Low-Rank')
    assert cli("refresh", "2021lora").stdout == "refreshed 1 paper(s): 0 changed, 1 unchanged\n"
    assert Library.open(library).read("2021lora").title.startswith("Mine:")


def test_refresh_missing_on_the_bundled_library_batches_by_100(
    cli: Runner, tmp_path: Path, arxiv: ArxivServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bundled"
    assert cli("init", str(path)).exit_code == 0
    monkeypatch.setenv("PAPERCLI_LIBRARY", str(path))
    lib = Library.open(path)
    wanted = {
        row[7] for row in lib.index().rows.values() if row[13] and row[7]
    }  # incomplete, with an arXiv id
    if not wanted:
        pytest.skip("the bundled library has no incomplete arXiv entries")
    r = cli("refresh", "--missing")
    batches = arxiv.ids_requested()
    assert [len(b) for b in batches] == [
        min(100, len(wanted) - i) for i in range(0, len(wanted), 100)
    ]
    assert {i for b in batches for i in b} == wanted
    # Ids the local server does not know are reported one line each, exit 1.
    known = {"2106.09685", "1706.03762", "1810.04805", "hep-th/9711200", "math/0309136",
             "2301.00001"}  # fmt: skip
    failed = len(wanted - known)
    assert r.exit_code == (1 if failed else 0)
    assert len(r.stderr.splitlines()) == failed


def test_add_show_export_bibtex_round_trip(cli: Runner, library: Path, arxiv: ArxivServer) -> None:
    assert cli("add", "https://arxiv.org/abs/2106.09685v2", "hep-th/9711200").exit_code == 0
    shown = cli("show", "2106.09685").stdout
    assert "- **authors**: Edward J. Hu, Yelong Shen, Phillip Wallis, Zeyuan Allen-Zhu" in shown
    assert "- **arXiv**: 2106.09685v2 [cs.CL, cs.AI, cs.LG]" in shown
    r = cli("export", "bibtex", "-k", "hu2021lora", "-k", "maldacena1997large")
    assert r.exit_code == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "@misc{hu2021lora,"
    assert (
        "  author = {Hu, Edward J. and Shen, Yelong and Wallis, Phillip and Allen-Zhu, Zeyuan "
        "and Li, Yuanzhi and Wang, Shean and Wang, Lu and Chen, Weizhu}," in lines
    )
    for line in (
        "  title = {{LoRA}: Low-Rank Adaptation of Large Language Models},",
        "  year = {2021},",
        "  eprint = {2106.09685},",
        "  archivePrefix = {arXiv},",
        "  primaryClass = {cs.CL},",
        "  url = {https://arxiv.org/abs/2106.09685},",
        # arXiv's journal_ref is free text: a note on the preprint entry, not a journal name.
        "@misc{maldacena1997large,",
        "  author = {Maldacena, Juan M.},",
        "  eprint = {hep-th/9711200},",
        "  note = {Published in Adv.Theor.Math.Phys.2:231-252,1998},",
        "  doi = {10.1023/A:1026654312961},",
    ):
        assert line in lines, line


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"arxiv_api": "notaurl"}, "PAPERCLI_ARXIV_API / [arxiv] api is not an http(s) URL: "
         "'notaurl'"),
        ({"arxiv_api": "ftp://example.org/api"}, "PAPERCLI_ARXIV_API / [arxiv] api is not an "
         "http(s) URL: 'ftp://example.org/api'"),
        ({"arxiv_api": "http://[::1"}, "PAPERCLI_ARXIV_API / [arxiv] api is not an http(s) URL: "
         "'http://[::1' (Invalid IPv6 URL)"),
        ({"arxiv_api": "http://a b/api"}, "PAPERCLI_ARXIV_API / [arxiv] api is not an http(s) "
         "URL: 'http://a b/api' (Failed to parse: Host 'a b' contains invalid character ' ')"),
        ({"arxiv_timeout": float("nan")}, "PAPERCLI_ARXIV_TIMEOUT / [arxiv] timeout must be a "
         "positive number of seconds: nan"),
        ({"arxiv_timeout": -1.0}, "PAPERCLI_ARXIV_TIMEOUT / [arxiv] timeout must be a positive "
         "number of seconds: -1.0"),
        ({"arxiv_delay": float("nan")}, "PAPERCLI_ARXIV_DELAY / [arxiv] delay must be 0 or more "
         "seconds: nan"),
    ],
)  # fmt: skip
def test_unusable_settings_are_a_usage_error_naming_the_setting(
    setting: dict[str, Any], message: str
) -> None:
    settings = Settings(**{"arxiv_delay": 0.0, **setting})
    with pytest.raises(UsageError) as caught:
        fetch_papers(["2106.09685"], settings)
    assert str(caught.value) == message
    assert caught.value.exit_code == 2


def test_a_url_requests_cannot_parse_is_exit_2(
    cli: Runner, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERCLI_ARXIV_API", "http://a b/api/query")
    r = cli("add", "2106.09685")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (
        "papercli: error: PAPERCLI_ARXIV_API / [arxiv] api is not an http(s) URL: "
        "'http://a b/api/query' (Failed to parse: Host 'a b' contains invalid character ' ')\n"
    )
    assert paper_files(library) == []


def test_refresh_without_network_is_one_line_for_every_paper(
    cli: Runner, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(1, 102):  # two requests' worth of ids
        _write(library, f"paper{i}", f'title = "Paper {i}"\narxiv_id = "2301.{i:05d}"\n')
    _write(library, "again", 'title = "Paper 1 again"\narxiv_id = "2301.00001"\n')
    before = snapshot(library)
    with ArxivServer() as server:
        port = server.port
    monkeypatch.setenv("PAPERCLI_ARXIV_API", f"http://127.0.0.1:{port}/api/query")
    r = cli("refresh", "--all")
    assert r.exit_code == 3
    assert r.stdout == "refreshed 0 paper(s): 0 changed, 0 unchanged, 102 failed\n"
    assert r.stderr == (
        "papercli: error: 102 papers not refreshed: cannot reach arXiv at "
        f"127.0.0.1:{port}: connection refused or no network\n"
    )
    assert snapshot(library) == before
