"""papercli export bibtex: entry types, escaping, selection, --cited, output files."""

from __future__ import annotations

from pathlib import Path

import pytest

from papercli.bibtex import escape, format_author, format_entry
from papercli.models import Paper

from conftest import Runner

FIXTURES = Path(__file__).parent / "fixtures"


def test_arxiv_preprint_entry_exact(filled: Path, cli: Runner) -> None:
    r = cli("export", "bibtex", "--key", "hu2021lora")
    assert r.exit_code == 0, r
    assert r.stdout == (
        "@misc{hu2021lora,\n"
        "  author = {Hu, Edward J. and Shen, Yelong and Wallis, Phillip},\n"
        "  title = {{LoRA}: Low-Rank Adaptation of Large Language Models},\n"
        "  year = {2021},\n"
        "  howpublished = {arXiv:2106.09685},\n"
        "  eprint = {2106.09685},\n"
        "  archivePrefix = {arXiv},\n"
        "  primaryClass = {cs.CL},\n"
        "  url = {https://arxiv.org/abs/2106.09685},\n"
        "}\n"
    )


def test_arxiv_preprint_biblatex_keeps_utf8(filled: Path, cli: Runner) -> None:
    r = cli("export", "bibtex", "--key", "dao2022flashattention", "--biblatex")
    assert r.exit_code == 0, r
    assert r.stdout == (
        "@misc{dao2022flashattention,\n"
        "  author = {Dao, Tri and Fu, Daniel Y. and Ermon, Stefano and Rudra, Atri and "
        "Ré, Christopher},\n"
        "  title = {{FlashAttention}: Fast and Memory-Efficient Exact Attention with "
        "{IO-Awareness}},\n"
        "  year = {2022},\n"
        "  eprint = {2205.14135},\n"
        "  eprinttype = {arxiv},\n"
        "  eprintclass = {cs.LG},\n"
        "  url = {https://arxiv.org/abs/2205.14135},\n"
        "}\n"
    )


def test_conference_journal_book_thesis_and_web_types(filled: Path, cli: Runner) -> None:
    r = cli("export", "bibtex", "-k", "vaswani2017attention", "-k", "lecun2015deep",
            "-k", "kubler2009dependency", "-k", "smith2020thesis", "-k", "weng2023agents",
            "-k", "huggingface2020transformers", "-k", "wikitext")  # fmt: skip
    assert r.exit_code == 0, r
    heads = [line for line in r.stdout.splitlines() if line.startswith("@")]
    assert heads == [
        "@misc{huggingface2020transformers,",
        "@book{kubler2009dependency,",
        "@article{lecun2015deep,",
        "@phdthesis{smith2020thesis,",
        "@inproceedings{vaswani2017attention,",
        "@misc{weng2023agents,",
        "@misc{wikitext,",
    ]
    assert "  author = {Vaswani, Ashish and Shazeer, Noam and Parmar, Niki and " in r.stdout
    assert "{\\L}ukasz" in r.stdout
    assert '  author = {K{\\"u}bler, Sandra and McDonald, Ryan and Nivre, Joakim},\n' in r.stdout
    assert "  publisher = {Morgan \\& Claypool},\n" in r.stdout
    assert "  author = {Smith, Jr., John},\n  title = {Scaling" in r.stdout
    assert "  author = {{Hugging Face}},\n" in r.stdout
    assert "  booktitle = {NeurIPS 2017},\n" in r.stdout
    assert "  journal = {Nature},\n" in r.stdout
    assert r.stdout.count("@") == 7
    weng = r.stdout.split("@misc{weng2023agents,\n")[1].split("}\n\n")[0]
    assert weng == (
        "  author = {Weng, Lilian},\n"
        "  title = {{LLM} Powered Autonomous Agents: "
        "100\\% of the \\#hype, snake\\_case \\& all},\n"
        "  year = {2023},\n"
        "  howpublished = {Web article},\n"
        "  url = {https://lilianweng.github.io/posts/2023-06-23-agent/\\#component-one},\n"
        "  urldate = {2024-03-01},\n"
    )
    # No authors and no year: a sort key, and "n.d." so BibTeX styles do not warn.
    assert "@misc{wikitext,\n  key = {WikiText-103},\n  title = {{WikiText-103}},\n" in r.stdout
    assert "  year = {n.d.},\n  howpublished = {Dataset},\n" in r.stdout


