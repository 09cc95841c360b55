"""papercli import bibtex: .bib flavours, merging, keys, malformed entries, round trip."""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from pathlib import Path

import pytest

from papercli.library import Library
from papercli.merge import DuplicateFinder
from papercli.models import key_file_name

from conftest import Runner

BIB = Path(__file__).parent / "fixtures" / "bib"


def _paper(library: Path, key: str) -> dict[str, object]:
    return tomllib.loads((library / "papers" / key_file_name(key)).read_text())


def _files(library: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((library / "papers").glob("*.toml"))}


def test_malformed_entries_are_reported_with_lines_and_the_rest_imported(
    library: Path, cli: Runner
) -> None:
    r = cli("import", "bibtex", str(BIB / "malformed.bib"), "--tag", "Graph Theory")
    assert r.exit_code == 0, r
    assert r.stdout == (
        "added   good2020first (malformed.bib:1)\n"
        "added   notitle2020 (malformed.bib:14)\n"
        "added   good2021second (malformed.bib:24)\n"
        "skipped malformed.bib:8: malformed entry: Unexpected block start: `@article`. "
        "Was still looking for field-value closing `,` or `}`\n"
        "skipped malformed.bib:19: duplicate key 'good2020first' in the file (BibTeX uses the "
        "first)\n"
        "note    malformed.bib:14: entry 'notitle2020' has no title: shown as 'notitle2020', "
        "marked incomplete\n"
        "3 added, 0 merged, 0 already in the library, 2 skipped\n"
    )
    assert r.stderr == ""
    assert sorted(_files(library)) == [
        "good2020first.toml", "good2021second.toml", "notitle2020.toml"
    ]  # fmt: skip
    assert _paper(library, "notitle2020")["incomplete"] == ["title"]
    first = _paper(library, "good2020first")
    assert first["tags"] == ["graph-theory"]
    assert first["venue"] == "J"
    assert first["provenance"] == [
        {"source": "bibtex", "file": "malformed.bib", "key": "good2020first"}
    ]
    assert _paper(library, "good2021second")["type"] == "misc"


def test_flavours_latex_to_unicode_names_and_ids(library: Path, cli: Runner) -> None:
    files = [str(BIB / f"{name}.bib") for name in ("zotero", "jabref", "arxiv")]
    r = cli("import", "bibtex", *files)
    assert r.exit_code == 0, r
    assert r.stdout.splitlines()[-1] == "6 added, 0 merged, 0 already in the library, 0 skipped"
    assert "key     " not in r.stdout  # every key is kept as the file wrote it
    llama = _paper(library, "touvron_llama_2023")
    assert llama["title"] == "LLaMA: Open and Efficient Foundation Language Models"
    assert llama["arxiv_id"] == "2302.13971"
    assert llama["doi"] == "10.48550/arXiv.2302.13971"
    assert "url" not in llama  # the arXiv page is derived from the id
    assert "venue" not in llama  # publisher = {arXiv} is not a venue
    assert llama["abstract"].startswith("We introduce LLaMA")  # type: ignore[attr-defined]
    erdos = _paper(library, "erdos_random_1959")
    assert erdos["authors"] == ["Erdős, Paul", "Rényi, Alfréd"]
    assert erdos["title"] == "On Random Graphs I"
    gpt = _paper(library, "OpenAI:GPT-4")
    assert (gpt["type"], gpt["authors"], gpt["date"]) == ("website", ["OpenAI"], "2023-03-14")
    kuebler = _paper(library, "Kuebler2009")
    assert kuebler["authors"] == ["Kübler, Sandra", "McDonald, Ryan", "Nivre, Joakim"]
    assert kuebler["doi"] == "10.2200/S00169ED1V01Y200901HLT002"
    maaten = _paper(library, "vanderMaaten2008")
    assert maaten["type"] == "book"
    assert maaten["title"] == "Visualizing Data using t-SNE with 100% & more"
    assert maaten["authors"] == ["van der Maaten, Laurens", "Hinton, Geoffrey", "Davis, Jr., Sammy"]
    flash = _paper(library, "dao2022flashattention")
    assert (flash["arxiv_id"], flash["arxiv_version"], flash["primary_category"]) == (
        "2205.14135",
        2,
        "cs.LG",
    )
    assert flash["authors"][-1] == "Ré, Christopher"  # type: ignore[index]


