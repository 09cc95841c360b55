"""Output on a real terminal (a pseudo-terminal) and through a pipe: tables fitted to the
terminal's width, tab-separated lines that never cut a value, colour, and turning colour off."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from conftest import Runner, run_papercli


def on_a_terminal(
    *args: str, env: dict[str, str] | None = None, columns: int = 120, stderr: bool = False
) -> str:
    """Run papercli with stdout (and stderr if asked) on a pseudo-terminal ``columns`` wide;
    return what it showed."""
    leader, follower = pty.openpty()
    full_env = dict(os.environ, COLUMNS=str(columns), TERM="xterm-256color", **(env or {}))
    full_env.pop("NO_COLOR", None)
    full_env.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "papercli", *args],
        stdout=follower,
        stderr=follower if stderr else subprocess.DEVNULL,
        env=full_env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def tagged(cli: Runner, library: Path) -> None:
    result = cli(
        "add",
        "--title",
        "Attention Is All You Need",
        "-a",
        "Ashish Vaswani",
        "--year",
        "2017",
        "--status",
        "read",
    )
    assert result.exit_code == 0


COLOUR = "\x1b[3"  # an SGR foreground colour (30-39)


def test_tables_are_drawn_with_colour_on_a_terminal(tagged: None) -> None:
    shown = on_a_terminal("list")
    assert "\t" not in shown  # a table, not tab-separated lines
    assert "vaswani2017attention" in shown
    assert COLOUR in shown


def test_no_color_and_the_config_turn_colour_off(tagged: None, isolated_env: Path) -> None:
    assert COLOUR not in on_a_terminal("list", env={"NO_COLOR": "1"})
    config = Path(os.environ["PAPERCLI_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[display]\ncolor = false\n")
    shown = on_a_terminal("search", "attention")
    assert "vaswani2017attention" in shown
    assert COLOUR not in shown


# -- tables that fit ---------------------------------------------------------------------------

LONG_TITLE = (
    "A Very Long Title About Sparse Mixture of Experts Routing That Goes On and On Through "
    "Several Clauses, Many Qualifications and a Subtitle: Scaling Laws Revisited for the "
    "Tenth Time With Feeling"
)
LONG_TAGS = "transformer-reinforcement-learning,mixture-of-experts,scaling-laws,to-read-soon"


@pytest.fixture
def varied(cli: Runner, library: Path) -> Path:
    """Four papers: a long title with long tags, several authors, an organisation, no year."""
    for args in (
        ["--title", LONG_TITLE, "-a", "Noam Shazeer", "-a", "Azalia Mirhoseini", "-a",
         "Krzysztof Maziarz", "--year", "2017", "--tag", LONG_TAGS, "--status", "reading"],
        ["--title", "Attention Is All You Need", "-a", "Ashish Vaswani", "--year", "2017",
         "--tag", "attention"],
        ["--title", "Sparse Routing Notes", "-a", "{Google Brain}", "--year", "2022"],
        ["--title", "Undated sparse blog post", "--tag", "blog"],
    ):  # fmt: skip
        result = cli("add", *args)
        assert result.exit_code == 0, result
    return library


def table_lines(shown: str) -> list[str]:
    """What a terminal showed, as lines without colour codes."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", shown)
    return [line for line in plain.replace("\r\n", "\n").split("\n") if line.strip()]


def rows_of(lines: list[str]) -> dict[str, list[str]]:
    """Each paper's lines (its first starts with its key), keyed by key."""
    rows: dict[str, list[str]] = {}
    current = ""
    for line in lines[1:]:
        if not line.startswith(" "):
            current = line.split()[0]
        rows.setdefault(current, []).append(line)
    return rows


@pytest.mark.parametrize("command", [["list"], ["search", "sparse"]])
def test_at_80_columns_key_year_first_author_and_title_in_two_lines(
    varied: Path, command: list[str]
) -> None:
    lines = table_lines(on_a_terminal(*command, columns=80, env={"NO_COLOR": "1"}))
    assert lines[0].split() == ["Key", "Year", "Authors", "Title"]
    assert all(cell_len(line) <= 80 for line in lines)
    rows = rows_of(lines)
    assert set(rows) >= {"shazeer2017very", "google2022sparse", "undated"}
    long_row = rows["shazeer2017very"]
    assert len(long_row) == 2  # the title in two lines, cut with '…'
    assert long_row[0].split()[:3] == ["shazeer2017very", "2017", "Shazeer"]
    assert long_row[1].rstrip().endswith("…")
    assert "Google Brain" in rows["google2022sparse"][0]
    assert "reading" not in "\n".join(lines) and "scaling-laws" not in "\n".join(lines)