def test_biblatex_web_entry_is_online(filled: Path, cli: Runner) -> None:
    r = cli("export", "bibtex", "-k", "karpathy2015unreasonable", "--biblatex")
    assert r.stdout == (
        "@online{karpathy2015unreasonable,\n"
        "  author = {Karpathy, Andrej},\n"
        "  title = {The Unreasonable Effectiveness of Recurrent Neural Networks},\n"
        "  year = {2015},\n"
        "  note = {Web article},\n"
        "  organization = {Andrej Karpathy blog},\n"
        "  url = {https://karpathy.github.io/2015/05/21/rnn-effectiveness/},\n"
        "  urldate = {2024-03-01},\n"
        "}\n"
    )


@pytest.mark.parametrize(
    ("text", "biblatex", "expected"),
    [
        ("Łukasz Kübler", False, "{\\L}ukasz K{\\\"u}bler"),
        ("Łukasz Kübler", True, "Łukasz Kübler"),
        ("A & B 50% #1 x_y", False, "A \\& B 50\\% \\#1 x\\_y"),
        ("cost $O(n_2)$ & more", False, "cost $O(n_2)$ \\& more"),
        ("a lone $5 bill", False, "a lone \\$5 bill"),
        ("a\\1 {braces} ~^", False,
         "a\\textbackslash{}1 \\textbraceleft{}braces\\textbraceright{} "
             "\\textasciitilde{}\\textasciicircum{}"),
        ("na\\\"ive \\'etude", False, "na{\\\"\\i}ve {\\'e}tude"),
        ("汉字", False, "??"),
    ],
)  # fmt: skip
def test_escape(text: str, biblatex: bool, expected: str) -> None:
    assert escape(text, biblatex) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("BERT: Pre-training", "{BERT}: Pre-training"),
        ("LoRA and QLoRA", "{LoRA} and {QLoRA}"),
        ("GPT-4 Technical Report", "{GPT-4} Technical Report"),
        ("U-Net for iPhone", "{U-Net} for {iPhone}"),
        ("Low-Rank Graphs I", "Low-Rank Graphs {I}"),
        ("A Study", "A Study"),
        ("$\\beta$-VAE", "{$\\beta$}{-VAE}"),
    ],
)
def test_title_case_protection(title: str, expected: str) -> None:
    assert escape(title, protect_case=True) == expected


def test_authors() -> None:
    assert format_author("van der Maaten, Laurens") == "van der Maaten, Laurens"
    assert format_author("Google Brain") == "{Google Brain}"
    assert format_author("Hu, Jr., Edward") == "Hu, Jr., Edward"
    assert format_author("AT&T Labs") == "{AT\\&T Labs}"


def test_doi_and_url_escaping() -> None:
    paper = Paper(key="k", title="T", authors=["A, B"], year=2020, venue="Journal of X",
                  doi="10.1000/a_b%c", url="https://x.org/a b#c")  # fmt: skip
    text = format_entry(paper)
    assert "  doi = {10.1000/a_b\\%c},\n  url = {https://x.org/a\\%20b\\#c},\n" in text
    assert "  url = {https://x.org/a%20b#c},\n" in format_entry(paper, biblatex=True)


def test_whole_library_sorted_by_key_and_deterministic(filled: Path, cli: Runner) -> None:
    first = cli("export", "bibtex")
    second = cli("export", "bibtex")
    assert first.exit_code == 0 and first.stdout == second.stdout
    keys = [line.split("{")[1].rstrip(",") for line in first.stdout.splitlines()
            if line.startswith("@")]  # fmt: skip
    assert keys == sorted(keys) and len(keys) == 21
    assert first.stdout.isascii()


