"""The everyday commands, through the real CLI on real temporary libraries."""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import typer.core
import typer.main

from papercli.cli import app

from conftest import Runner, run_papercli


def add(cli: Runner, title: str, *extra: str) -> str:
    result = cli("add", "--title", title, *extra)
    assert result.exit_code == 0, result
    return result.stdout.split(":")[0].removeprefix("added ")


@pytest.fixture
def three(cli: Runner, library: Path) -> list[str]:
    keys = [
        add(
            cli,
            "Attention Is All You Need",
            "-a",
            "Ashish Vaswani",
            "-a",
            "Noam Shazeer",
            "--year",
            "2017",
            "-t",
            "transformers",
            "--url",
            "https://arxiv.org/abs/1706.03762",
        ),
        add(
            cli,
            "LoRA: Low-Rank Adaptation of Large Language Models",
            "-a",
            "Edward J. Hu",
            "--year",
            "2021",
            "-t",
            "peft,transformers",
        ),
        add(
            cli,
            "Deep Learning",
            "-a",
            "Yann LeCun",
            "--year",
            "2015",
            "--type",
            "paper",
            "--status",
            "read",
        ),
    ]
    return keys


def all_commands() -> list[tuple[str, Any]]:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    found: list[tuple[str, Any]] = []

    def walk(prefix: str, cmd: Any) -> None:
        if isinstance(cmd, typer.core.TyperGroup):
            for name, sub in cmd.commands.items():
                walk(f"{prefix} {name}".strip(), sub)
        found.append((prefix, cmd))

    walk("", group)
    return found


def test_every_command_has_help_with_an_example(cli: Runner) -> None:
    names = []
    for name, cmd in all_commands():
        if not name:
            continue
        names.append(name)
        result = cli(*name.split(), "--help")
        assert result.exit_code == 0, name
        assert cmd.help and len(cmd.help) > 20, f"{name} has no help text"
        if not isinstance(cmd, typer.core.TyperGroup):
            assert "Example" in (cmd.help or ""), f"{name} --help shows no example"
    for expected in (
        "init",
        "add",
        "list",
        "show",
        "edit",
        "rm",
        "tag",
        "untag",
        "tags",
        "tags rename",
        "note",
        "notes",
        "status",
        "open",
        "rekey",
        "stats",
    ):
        assert expected in names


TYPE_LABEL = re.compile(r"<(?:bool|str|int|float|path|Path|list\[\w+\])>")


def help_examples() -> list[list[str]]:
    """The 'papercli ...' examples of each command's --help text, one line each."""
    found = []
    for _, cmd in all_commands():
        text = " ".join((cmd.help or "").split())
        for part in re.split(r"Examples?: ", text)[1:]:
            found.append(
                [f"papercli {e.strip().rstrip(';. ')}" for e in part.split("papercli ")[1:]]
            )
    return found


def test_help_has_no_type_labels_and_one_meaning_for_each_short_option(cli: Runner) -> None:
    meanings: dict[str, set[str]] = {}
    for name, cmd in all_commands():
        shown = cli(*name.split(), "--help").stdout
        assert not TYPE_LABEL.search(shown), f"papercli {name} --help: {TYPE_LABEL.search(shown)}"
        for param in cmd.params:
            for short in (o for o in getattr(param, "opts", []) if len(o) == 2):
                meanings.setdefault(short, set()).add(max(param.opts, key=len))
    assert {s: m for s, m in meanings.items() if len(m) > 1} == {}
    assert meanings["-n"] == {"--dry-run"}


# Examples that need the network, a draft, a file to import, an editor or a browser, a
# paper the bundled library does not hold twice (merge), or a person at a terminal (pick).
NOT_OFFLINE = re.compile(
    r"--cited|papercli (add \d|refresh |import |check |edit |open |merge |pick )"
)


