"""The config file is checked: a wrong type is one error line naming the key and the file (exit
2); an unknown key is one warning line with the closest known key, and the command goes on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import Runner


@pytest.fixture
def config(library: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config file, naming the test library (so every command reads it)."""
    monkeypatch.delenv("PAPERCLI_LIBRARY")
    path = Path(os.environ["PAPERCLI_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"library = '{library}'\n")
    return path


def test_unknown_keys_are_warned_about_with_the_closest_known_key(
    cli: Runner, config: Path
) -> None:
    config.write_text(
        config.read_text()
        + "libary = '/elsewhere'\ntimeout = 3\ncolour = false\n"
        + "[arxiv]\ntimout = 30\ndelay = 1\n[display]\nwidth = 80\n"
    )
    result = cli("list")
    assert result.exit_code == 1  # the library is empty: "no papers match"
    assert result.stderr.splitlines() == [
        f"papercli: warning: {config}: unknown key libary (did you mean library?); it is ignored",
        f"papercli: warning: {config}: unknown key timeout (did you mean [arxiv] timeout?); "
        "it is ignored",
        f"papercli: warning: {config}: unknown key colour; it is ignored",
        f"papercli: warning: {config}: unknown key [arxiv] timout (did you mean [arxiv] timeout?); "
        "it is ignored",
        f"papercli: warning: {config}: unknown key [display] width; it is ignored",
        "papercli: no papers match",
    ]


def test_the_warnings_come_once_a_command(cli: Runner, config: Path) -> None:
    config.write_text(config.read_text() + "libary = 'x'\n")
    result = cli("add", "--title", "A Paper", "--year", "2020")
    assert result.exit_code == 0
    assert result.stderr.count("unknown key libary") == 1
    assert result.stdout == "added 2020paper: A Paper\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[arxiv]\ntimeout = 'soon'\n", "[arxiv] timeout='soon' is not a number of seconds"),
        ("[arxiv]\nretries = true\n", "[arxiv] retries=True is not a whole number"),
        ("[display]\ncolor = 'no'\n", "[display] color must be true or false, not 'no'"),
        ("[doi]\napi = 5\n", "[doi] api must be a URL (a string)"),
        ("arxiv = 3\n", "arxiv must be a table ([arxiv]), not 3"),
    ],
)
def test_a_wrong_type_is_one_line_naming_key_and_file(
    cli: Runner, config: Path, text: str, message: str
) -> None:
    config.write_text(config.read_text() + text)
    result = cli("list")
    assert result.exit_code == 2
    assert result.stderr == f"papercli: error: {config}: {message}\n"
    assert result.stdout == ""
