"""papercli import markdown: reading lists in every reference format, merged without loss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from papercli.import_markdown import clean_title, parse_markdown, repair_text
from papercli.library import Library

from conftest import Runner

FIXTURES = Path(__file__).parent / "fixtures" / "import"
LIST = FIXTURES / "reading-list.md"
SECOND = FIXTURES / "second-list.md"


def paper(library: Path, key: str):  # type: ignore[no-untyped-def]
    return Library.open(library).read(key)


def one(text: str):  # type: ignore[no-untyped-def]
    parsed = parse_markdown(text, "doc")
    assert len(parsed.papers) == 1, parsed.papers
    return parsed.papers[0]


@pytest.mark.parametrize(
    ("line", "title", "authors", "year", "arxiv"),
    [
        (
            "* [BERT: Pre-training of Deep Bidirectional Transformers](https://arxiv.org/pdf/"
            "1810.04805.pdf), J. Devlin et al (2019)",
            "BERT: Pre-training of Deep Bidirectional Transformers",
            ["Devlin, J."],
            2019,
            "1810.04805",
        ),
        (
            "* E. Hu et al: [LoRA: Low-Rank Adaptation of Large Language Models]"
            "(https://arxiv.org/abs/2106.09685), 2021",
            "LoRA: Low-Rank Adaptation of Large Language Models",
            ["Hu, E."],
            2021,
            "2106.09685",
        ),
        (
            "3. [SDNet: Contextualized Attention-based Deep Network](https://arxiv.org/pdf/"
            "1812.03593) by Chenguang Zhu, Michael Zeng and Xuedong Huang.",
            "SDNet: Contextualized Attention-based Deep Network",
            ["Zhu, Chenguang", "Zeng, Michael", "Huang, Xuedong"],
            2018,
            "1812.03593",
        ),
        (
            "10. [Cramming: Training a Language Model on a Single GPU in One Day (paper)]"
            "(https://arxiv.org/abs/2212.14034v1) by Meta AI et al., 2023 - a note",
            "Cramming: Training a Language Model on a Single GPU in One Day",
            ["Meta AI"],
            2023,
            "2212.14034",
        ),
        (
            "* OpenAI: S. Bills et al: [Language models can explain neurons in language models]"
            "(https://openaipublic.blob.core.windows.net/neuron-explainer/paper/index.html) (2023)",
            "Language models can explain neurons in language models",
            ["Bills, S."],
            2023,
            "",
        ),
        (
            "- [PaLM 2 Technical Report (PDF)](https://ai.google/static/documents/"
            "palm2techreport.pdf) by Google, May 2023",
            "PaLM 2 Technical Report",
            ["Google"],
            2023,
            "",
        ),
    ],
)
def test_reference_formats(
    line: str, title: str, authors: list[str], year: int, arxiv: str
) -> None:
    entry = one(line)
    assert (entry.type, entry.title, entry.authors, entry.year, entry.arxiv_id) == (
        "paper",
        title,
        authors,
        year,
        arxiv,
    )


def test_year_comes_from_the_arxiv_id_when_the_text_has_none() -> None:
    entry = one("* [Some Paper About Things](https://arxiv.org/abs/2106.09685v3)")
    assert (entry.year, entry.arxiv_version) == (2021, 3)
    assert entry.url == "https://arxiv.org/abs/2106.09685"


def test_incomplete_marks_what_the_list_lacks() -> None:
    assert one(
        "1. [A Long Paper Title](https://arxiv.org/abs/1910.10683) by Google Brain."
    ).incomplete == ["authors", "abstract"]
    assert one(
        "1. [A Long Paper Title](https://arxiv.org/abs/1910.10683) by Ann Lee."
    ).incomplete == ["abstract"]
    assert one("* [A blog post](https://example.org/post)").incomplete == []


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://github.com/karpathy/nanoGPT", "repo"),
        ("https://www.youtube.com/watch?v=x", "video"),
        ("https://openreview.net/forum?id=abc", "paper"),
        ("https://example.org/files/report.pdf", "paper"),
        ("https://example.org/blog/post", "article"),
        ("https://www.pinecone.io/", "website"),
    ],
)
def test_type_from_the_url(url: str, kind: str) -> None:
    assert one(f"* [Some Resource Name]({url})").type == kind


def test_clean_title() -> None:
    assert clean_title("**Reformer**: The Efficient :fire: Transformer 🦄 (paper)") == (
        "Reformer: The Efficient Transformer"
    )
    assert clean_title("[Code]") == "Code"


def test_mojibake_is_repaired() -> None:
    assert repair_text("Åukasz Kaiserâ€™s talk â€” watch it") == "Łukasz Kaiser’s talk — watch it"
    # Correct text is left alone, curly quotes included.
    assert repair_text("Ångström’s “law”") == "Ångström’s “law”"


def test_import_reading_list(cli: Runner, library: Path) -> None:
    result = cli("import", "markdown", str(LIST))
    assert result.exit_code == 0, result
    assert result.stdout == ("9 added, 0 merged, 0 already up to date, 0 skipped; 10 notes\n")
    assert sorted(Library.open(library).keys()) == [
        "2021survey",
        "devlin2018bert",
        "exampleattention",
        "google2021switch",
        "hoffmann2022training",
        "hu2021lora",
        "karpathynanogpt",
        "kitaev2020reformer",
        "youtube2018lukasz",
    ]


def test_entries_carry_tags_notes_and_provenance(cli: Runner, library: Path) -> None:
    assert cli("import", "markdown", str(LIST), "--tag", "My List").exit_code == 0
    lib = Library.open(library)
    by_title = {p.title: p for p in lib.papers()}
    lora = by_title["LoRA: Low-Rank Adaptation of Large Language Models"]
    assert lora.tags == ["papers", "large-language-model", "my-list"]
    assert [n.text for n in lora.notes] == [
        "LoRA freezes the pre-trained model weights.",
        "Benefits\n  - Much less memory for optimizer states.",
    ]
    assert lora.notes[0].source == "reading-list.md"
    assert lora.notes[0].section == "Papers > Large Language Model (LLM)"
    assert lora.provenance == [
        {
            "source": "markdown",
            "document": "reading-list.md",
            "section": "Papers > Large Language Model (LLM)",
        }
    ]
    switch = by_title[
        "Switch Transformers: Scaling to Trillion Parameter Models with Simple and Efficient "
        "Sparsity"
    ]
    # The bullet after a numbered item comments on it; the [[Code]] side link is kept.
    assert [n.text for n in switch.notes] == [
        "[[Code](https://github.com/tensorflow/mesh)]",
        "Key idea: only a subset of the parameters is used for each example.",
    ]
    attention = by_title["Attention"]
    assert attention.type == "article"
    assert attention.notes[1].quote == (
        "Attention lets every token look at every other token in one step."
    )
    assert "—" in attention.notes[1].text  # repaired from "â€”"
    assert "Łukasz Kaiser’s talk" in by_title
    survey = by_title["A Survey of Transformers"]  # linked inside prose
    assert survey.incomplete == ["title", "authors", "abstract"]
    # The table of contents and the licence are not entries.
    assert not any("creativecommons" in p.url for p in by_title.values())


def test_duplicates_across_documents_are_merged(cli: Runner, library: Path) -> None:
    assert cli("import", "markdown", str(LIST)).exit_code == 0
    result = cli("import", "markdown", str(SECOND))
    assert result.exit_code == 0, result
    assert result.stdout.startswith("2 added, 1 merged, 0 already up to date, 0 skipped")
    lib = Library.open(library)
    bert = [p for p in lib.papers() if p.arxiv_id == "1810.04805"]
    assert len(bert) == 1
    assert bert[0].tags == ["papers", "pre-training"]
    assert [n.text for n in bert[0].notes] == [
        "Masked language modelling on both sides of each token.",
        "The paper that started the BERTology wave.",
    ]
    assert bert[0].authors[0] == "Devlin, Jacob"  # the first, complete list stays
    assert len(bert[0].provenance) == 2


def test_reimport_changes_nothing(cli: Runner, library: Path) -> None:
    assert cli("import", "markdown", str(LIST)).exit_code == 0
    before = {p.name: p.read_bytes() for p in (library / "papers").iterdir()}
    result = cli("import", "markdown", str(LIST))
    assert result.stdout.startswith("0 added, 0 merged, 9 already up to date")
    after = {p.name: p.read_bytes() for p in (library / "papers").iterdir()}
    assert before == after


def test_duplicates_within_one_import_are_merged(cli: Runner, library: Path) -> None:
    result = cli("import", "markdown", str(LIST), str(SECOND))
    assert result.exit_code == 0, result
    assert result.stdout.startswith("11 added, 0 merged")


def test_dry_run_writes_nothing(cli: Runner, library: Path) -> None:
    result = cli("import", "markdown", str(LIST), "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.endswith("dry run: nothing was written\n")
    assert result.stdout.startswith("9 would be added")
    assert list((library / "papers").iterdir()) == []


def test_json_report(cli: Runner, library: Path) -> None:
    result = cli("import", "markdown", str(SECOND), "--json")
    data = json.loads(result.stdout)
    assert [a["title"] for a in data["added"]] == [
        "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
        "The Annotated Transformer",
        "GPT-4 Technical Report",
    ]
    assert data["dry_run"] is False
    assert data["merged"] == [] and data["skipped"] == []


def test_markdown_inside_json(cli: Runner, library: Path, tmp_path: Path) -> None:
    readme = SECOND.read_text(encoding="utf-8")
    # A page payload that stores values by reference, as Nuxt pages do.
    payload = tmp_path / "page.json"
    payload.write_text(json.dumps([{"data": 1}, {"readme_en": 2}, readme]), encoding="utf-8")
    result = cli("import", "markdown", str(payload), "--field", "readme_en")
    assert result.exit_code == 0, result
    assert result.stdout.startswith("3 added")
    result = cli("import", "markdown", str(payload), "--field", "nope")
    assert result.exit_code == 2
    assert "no text field 'nope'" in result.stderr


def test_document_without_links(cli: Runner, library: Path, tmp_path: Path) -> None:
    roadmap = tmp_path / "roadmap.md"
    roadmap.write_text("# Roadmap\n\n## Maths\n\n* Linear algebra\n* Calculus\n")
    result = cli("import", "markdown", str(roadmap))
    assert result.exit_code == 1
    assert result.stdout == (
        "0 added, 0 merged, 0 already up to date, 1 skipped; 0 notes\n"
        "  skipped 1: document without links\n"
    )
    assert result.stderr == f"papercli: no references found in {roadmap}\n"
    # With another document that brings a paper, the empty one is only a skipped line.
    page = tmp_path / "list.md"
    page.write_text("- [LoRA](https://arxiv.org/abs/2106.09685)\n")
    result = cli("import", "markdown", str(roadmap), str(page))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("1 added, 0 merged, 0 already up to date, 1 skipped;")
    # Nothing new from the list and nothing at all in the roadmap: exit 1, --json too.
    result = cli("import", "markdown", "--json", str(page), str(roadmap))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["unchanged"] == ["2021lora"]  # no authors in the list
    assert result.stderr == f"papercli: no references found in {roadmap}\n"


def test_bad_input_is_one_line_and_exit_2(cli: Runner, library: Path, tmp_path: Path) -> None:
    result = cli("import", "markdown", str(tmp_path / "missing.md"))
    assert result.exit_code == 2
    assert result.stderr == f"papercli: error: {tmp_path / 'missing.md'}: no such file\n"
    result = cli("import", "markdown", str(tmp_path))
    assert result.exit_code == 2
    assert "is a directory" in result.stderr
    assert list((library / "papers").iterdir()) == []


def test_an_empty_field_is_a_usage_error(cli: Runner, library: Path, tmp_path: Path) -> None:
    payload = tmp_path / "page.json"
    payload.write_text('{"readme_en": "- [LoRA](https://arxiv.org/abs/2106.09685)"}\n')
    result = cli("import", "markdown", str(payload), "--field", "")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "papercli: error: --field is empty: name the JSON text field, e.g. --field readme_en\n"
    )
    assert list((library / "papers").iterdir()) == []


def test_a_windows_1252_file_is_said_so(cli: Runner, library: Path, tmp_path: Path) -> None:
    page = tmp_path / "list.md"
    page.write_bytes("- [Caf\u00e9 attention](https://arxiv.org/abs/2106.09685)\n".encode("cp1252"))
    result = cli("import", "markdown", str(page))
    assert result.exit_code == 0, result
    assert result.stderr == f"papercli: {page}: not UTF-8, read as Windows-1252\n"
    assert [p.title for p in Library.open(library).papers()] == ["Caf\u00e9 attention"]


def test_reference_links_and_autolinks(cli: Runner, library: Path, tmp_path: Path) -> None:
    reading = tmp_path / "refs.md"
    reading.write_text(
        "# Papers\n\n"
        "- [Attention Is All You Need][1] (Vaswani et al., 2017)\n"
        "- [LoRA] by Edward Hu, Yelong Shen\n"
        "- Switch Transformers <https://arxiv.org/abs/2101.03961>\n"
        "- [a bracket that names nothing] stays text\n\n"
        "```\n[1]: https://example.org/in-code-not-a-definition\n```\n\n"
        "[1]: https://arxiv.org/abs/1706.03762\n"
        '[lora]: <https://arxiv.org/abs/2106.09685> "LoRA"\n'
    )
    result = cli("import", "markdown", str(reading), "--json")
    assert result.exit_code == 0, result
    papers = {p.arxiv_id: p for p in Library.open(library).papers()}
    assert sorted(papers) == ["1706.03762", "2101.03961", "2106.09685"]
    assert papers["1706.03762"].title == "Attention Is All You Need"
    assert papers["1706.03762"].year == 2017
    assert papers["2106.09685"].title == "LoRA"
    assert papers["2106.09685"].authors == ["Hu, Edward", "Shen, Yelong"]
    assert papers["2101.03961"].title == "Switch Transformers"
    skipped = [s["detail"] for s in json.loads(result.stdout)["skipped"]]
    assert not any("in-code" in detail for detail in skipped)