def test_every_help_example_works_on_the_bundled_library(tmp_path: Path) -> None:
    """The examples of each --help run, as written and in turn, on a fresh copy of the
    bundled library, and each finds something (exit 0, some output)."""
    import shlex
    import shutil

    bundled = tmp_path / "bundled"
    assert run_papercli("init", str(bundled)).returncode == 0
    groups = help_examples()
    ran = 0
    for n, examples in enumerate(groups):
        library = tmp_path / f"lib{n}"
        shutil.copytree(bundled, library)
        env = {"PAPERCLI_LIBRARY": str(library), "EDITOR": "true"}  # an editor changing nothing
        for example in examples:
            if NOT_OFFLINE.search(example):
                continue
            command, _, pipe = example.partition(" | ")
            words = shlex.split(command)[1:]
            result = run_papercli(*words, env=env, cwd=tmp_path)
            assert result.returncode == 0, (example, result.stderr)
            output = words[words.index("-o") + 1] if "-o" in words else ""
            assert result.stdout.strip() or (tmp_path / output).read_text().strip(), example
            if pipe.startswith("jq"):
                assert json.loads(result.stdout), example
            ran += 1
    assert sum(map(len, groups)) >= 25 and ran >= 18


def test_version_and_python_m(cli: Runner) -> None:
    assert cli("--version").stdout.startswith("papercli ")
    proc = run_papercli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("papercli ")


def test_first_run_creates_the_user_library_from_the_bundled_one(isolated_env: Path) -> None:
    proc = run_papercli("list", "--limit", "1")
    assert proc.returncode == 0, proc
    target = isolated_env / "data" / "papercli" / "library"
    assert (target / "library.toml").is_file()
    assert proc.stderr.startswith(f"papercli: created your library at {target} from the bundled")
    assert proc.stderr.count("\n") == 1
    bundled = len(list((Path(__file__).parent.parent / "data/library/papers").glob("*.toml")))
    assert len(list((target / "papers").glob("*.toml"))) == bundled > 150
    # Only once.
    again = run_papercli("list", "--limit", "1")
    assert "created your library" not in again.stderr


def test_init_refuses_an_existing_library_and_non_empty_dirs(cli: Runner, tmp_path: Path) -> None:
    assert cli("init", str(tmp_path / "a"), "--empty").exit_code == 0
    result = cli("init", str(tmp_path / "a"), "--empty")
    assert result.exit_code == 2
    assert "already a papercli library" in result.stderr
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.txt").write_text("x")
    result = cli("init", str(tmp_path / "b"))
    assert result.exit_code == 2 and "not empty" in result.stderr


def test_list_plain_columns_filters_and_sorts(cli: Runner, three: list[str]) -> None:
    out = cli("list", "--sort", "year").stdout.splitlines()
    assert [line.split("\t")[0] for line in out] == [
        "hu2021lora",
        "vaswani2017attention",
        "lecun2015deep",
    ]
    out = cli("list", "--sort", "title").stdout.splitlines()
    assert [line.split("\t")[0] for line in out] == [
        "vaswani2017attention",
        "lecun2015deep",
        "hu2021lora",
    ]
    out = cli("list", "--tag", "transformers", "--tag", "peft").stdout.splitlines()
    assert [line.split("\t")[0] for line in out] == ["hu2021lora"]
    assert len(cli("list", "--status", "read").stdout.splitlines()) == 1
    assert len(cli("list", "--limit", "1").stdout.splitlines()) == 1
    result = cli("list", "--tag", "nothing-has-this")
    assert result.exit_code == 1 and result.stderr == "papercli: no papers match\n"
    result = cli("list", "--status", "finished")
    assert result.exit_code == 2
    assert result.stderr == (
        "papercli: error: invalid status 'finished': use one of unread, reading, read\n"
    )


def test_list_json_shape(cli: Runner, three: list[str]) -> None:
    data = json.loads(cli("list", "--json", "--sort", "key").stdout)
    assert [d["key"] for d in data] == sorted(three)
    first = data[0]
    assert set(first) >= {
        "key",
        "type",
        "title",
        "authors",
        "year",
        "arxiv_id",
        "url",
        "tags",
        "status",
    }
    assert first["authors"] == ["Edward J. Hu"]
    assert json.loads(cli("list", "--json", "--tag", "none-such").stdout) == []


def test_show_markdown_and_json(cli: Runner, three: list[str]) -> None:
    assert (
        cli("note", "hu2021lora", "rank 4 is enough", "--page", "7", "--quote", "we find").exit_code
        == 0
    )
    out = cli("show", "hu2021").stdout
    assert out.startswith("# LoRA: Low-Rank Adaptation of Large Language Models\n")
    assert "- **authors**: Edward J. Hu" in out
    assert "### Note 1 (p. 7;" in out
    assert "> we find" in out
    data = json.loads(cli("show", "hu2021lora", "--json").stdout)
    assert data["notes"][0]["text"] == "rank 4 is enough"
    assert data["notes"][0]["page"] == "7"


