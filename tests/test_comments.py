"""Comments a person writes in a paper file survive papercli's rewrites of that file (tag,
untag, status, note, rekey), through the real commands on a real library; a file without
comments keeps papercli's own fast layout."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from conftest import Runner

COMMENTED = """\
# Read for the reading group, 3 March.
type = "paper"
title = "LoRA: Low-Rank Adaptation of Large Language Models"  # the one everyone cites
authors = ["Hu, Edward J.", "Shen, Yelong"]
year = 2021
status = "unread"
tags = ["peft"]  # more later
url = "https://arxiv.org/abs/2106.09685#section-4"
added = 2026-01-01T00:00:00Z

# What I thought, page by page:
[[notes]]
page = "4"  # figure 1
text = "Rank 4 is enough."

[[notes]]
# the comparison I keep forgetting
text = "Compare with adapters."
"""


@pytest.fixture
def commented(library: Path) -> Path:
    path = library / "papers" / "hu2021lora.toml"
    path.write_text(COMMENTED)
    return path


def comments(text: str) -> list[str]:
    return [line[line.index("#") :] for line in text.splitlines() if " #" in line or "# " in line]


def test_comments_survive_tag_untag_status_and_notes(cli: Runner, commented: Path) -> None:
    before = comments(COMMENTED)
    assert cli("tag", "hu2021lora", "fine-tuning").exit_code == 0
    assert cli("status", "hu2021lora", "read").exit_code == 0
    assert cli("note", "hu2021lora", "A third note.", "--page", "9").exit_code == 0
    assert cli("untag", "hu2021lora", "peft").exit_code == 0
    text = commented.read_text()
    assert comments(text) == before
    data = tomllib.loads(text)
    assert (data["tags"], data["status"]) == (["fine-tuning"], "read")
    assert [n["text"] for n in data["notes"]] == [
        "Rank 4 is enough.",
        "Compare with adapters.",
        "A third note.",
    ]
    assert data["url"] == "https://arxiv.org/abs/2106.09685#section-4"
    assert 'title = "LoRA: Low-Rank Adaptation of Large Language Models"  # the one' in text


def test_a_deleted_note_takes_only_its_own_comment(cli: Runner, commented: Path) -> None:
    assert cli("note", "hu2021lora", "--delete", "1", "--yes").exit_code == 0
    text = commented.read_text()
    assert "# figure 1" not in text
    assert "# the comparison I keep forgetting" in text
    assert "# Read for the reading group, 3 March." in text
    assert [n["text"] for n in tomllib.loads(text)["notes"]] == ["Compare with adapters."]


def test_comments_follow_a_rekeyed_paper(cli: Runner, commented: Path, library: Path) -> None:
    assert cli("rekey", "hu2021lora", "lora").exit_code == 0
    text = (library / "papers" / "lora.toml").read_text()
    assert comments(text) == comments(COMMENTED)
    assert tomllib.loads(text)["aliases"] == ["hu2021lora"]


def test_a_file_without_comments_keeps_the_fast_layout(cli: Runner, library: Path) -> None:
    path = library / "papers" / "plain.toml"
    path.write_text('title="C# in Depth"\nurl="https://example.org/book#ch1"\ntags=["csharp"]\n')
    assert cli("tag", "plain", "books").exit_code == 0
    text = path.read_text()
    assert text.startswith('type = "paper"\ntitle = "C# in Depth"\n')  # papercli's layout
    assert 'tags = ["csharp", "books"]\n' in text