def test_at_200_columns_status_all_authors_and_tags_too(varied: Path) -> None:
    lines = table_lines(on_a_terminal("list", columns=200, env={"NO_COLOR": "1"}))
    assert lines[0].split() == ["Key", "Year", "Status", "Authors", "Title", "Tags"]
    assert all(cell_len(line) <= 200 for line in lines)
    row = rows_of(lines)["shazeer2017very"]
    assert "reading" in row[0] and "Shazeer, Mirhoseini, Maziarz" in row[0]
    assert "Scaling Laws Revisited for the Tenth" in "".join(row)  # more of the title
    assert "transformer-reinforcement-learning" in "".join(row)
    lines = table_lines(on_a_terminal("search", "sparse", columns=200, env={"NO_COLOR": "1"}))
    assert lines[0].split() == ["Key", "Year", "Score", "Matched", "Authors", "Title", "Tags"]


def test_piped_output_is_one_paper_a_line_with_every_value_whole(varied: Path) -> None:
    listed = run_papercli("list", "--limit", "0")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 4
    by_key = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert by_key["shazeer2017very"] == [
        "shazeer2017very",
        "2017",
        "reading",
        "Noam Shazeer; Azalia Mirhoseini; Krzysztof Maziarz",
        LONG_TAGS,
        LONG_TITLE,
    ]
    assert by_key["undated"][1] == ""
    found = run_papercli("search", "sparse", "--limit", "0").stdout.splitlines()
    cells = next(line.split("\t") for line in found if line.startswith("shazeer2017very"))
    assert cells[:2] == ["shazeer2017very", "2017"] and cells[3] == "title"
    assert cells[-2:] == [LONG_TAGS, LONG_TITLE]


def test_grep_on_piped_list_finds_every_paper_with_a_tag(cli: Runner, tmp_path: Path) -> None:
    """The bundled library, as a new user has it: `list | grep TAG` finds what --tag finds."""
    path = tmp_path / "bundled"
    assert cli("init", str(path)).exit_code == 0
    tag = "transformer-reinforcement-learning"
    env = dict(os.environ, PAPERCLI_LIBRARY=str(path))
    listed = run_papercli("list", "--tag", tag, "--limit", "0", "--json", env=env)
    tagged = json.loads(listed.stdout)
    assert len(tagged) >= 2
    piped = subprocess.run(
        f"'{sys.executable}' -m papercli list --limit 0 | grep {tag}",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert sorted(line.split("\t")[0] for line in piped.stdout.splitlines()) == sorted(
        p["key"] for p in tagged
    )


def test_piped_output_escapes_tabs_and_newlines_inside_values(cli: Runner, library: Path) -> None:
    (library / "papers" / "odd.toml").write_text(
        'title = "Tab\\there and\\na new line"\ntags = ["x"]\n'
    )
    line = run_papercli("list").stdout
    assert line == "odd\t\tunread\t\tx\tTab\\x09here and\\x0aa new line\n"


def test_piped_output_escapes_control_characters_among_clean_lines(
    cli: Runner, library: Path
) -> None:
    """The piped table is checked as a whole: one value with an escape sequence or a bidi
    override among clean papers is escaped, the others are written as they are."""
    (library / "papers" / "clean.toml").write_text('title = "Plain title"\nyear = 2020\n')
    (library / "papers" / "evil.toml").write_text(
        'title = "Evil \\u001b]52;c;aGk=\\u0007 and \\u202etxt.exe"\nyear = 2021\n'
    )
    lines = run_papercli("list", "--sort", "key", "--format", "key,year,title").stdout
    assert lines == (
        "clean\t2020\tPlain title\nevil\t2021\tEvil \\x1b]52;c;aGk=\\x07 and \\u202etxt.exe\n"
    )


def test_piped_output_keeps_the_sort_order_when_it_escapes(cli: Runner, library: Path) -> None:
    """With a value to escape (the slower path, line by line), the lines still come in the
    sort's order, and without one too."""
    for key, title in (("b", "Bee"), ("a", "Ay\\u001b[2J"), ("c", "Sea")):
        (library / "papers" / f"{key}.toml").write_text(f'title = "{title}"\nyear = 2020\n')
    lines = run_papercli("list", "--sort", "key", "--reverse", "--format", "key,title").stdout
    assert lines == "c\tSea\nb\tBee\na\tAy\\x1b[2J\n"
    (library / "papers" / "a.toml").write_text('title = "Ay"\nyear = 2020\n')
    lines = run_papercli("list", "--sort", "key", "--reverse", "--format", "key,title").stdout
    assert lines == "c\tSea\nb\tBee\na\tAy\n"


def test_piped_output_escapes_c1_and_isolates_in_authors_as_utf8(
    cli: Runner, library: Path
) -> None:
    """Piped UTF-8 output is checked on its bytes (render.plain_columns): a C1 control (two
    bytes) in an author and an isolate (three) in a title are found and escaped."""
    (library / "papers" / "a.toml").write_text(
        'title = "Caf\u00e9 \u2013 \u201cquoted\u201d"\nauthors = ["M\u00fcller, Jo"]\n'
    )
    (library / "papers" / "b.toml").write_text(
        'title = "Left \u2067isolate"\nauthors = ["Evil\u009b, Eve"]\n'
    )
    lines = run_papercli("list", "--sort", "key", "--format", "key,authors,title").stdout
    assert lines == (
        "a\tJo M\u00fcller\tCaf\u00e9 \u2013 \u201cquoted\u201d\n"
        "b\tEve Evil\\x9b\tLeft \\u2067isolate\n"
    )


def test_the_utf8_check_finds_what_the_text_check_finds() -> None:
    from papercli.visible import acts_on_terminal, utf8_acts_on_terminal

    points = [*range(0x3000), *range(0x3000, 0x110000, 61), 0xFEFF, 0x10FFFF]
    for point in points:
        if 0xD800 <= point < 0xE000:
            continue
        text = f"a\tb {chr(point)}\u00e9\u2013c\n"
        assert utf8_acts_on_terminal(text.encode()) == acts_on_terminal(text), hex(point)


def test_piped_output_does_not_import_rich(varied: Path) -> None:
    probe = (
        "import sys\n"
        "from papercli.cli import main\n"
        "sys.argv = ['papercli', 'list', '--limit', '0']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('rich loaded' if 'rich' in sys.modules else 'no rich')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=dict(os.environ)
    )
    assert result.stderr == "no rich"
    assert len(result.stdout.splitlines()) == 4


def test_format_chooses_the_fields(varied: Path) -> None:
    result = run_papercli("list", "--format", "key,first-author,tags", "--sort", "key")
    assert result.stdout.splitlines()[:2] == [
        "google2022sparse\tGoogle Brain\t",
        f"shazeer2017very\tShazeer\t{LONG_TAGS}",
    ]
    shown = on_a_terminal("search", "attention", "--format", "key,score,matched")
    assert table_lines(shown)[0].split("\t")[::2] == ["vaswani2017attention", "title"]
    result = run_papercli("list", "--format", "key,yeer")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "papercli: error: unknown field 'yeer' in --format (did you mean year?): use key, year,"
    )


