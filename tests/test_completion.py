"""Shell completion: the completion entry point run as a real subprocess with the variables bash,
zsh and fish set (bash through its own completion function in a real bash), on real libraries.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_papercli

BIN = Path(sys.executable).parent
PAPER = """type = "paper"
title = "{title}"
authors = ["Hu, Edward J."]
year = 2021
status = "unread"
tags = {tags}
aliases = {aliases}
added = 2024-03-01T10:00:00Z
"""


def write_paper(library: Path, key: str, tags: str, aliases: str = "[]") -> None:
    text = PAPER.format(title=f"The paper {key}", tags=tags, aliases=aliases)
    (library / "papers" / f"{key}.toml").write_text(text, encoding="utf-8")


@pytest.fixture
def papers(library: Path) -> Path:
    write_paper(library, "hu2021lora", '["peft", "llm"]', '["Hu2021LoRA-old"]')
    write_paper(library, "hu2022other", '["vision"]')
    write_paper(library, "vaswani2017attention", '["transformers", "llm"]')
    return library


def complete(shell: str, line: str, env: dict[str, str] | None = None) -> list[str]:
    """What papercli answers a shell completing ``line`` (the cursor at its end), as that
    shell's completion script asks: bash's COMP_WORDS/COMP_CWORD (the words as bash splits
    them, ':' apart), zsh's and fish's _TYPER_COMPLETE_ARGS."""
    if shell == "bash":
        words = line.replace(":", " : ").split()
        cword = len(words) if line.endswith(" ") else len(words) - 1
        shell_env = {"COMP_WORDS": " ".join(words), "COMP_CWORD": str(cword)}
    else:
        shell_env = {"_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    result = run_papercli(
        env={"_PAPERCLI_COMPLETE": f"complete_{shell}", **shell_env, **(env or {})}
    )
    assert result.returncode == 0, result
    assert result.stderr == ""
    return [line for line in result.stdout.splitlines() if line]


def in_bash(papercli_words: list[str], cword: int) -> list[str]:
    """COMPREPLY after bash runs papercli's completion function, sourced from papercli itself,
    for the command line ``papercli_words`` with the cursor on word ``cword``."""
    script = run_papercli(env={"_PAPERCLI_COMPLETE": "source_bash"}).stdout
    assert "complete -o default -F _papercli_completion papercli" in script
    words = " ".join(f"'{w}'" for w in papercli_words)
    program = (
        f"{script}\nCOMP_WORDS=({words}); COMP_CWORD={cword}\n"
        "_papercli_completion papercli\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result
    return [line for line in result.stdout.splitlines() if line]


def test_a_real_bash_completes_commands_keys_and_tags(papers: Path) -> None:
    assert in_bash(["papercli", "sh"], 1) == ["show"]
    assert in_bash(["papercli", "show", "hu"], 2) == ["hu2021lora", "hu2022other"]
    assert in_bash(["papercli", "list", "--tag", "l"], 3) == ["llm"]
    assert in_bash(["papercli", "search", "tag", ":", "tr"], 4) == ["transformers"]


def test_commands_and_options(papers: Path) -> None:
    assert "search" in complete("bash", "papercli ")
    assert complete("bash", "papercli list --st") == ["--status"]
    (zsh,) = complete("zsh", "papercli sh")
    assert zsh.startswith('_arguments \'*: :(("show":"Show one paper')
    assert "--install-completion" in complete("bash", "papercli --")


@pytest.mark.parametrize(
    "line",
    [
        "papercli show ",
        "papercli edit ",
        "papercli note ",
        "papercli notes ",
        "papercli open ",
        "papercli rm ",
        "papercli rm hu2021lora ",
        "papercli status ",
        "papercli tag ",
        "papercli untag ",
        "papercli rekey ",
        "papercli refresh ",
        "papercli export bibtex --key ",
        "papercli export markdown -k ",
        "papercli merge ",
        "papercli merge hu2021lora ",
    ],
)
def test_every_ref_completes_keys_and_aliases(papers: Path, line: str) -> None:
    assert complete("bash", line) == [
        "Hu2021LoRA-old",
        "hu2021lora",
        "hu2022other",
        "vaswani2017attention",
    ]


def test_keys_by_prefix_in_each_shell(papers: Path) -> None:
    assert complete("bash", "papercli show hu2") == ["hu2021lora", "hu2022other"]
    assert complete("fish", "papercli show hu2") == ["hu2021lora", "hu2022other"]
    assert complete("zsh", "papercli show va") == ["_arguments '*: :((\"vaswani2017attention\"))'"]


def test_tags(papers: Path) -> None:
    every = ["llm", "peft", "transformers", "vision"]
    assert complete("bash", "papercli list --tag ") == every
    assert complete("bash", "papercli list -t p") == ["peft"]
    assert complete("bash", "papercli search --not-tag v") == ["vision"]
    assert complete("bash", "papercli export bibtex --tag ") == every
    assert complete("bash", "papercli tag hu2022other ") == every
    assert complete("bash", "papercli tags rename ") == every
    # A comma-separated list: the last tag completed, one already listed not offered again.
    assert complete("bash", "papercli list --tag llm,") == [
        "llm,peft",
        "llm,transformers",
        "llm,vision",
    ]


def test_untag_offers_the_papers_own_tags(papers: Path) -> None:
    assert complete("bash", "papercli untag hu2021lora ") == ["llm", "peft"]
    assert complete("fish", "papercli untag Hu2021LoRA-old ") == ["llm", "peft"]


def test_filters_inside_a_query(papers: Path) -> None:
    # bash splits "tag:pe" at the colon; zsh and fish pass the word whole.
    assert complete("bash", "papercli search lora tag:p") == ["peft"]
    assert complete("bash", "papercli search tag:") == [":llm", ":peft", ":transformers", ":vision"]
    assert complete("zsh", "papercli search tag:p") == ["_arguments '*: :((\"tag\\\\:peft\"))'"]
    assert complete("fish", "papercli search status:re") == ["status:reading", "status:read"]
    assert complete("fish", "papercli search type:bo") == ["type:book"]
    assert complete("fish", "papercli search tag:llm,v") == ["tag:llm,vision"]
    assert complete("zsh", "papercli pick tag:v") == ["_arguments '*: :((\"tag\\\\:vision\"))'"]
    assert complete("fish", "papercli export bibtex status:u") == ["status:unread"]
    assert complete("fish", "papercli search lor") == []


def test_statuses_and_types(papers: Path) -> None:
    assert complete("bash", "papercli status hu2021lora ") == ["unread", "reading", "read"]
    assert complete("bash", "papercli list --status r") == ["reading", "read"]
    assert complete("bash", "papercli search --status ") == ["unread", "reading", "read"]
    assert complete("bash", "papercli add --status re") == ["reading", "read"]
    assert complete("bash", "papercli list --type bo") == ["book"]


def test_the_library_named_on_the_line_is_the_one_read(papers: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert run_papercli("init", str(other), "--empty").returncode == 0
    write_paper(other, "smith2020elsewhere", '["elsewhere"]')
    assert complete("bash", f"papercli -L {other} show ") == ["smith2020elsewhere"]
    assert complete("bash", f"papercli --library {other} list --tag ") == ["elsewhere"]
    assert complete("bash", "papercli show ", env={"PAPERCLI_LIBRARY": str(other)}) == [
        "smith2020elsewhere"
    ]


def test_no_library_offers_nothing_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert complete("bash", "papercli show ", env={"PAPERCLI_LIBRARY": str(missing)}) == []
    assert complete("bash", "papercli list --tag ", env={"PAPERCLI_LIBRARY": str(missing)}) == []
    assert not missing.exists()


def test_control_characters_never_reach_the_shell(library: Path) -> None:
    # Hand-written tags papercli would not have made: completion leaves them out rather than
    # offering a word that acts on the terminal or is not what the file holds.
    write_paper(
        library,
        "evil2020x",
        '["peft", "osc\\u001b]52;c;aGk=\\u0007", "two words", "\\u202eevil", '
        '"back\\\\slash", "bell\\u0007"]',
    )
    for shell, line in (
        ("bash", "papercli list --tag "),
        ("zsh", "papercli list --tag "),
        ("fish", "papercli untag evil2020x "),
        ("fish", "papercli search tag:"),
    ):
        out = complete(shell, line)
        text = "\n".join(out)
        assert "peft" in text
        assert not any(ord(c) < 32 and c != "\n" or 0x7F <= ord(c) <= 0x9F for c in text)
        assert "\u202e" not in text and "evil" not in text and "words" not in text
        assert "slash" not in text and "bell" not in text


def test_completion_reads_the_cache_not_every_file(papers: Path) -> None:
    """After a reading command, a paper file that no longer parses is not read by completion:
    the keys come from the directory listing, the tags from the index as last written."""
    assert run_papercli("list").returncode == 0
    # An editor's swap file came and went: the next reading command finds the index true still.
    (papers / "papers" / ".hu2021lora.toml.swp").write_text("swap")
    (papers / "papers" / ".hu2021lora.toml.swp").unlink()
    assert run_papercli("list").returncode == 0
    (papers / "papers" / "hu2022other.toml").write_text("this is not TOML = = =\n")
    assert "vision" in complete("bash", "papercli list --tag ")
    assert "hu2022other" in complete("bash", "papercli show hu")


def test_what_papercli_writes_is_offered_at_once(papers: Path) -> None:
    assert run_papercli("list").returncode == 0
    assert run_papercli("tag", "hu2022other", "brand-new").returncode == 0
    assert "brand-new" in complete("bash", "papercli list --tag ")
    assert run_papercli("rekey", "hu2022other", "hu2022renamed").returncode == 0
    assert complete("bash", "papercli show hu2022") == ["hu2022other", "hu2022renamed"]


def test_the_scripts_and_installing_them(papers: Path, isolated_env: Path) -> None:
    zsh = run_papercli(env={"_PAPERCLI_COMPLETE": "source_zsh"}).stdout
    assert "#compdef papercli" in zsh and "_PAPERCLI_COMPLETE=complete_zsh" in zsh
    fish = run_papercli(env={"_PAPERCLI_COMPLETE": "source_fish"}).stdout
    assert "complete --command papercli" in fish
    chosen = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = run_papercli("--show-completion", "bash", env=chosen)
    assert shown.returncode == 0 and "_papercli_completion()" in shown.stdout
    installed = run_papercli("--install-completion", "bash", env=chosen)
    assert installed.returncode == 0, installed
    script = isolated_env / ".bash_completions" / "papercli.sh"
    assert "_PAPERCLI_COMPLETE=complete_bash" in script.read_text()
    assert str(script) in (isolated_env / ".bashrc").read_text()