def test_refs_key_prefix_arxiv_id_ambiguity(cli: Runner, three: list[str]) -> None:
    assert cli("show", "vaswani").exit_code == 0
    result = cli("show", "1706.03762v5")
    assert result.exit_code == 0 and "Attention Is All You Need" in result.stdout
    add(cli, "Attention Again, the Sequel", "-a", "Ashish Vaswani", "--year", "2018")
    result = cli("show", "vaswani")
    assert result.exit_code == 1
    assert result.stderr == (
        "papercli: error: 'vaswani' matches 2 papers: vaswani2017attention, "
        "vaswani2018attention; give more of the key\n"
    )
    result = cli("show", "2301.00001")
    assert result.exit_code == 1 and "no paper with arXiv id 2301.00001" in result.stderr


def test_tag_untag_tags_and_rename(cli: Runner, three: list[str]) -> None:
    assert cli("tag", "lecun", "Deep Learning", "classics").stdout == (
        "lecun2015deep: deep-learning, classics\n"
    )
    assert cli("untag", "lecun", "classics").stdout == "lecun2015deep: deep-learning\n"
    result = cli("untag", "lecun", "nope")
    assert result.exit_code == 1
    assert json.loads(cli("tags", "--json").stdout) == {
        "transformers": 2,
        "deep-learning": 1,
        "peft": 1,
    }
    assert cli("tags", "rename", "transformers", "peft").stdout == (
        "renamed transformers to peft on 2 paper(s)\n"
    )
    assert json.loads(cli("tags", "--json").stdout) == {"peft": 2, "deep-learning": 1}
    assert cli("tags", "rename", "zzz", "y").exit_code == 1


def test_status_rm_and_rekey(cli: Runner, three: list[str], library: Path) -> None:
    assert cli("status", "hu2021lora", "reading").stdout == "hu2021lora: reading\n"
    assert cli("status", "hu2021lora", "done").exit_code == 2
    result = cli("rm", "lecun2015deep")  # no terminal to ask on
    assert result.exit_code == 2 and "pass --yes" in result.stderr
    assert (library / "papers" / "lecun2015deep.toml").exists()
    removed = cli("rm", "lecun2015deep", "--yes").stdout
    assert removed == "removed lecun2015deep (Deep Learning)\n"
    assert not (library / "papers" / "lecun2015deep.toml").exists()
    assert cli("rekey", "hu2021lora", "lora").stdout == (
        "renamed hu2021lora to lora; hu2021lora is kept as an alias\n"
    )
    assert cli("show", "lora", "--json").exit_code == 0
    assert json.loads(cli("show", "hu2021lora", "--json").stdout)["key"] == "lora"
    assert cli("rekey", "lora", "vaswani2017attention").exit_code == 2
    assert cli("rekey", "lora", "Bad Key").exit_code == 2


def test_add_by_hand_validation(cli: Runner, library: Path) -> None:
    assert cli("add").exit_code == 2
    assert cli("add", "--title", "x", "--type", "blogpost").exit_code == 2
    assert cli("add", "--title", "x", "--year", "-3").exit_code == 2
    result = cli("add", "--title", "Organisations", "-a", "{Google Brain}", "--year", "2023")
    assert result.stdout == "added google2023organisations: Organisations\n"


def write_editor(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake_editor.py"
    script.write_text(textwrap.dedent(body))
    # An editor command with arguments, run without a shell.
    return f"{sys.executable} {script} --wait"


def test_edit_saves_a_valid_edit(
    cli: Runner, three: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, library: Path
) -> None:
    monkeypatch.setenv(
        "EDITOR",
        write_editor(
            tmp_path,
            """
        import sys
        path = sys.argv[-1]
        assert sys.argv[1] == "--wait"
        text = open(path).read().replace("Deep Learning", "Deep Learning (Nature)")
        open(path, "w").write(text)
    """,
        ),
    )
    result = cli("edit", "lecun2015deep")
    assert result.exit_code == 0, result
    assert "Deep Learning (Nature)" in (library / "papers" / "lecun2015deep.toml").read_text()


def test_edit_rejects_an_invalid_edit(
    cli: Runner, three: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, library: Path
) -> None:
    before = (library / "papers" / "lecun2015deep.toml").read_bytes()
    monkeypatch.setenv(
        "VISUAL",
        write_editor(
            tmp_path,
            """
        import sys
        open(sys.argv[-1], "a").write("year = = broken\\n")
    """,
        ),
    )
    result = cli("edit", "lecun2015deep")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "papercli: error: invalid edit, lecun2015deep was not changed: lecun2015deep.toml:"
    )
    assert (library / "papers" / "lecun2015deep.toml").read_bytes() == before