def test_filters_and_query(filled: Path, cli: Runner) -> None:
    r = cli("export", "bibtex", "--tag", "llm", "--type", "paper", "gpt")
    keys = [line for line in r.stdout.splitlines() if line.startswith("@")]
    # QUERY is a 'papercli search' query: hu2021lora matches through its note about GPT-3.
    assert keys == ["@misc{hu2021lora,", "@misc{openai2023gpt4,"]
    r = cli("export", "bibtex", "tag:peft")  # search's inline filters work too
    assert [line for line in r.stdout.splitlines() if line.startswith("@")] == ["@misc{hu2021lora,"]
    r = cli("export", "bibtex", "--tag", "nlp", "--tag", "transformers", "--status", "read")
    assert [line for line in r.stdout.splitlines() if line.startswith("@")] == [
        "@inproceedings{vaswani2017attention,"
    ]
    r = cli("export", "bibtex", "kubler")  # the query folds accents
    assert r.stdout.startswith("@book{kubler2009dependency,")
    r = cli("export", "bibtex", "--tag", "nosuchtag")
    assert r.exit_code == 1
    assert (r.stdout, r.stderr) == ("", "papercli: nothing to export: no paper matches\n")
    r = cli("export", "bibtex", "--status", "done")
    assert r.exit_code == 2
    assert "invalid status 'done'" in r.stderr


def test_cited_in_citation_order_and_missing_keys(filled: Path, cli: Runner) -> None:
    draft = FIXTURES / "tex" / "draft.tex"
    out = filled.parent / "refs.bib"
    r = cli("export", "bibtex", "--cited", str(draft), "-o", str(out))
    assert r.exit_code == 1
    assert r.stderr == (
        "papercli: error: not in the library: missing2019paper, notinlibrary2021; "
        "add them, or pass --allow-missing to export the rest\n"
    )
    assert not out.exists()
    r = cli("export", "bibtex", "--cited", str(draft), "-o", str(out), "--allow-missing")
    assert r.exit_code == 0, r
    assert r.stderr == (
        "papercli: not in the library (left out): missing2019paper, notinlibrary2021\n"
        f"papercli: wrote 11 entries to {out}\n"
    )
    keys = [line.split("{")[1].rstrip(",") for line in out.read_text().splitlines()
            if line.startswith("@")]  # fmt: skip
    assert keys == [
        "vaswani2017attention", "hu2021lora", "devlin2018bert", "kingma2014adam",
        "lecun2015deep", "hochreiter1997long", "dao2022flashattention", "maaten2008visualizing",
        "weng2023agents", "chen2021codex", "erdos1959random",
    ]  # fmt: skip


def test_cited_aux_and_nocite_star(filled: Path, cli: Runner, tmp_path: Path) -> None:
    r = cli("export", "bibtex", "--cited", str(FIXTURES / "tex" / "draft.aux"))
    assert r.exit_code == 0, r
    assert r.stdout.count("\n@") + 1 == 6
    star = tmp_path / "all.tex"
    star.write_text("\\nocite{*}\n")
    r = cli("export", "bibtex", "--cited", str(star))
    assert r.stdout.count("\n@") + 1 == 21


def test_bad_inputs_exit_codes(filled: Path, cli: Runner, tmp_path: Path) -> None:
    r = cli("export", "bibtex", "--cited", str(tmp_path / "none.tex"))
    assert (r.exit_code, r.stderr) == (
        2,
        f"papercli: error: --cited {tmp_path}/none.tex: no such file\n",
    )
    r = cli("export", "bibtex", "-k", "hu2021lora", "-o", str(tmp_path / "no" / "dir.bib"))
    assert r.exit_code == 2
    assert "does not exist" in r.stderr
    r = cli("export", "bibtex", "-k", "nosuch")
    assert r.exit_code == 1
    assert r.stderr.startswith("papercli: error: not in the library: nosuch;")


@pytest.mark.parametrize("command", ["json", "bibtex", "markdown"])
def test_key_of_a_malformed_file_is_one_line_exit_4(
    filled: Path, cli: Runner, command: str
) -> None:
    (filled / "papers" / "broken2020paper.toml").write_text('title = "unclosed\n')
    (filled / "papers" / "folder2020paper.toml").mkdir()
    r = cli("export", command, "--key", "broken2020paper")
    assert r.exit_code == 4, r
    assert r.stdout == ""
    last = r.stderr.splitlines()[-1]
    assert last.startswith(f"papercli: error: {filled}/papers/broken2020paper.toml:1:")
    r = cli("export", command, "--key", "folder2020paper")
    assert r.exit_code == 4, r
    assert r.stderr.splitlines()[-1] == (
        f"papercli: error: {filled}/papers/folder2020paper.toml: not a regular file (a "
        "directory, FIFO, device or socket): remove it"
    )


