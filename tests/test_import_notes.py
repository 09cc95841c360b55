"""papercli import notes: posts attached to the papers they discuss."""

from __future__ import annotations

import time
from pathlib import Path

from papercli.import_notes import TitleIndex, clean_post, split_posts, title_in_post
from papercli.library import Library

from conftest import Runner

FIXTURES = Path(__file__).parent / "fixtures" / "import"
POSTS = FIXTURES / "posts.txt"
LIST = FIXTURES / "reading-list.md"
SECOND = FIXTURES / "second-list.md"


def test_split_posts() -> None:
    assert split_posts("a\n------\n\nb\nc\n------\n------\n") == ["a", "b\nc"]
    assert split_posts("a\n===\nb", "===") == ["a", "b"]


def test_title_index_is_conservative() -> None:
    index = TitleIndex()
    index.add("attention", "Attention")  # one word: never matched
    index.add("prompt", "Prompt Engineering Guide")  # three words: never matched
    index.add("chinchilla", "Training Compute-Optimal Large Language Models")
    assert index.find("Attention, prompt engineering guide and more") == []
    assert index.find("the training compute optimal large language models paper") == ["chinchilla"]
    assert index.find("Training Compute-Optimal Large models") == []


def test_posts_attach_to_papers(cli: Runner, library: Path) -> None:
    assert cli("import", "markdown", str(LIST), str(SECOND)).exit_code == 0
    result = cli("import", "notes", str(POSTS))
    assert result.exit_code == 0, result
    assert result.stdout == (
        "1 added, 3 merged, 0 already up to date, 3 skipped; 4 notes\n"
        "  skipped 2: no paper recognised\n"
        "  skipped 1: duplicate post\n"
    )
    lib = Library.open(library)
    by_title = {p.title: p for p in lib.papers()}
    lora = by_title["LoRA: Low-Rank Adaptation of Large Language Models"]
    posts = [n for n in lora.notes if n.source == "posts.txt"]
    assert [n.text for n in posts] == [  # the duplicate post is attached once
        "If you want to read one paper this weekend, make it LoRA: "
        "https://arxiv.org/abs/2106.09685v2"
    ]
    assert {"source": "notes", "document": "posts.txt"} in lora.provenance
    chinchilla = by_title["Training Compute-Optimal Large Language Models"]
    assert chinchilla.notes[-1].text.startswith("Chinchilla in one line")
    gpt4 = by_title["GPT-4 Technical Report"]  # recognised by its URL
    assert gpt4.notes[-1].text.startswith("The GPT-4 report is out")
    # "Attention" is too short a title to be recognised in a post.
    assert by_title["Attention"].notes[-1].source == "reading-list.md"
    # A post linking an arXiv paper the library lacks adds it, with the quoted title.
    new = by_title["Instruction Tuning for Large Language Models"]
    assert (new.arxiv_id, new.year, new.incomplete) == ("2308.10792", 2023, ["authors", "abstract"])


def test_unknown_arxiv_paper_without_title_gets_a_stand_in(cli: Runner, library: Path) -> None:
    posts = Path(library.parent / "p.txt")
    posts.write_text("Read https://arxiv.org/pdf/2305.18290v2.pdf today\n------\nok\n")
    result = cli("import", "notes", str(posts))
    assert result.exit_code == 0, result
    paper = Library.open(library).read("arxiv2305.18290")
    assert (paper.title, paper.incomplete) == ("arXiv:2305.18290", ["title", "authors", "abstract"])


def test_dry_run_and_separator(cli: Runner, library: Path, tmp_path: Path) -> None:
    posts = tmp_path / "posts.txt"
    posts.write_text(
        "one https://arxiv.org/abs/2106.09685\n%%\ntwo https://arxiv.org/abs/1706.03762\n"
    )
    result = cli("import", "notes", str(posts), "--separator", "%%", "--dry-run")
    assert result.stdout.startswith("2 would be added")
    assert list((library / "papers").iterdir()) == []
    result = cli("import", "notes", str(posts), "--separator", "  ")
    assert result.exit_code == 2
    assert result.stderr == "papercli: error: --separator must not be empty\n"


def test_large_dump_is_fast(cli: Runner, library: Path, tmp_path: Path) -> None:
    """6,000 posts against 400 titles: seconds, not minutes."""
    lines = [
        f"* [Distinctive Paper Title Number {i} About Models](https://example.org/p{i}.pdf)"
        for i in range(400)
    ]
    reading = tmp_path / "list.md"
    reading.write_text("# L\n\n## Papers\n\n" + "\n".join(lines) + "\n")
    assert cli("import", "markdown", str(reading)).exit_code == 0
    posts = [
        f"Post {i}: I liked distinctive paper title number {i % 500} about models a lot. " * 3
        for i in range(6000)
    ]
    dump = tmp_path / "posts.txt"
    dump.write_text("\n------\n".join(posts))
    started = time.monotonic()
    result = cli("import", "notes", str(dump))
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result
    assert result.stdout.startswith("0 added, 400 merged")
    assert elapsed < 20, elapsed


