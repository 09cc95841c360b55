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
    [("missing.tex", "no such file"), ("notes.txt", "give a .tex draft or the .aux file")],
)
def test_bad_cited_file(tmp_path: Path, name: str, message: str) -> None:
    if name.endswith(".txt"):
        (tmp_path / name).write_text("x")
    with pytest.raises(UsageError, match=message):
        cited_keys([tmp_path / name])


def test_cited_directory_and_device_say_what_they_are(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        cited_keys([tmp_path])
    assert str(caught.value) == f"--cited {tmp_path} is a directory: name a .tex or .aux file"
    fifo = tmp_path / "pipe.tex"
    os.mkfifo(fifo)
    with pytest.raises(UsageError) as caught:
        cited_keys([fifo])
    assert str(caught.value) == f"--cited {fifo} is not a regular file: name a .tex or .aux file"


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