def test_duplicates_are_merged_not_added(library: Path, cli: Runner) -> None:
    for path in (BIB / "library").glob("*.toml"):
        shutil.copy(path, library / "papers" / path.name)
    before = _files(library)
    r = cli("import", "bibtex", str(BIB / "scholar.bib"), str(BIB / "arxiv.bib"))
    assert r.exit_code == 0, r
    assert r.stdout == (
        "merged  vaswani2017attention (scholar.bib:1): provenance, bibtex\n"
        "merged  hu2021lora (scholar.bib:9): provenance, bibtex\n"
        "merged  dao2022flashattention (arxiv.bib:1): arxiv_version, provenance, bibtex\n"
        "0 added, 3 merged, 0 already in the library, 0 skipped\n"
    )
    assert sorted(_files(library)) == sorted(before)
    lora = _paper(library, "hu2021lora")
    # Nothing the user had is overwritten: the title and author list stay.
    assert lora["title"] == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert len(lora["authors"]) == 3  # type: ignore[arg-type]
    # Importing the same file again changes nothing.
    again = _files(library)
    r = cli("import", "bibtex", str(BIB / "scholar.bib"))
    assert r.stdout == "0 added, 0 merged, 2 already in the library, 0 skipped\n"
    r = cli("import", "bibtex", str(BIB / "scholar.bib"), "--verbose")
    assert r.stdout.splitlines() == [
        "same    vaswani2017attention (scholar.bib:1): nothing new",
        "same    hu2021lora (scholar.bib:9): nothing new",
        "0 added, 0 merged, 2 already in the library, 0 skipped",
    ]
    assert _files(library) == again


def test_a_taken_key_gets_a_suffix(library: Path, cli: Runner, tmp_path: Path) -> None:
    bib = tmp_path / "a.bib"
    bib.write_text(
        "@article{smith2020graphs, author={Smith, Ann}, title={Graphs of Many Colours}, "
        "year=2020, journal={J}}\n"
        "@article{smith2020graphs2, author={Smith, Bob}, title={Graphs Without Any Colour}, "
        "year=2020, journal={K}}\n"
        "@article{smith2020graphs, author={Smith, Bob}, title={Different Graphs Entirely}, "
        "year=2020, journal={K}}\n"
    )
    cli("import", "bibtex", str(bib))
    other = tmp_path / "b.bib"
    other.write_text(
        "@article{smith2020graphs, author={Smith, Cy}, title={Graphs in the Wild}, year=2020}\n"
    )
    r = cli("import", "bibtex", str(other))
    assert r.stdout == (
        "added   smith2020graphsa (b.bib:1)\n"
        "key     smith2020graphs -> smith2020graphsa (the key is another paper's "
        "(smith2020graphs); cite this one as smith2020graphsa)\n"
        "1 added, 0 merged, 0 already in the library, 0 skipped\n"
    )
    assert _paper(library, "smith2020graphsa")["title"] == "Graphs in the Wild"


def test_dry_run_and_json_write_nothing(library: Path, cli: Runner) -> None:
    r = cli("import", "bibtex", str(BIB / "zotero.bib"), "--dry-run", "--json")
    assert r.exit_code == 0, r
    report = json.loads(r.stdout)
    assert [a["key"] for a in report["added"]] == [
        "touvron_llama_2023", "erdos_random_1959", "OpenAI:GPT-4"
    ]  # fmt: skip
    assert report["dry_run"] is True and report["skipped"] == []
    assert _files(library) == {}


def test_bad_files(library: Path, cli: Runner, tmp_path: Path) -> None:
    r = cli("import", "bibtex", str(BIB / "arxiv.bib"), str(tmp_path / "none.bib"))
    assert (r.exit_code, r.stderr) == (2, f"papercli: error: {tmp_path}/none.bib: no such file\n")
    assert _files(library) == {}  # nothing imported when any file is missing
    latin = tmp_path / "latin.bib"
    latin.write_bytes("@book{k, author={Kübler, S.}, title={Übungen}, year=1999}".encode("cp1252"))
    r = cli("import", "bibtex", str(latin))
    assert r.exit_code == 0
    assert r.stderr == f"papercli: {latin}: not UTF-8, read as Windows-1252\n"
    assert _paper(library, "k")["title"] == "Übungen"


def test_mojibake_is_repaired(library: Path, cli: Runner, tmp_path: Path) -> None:
    bib = tmp_path / "m.bib"
    bib.write_text("@misc{m, author={KÃ¼bler, Sandra}, title={CafÃ© Theory}, year=2001}")
    cli("import", "bibtex", str(bib))
    paper = _paper(library, "m")
    assert (paper["authors"], paper["title"]) == (["Kübler, Sandra"], "Café Theory")


IDENTITY = ("title", "authors", "year", "arxiv_id", "doi", "type", "venue")


def _identity(root: Path) -> dict[str, tuple[object, ...]]:
    return {
        p.key: tuple(getattr(p, name) for name in IDENTITY) for p in Library.open(root).papers()
    }


