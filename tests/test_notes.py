"""Notes in the editor (a template naming the paper, with page/section/quote lines and the
earlier notes as comments), changing one note and deleting one, with scripted editors run
as real subprocesses by papercli."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import Runner, run_papercli


@pytest.fixture
def lora(cli: Runner, library: Path) -> Path:
    """A paper with two notes; returns its file."""
    result = cli(
        "add", "--title", "LoRA: Low-Rank Adaptation of Large Language Models",
        "-a", "Edward J. Hu", "-a", "Yelong Shen", "--year", "2021",
        "--note", "Rank 4 is enough.",
    )  # fmt: skip
    assert result.exit_code == 0, result
    result = cli("note", "hu2021lora", "Compare with adapters.", "--page", "3", "--section", "5")
    assert result.stdout == "added note 2 to hu2021lora\n"
    return library / "papers" / "hu2021lora.toml"


def editor(tmp_path: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """EDITOR set to a Python script: it copies the file it is given to seen.md, then runs
    ``body`` with ``text`` (the file's content) and writes ``text`` back."""
    script = tmp_path / "editor.py"
    seen = tmp_path / "seen.md"
    script.write_text(
        "import shutil, sys\n"
        f"shutil.copy(sys.argv[-1], {str(seen)!r})\n"
        "text = open(sys.argv[-1], encoding='utf-8').read()\n"
        + textwrap.dedent(body)
        + "open(sys.argv[-1], 'w', encoding='utf-8').write(text)\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    return seen


def notes_of(cli: Runner, key: str = "hu2021lora") -> list[dict[str, str]]:
    import json

    result: list[dict[str, str]] = json.loads(cli("notes", key, "--json").stdout)
    return result


def test_the_template_names_the_paper_and_shows_earlier_notes(
    cli: Runner, lora: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = editor(tmp_path, "", monkeypatch)
    cli("note", "hu2021lora", "--page", "9")
    shown = seen.read_text()
    assert shown.startswith(
        "%% A new note on hu2021lora: LoRA: Low-Rank Adaptation of Large Language Models\n"
        "%% Authors: Edward J. Hu, Yelong Shen (2021)\n"
    )
    assert "\npage: 9\nsection:\nquote:\n" in shown
    assert "%% Note 1 (" in shown and "%% Rank 4 is enough.\n" in shown
    assert "%% Note 2 (p. 3; 5; " in shown and "%% Compare with adapters.\n" in shown


def test_a_filled_template_is_saved_without_its_comments(
    cli: Runner, lora: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor(
        tmp_path,
        """
        text = text.replace("page:", "page: 12").replace("section:", "section: 4.1")
        text = text.replace("quote:", "quote: We hypothesize that\\n  the update has low rank")
        text = text.replace("\\n\\n\\n", "\\n\\n# Why it works\\n\\nThe *intrinsic* rank.\\n\\n", 1)
        """,
        monkeypatch,
    )
    result = cli("note", "hu2021lora")
    assert (result.exit_code, result.stdout) == (0, "added note 3 to hu2021lora\n")
    third = notes_of(cli)[2]
    assert third["text"] == "# Why it works\n\nThe *intrinsic* rank."
    assert (third["page"], third["section"]) == ("12", "4.1")
    assert third["quote"] == "We hypothesize that\nthe update has low rank"
    assert "%%" not in lora.read_text()


def test_an_empty_or_unchanged_template_saves_nothing_and_says_so(
    cli: Runner, lora: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = lora.read_bytes()
    editor(tmp_path, "", monkeypatch)
    result = cli("note", "hu2021lora")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "papercli: the note is empty; nothing was saved\n"
    editor(tmp_path, 'text = text.replace("page:", "page: 4")\n', monkeypatch)
    assert cli("note", "hu2021lora").exit_code == 1  # a page but no text is no note
    assert lora.read_bytes() == before


def test_edit_n_opens_that_note_and_saves_the_change(
    cli: Runner, lora: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = notes_of(cli)[1]["created"]
    seen = editor(
        tmp_path,
        'text = text.replace("Compare with adapters.", "Compare with adapters (Houlsby).")\n',
        monkeypatch,
    )
    result = cli("note", "hu2021lora", "--edit", "2")
    assert (result.exit_code, result.stdout) == (0, "changed note 2 of hu2021lora\n")
    assert "%% Editing note 2 of hu2021lora" in seen.read_text()
    assert "\npage: 3\nsection: 5\nquote:\n\nCompare with adapters.\n" in seen.read_text()
    assert "%% Note 1" in seen.read_text() and "%% Note 2" not in seen.read_text()
    first, second = notes_of(cli)
    assert first["text"] == "Rank 4 is enough."
    assert (second["text"], second["page"], second["created"]) == (
        "Compare with adapters (Houlsby).",
        "3",
        created,
    )
    before = lora.read_bytes()
    editor(tmp_path, "", monkeypatch)
    result = cli("note", "hu2021lora", "--edit", "1")
    assert result.stdout == "no changes to note 1 of hu2021lora\n"
    assert lora.read_bytes() == before


def test_edit_n_with_text_and_the_refusals(cli: Runner, lora: Path) -> None:
    result = cli("note", "hu2021lora", "Rank 8 is safer.", "--edit", "1", "--page", "2")
    assert result.stdout == "changed note 1 of hu2021lora\n"
    assert (notes_of(cli)[0]["text"], notes_of(cli)[0]["page"]) == ("Rank 8 is safer.", "2")
    before = lora.read_bytes()
    result = cli("note", "hu2021lora", " ", "--edit", "1")
    assert result.exit_code == 2
    assert result.stderr == (
        "papercli: error: the note's text is empty; note 1 was not changed (to delete it: "
        "papercli note hu2021lora --delete 1)\n"
    )
    result = cli("note", "hu2021lora", "x", "--edit", "3")
    assert result.exit_code == 1
    assert result.stderr == (
        "papercli: error: hu2021lora has no note 3: it has 2 (see 'papercli notes hu2021lora')\n"
    )
    assert cli("note", "hu2021lora", "--edit", "1", "--delete", "1").exit_code == 2
    assert lora.read_bytes() == before


def test_delete_n_asks_or_needs_yes_and_says_what_it_deleted(cli: Runner, lora: Path) -> None:
    before = lora.read_bytes()
    result = run_papercli("note", "hu2021lora", "--delete", "1", input="y\n")  # not a terminal
    assert result.returncode == 2
    assert result.stderr == (
        "papercli: error: not deleting a note without confirmation: pass --yes\n"
    )
    assert lora.read_bytes() == before
    day = notes_of(cli)[0]["created"][:10]
    result = cli("note", "hu2021lora", "--delete", "1", "--yes")
    assert result.stdout == f"deleted note 1 ({day}) of hu2021lora: Rank 4 is enough.\n"
    assert [n["text"] for n in notes_of(cli)] == ["Compare with adapters."]
    assert "### Note 1 (p. 3; 5;" in cli("show", "hu2021lora").stdout


def on_a_terminal_answering(answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """papercli with stdin on a pseudo-terminal, typing ``answer``."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "papercli", *args],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(follower)
    os.write(leader, answer.encode())
    out, err = proc.communicate(timeout=60)
    os.close(leader)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_delete_n_on_a_terminal_asks_first(cli: Runner, lora: Path) -> None:
    before = lora.read_bytes()
    result = on_a_terminal_answering("n\n", "note", "hu2021lora", "--delete", "2")
    assert result.returncode == 1
    assert result.stderr == (
        "Delete note 2 (p. 3; 5; " + notes_of(cli)[1]["created"][:10] + ") of hu2021lora: "
        "Compare with adapters.? [y/N] papercli: nothing deleted\n"
    )
    assert lora.read_bytes() == before
    result = on_a_terminal_answering("y\n", "note", "hu2021lora", "--delete", "2")
    assert result.returncode == 0
    assert result.stdout.startswith("deleted note 2 (p. 3; 5; ")
    assert [n["text"] for n in notes_of(cli)] == ["Rank 4 is enough."]


def test_a_note_with_comment_like_lines_is_not_edited_through_the_template(
    cli: Runner, lora: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("note", "hu2021lora", "%% kept as written\nA note.").exit_code == 0
    seen = editor(tmp_path, "", monkeypatch)
    before = lora.read_bytes()
    result = cli("note", "hu2021lora", "--edit", "3")
    assert result.exit_code == 2
    assert "note 3 has lines starting with %%, which the editor's template drops" in result.stderr
    assert not seen.exists() and lora.read_bytes() == before


def test_no_editor_set_and_no_terminal_is_one_line_not_a_terminal_editor(
    cli: Runner, lora: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without $VISUAL/$EDITOR papercli would fall back to nano or vi, which need a terminal.
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    before = lora.read_bytes()
    result = cli("note", "hu2021lora")
    assert result.exit_code == 2
    assert result.stderr == (
        "papercli: error: no terminal to run an editor in: set $VISUAL or $EDITOR to one that "
        "opens its own window (for example EDITOR='code -w'), or give the text on the command "
        "line\n"
    )
    assert lora.read_bytes() == before
