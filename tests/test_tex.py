"""Citation keys read from LaTeX drafts and .aux files (papercli.latex)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from papercli.errors import UsageError
from papercli.latex import cited_keys, strip_comments

TEX = Path(__file__).parent / "fixtures" / "tex"


def test_every_cite_variant_input_include_and_comments() -> None:
    found = cited_keys([TEX / "draft.tex"])
    assert found.keys == [
        "vaswani2017attention",
        "hu2021lora",
        "devlin2018bert",
        "kingma2014adam",
        "lecun2015deep",
        "hochreiter1997long",
        "dao2022flashattention",
        "maaten2008visualizing",
        "weng2023agents",
        "chen2021codex",
        "missing2019paper",
        "erdos1959random",
        "notinlibrary2021",
    ]
    assert found.unreadable == []


def test_aux_bibtex_and_biblatex_lines_and_included_aux() -> None:
    found = cited_keys([TEX / "draft.aux"])
    assert found.keys == [
        "vaswani2017attention",
        "hu2021lora",
        "devlin2018bert",
        "kingma2014adam",
        "lecun2015deep",
        "hochreiter1997long",
    ]


def test_nocite_star_and_unreadable_input(tmp_path: Path) -> None:
    draft = tmp_path / "d.tex"
    draft.write_text("\\input{nothere}\\nocite{*}\\cite{a,b}\\cite{ b }\n")
    found = cited_keys([draft])
    assert found.keys == ["*", "a", "b"]
    assert found.unreadable == [str(tmp_path / "nothere")]


def test_input_cycle_terminates(tmp_path: Path) -> None:
    (tmp_path / "a.tex").write_text("\\cite{x}\\input{b}")
    (tmp_path / "b.tex").write_text("\\cite{y}\\input{a}")
    assert cited_keys([tmp_path / "a.tex"]).keys == ["x", "y"]


def test_comments_keep_escaped_percent() -> None:
    assert strip_comments("50\\% done % gone\n\\\\% also gone") == "50\\% done \n\\\\"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.tex", "no such file"),
        ("notes.txt", "give a LaTeX draft"),
    ],
)
def test_bad_cited_file(tmp_path: Path, name: str, message: str) -> None:
    if name.endswith(".txt"):
        (tmp_path / name).write_text("x")
    with pytest.raises(UsageError, match=message):
        cited_keys([tmp_path / name])


def test_cited_directory_and_device_say_what_they_are(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        cited_keys([tmp_path])
    assert str(caught.value) == f"--cited {tmp_path} is a directory: name a .tex, .aux or .md file"
    fifo = tmp_path / "pipe.tex"
    os.mkfifo(fifo)
    with pytest.raises(UsageError) as caught:
        cited_keys([fifo])
    assert (
        str(caught.value) == f"--cited {fifo} is not a regular file: name a .tex, .aux or .md file"
    )


def test_overlong_names_are_a_usage_error_or_an_unreadable_input(tmp_path: Path) -> None:
    long = "x" * 300
    with pytest.raises(UsageError) as caught:
        cited_keys([tmp_path / f"{long}.tex"])
    assert str(caught.value) == f"--cited {tmp_path}/{long}.tex: File name too long"
    draft = tmp_path / "d.tex"
    draft.write_text(f"\\cite{{a}}\\input{{{long}}}\\cite{{b}}\n")
    found = cited_keys([draft])
    assert found.keys == ["a", "b"]
    assert found.unreadable == [str(tmp_path / long)]


def test_what_latex_does_not_typeset_is_not_a_citation(tmp_path: Path) -> None:
    draft = tmp_path / "d.tex"
    draft.write_text(
        "\\begin{verbatim}\\cite{inverbatim}\\end{verbatim}\n"
        "\\begin{lstlisting}[language=TeX]\n\\citep{inlisting}\n\\end{lstlisting}\n"
        "\\begin{minted}{latex}\\cite{inminted}\\end{minted}\n"
        "\\verb|\\cite{inverb}| and \\verb+\\cite{inverbplus}+\n"
        "\\iffalse \\cite{iniffalse} \\ifx\\a\\b \\cite{nested} \\fi \\cite{stillfalse} \\fi\n"
        "\\cite{real}\n"
    )
    assert cited_keys([draft]).keys == ["real"]


def test_macros_that_wrap_cite_commands(tmp_path: Path) -> None:
    draft = tmp_path / "d.tex"
    draft.write_text(
        "\\newcommand{\\mycite}[1]{\\citep{#1}}\n"
        "\\newcommand*\\twocite[2]{\\cite{#1}\\cite{#2}}\n"
        "\\newcommand{\\optcite}[2][see]{\\citet[#1]{#2}}\n"
        "\\def\\defcite#1{\\citeauthor{#1}}\n"
        "\\DeclareRobustCommand{\\bert}{\\cite{devlin2019bert}}\n"
        "\\NewDocumentCommand{\\xcite}{o m}{\\parencite[#1]{#2}}\n"
        "\\newcommand{\\unused}{\\cite{neverused}}\n"
        "\\newcommand{\\noncite}[1]{\\textbf{#1}}\n"
        "\\DeclareCiteCommand{\\mystyle}{x}{y}{z}\n"
        "\\defcitealias{aliased2020}{Paper~I} \\citetalias{usedalias}\n"
        "Text \\mycite{a2020,b2021} \\twocite{c}{d} \\optcite{e} \\optcite[p.~2]{f}\n"
        "\\defcite{g} \\bert{} \\xcite[p.~1]{h} \\noncite{notakey}\n"
    )
    assert cited_keys([draft]).keys == [
        "usedalias", "a2020", "b2021", "c", "d", "e", "f", "g", "devlin2019bert", "h"
    ]  # fmt: skip


def test_import_package_and_limits(tmp_path: Path) -> None:
    (tmp_path / "sec").mkdir()
    (tmp_path / "sec" / "one.tex").write_text("\\cite{one}\\subimport{deeper/}{two}\n")
    (tmp_path / "sec" / "deeper").mkdir()
    (tmp_path / "sec" / "deeper" / "two.tex").write_text("\\cite{two}\n")
    draft = tmp_path / "d.tex"
    draft.write_text("\\import{sec/}{one}\\input{/dev/zero}\\cite{three}\n")
    found = cited_keys([draft])
    assert found.keys == ["one", "two", "three"]
    assert found.unreadable == ["/dev/zero"]
    # A chain of 2,000 \input files ends with one clear message, not a traceback.
    for i in range(2000):
        (tmp_path / f"c{i}.tex").write_text(f"\\cite{{k{i}}}\\input{{c{i + 1}}}\n")
    with pytest.raises(UsageError, match="nest more than 64 deep"):
        cited_keys([tmp_path / "c0.tex"])


def test_pandoc_markdown_citations(tmp_path: Path) -> None:
    draft = tmp_path / "paper.md"
    draft.write_text(
        "---\ntitle: A paper with @notacite in its title\nnocite: |\n  @fromyaml, @also\n---\n"
        "As @smith2020 shows [see @doe99, p. 33; -@roe2001] and [@Gusfield:97].\n"
        "Write to jane@example.org or see https://example.org/@user and [a link](http://x.org/@y).\n"
        "Braced {@10.1000/odd key} and @{DBLP:conf/x/Y20}. Ends a sentence @last2019.\n"
        "Inline `@incode` and escaped \\@notme.\n\n"
        "```python\nprint('@fenced')\n```\n\n    @indented code\n\nFinal [@smith2020].\n"
    )
    assert cited_keys([draft]).keys == [
        "fromyaml", "also", "smith2020", "doe99", "roe2001", "Gusfield:97",
        "10.1000/odd key", "DBLP:conf/x/Y20", "last2019",
    ]  # fmt: skip
    (tmp_path / "all.qmd").write_text("---\nnocite: |\n  @*\n---\nText.\n")
    assert cited_keys([tmp_path / "all.qmd"]).keys == ["*"]


def test_biber_control_file(tmp_path: Path) -> None:
    bcf = tmp_path / "d.bcf"
    bcf.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<bcf:controlfile xmlns:bcf="https://x">\n'
        '<bcf:section number="0">\n<bcf:citekey order="1" intorder="1">a&amp;b</bcf:citekey>\n'
        '<bcf:citekey order="2" intorder="1">Gusfield:97</bcf:citekey>\n'
        "</bcf:section></bcf:controlfile>\n"
    )
    assert cited_keys([bcf]).keys == ["a&b", "Gusfield:97"]