def test_missing_editor(cli: Runner, three: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", "no-such-editor-anywhere --flag")
    result = cli("edit", "lecun2015deep")
    assert result.exit_code == 2
    assert result.stderr == (
        "papercli: error: the editor 'no-such-editor-anywhere' was not found: "
        "set $VISUAL or $EDITOR to an editor\n"
    )


def test_note_in_the_editor(
    cli: Runner, three: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "EDITOR",
        write_editor(
            tmp_path,
            """
        import sys
        open(sys.argv[-1], "w").write("Written in the *editor*.\\n")
    """,
        ),
    )
    assert cli("note", "hu2021lora", "--page", "2").stdout == "added note 1 to hu2021lora\n"
    notes = json.loads(cli("notes", "hu2021lora", "--json").stdout)
    assert notes[0]["text"] == "Written in the *editor*."
    assert notes[0]["page"] == "2"
    monkeypatch.setenv("EDITOR", write_editor(tmp_path, "pass\n"))
    result = cli("note", "hu2021lora")
    assert result.exit_code == 1
    assert result.stderr == "papercli: the note is empty; nothing was saved\n"


def test_open_uses_the_browser(
    cli: Runner, three: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {log}\n')
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    result = cli("open", "vaswani2017attention")
    assert result.exit_code == 0, result
    assert log.read_text() == "https://arxiv.org/abs/1706.03762\n"
    result = cli("open", "lecun2015deep")
    assert result.exit_code == 1 and "has no URL" in result.stderr


def test_no_color_and_terminal_output_do_not_break(three: list[str]) -> None:
    proc = run_papercli("list", env={"NO_COLOR": "1"})
    assert proc.returncode == 0 and "\x1b[" not in proc.stdout


def test_stats(cli: Runner, three: list[str]) -> None:
    data = json.loads(cli("stats", "--json").stdout)
    assert data["entries"] == 3
    assert data["by_status"] == {"unread": 2, "read": 1}
    assert data["missing"]["abstract"] == 3


def test_broken_pipe_is_quiet(three: list[str]) -> None:
    proc = run_papercli("list")
    assert proc.returncode == 0
    import subprocess

    shell = subprocess.run(
        f"{sys.executable} -m papercli list | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    assert "Traceback" not in shell.stderr


def test_papers_added_together_list_newest_published_first(cli: Runner, library: Path) -> None:
    for title, year in (
        ("Paper from the middle", "2019"),
        ("The oldest paper here", "2012"),
        ("The newest paper here", "2023"),
    ):
        assert cli("add", "--title", title, "--year", year).exit_code == 0
    for path in (library / "papers").glob("*.toml"):  # as an import would: one timestamp
        text = path.read_text()
        start = text.index("added = ")
        end = text.index("\n", start)
        path.write_text(text[:start] + "added = 2026-01-01T00:00:00Z" + text[end:])
    listed = [line.split("\t")[0] for line in cli("list").stdout.splitlines()]
    assert listed == ["2023newest", "2019paper", "2012oldest"]
    found = json.loads(cli("search", "year:2000..2030", "--json").stdout)
    assert [h["key"] for h in found] == ["2023newest", "2019paper", "2012oldest"]


def test_help_of_every_command_is_printed_without_running_the_app(library: Path) -> None:
    """``papercli GROUP [COMMAND] --help`` is printed without calling the main options'
    callback (whose values Typer checks with pydantic): the same text as through the app, and
    pydantic is never imported for it."""
    import subprocess
    import sys

    for path in (["export"], ["export", "bibtex"], ["tags", "rename"], ["note"], ["search"]):
        fast = run_papercli("-L", str(library), *path, "--help")
        through_app = run_papercli("-L", str(library), "--", *path, "--help")
        assert fast.returncode == through_app.returncode == 0
        assert fast.stdout == through_app.stdout and fast.stdout.startswith("Usage: papercli ")
    imports = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "papercli", "export", "bibtex", "--help"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "pydantic" not in imports.stderr
    assert run_papercli("nosuch", "--help").returncode == 2