def test_posts_naming_no_paper_exit_1(cli: Runner, library: Path, tmp_path: Path) -> None:
    posts = tmp_path / "posts.txt"
    posts.write_text("Good morning.\n------\nNothing to cite today.\n")
    r = cli("import", "notes", str(posts))
    assert r.exit_code == 1
    assert r.stdout.startswith("0 added, 0 merged, 0 already up to date, 2 skipped; 0 notes\n")
    assert r.stderr == f"papercli: no references found in {posts}\n"
    assert list((library / "papers").iterdir()) == []
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    r = cli("import", "notes", str(empty))
    assert (r.exit_code, r.stderr) == (1, f"papercli: no references found in {empty}\n")


def test_titles_posts_give_their_links() -> None:
    cases = {
        "LLaMA-Adapter V1: https://arxiv.org/abs/2303.16199": "LLaMA-Adapter V1",
        "In Direct Preference Optimization: Your Language Model is Secretly a Reward Model "
        "(https://arxiv.org/abs/2305.18290), the researchers show": "Direct Preference "
        "Optimization: Your Language Model is Secretly a Reward Model",
        "ResiDual: Transformer with Dual Residual Connections (https://arxiv.org/abs/2304.14802)": (
            "ResiDual: Transformer with Dual Residual Connections"
        ),
        '(via "Grokking: Generalization Beyond Overfitting, https://arxiv.org/abs/2201.02177)': (
            "Grokking: Generalization Beyond Overfitting"
        ),
        'A survey: "Instruction Tuning for Large Language Models" by Zhang et al.: '
        "https://arxiv.org/abs/2308.10792": "Instruction Tuning for Large Language Models",
        "More details in Intrinsic Dimensionality Explains the Effectiveness of Language Model "
        "Fine-Tuning: https://arxiv.org/abs/2012.13255": "Intrinsic Dimensionality Explains the "
        "Effectiveness of Language Model Fine-Tuning",
        "- recurrent (RWKV, https://arxiv.org/abs/2305.13048)": "RWKV",
        # Pointers and sentences are not titles.
        "Paper: https://arxiv.org/abs/2111.08851": "",
        "Link to the paper: https://arxiv.org/abs/2305.13230": "",
        "Platypus, a new open-source LLM at the top of the leaderboard: "
        "https://arxiv.org/abs/2308.07317": "",
        "Just took the new Lion optimizer (https://arxiv.org/abs/2302.06675) for a spin": "",
        '(1) "Asynchronous Methods" (2016, https://arxiv.org/abs/1602.01783). Introduces '
        "policy gradients as https://arxiv.org/abs/2203.02155": "",
    }
    for post, title in cases.items():
        assert title_in_post(post, post.rsplit("abs/", 1)[1][:10]) == title, post


def test_notes_drop_scraping_residue() -> None:
    assert (
        clean_post("Embrace the randomness\n\nWhen… Show more") == "Embrace the randomness\n\nWhen…"
    )
    assert clean_post("LIMA is a gamechanger.\n\n1/6") == "LIMA is a gamechanger."
    assert clean_post("[2/2]\n\n2) Instruction finetuning") == "2) Instruction finetuning"
    assert clean_post("see https://aclanthology.org/2023.findings-acl.426/… now") == (
        "see https://aclanthology.org/2023.findings-acl.426/ now"
    )


def test_a_paper_linked_outside_arxiv_becomes_an_entry(cli: Runner, library: Path) -> None:
    posts = library.parent / "p.txt"
    posts.write_text(
        "this paper's nuts. kNN on gzip https://aclanthology.org/2023.findings-acl.426/…\n"
        "------\nLLaMA-Adapter V2: https://arxiv.org/abs/2304.15010\n"
    )
    assert cli("import", "notes", str(posts)).exit_code == 0
    by_url = {p.url: p for p in Library.open(library).papers()}
    acl = by_url["https://aclanthology.org/2023.findings-acl.426/"]
    assert acl.incomplete == ["title", "authors", "year", "abstract"]
    assert [n.text for n in acl.notes] == [
        "this paper's nuts. kNN on gzip https://aclanthology.org/2023.findings-acl.426/"
    ]
    adapter = by_url["https://arxiv.org/abs/2304.15010"]
    assert (adapter.title, adapter.incomplete) == (
        "LLaMA-Adapter V2",  # a name, kept as a stand-in refresh replaces
        ["title", "authors", "abstract"],
    )
