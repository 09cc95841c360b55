"""papercli export markdown and export json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from conftest import Runner

FIXTURES = Path(__file__).parent / "fixtures"


def test_reading_list_exact(filled: Path, cli: Runner) -> None:
    r = cli("export", "markdown", "-k", "vaswani2017attention", "-k", "weng2023agents",
            "--group-by", "none", "--title", "Week 1")  # fmt: skip
    assert r.exit_code == 0, r
    assert r.stdout == (
        "# Week 1\n"
        "\n"
        "2 entries.\n"
        "\n"
        "## Contents\n"
        "\n"
        "- [LLM Powered Autonomous Agents: 100% of the \\#hype, snake\\_case & all]"
        "(#llm-powered-autonomous-agents-100-of-the-hype-snake_case--all)\n"
        "- [Attention Is All You Need](#attention-is-all-you-need)\n"
        "\n"
        "## [LLM Powered Autonomous Agents: 100% of the \\#hype, snake\\_case & all]"
        "(https://lilianweng.github.io/posts/2023-06-23-agent/#component-one)\n"
        "\n"
        "Lilian Weng · 2023 · `llm` `agents`\n"
        "\n"
        "## [Attention Is All You Need](https://arxiv.org/abs/1706.03762)\n"
        "\n"
        "Ashish Vaswani, Noam Shazeer, Niki Parmar, Jakob Uszkoreit, Llion Jones, et al. · 2017 "
        "· *NeurIPS 2017* · arXiv:1706.03762 · `transformers` `nlp`\n"
        "\n"
        "> Multi-head attention allows the model to jointly attend to information from "
        "different representation subspaces at different positions.\n"
        ">\n"
        "> — p. 5\n"
        "\n"
        "Multi-head attention lets the model attend to several subspaces.\n"
        "\n"
        "Positional encodings are *sinusoidal*.\n"
    )


def _check_commonmark(text: str) -> tuple[list[str], list[str]]:
    """Parse as CommonMark; return the heading anchors GitHub would make and the contents
    links, so every link can be checked against a heading."""
    tokens = MarkdownIt("commonmark").parse(text)
    headings = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[i + 1]
            plain = "".join(
                c.content for c in inline.children or [] if c.type in ("text", "code_inline")
            )
            slug = re.sub(r"[^\w\- ]", "", plain.lower()).replace(" ", "-")
            headings.append(slug)
    seen: dict[str, int] = {}
    anchors = []
    for slug in headings:
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.append(slug if n == 0 else f"{slug}-{n}")
    links = re.findall(r"\]\(#([^)]+)\)", text)
    return anchors, links


@pytest.mark.parametrize(
    ("group_by", "groups"),
    [
        ("year", ["2023", "2022", "2021", "2020", "2018", "2017", "2015", "2014", "2009",
                  "2008", "1997", "1959", "Year unknown"]),
        ("type", ["Papers", "Articles", "Books", "Videos", "Code", "Courses", "Datasets",
                  "Theses"]),
    ],
)  # fmt: skip
def test_groups_and_contents_links_resolve(
    filled: Path, cli: Runner, group_by: str, groups: list[str]
) -> None:
    r = cli("export", "markdown", "--group-by", group_by)
    assert r.exit_code == 0, r
    assert [line[3:] for line in r.stdout.splitlines() if line.startswith("## ")][1:] == groups
    anchors, links = _check_commonmark(r.stdout)
    assert links and set(links) <= set(anchors)


def test_group_by_tag_repeats_papers_and_skips_the_selected_tag(
    filled: Path, cli: Runner, tmp_path: Path
) -> None:
    out = tmp_path / "list.md"
    r = cli("export", "markdown", "--tag", "transformers", "-o", str(out))
    assert r.exit_code == 0 and r.stdout == ""
    text = out.read_text()
    assert "- [efficiency](#efficiency) (1)\n- [nlp](#nlp) (2)\n- [tools](#tools) (1)\n" in text
    assert "## transformers" not in text
    anchors, links = _check_commonmark(text)
    assert set(links) <= set(anchors)


def test_markdown_bad_inputs(filled: Path, cli: Runner) -> None:
    r = cli("export", "markdown", "--group-by", "colour")
    assert (r.exit_code, r.stderr) == (
        2, "papercli: error: invalid --group-by 'colour': use one of tag, year, type, none\n"
    )  # fmt: skip
    r = cli("export", "markdown", "zzzzzz")
    assert (r.exit_code, r.stdout, r.stderr) == (
        1, "", "papercli: nothing to export: no paper matches\n"
    )  # fmt: skip


def test_export_json_full_records(filled: Path, cli: Runner) -> None:
    r = cli("export", "json", "--tag", "peft")
    assert r.exit_code == 0, r
    records = json.loads(r.stdout)
    assert [rec["key"] for rec in records] == ["hu2021lora"]
    assert records[0]["notes"] == [
        {"text": "Rank 4 is enough for GPT-3.", "created": "2024-03-01T10:00:00Z", "page": "7",
         "section": None, "quote": None, "source": None}
    ]  # fmt: skip
    assert records[0]["authors"][0] == "Edward J. Hu"
    r = cli("export", "json")
    assert len(json.loads(r.stdout)) == 21


def test_export_json_of_nothing_prints_an_empty_list_and_exits_1(
    filled: Path, cli: Runner, tmp_path: Path
) -> None:
    r = cli("export", "json", "--tag", "nonexistent-tag")
    assert (r.exit_code, r.stdout, r.stderr) == (
        1, "[]\n", "papercli: nothing to export: no paper matches\n"
    )  # fmt: skip
    out = tmp_path / "out.json"
    r = cli("export", "json", "zzzzzz", "-o", str(out))
    assert (r.exit_code, r.stdout, r.stderr) == (
        1, "", "papercli: nothing to export: no paper matches\n"
    )  # fmt: skip
    assert not out.exists()
    r = cli("export", "markdown", "--tag", "nonexistent-tag")
    assert (r.exit_code, r.stdout, r.stderr) == (
        1, "", "papercli: nothing to export: no paper matches\n"
    )  # fmt: skip