def test_papers_with_no_year_sort_last_in_either_direction(varied: Path) -> None:
    for extra in ([], ["--reverse"]):
        keys = run_papercli("list", "--sort", "year", "--format", "key", *extra).stdout.split()
        assert keys[-1] == "undated"
    assert run_papercli("list", "--sort", "year", "--reverse", "--format", "year").stdout.split()[
        :3
    ] == ["2017", "2017", "2022"]


# -- the pager ---------------------------------------------------------------------------------


@pytest.fixture
def pager(tmp_path: Path) -> tuple[str, Path]:
    """A PAGER value with arguments (run without a shell) and the file it records to: its
    arguments, then what it read on stdin."""
    script = tmp_path / "pager.py"
    record = tmp_path / "paged.txt"
    script.write_text(
        "import sys\n"
        f"with open({str(record)!r}, 'w') as out:\n"
        "    out.write(' '.join(sys.argv[1:]) + '\\n' + sys.stdin.read())\n"
    )
    return f"{sys.executable} {script} --from 'papercli show'", record


@pytest.fixture
def many_notes(cli: Runner, library: Path) -> str:
    assert cli("add", "--title", "Scaling Laws", "--year", "2020").exit_code == 0
    for n in range(1, 13):
        assert cli("note", "2020scaling", f"Observation number {n}.").exit_code == 0
    return "2020scaling"


@pytest.mark.parametrize("command", ["show", "notes"])
def test_long_output_goes_through_the_pager(
    many_notes: str, pager: tuple[str, Path], command: str
) -> None:
    value, record = pager
    shown = on_a_terminal(command, many_notes, env={"PAGER": value, "LINES": "20"})
    assert "Observation number 12." not in shown  # the pager had it, not the terminal
    args, _, paged = record.read_text().partition("\n")
    assert args == "--from papercli show"
    assert "Note 12" in paged and "Observation number 12." in paged


def test_no_pager_when_asked_short_or_piped(
    many_notes: str, pager: tuple[str, Path], cli: Runner
) -> None:
    value, record = pager
    shown = on_a_terminal("show", many_notes, "--no-pager", env={"PAGER": value, "LINES": "20"})
    assert "Observation number 12." in shown
    shown = on_a_terminal("notes", many_notes, env={"PAGER": value, "LINES": "200"})
    assert "Observation number 12." in shown  # it fits on the screen
    piped = run_papercli("show", many_notes, env={"PAGER": value, "LINES": "20"})
    assert "### Note 12" in piped.stdout
    assert not record.exists()


def test_a_pager_that_cannot_run_is_said_and_the_text_shown(many_notes: str) -> None:
    shown = on_a_terminal(
        "notes", many_notes, env={"PAGER": "no-such-pager -x", "LINES": "20"}, stderr=True
    )
    assert "Observation number 12." in shown
    assert "papercli: the pager 'no-such-pager' could not run" in shown


def test_a_narrow_terminal_keeps_key_and_title(varied: Path) -> None:
    lines = table_lines(on_a_terminal("list", columns=40, env={"NO_COLOR": "1"}))
    assert lines[0].split() == ["Key", "Title"]
    assert all(cell_len(line) <= 40 for line in lines)
    assert rows_of(lines)["shazeer2017very"][1].rstrip().endswith("…")