@pytest.mark.parametrize("flavour", [[], ["--biblatex"]], ids=["bibtex", "biblatex"])
def test_round_trip_varied_library(cli: Runner, tmp_path: Path, flavour: list[str]) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    cli("init", str(source), "--empty")
    for path in (BIB / "library").glob("*.toml"):
        shutil.copy(path, source / "papers" / path.name)
    bib = tmp_path / "all.bib"
    assert cli("-L", str(source), "export", "bibtex", "-o", str(bib), *flavour).exit_code == 0
    cli("init", str(target), "--empty")
    r = cli("-L", str(target), "import", "bibtex", str(bib))
    assert r.stdout.splitlines()[-1] == "21 added, 0 merged, 0 already in the library, 0 skipped"
    assert _identity(target) == _identity(source)


def test_round_trip_bundled_library(cli: Runner, tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    cli("init", str(source))
    if not any((source / "papers").glob("*.toml")):
        if os.environ.get("CI"):
            pytest.fail("the bundled library is empty")
        pytest.skip("the bundled library (data/library/papers) is empty in this checkout")
    bib = tmp_path / "all.bib"
    assert cli("-L", str(source), "export", "bibtex", "-o", str(bib)).exit_code == 0
    cli("init", str(target), "--empty")
    r = cli("-L", str(target), "import", "bibtex", str(bib))
    assert r.exit_code == 0, r
    # Records the source itself holds twice (same id, URL or title) are merged on import, by
    # design: the first in key order (the export's order) keeps its key.
    finder = DuplicateFinder()
    merged = set()
    for paper in Library.open(source).papers():
        if finder.find(paper) is not None:
            merged.add(paper.key)
        else:
            finder.add(paper)
    want = {k: v[:5] for k, v in _identity(source).items() if k not in merged}
    got = {k: v[:5] for k, v in _identity(target).items()}
    assert got == want
    assert (
        r.stdout.splitlines()[-1]
        == f"{len(want)} added, {len(merged)} merged, 0 already in the library, 0 skipped"
    )


def test_files_without_entries_exit_1(library: Path, cli: Runner, tmp_path: Path) -> None:
    empty = tmp_path / "empty.bib"
    empty.write_text("")
    binary = tmp_path / "photo.bib"
    binary.write_bytes(bytes(range(256)) * 4)
    r = cli("import", "bibtex", str(empty), str(binary))
    assert r.exit_code == 1
    assert r.stdout == "0 added, 0 merged, 0 already in the library, 0 skipped\n"
    assert r.stderr.splitlines()[-2:] == [
        f"papercli: no references found in {empty}",
        f"papercli: no references found in {binary}",
    ]
    assert _files(library) == {}
    r = cli("import", "bibtex", "--json", str(empty))
    assert r.exit_code == 1
    assert r.stderr == f"papercli: no references found in {empty}\n"
    # A file that brings an entry makes the run a success; the empty file is not an error.
    r = cli("import", "bibtex", str(empty), str(BIB / "arxiv.bib"))
    assert (r.exit_code, r.stderr) == (0, "")


def test_a_record_under_an_alias_imported_twice_changes_nothing(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    # The paper has no BibTeX record yet: the .bib's entry, under another key, becomes its
    # record and its key an alias. A second import of the same file must find it all there.
    added = cli("add", "--title", "Deep Learning", "--author", "Yann LeCun", "--year", "2015")
    assert added.exit_code == 0, added
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{LeCun2015Deep,\n  title = {Deep Learning},\n  author = {LeCun, Yann},\n"
        "  journal = {Nature},\n  year = {2015},\n}\n"
    )
    r = cli("import", "bibtex", str(bib))
    assert r.stdout.splitlines()[-1] == "0 added, 1 merged, 0 already in the library, 0 skipped"
    first = _files(library)
    r = cli("import", "bibtex", str(bib))
    assert r.stdout == "0 added, 0 merged, 1 already in the library, 0 skipped\n"
    assert _files(library) == first
    tex = tmp_path / "draft.tex"
    tex.write_text("\\cite{LeCun2015Deep}")
    r = cli("export", "bibtex", "--cited", str(tex))
    assert r.stdout.startswith("@article{LeCun2015Deep,\n  title = {Deep Learning},\n")


def test_a_shared_url_does_not_make_short_different_titles_one_paper(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    # The ACM sample .bib gives a video and a conference talk one placeholder URL: titles too
    # short to identify a paper still tell them apart, so nothing of one goes into the other.
    bib = tmp_path / "odd.bib"
    bib.write_text(
        '@misc{Obama08, author = "Barack Obama", year = "2008", title = "A more perfect union",'
        ' url = "http://video.google.com/videoplay?docid=6528042696351994555"}\n'
        '@inproceedings{Novak03, author = "Dave Novak", title = "Solder man", year = "2003",'
        ' doi = "99.9999/woot07-S422",'
        ' url = "http://video.google.com/videoplay?docid=6528042696351994555"}\n'
    )
    r = cli("import", "bibtex", str(bib))
    assert r.stdout.splitlines()[-1] == "2 added, 0 merged, 0 already in the library, 0 skipped"
    assert "doi" not in _paper(library, "Obama08")
    assert cli("duplicates", "--json").stdout == "[]\n"
