"""Importing a large .bib: read and written in pieces (PAPERCLI_IMPORT_PIECE sets the piece
size), each piece put in place together, the cache and the search index left ready. The
result must be the same as one whole-file import, and a kill at any moment must leave only
whole papers."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from papercli.library import Library

from conftest import ROOT, Runner, run_papercli

REAL = ROOT / "tests" / "fixtures" / "real" / "bib"


def _library_contents(library: Path) -> dict[str, dict[str, object]]:
    """Every paper file, parsed, without the time stamps of the import."""
    out = {}
    for path in sorted((library / "papers").glob("*.toml")):
        data = tomllib.loads(path.read_text())
        data.pop("added", None)
        data.pop("updated", None)
        out[path.name] = data
    return out


@pytest.mark.parametrize("name", ["biblatex-examples.bib", "odd.bib", "zotero-bbt.bib"])
def test_a_file_read_in_pieces_imports_as_the_whole_file(
    cli: Runner, tmp_path: Path, name: str
) -> None:
    """Cross-references to parents in a later piece, @string and @preamble anywhere, line
    numbers in every message: pieces of three entries give what the whole file gives."""
    results = []
    for piece in ("3", "100000"):
        library = tmp_path / f"lib{piece}"
        assert cli("init", str(library), "--empty").exit_code == 0
        done = run_papercli(
            "-L", str(library), "import", "bibtex", str(REAL / name),
            env={"PAPERCLI_IMPORT_PIECE": piece},
        )  # fmt: skip
        assert done.returncode in (0, 1), done.stderr
        results.append((done.stdout, done.stderr, _library_contents(library)))
    in_pieces, whole = results
    assert in_pieces[0] == whole[0]  # the report, line numbers included
    assert in_pieces[1] == whole[1]
    assert in_pieces[2] == whole[2]
    assert len(whole[2]) > 10


DUPLICATES_BIB = """
@article{first2020alpha, author = {Smith, Ann}, title = {Alpha Paper on Retrieval},
  journal = {J}, year = 2020, doi = {10.1000/alpha}}
@article{other2021, author = {Jones, Bo}, title = {Unrelated Work}, journal = {J}, year = 2021}
@inproceedings{Smith20, author = {Smith, Ann}, title = {Alpha paper on retrieval},
  booktitle = {Conf}, year = 2020, doi = {10.1000/ALPHA}, pages = {1--9}}
@article{beta2019, author = {Lee, Cy}, title = {Beta Study of Sparse Attention Models},
  journal = {J}, year = 2019, doi = {10.1000/beta}}
@article{gamma2019, author = {Lee, Cy}, title = {Reinforcement Learning for Protein Folding},
  journal = {J}, year = 2019, doi = {10.1000/beta}}
@misc{alpha-again, author = {Smith, Ann}, title = {Alpha Paper on Retrieval}, year = 2020}
"""


@pytest.mark.parametrize("dry_run", [False, True])
def test_duplicates_across_pieces_are_found_from_the_papers_added(
    cli: Runner, tmp_path: Path, dry_run: bool
) -> None:
    """An import keeps no identity of the papers it adds (at 100,000 entries they cost 50 MB):
    a later entry sharing a DOI or a title with one reads it back, from the file written or
    the dry run's pending papers. One entry a piece gives what the whole file gives."""
    source = tmp_path / "dups.bib"
    source.write_text(DUPLICATES_BIB)
    results = []
    for piece in ("1", "100000"):
        library = tmp_path / f"lib{piece}"
        assert cli("init", str(library), "--empty").exit_code == 0
        args = ["-L", str(library), "import", "bibtex", str(source)]
        done = run_papercli(*args, *(["--dry-run"] if dry_run else []),
                            env={"PAPERCLI_IMPORT_PIECE": piece})  # fmt: skip
        assert done.returncode == 0, done.stderr
        results.append((done.stdout, done.stderr, _library_contents(library)))
    assert results[0] == results[1]
    report = results[0][0] + results[0][1]
    assert "Smith20" in report and "alpha-again" in report
    assert "shares DOI 10.1000/beta with beta2019, but the titles differ" in report
    if dry_run:
        assert results[0][2] == {}
        return
    papers = results[0][2]
    assert sorted(papers) == [
        "beta2019.toml", "first2020alpha.toml", "gamma2019.toml", "other2021.toml"
    ]  # fmt: skip
    assert papers["first2020alpha.toml"]["aliases"] == ["Smith20", "alpha-again"]


def _synthetic_bib(path: Path, count: int) -> None:
    rng = random.Random(5)
    words = "attention sparse retrieval scaling tuning alignment decoding memory graph".split()
    with path.open("w") as out:
        out.write('@string{neurips = "Advances in Neural Information Processing Systems"}\n')
        for i in range(count):
            title = " ".join(rng.sample(words, 5)).capitalize()
            out.write(
                f'@inproceedings{{paper{i},\n  author = {{M{{\\"u}}ller, Anna and Li, Wei}},\n'
                f"  title = {{{{BERT}} {title} {i}}},\n  booktitle = neurips,\n"
                f"  year = {2000 + i % 25},\n}}\n\n"
            )


def test_import_leaves_the_cache_and_the_search_index_ready(cli: Runner, tmp_path: Path) -> None:
    library = tmp_path / "lib"
    assert cli("init", str(library), "--empty").exit_code == 0
    bib = tmp_path / "big.bib"
    _synthetic_bib(bib, 450)
    done = run_papercli(
        "-L", str(library), "import", "bibtex", str(bib), env={"PAPERCLI_IMPORT_PIECE": "100"}
    )
    assert done.returncode == 0, done.stderr
    summary = "450 added, 0 merged, 0 already in the library, 0 skipped"
    assert done.stdout.splitlines()[-1] == summary
    lib = Library.open(library)
    cache = lib._load_cache()
    assert cache is not None and lib._scan(cache).matches(cache)  # nothing left to parse
    from papercli.search import INDEX_FILE, _load

    loaded = _load(lib.cache_dir / INDEX_FILE)
    assert loaded is not None and loaded[0]["sig"] == lib.shard_sigs()  # nothing to index
    found = run_papercli("-L", str(library), "search", "paper449", "--limit", "1")
    assert "paper449" in found.stdout


@pytest.mark.slow
def test_an_import_killed_at_any_moment_leaves_whole_papers(cli: Runner, tmp_path: Path) -> None:
    library = tmp_path / "lib"
    assert cli("init", str(library), "--empty").exit_code == 0
    bib = tmp_path / "big.bib"
    _synthetic_bib(bib, 1200)
    env = dict(os.environ, PAPERCLI_IMPORT_PIECE="100")
    argv = [sys.executable, "-m", "papercli", "-L", str(library), "import", "bibtex", str(bib)]
    rng = random.Random(3)
    for _ in range(5):
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(0.4 + rng.random() * 1.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for path in (library / "papers").glob("*.toml"):
            data = tomllib.loads(path.read_text())  # never half a file
            assert data["title"].startswith("BERT ")
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = done.stdout.splitlines()[-1].split()
    added, already = int(summary[0]), int(summary[4])
    assert summary[5:8] == ["already", "in", "the"]
    assert added + already == 1200 and already > 0  # the kills left some papers in place
    listed = run_papercli("-L", str(library), "list", "--limit", "0")
    assert len(listed.stdout.splitlines()) == 1200  # piped: one paper a line, no header
    assert not list((library / "papers").glob(".*.tmp"))  # leftovers removed under the lock
