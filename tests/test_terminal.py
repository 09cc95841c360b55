"""Output on a real terminal (a pseudo-terminal): rich tables, colour, and turning colour off."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Runner


def on_a_terminal(*args: str, env: dict[str, str] | None = None) -> str:
    """Run papercli with stdout on a pseudo-terminal; return what it showed."""
    leader, follower = pty.openpty()
    full_env = dict(os.environ, COLUMNS="120", TERM="xterm-256color", **(env or {}))
    full_env.pop("NO_COLOR", None)
    full_env.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "papercli", *args],
        stdout=follower,
        stderr=subprocess.DEVNULL,
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
    assert "┃" in shown or "│" in shown  # a rich table, not plain columns
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
