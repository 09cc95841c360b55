"""The picker (``papercli pick``), driven by Textual's own test pilot on a real library, and the
command run in a real pseudo-terminal."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from papercli.library import Library
from papercli.pick import PickApp

from conftest import ROOT, run_papercli

Script = Callable[[PickApp, Pilot[list[str] | None]], Awaitable[None]]


def drive(library: Path, script: Script, query: str = "") -> list[str] | None:
    """Run the picker headless on ``library``, let ``script`` drive it, return what it chose."""
    app = PickApp(Library.open(library), query)

    async def run() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            await settled(app, pilot)
            await script(app, pilot)

    asyncio.run(run())
    return app.return_value


async def settled(app: PickApp, pilot: Pilot[list[str] | None]) -> None:
    """Wait until the search for the query as it stands now has been shown."""
    for _ in range(400):
        await pilot.pause(0.02)
        if app.settled:
            return
    raise AssertionError("the picker's search never finished")


async def typed(app: PickApp, pilot: Pilot[list[str] | None], text: str) -> None:
    await pilot.press(*text)
    await settled(app, pilot)


def preview(app: PickApp) -> str:
    return str(app.query_one("#preview", Static).content)


def test_typing_ranks_with_papercli_search_and_enter_returns_the_key(filled: Path) -> None:
    async def script(app: PickApp, pilot: Pilot[list[str] | None]) -> None:
        await typed(app, pilot, "lora")
        assert app.highlighted_key() == "hu2021lora"
        shown = preview(app)
        assert "LoRA: Low-Rank Adaptation of Large Language Models" in shown
        assert "Hu, Edward J." in shown or "Edward J. Hu" in shown
        assert "2021" in shown and "#peft" in shown
        assert "Rank 4 is enough for GPT-3." in shown  # a note
        await pilot.press("enter")

    assert drive(filled, script) == ["hu2021lora"]


def test_typos_are_welcome_and_the_preview_follows_the_highlight(filled: Path) -> None:
    async def script(app: PickApp, pilot: Pilot[list[str] | None]) -> None:
        await typed(app, pilot, "atention is al you need")
        assert app.highlighted_key() == "vaswani2017attention"
        assert "Attention Is All You Need" in preview(app)
        await pilot.press("ctrl+u")  # clear the query: every paper, newest first
        await settled(app, pilot)
        assert len(app.hits) == 21
        second = app.hits[1].key
        await pilot.press("down")
        await pilot.pause()
        assert app.highlighted_key() == second
        assert second in preview(app)
        await pilot.press("enter")

    chosen = drive(filled, script)
    assert chosen is not None and len(chosen) == 1


@pytest.mark.parametrize("key", ["escape", "ctrl+c"])
def test_escape_returns_nothing(filled: Path, key: str) -> None:
    async def script(app: PickApp, pilot: Pilot[list[str] | None]) -> None:
        await typed(app, pilot, "lora")
        await pilot.press(key)

    assert drive(filled, script) is None


def test_tab_marks_several_and_enter_returns_them_in_order(filled: Path) -> None:
    async def script(app: PickApp, pilot: Pilot[list[str] | None]) -> None:
        keys = [h.key for h in app.hits]
        await pilot.press("down", "down", "tab")  # marks the third, moves to the fourth
        await pilot.press("up", "up", "up", "tab")  # marks the first
        await pilot.press("tab", "up", "tab")  # marks the second, then unmarks it again
        assert app.marked == [keys[2], keys[0]]
        await pilot.press("enter")

    app_keys: list[str] = []

    async def remember(app: PickApp, pilot: Pilot[list[str] | None]) -> None:
        app_keys.extend(h.key for h in app.hits)
        await script(app, pilot)

    assert drive(filled, remember) == [app_keys[2], app_keys[0]]


def test_starts_from_the_query_given_with_filters(filled: Path) -> None:
    async def script(app: PickApp, pilot: Pilot[list[str] | None]) -> None:
        assert app.query_one("#query", Input).value == "tag:peft"
        assert [h.key for h in app.hits] == ["hu2021lora"]
        await pilot.press("enter")

    assert drive(filled, script, query="tag:peft") == ["hu2021lora"]


def test_a_bad_query_is_said_not_raised(filled: Path) -> None:
    async def script(app: PickApp, pilot: Pilot[list[str] | None]) -> None:
        await typed(app, pilot, "transformer")
        shown = [h.key for h in app.hits]
        # Half typed, in one change (typed key by key on a slow machine, "transformer ta" could
        # be searched on the way): said, and the rows stay.
        query = app.query_one("#query", Input)
        query.value = "transformer tag:"
        query.cursor_position = len(query.value)
        await settled(app, pilot)
        assert "'tag:' needs a value" in str(app.query_one("#status").render())
        assert [h.key for h in app.hits] == shown
        await typed(app, pilot, "zzzz")
        assert app.hits == []
        assert "nothing matches" in str(app.query_one("#status").render())
        await pilot.press("enter")  # nothing to choose: the picker stays
        await pilot.press("escape")

    assert drive(filled, script) is None


def test_untrusted_text_is_shown_escaped(library: Path) -> None:
    (library / "papers" / "evil2020x.toml").write_text(
        'type = "paper"\n'
        'title = "Clear \\u001b[2J the screen [bold red]markup[/bold red]"\n'
        'authors = ["Smith, \\u202eJohn"]\n'
        "year = 2020\n"
        'status = "unread"\n'
        'abstract = "Copies \\u001b]52;c;aGk=\\u0007 to the clipboard."\n'
        "added = 2024-03-01T10:00:00Z\n",
        encoding="utf-8",
    )

    async def script(app: PickApp, pilot: Pilot[list[str] | None]) -> None:
        assert app.highlighted_key() == "evil2020x"
        shown = preview(app)
        assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
        assert "Clear \\x1b[2J the screen [bold red]markup[/bold red]" in shown
        assert "Copies \\x1b]52;c;aGk=\\x07 to the clipboard." in shown
        assert "\\u202eJohn" in shown
        await pilot.press("escape")

    assert drive(library, script) is None


def test_copy_the_key_or_a_cite_command(filled: Path) -> None:
    async def script(app: PickApp, pilot: Pilot[list[str] | None]) -> None:
        await typed(app, pilot, "lora")
        await pilot.press("ctrl+y")
        assert app.clipboard == "hu2021lora"
        await pilot.press("ctrl+l")
        assert app.clipboard == "\\cite{hu2021lora}"
        await pilot.press("ctrl+u")
        await settled(app, pilot)
        await pilot.press("tab", "tab", "ctrl+l")
        assert app.clipboard == f"\\cite{{{app.hits[0].key},{app.hits[1].key}}}"
        await pilot.press("escape")

    drive(filled, script)


def test_status_and_tag_keys_change_the_paper_through_papercli(filled: Path) -> None:
    async def script(app: PickApp, pilot: Pilot[list[str] | None]) -> None:
        await typed(app, pilot, "lora")
        await pilot.press("ctrl+r")
        await pilot.press(*"read", "enter")
        await typed(app, pilot, "")
        await pilot.press("ctrl+t")
        await pilot.press(*"favourite -not-an-option", "enter")
        await typed(app, pilot, "")
        assert app.highlighted_key() == "hu2021lora"
        assert "#favourite" in preview(app) and "read" in preview(app)
        await pilot.press("ctrl+r")
        await pilot.press(*"finished", "enter")  # refused by papercli status, said
        await typed(app, pilot, "")
        assert "invalid status 'finished'" in str(app.query_one("#status").render())
        await pilot.press("escape")

    drive(filled, script)
    shown = run_papercli("show", "hu2021lora", "--json")
    assert '"status": "read"' in shown.stdout
    assert '"favourite"' in shown.stdout and '"not-an-option"' in shown.stdout


def test_open_and_note_keys_run_the_commands(
    filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "Written from the picker.\\n" > "$1"\n')
    editor.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    monkeypatch.setenv("EDITOR", str(editor))

    async def script(app: PickApp, pilot: Pilot[list[str] | None]) -> None:
        await typed(app, pilot, "lora")
        await pilot.press("ctrl+o")
        await typed(app, pilot, "")
        await pilot.press("ctrl+e")
        await typed(app, pilot, "")
        assert "Written from the picker." in preview(app)
        await pilot.press("escape")

    drive(filled, script)
    assert opened.read_text().strip() == "https://arxiv.org/abs/2106.09685"
    notes = run_papercli("notes", "hu2021lora").stdout
    assert "Written from the picker." in notes


def test_pick_needs_a_terminal(filled: Path) -> None:
    result = run_papercli("pick")
    assert result.returncode == 2
    assert "pick needs a terminal" in result.stderr
    assert result.stdout == ""


def test_other_commands_do_not_import_textual(filled: Path) -> None:
    code = (
        "import sys, runpy\n"
        "sys.argv = ['papercli', 'list']\n"
        "try:\n    runpy.run_module('papercli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "assert 'textual' not in sys.modules, 'textual was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "hu2021lora" in result.stdout


def in_a_terminal(args: list[str], keys: list[tuple[str, bytes]]) -> tuple[int, str]:
    """Run papercli with stdin and stderr on a pseudo-terminal and stdout on a pipe; each
    (wait_for, keys) pair waits until the screen shows ``wait_for`` then types ``keys``.
    Returns the exit code and what went to stdout."""
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="30")
    process = subprocess.Popen(
        [sys.executable, "-m", "papercli", *args],
        stdin=slave,
        stderr=slave,
        stdout=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    os.close(slave)
    screen = b""

    def read_screen() -> bool:
        """Read what the picker drew (it blocks when nobody reads); False when it is gone."""
        nonlocal screen
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                screen += os.read(master, 65536)
            except OSError:
                return False
        return True

    deadline = time.monotonic() + 60
    try:
        for wanted, typing in keys:
            while wanted.encode() not in screen and read_screen():
                assert time.monotonic() < deadline, f"never showed {wanted!r}"
            os.write(master, typing)
        while process.poll() is None and read_screen():
            assert time.monotonic() < deadline, "the picker did not exit"
        assert process.stdout is not None
        out = process.stdout.read()
        process.wait(timeout=60)
    finally:
        process.kill()
        os.close(master)
        if process.stdout is not None:
            process.stdout.close()
    return process.returncode, out.decode()


def test_the_command_prints_the_chosen_key_and_esc_prints_nothing(filled: Path) -> None:
    code, out = in_a_terminal(["pick", "lora"], [("hu2021lora", b"\r")])
    assert (code, out) == (0, "hu2021lora\n")
    code, out = in_a_terminal(["pick", "lora"], [("hu2021lora", b"\x1b")])
    assert (code, out) == (1, "")