def test_cited_paths_that_are_not_drafts(filled: Path, cli: Runner, tmp_path: Path) -> None:
    long = "x" * 300
    r = cli("export", "bibtex", "--cited", f"{long}.tex")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == f"papercli: error: --cited {long}.tex: File name too long\n"
    r = cli("export", "bibtex", "--cited", str(tmp_path))
    assert (r.exit_code, r.stderr) == (
        2, f"papercli: error: --cited {tmp_path} is a directory: name a .tex, .aux or .md file\n"
    )  # fmt: skip
    r = cli("export", "bibtex", "--cited", "/dev/null")
    assert (r.exit_code, r.stderr) == (
        2,
        "papercli: error: --cited /dev/null is not a regular file: name a .tex, .aux or .md "
        "file\n",
    )  # fmt: skip
    draft = tmp_path / "draft.tex"
    draft.write_text(f"\\input{{{long}}}\n\\cite{{hu2021lora}}\n")
    r = cli("export", "bibtex", "--cited", str(draft))
    assert r.exit_code == 0, r
    assert r.stdout.startswith("@misc{hu2021lora,\n")
    assert r.stderr == (
        f"papercli: cannot read {tmp_path}/{long} (pulled in by \\input or \\include): skipped\n"
    )


def test_output_name_too_long_is_exit_2(filled: Path, cli: Runner, tmp_path: Path) -> None:
    out = tmp_path / f"{'x' * 300}.bib"
    r = cli("export", "bibtex", "-k", "hu2021lora", "-o", str(out))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == f"papercli: error: -o {out}: File name too long\n"


def test_output_through_a_symlink_keeps_the_link(filled: Path, cli: Runner, tmp_path: Path) -> None:
    real = tmp_path / "real" / "refs.bib"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "refs.bib"
    link.symlink_to(real)
    r = cli("export", "bibtex", "-k", "hu2021lora", "-o", str(link))
    assert r.exit_code == 0, r
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text().startswith("@misc{hu2021lora,\n")
    dangling = tmp_path / "new.bib"
    dangling.symlink_to(tmp_path / "real" / "new.bib")
    r = cli("export", "json", "-k", "hu2021lora", "-o", str(dangling))
    assert r.exit_code == 0, r
    assert dangling.is_symlink()
    assert (tmp_path / "real" / "new.bib").read_text().startswith("[\n  {\n")


def test_output_to_a_fifo_writes_into_it(filled: Path, cli: Runner, tmp_path: Path) -> None:
    import os
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with fifo.open("rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    r = cli("export", "bibtex", "-k", "hu2021lora", "-o", str(fifo))
    reader.join(timeout=10)
    assert r.exit_code == 0, r
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert received and received[0].decode().startswith("@misc{hu2021lora,\n")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pipe.")]


def test_a_draft_that_cites_nothing_is_exit_1(
    filled: Path, cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "draft.tex").write_text("\\section{Intro}\n% \\cite{hu2021lora}\n")
    out = tmp_path / "refs.bib"
    r = cli("export", "bibtex", "--cited", "draft.tex", "-o", str(out))
    assert (r.exit_code, r.stdout, r.stderr) == (
        1, "", "papercli: error: no citations found in draft.tex\n"
    )  # fmt: skip
    assert not out.exists()
    # Cited keys that are all missing, with --allow-missing: an empty .bib, but still exit 1.
    (tmp_path / "other.tex").write_text("\\cite{nosuch2020paper}\n")
    r = cli("export", "bibtex", "--cited", "other.tex", "--allow-missing", "-o", str(out))
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr == (
        "papercli: not in the library (left out): nosuch2020paper\n"
        "papercli: nothing to export: no paper matches\n"
    )
    assert out.read_text() == ""


def test_characters_without_a_latex_form_are_reported(cli: Runner, library: Path) -> None:
    assert (
        cli(
            "add", "--title", "日本語 Language Models", "-a", "Taro Yamada", "--year", "2023"
        ).exit_code
        == 0
    )
    r = cli("export", "bibtex", "--key", "yamada2023language")
    assert r.exit_code == 0
    assert "  title = {??? Language Models}," in r.stdout
    assert r.stderr == (
        "papercli: warning: 3 character(s) have no LaTeX form and were written as '?' or "
        "their ASCII letters: 日本語 (try --biblatex with LuaLaTeX or XeLaTeX)\n"
    )
    # Accented Latin letters have LaTeX forms: no warning.
    assert (
        cli("add", "--title", "Über Kübler", "-a", "Jörg Kübler", "--year", "2020").exit_code == 0
    )
    assert cli("export", "bibtex", "--key", "kubler2020uber").stderr == ""


def _add_incomplete(library: Path) -> None:
    (library / "papers" / "hu2021x.toml").write_text(
        'type = "paper"\ntitle = "arXiv:2106.09999"\nauthors = ["Hu, E."]\nyear = 2021\n'
        'arxiv_id = "2106.09999"\nincomplete = ["title", "authors", "abstract"]\n'
    )
    (library / "papers" / "nodate.toml").write_text(
        'type = "article"\ntitle = "A Post"\nauthors = ["Weng, Lilian"]\n'
        'url = "https://example.org/post"\n'
    )


def test_incomplete_entries_are_named_on_stderr(filled: Path, cli: Runner) -> None:
    _add_incomplete(filled)
    r = cli("export", "bibtex", "-k", "hu2021x", "-k", "hu2021lora", "-k", "nodate")
    assert r.exit_code == 0, r
    assert "@misc{hu2021x," in r.stdout and "@misc{hu2021lora," in r.stdout
    assert r.stderr == (
        "papercli: warning: 2 entries incomplete (a bibliography from them is wrong): "
        "hu2021x (title authors), nodate (year)\n"
    )
    complete = cli("export", "bibtex", "-k", "hu2021lora")
    assert complete.exit_code == 0 and complete.stderr == ""


def test_strict_refuses_incomplete_entries_and_writes_nothing(
    filled: Path, cli: Runner, tmp_path: Path
) -> None:
    _add_incomplete(filled)
    out = tmp_path / "refs.bib"
    out.write_text("% the previous bibliography\n")
    r = cli("export", "bibtex", "-k", "hu2021x", "-k", "hu2021lora", "--strict", "-o", str(out))
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.startswith(
        "papercli: error: 1 entry incomplete, nothing written (--strict): hu2021x (title authors);"
    )
    assert len(r.stderr.splitlines()) == 1
    assert out.read_text() == "% the previous bibliography\n"
    fine = cli("export", "bibtex", "-k", "hu2021lora", "--strict", "-o", str(out))
    assert fine.exit_code == 0, fine
    assert out.read_text().startswith("@misc{hu2021lora,")


def test_prepared_entries_are_cached_and_follow_every_change(
    cli: Runner, filled: Path, isolated_env: Path
) -> None:
    """The second export is served from the export cache, byte for byte the same as a fresh
    one; a hand edit, a tag and a removal are seen at once; what was made safe is still said."""
    import shutil

    first = cli("export", "bibtex")
    assert first.exit_code == 0, first
    entries = list((isolated_env / "cache" / "papercli").glob("*/entries/*-bibtex.pickle"))
    assert entries, "the export cache was not written"
    again = cli("export", "bibtex")
    assert again.stdout == first.stdout
    shutil.rmtree(isolated_env / "cache" / "papercli")
    assert cli("export", "bibtex").stdout == first.stdout  # rebuilt: the same text

    path = next((filled / "papers").glob("*.toml"))
    key = path.stem
    text = path.read_text()
    title = next(line for line in text.splitlines() if line.startswith("title = "))
    path.write_text(text.replace(title, 'title = "A Title Changed By Hand"'))
    edited = cli("export", "bibtex", "--key", key)
    assert "A Title Changed By Hand" in edited.stdout
    whole = cli("export", "bibtex")
    assert "A Title Changed By Hand" in whole.stdout and title not in whole.stdout
    assert cli("rm", key, "--yes").exit_code == 0
    assert f"{{{key}," not in cli("export", "bibtex").stdout
    biblatex = cli("export", "bibtex", "--biblatex")
    assert biblatex.exit_code == 0 and biblatex.stdout != cli("export", "bibtex").stdout

    hostile = filled.parent / "hostile.bib"
    hostile.write_text("@misc{evil2024, title={Evil}, note={\\immediate\\write18{touch x}}}\n")
    assert cli("import", "bibtex", str(hostile)).exit_code == 0
    said = cli("export", "bibtex", "--key", "evil2024")
    assert "evil2024: made safe" in said.stderr
    cached = cli("export", "bibtex", "--key", "evil2024")
    assert (cached.stdout, cached.stderr) == (said.stdout, said.stderr)  # said again
