"""papercli search: matching, ranking, filters, output shapes, errors, and the derived index
kept up to date as the library changes. Real libraries on disk, written as TOML files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import Runner, run_papercli

PAPERS = {
    "vaswani2017attention": """type = "paper"
title = "Attention Is All You Need"
authors = ["Vaswani, Ashish", "Shazeer, Noam"]
year = 2017
status = "read"
tags = ["transformers", "nlp"]
arxiv_id = "1706.03762"
abstract = "The dominant sequence transduction models are based on recurrent networks."
added = 2024-01-01T00:00:00Z
""",
    "hu2021lora": """type = "paper"
title = "LoRA: Low-Rank Adaptation of Large Language Models"
authors = ["Hu, Edward J.", "Shen, Yelong"]
year = 2021
tags = ["peft", "llm"]
arxiv_id = "2106.09685"
abstract = "We propose low-rank adaptation, which freezes the pretrained weights."
added = 2024-01-02T00:00:00Z
""",
    "hoffmann2022training": """type = "paper"
title = "Training Compute-Optimal Large Language Models"
authors = ["Hoffmann, Jordan", "Borgeaud, Sebastian"]
year = 2022
tags = ["llm", "scaling"]
abstract = "We train Chinchilla, a compute-optimal model. Chinchilla outperforms Gopher."
added = 2024-01-03T00:00:00Z
""",
    "brown2020language": """type = "paper"
title = "Language Models are Few-Shot Learners"
authors = ["Brown, Tom"]
year = 2020
status = "reading"
tags = ["llm"]
added = 2024-01-04T00:00:00Z

[[notes]]
text = "GPT-3. Compare with the later chinchilla scaling results."
""",
    "dao2022flashattention": """type = "paper"
title = "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness"
authors = ["Dao, Tri"]
year = 2022
tags = ["efficiency", "transformers"]
added = 2024-01-05T00:00:00Z
""",
    "dosovitskiy2021image": """type = "paper"
title = "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale"
authors = ["Dosovitskiy, Alexey"]
year = 2021
tags = ["vision", "transformers"]
added = 2024-01-06T00:00:00Z
""",
    "alammar2018illustrated": """type = "article"
title = "The Illustrated Transformer"
authors = ["Alammar, Jay"]
year = 2018
tags = ["transformers"]
url = "https://jalammar.github.io/illustrated-transformer/"
added = 2024-01-07T00:00:00Z
""",
}


@pytest.fixture
def lib(library: Path) -> Path:
    for key, text in PAPERS.items():
        (library / "papers" / f"{key}.toml").write_text(text)
    return library


def keys_of(cli: Runner, *args: str) -> list[str]:
    result = cli("search", "--json", *args)
    assert result.exit_code in (0, 1), result
    return [hit["key"] for hit in json.loads(result.stdout)]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("atention all you need", "vaswani2017attention"),  # typo
        ("lora", "hu2021lora"),  # acronym in the title
        ("chinchilla", "hoffmann2022training"),  # nickname in the abstract
        ("flashatention", "dao2022flashattention"),  # joined and misspelt
        ("flash attention", "dao2022flashattention"),  # split
        ("fewshot learners", "brown2020language"),  # joined
        ("few shot", "brown2020language"),
        ("vaswani", "vaswani2017attention"),  # author
        ("hofmann", "hoffmann2022training"),  # author typo (one edit)
        ("2106.09685", "hu2021lora"),  # arXiv id
        ("arXiv:2106.09685", "hu2021lora"),
        ("hu2021lora", "hu2021lora"),  # key
        ("gpt-3", "brown2020language"),  # in a note only
        ("image recognition", "dosovitskiy2021image"),
    ],
)
def test_finds_the_paper_first(cli: Runner, lib: Path, query: str, first: str) -> None:
    assert keys_of(cli, query)[0] == first


def test_title_hit_outranks_note_hit(cli: Runner, lib: Path) -> None:
    # "chinchilla" is in one paper's abstract (twice) and in another paper's note (once).
    assert keys_of(cli, "chinchilla") == ["hoffmann2022training", "brown2020language"]


def test_ties_go_to_the_exact_title_then_the_title_most_covered_then_the_newer_paper(
    cli: Runner, lib: Path
) -> None:
    # "attention" is one of two words of "Attention Is All You Need" (stopwords aside), one of
    # nine of the FlashAttention paper's title.
    assert keys_of(cli, "attention") == ["vaswani2017attention", "dao2022flashattention"]
    assert keys_of(cli, "language models") == [
        "brown2020language", "hoffmann2022training", "hu2021lora"
    ]  # fmt: skip
    (lib / "papers" / "subakan2021attention.toml").write_text(
        'title = "Attention Is All You Need In Speech Separation"\nyear = 2021\n'
    )
    assert keys_of(cli, "attention is all you need")[:2] == [
        "vaswani2017attention", "subakan2021attention"
    ]  # fmt: skip


def test_json_shape(cli: Runner, lib: Path) -> None:
    result = cli("search", "--json", "lora")
    assert result.exit_code == 0
    hits = json.loads(result.stdout)
    assert hits[0] == {
        "key": "hu2021lora",
        "type": "paper",
        "title": "LoRA: Low-Rank Adaptation of Large Language Models",
        "authors": ["Edward J. Hu", "Yelong Shen"],
        "year": 2021,
        "date": None,
        "arxiv_id": "2106.09685",
        "doi": None,
        "url": "https://arxiv.org/abs/2106.09685",
        "venue": None,
        "tags": ["peft", "llm"],
        "status": "unread",
        "added": "2024-01-02T00:00:00Z",
        "score": hits[0]["score"],
        "matched": "title",
    }
    assert 0 < hits[0]["score"] <= 100
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_matched_field(cli: Runner, lib: Path) -> None:
    hits = json.loads(cli("search", "--json", "chinchilla").stdout)
    assert [h["matched"] for h in hits] == ["abstract", "notes"]
    hits = json.loads(cli("search", "--json", "shazeer").stdout)
    assert hits[0]["matched"] == "authors"


def test_nothing_found(cli: Runner, lib: Path) -> None:
    result = cli("search", "zzyzx quux")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (
        result.stderr
        == "papercli: nothing matches 'zzyzx quux': try fewer words, or 'papercli list'\n"
    )
    result = cli("search", "--json", "zzyzx")
    assert result.exit_code == 1
    assert result.stdout == "[]\n"


def test_inline_filters(cli: Runner, lib: Path) -> None:
    assert keys_of(cli, "language tag:peft") == ["hu2021lora"]
    assert set(keys_of(cli, "tag:peft,scaling")) == {"hu2021lora", "hoffmann2022training"}
    assert keys_of(cli, "tag:llm tag:scaling") == ["hoffmann2022training"]
    assert "dosovitskiy2021image" not in keys_of(cli, "transformers -tag:vision")
    assert set(keys_of(cli, "transformers -tag:vision")) >= {"vaswani2017attention"}
    assert set(keys_of(cli, "year:2021..2022")) == {
        "hu2021lora", "hoffmann2022training", "dao2022flashattention", "dosovitskiy2021image"
    }  # fmt: skip
    assert set(keys_of(cli, "year:>=2022")) == {"hoffmann2022training", "dao2022flashattention"}
    assert keys_of(cli, "year:<2018") == ["vaswani2017attention"]
    assert keys_of(cli, "status:reading") == ["brown2020language"]
    assert keys_of(cli, "type:article") == ["alammar2018illustrated"]
    assert keys_of(cli, "author:hu") == ["hu2021lora"]
    assert keys_of(cli, "-status:unread -type:article") == [
        "brown2020language", "vaswani2017attention"
    ]  # fmt: skip


def test_option_filters(cli: Runner, lib: Path) -> None:
    assert keys_of(cli, "--tag", "llm", "--not-tag", "peft", "--year", "2022") == [
        "hoffmann2022training"
    ]
    assert keys_of(cli, "--author", "Edward Hu") == ["hu2021lora"]
    assert keys_of(cli, "--type", "article", "--status", "unread") == ["alammar2018illustrated"]


def test_filters_only_is_a_list_newest_first(cli: Runner, lib: Path) -> None:
    assert keys_of(cli, "--tag", "transformers") == [
        "alammar2018illustrated", "dosovitskiy2021image", "dao2022flashattention",
        "vaswani2017attention",
    ]  # fmt: skip
    assert keys_of(cli, "--tag", "transformers", "--limit", "2") == [
        "alammar2018illustrated", "dosovitskiy2021image"
    ]  # fmt: skip


def test_phrase(cli: Runner, lib: Path) -> None:
    assert keys_of(cli, '"low-rank adaptation"') == ["hu2021lora"]
    assert keys_of(cli, '"freezes the pretrained"') == ["hu2021lora"]  # abstract only
    assert keys_of(cli, '"adaptation low-rank"') == []


YEARS = "use 2021, 2019..2023, 2019.., ..2023, >=2020 or <2018"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["year:2023..2019"], "invalid year range '2023..2019': the first year is after the last"),
        (["year:soon"], f"invalid year range 'soon': {YEARS}"),
        (["--year", "20x"], f"invalid year range '20x': {YEARS}"),
        (["colour:red"], "unknown filter 'colour:': use tag:, author:, year:, status:, type: "
                         "(quote a phrase that contains a colon)"),
        (["status:done"], "invalid status 'done': use one of unread, reading, read"),
        (["type:blog"], "invalid type 'blog': use one of paper, article, book, video, repo, "
                        "course, website, dataset, thesis, misc"),
        (["lora", "tag:"], "'tag:' needs a value, for example tag:peft"),
        (["lora", "-tag:"], "'tag:' needs a value, for example tag:peft"),
        (['tag:""', "lora"], "'tag:' needs a value, for example tag:peft"),
        (["status:"], "'status:' needs a value, for example status:unread"),
        (["lora author:"], "'author:' needs a value, for example author:hu"),
        (["year:", "lora"], "'year:' needs a value, for example year:2019..2023"),
        (["TYPE:"], "'type:' needs a value, for example type:paper"),
        (["--tag", ""], "'tag:' needs a value, for example tag:peft"),
        ([], "give words to search for or a filter: see 'papercli search --help'"),
        (["lora", "--limit", "-1"], "--limit must be 0 (no limit) or more"),
    ],
)  # fmt: skip
def test_bad_queries_are_usage_errors(
    cli: Runner, lib: Path, args: list[str], message: str
) -> None:
    result = cli("search", *args)
    assert result.exit_code == 2
    assert result.stderr == f"papercli: error: {message}\n"
    assert result.stdout == ""


def test_plain_output(cli: Runner, lib: Path) -> None:
    result = cli("search", "lora")
    assert result.exit_code == 0
    cells = result.stdout.splitlines()[0].split("\t")
    assert cells[:2] == ["hu2021lora", "2021"] and cells[3] == "title"
    assert cells[-1] == "LoRA: Low-Rank Adaptation of Large Language Models"


def test_limit_says_there_is_more(cli: Runner, lib: Path) -> None:
    result = cli("search", "transformers", "--limit", "1")
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == "papercli: showing the best 1: use --limit N for more (0: all)\n"


def test_index_follows_changes(cli: Runner, lib: Path) -> None:
    assert keys_of(cli, "mamba") == []
    (lib / "papers" / "gu2023mamba.toml").write_text(
        'title = "Mamba: Linear-Time Sequence Modeling with Selective State Spaces"\nyear = 2023\n'
    )
    assert keys_of(cli, "mamba") == ["gu2023mamba"]
    assert cli("tag", "gu2023mamba", "ssm").exit_code == 0
    assert keys_of(cli, "mamba tag:ssm") == ["gu2023mamba"]
    assert cli("rm", "hu2021lora", "--yes").exit_code == 0
    assert keys_of(cli, "lora") == []
    assert keys_of(cli, "2106.09685") == []
    # many changes at once rebuild the whole index
    for i in range(40):
        (lib / "papers" / f"extra{i}.toml").write_text(f'title = "Extra paper number {i} zebra"\n')
    assert len(keys_of(cli, "zebra", "--limit", "0")) == 40
    assert keys_of(cli, "mamba") == ["gu2023mamba"]


def test_damaged_index_is_rebuilt(cli: Runner, lib: Path) -> None:
    assert keys_of(cli, "lora") == ["hu2021lora"]
    caches = list(Path(os.environ["PAPERCLI_CACHE_DIR"]).glob("*/search.idx"))
    assert len(caches) == 1
    caches[0].write_bytes(b"PCSEARCH garbage")
    assert keys_of(cli, "lora") == ["hu2021lora"]


def test_help_documents_the_syntax(cli: Runner) -> None:
    result = cli("search", "--help")
    assert result.exit_code == 0
    for part in ("tag:papers", "-tag:articles", "author:hu", "year:2019..2023", "year:>=2020",
                 "status:unread", "exact phrase", "--not-tag", "--json"):  # fmt: skip
        assert part in result.stdout


def test_real_process_plain_output(lib: Path) -> None:
    result = run_papercli("search", "chinchilla", env={"PAPERCLI_LIBRARY": str(lib)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("hoffmann2022training\t2022\t")
    assert "\x1b[" not in result.stdout  # no colour codes when not on a terminal


LEAVE_OUT = "to leave out papers use -tag:X, -author:X, -type:X, -status:X or -year:RANGE"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lora", "--limt", "5"], "unknown option '--limt': see 'papercli search --help'"),
        (["lora", "--jsn"], "unknown option '--jsn': see 'papercli search --help'"),
        (["--limt=5", "lora"], "unknown option '--limt': see 'papercli search --help'"),
        (["lora", "-n", "1"], f"'-n' is not a filter: {LEAVE_OUT}"),
        (["transformers", "-lora"], f"'-lora' is not a filter: {LEAVE_OUT}"),
        (["transformers -vision"], f"'-vision' is not a filter: {LEAVE_OUT}"),
        (["-arxiv:2106.09685"], f"'-arxiv:2106.09685' is not a filter: {LEAVE_OUT}"),
    ],
)
def test_unknown_options_are_usage_errors(
    cli: Runner, lib: Path, args: list[str], message: str
) -> None:
    result = cli("search", *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"papercli: error: {message}\n"


def test_dash_h_is_help_and_negated_filters_still_work(cli: Runner, lib: Path) -> None:
    result = cli("search", "lora", "-h")
    assert result.exit_code == 0
    assert result.stdout == cli("search", "--help").stdout
    assert "-tag:articles" in result.stdout
    assert keys_of(cli, "transformers", "-tag:vision", "-author:alammar", "-year:2017") == [
        "dao2022flashattention"
    ]
    assert keys_of(cli, "-type:paper", "-status:read") == ["alammar2018illustrated"]


MORE_PAPERS = {
    "kubler2009dependency": 'title = "Dependency Parsing"\nauthors = ["Kübler, Sandra"]\n',
    "stroustrup2013c": 'title = "The C++ Programming Language"\nauthors = ["Stroustrup, Bjarne"]\n',
    "chollet2017xception": 'title = "Xception: Deep Learning with Depthwise Separable '
    'Convolutions"\nauthors = ["Chollet, François"]\n',
    "smith2020x": 'title = "Project X, a Study"\n',
    "peters2019sparse": 'title = "Sparse Sequence-to-Sequence Models with α-entmax"\n',
    "tanaka2020nihongo": 'title = "日本語 大規模言語モデル"\nauthors = ["田中, 太郎"]\n',
    "sharma2021hindi": 'title = "हिन्दी भाषा के लिए मॉडल"\n',
}


@pytest.fixture
def intl(lib: Path) -> Path:
    for key, text in MORE_PAPERS.items():
        (lib / "papers" / f"{key}.toml").write_text(text, encoding="utf-8")
    return lib


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("kubler", ["kubler2009dependency"]),  # accents fold both ways
        ("Kübler", ["kubler2009dependency"]),
        ("francois", ["chollet2017xception"]),
        ("c++", ["stroustrup2013c"]),  # one letter: a whole word, not a prefix (convolutions)
        ("x", ["smith2020x"]),  # not Xception
        ("α", ["peters2019sparse"]),
        ("α-entmax", ["peters2019sparse"]),
        ("日本語", ["tanaka2020nihongo"]),
        ("田中", ["tanaka2020nihongo"]),
        ("大規模言語モデル", ["tanaka2020nihongo"]),
        ("हिन्दी", ["sharma2021hindi"]),
        ("भाषा मॉडल", ["sharma2021hindi"]),
    ],
)
def test_words_of_any_script_and_one_letter_words(
    cli: Runner, intl: Path, query: str, found: list[str]
) -> None:
    assert keys_of(cli, query) == found


def test_initials_are_not_words(cli: Runner, intl: Path) -> None:
    (intl / "papers" / "wang2020one.toml").write_text(
        'title = "One Character Names"\nauthors = ["王, 小明", "Chen, C."]\n', encoding="utf-8"
    )
    assert keys_of(cli, "c++") == ["stroustrup2013c"]  # not Chen, C. nor Hu, Edward J.
    assert keys_of(cli, "--author", "Edward J. Hu") == ["hu2021lora"]
    assert keys_of(cli, "author:王") == ["wang2020one"]
    assert keys_of(cli, "王") == ["wang2020one"]


def test_no_query_word_is_dropped(cli: Runner, intl: Path) -> None:
    assert set(keys_of(cli, "日本語 lora")) == {"tanaka2020nihongo", "hu2021lora"}
    assert keys_of(cli, "日本語 lora", "--limit", "1") != []
    result = cli("search", "ü")  # a word, found nowhere: not an empty query
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "papercli: nothing matches 'ü': try fewer words, or 'papercli list'\n"
    result = cli("search", "!!", "—")
    assert result.exit_code == 2
    assert result.stderr == (
        "papercli: error: give words to search for or a filter: see 'papercli search --help'\n"
    )


def test_words_keep_their_script() -> None:
    from papercli.search import words

    assert words("Kübler-Ross, Łukasz don't ΣΟΦΟΣ x c++") == [
        "kubler", "ross", "lukasz", "dont", "σοφοσ", "x", "c"
    ]  # fmt: skip
    assert words("日本語 हिन्दी") == ["日本語", "हिन्दी"]


def test_no_there_is_more_line_when_fewer_hits_than_the_limit(cli: Runner, library: Path) -> None:
    for title in (
        "Sparse attention for long documents",
        "Sparse mixture of experts routing",
        "Dense retrieval for question answering",
    ):
        assert cli("add", "--title", title, "--year", "2021").exit_code == 0
    result = cli("search", "sparse", "--limit", "3")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 2  # one line a hit
    assert "showing the best" not in result.stderr
    result = cli("search", "sparse", "--limit", "1")
    assert "showing the best 1: use --limit N for more (0: all)" in result.stderr


def test_an_acronym_the_notes_define_for_the_paper_is_its_nickname(
    cli: Runner, library: Path
) -> None:
    assert (
        cli(
            "add",
            "--title",
            "Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer",
            "--year",
            "2019",
            "--note",
            "A systematic study with a unified Text-to-Text Transfer Transformer (T5) model.",
        ).exit_code
        == 0
    )
    assert (
        cli(
            "add",
            "--title",
            "Scaling Instruction-Finetuned Language Models",
            "--year",
            "2022",
            "--note",
            "Flan-T5 beats T5 on many tasks; T5 again.",
        ).exit_code
        == 0
    )
    assert (
        cli(
            "add",
            "--title",
            "State of AI Report",
            "--year",
            "2022",
            "--note",
            "Reinforcement Learning from Human Feedback (RLHF) is everywhere.",
        ).exit_code
        == 0
    )
    hits = json.loads(cli("search", "t5", "--json").stdout)
    assert hits[0]["key"] == "2019exploring"
    assert hits[0]["matched"] == "nickname"
    # An acronym defined in passing, not for the paper, is only a word of its notes.
    hits = json.loads(cli("search", "rlhf", "--json").stdout)
    assert hits[0]["matched"] == "notes"


def test_scores_do_not_depend_on_how_the_index_was_updated(
    cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit re-indexes only the changed shards (an overlay); the ranking must be the one a
    full rebuild gives."""
    import tomllib

    bundled = tmp_path / "bundled"
    assert cli("init", str(bundled)).exit_code == 0
    monkeypatch.setenv("PAPERCLI_LIBRARY", str(bundled))
    queries = [
        q["q"]
        for q in tomllib.loads((Path(__file__).parent / "search_queries.toml").read_text())["query"]
    ][:25]

    def ranking() -> list[list[tuple[str, float]]]:
        out = []
        for q in queries:
            hits = json.loads(cli("search", *q.split(), "--json", "--limit", "5").stdout)
            out.append([(h["key"], h["score"]) for h in hits])
        return out

    fresh = ranking()
    for _ in range(3):  # tag and untag: nothing changes, but shards are re-indexed
        assert cli("tag", "hu2021lora", "scratch").exit_code == 0
        assert cli("untag", "hu2021lora", "scratch").exit_code == 0
        assert cli("tag", "vaswani2017attention", "scratch").exit_code == 0
        assert cli("untag", "vaswani2017attention", "scratch").exit_code == 0
    assert ranking() == fresh


def test_a_short_title_wins_its_tie_in_a_large_library(cli: Runner, library: Path) -> None:
    """3,000 newer papers with "attention" somewhere in a long title tie with the paper every
    reader means; the title the query covers most comes first, not the newest."""
    import random

    from papercli.library import dump_paper
    from papercli.models import Paper

    rng = random.Random(2)
    words = "sparse mixture experts retrieval scaling laws tuning alignment decoding".split()
    for i in range(3000):
        title = " ".join([*rng.sample(words, 5), "attention", *rng.sample(words, 4)])
        paper = Paper(key=f"p{i}", title=title.capitalize(), year=2018 + i % 8, authors=["Li, W."])
        (library / "papers" / f"p{i}.toml").write_bytes(dump_paper(paper))
    paper = Paper(
        key="vaswani2017attention", title="Attention Is All You Need", year=2017,
        authors=["Vaswani, Ashish"],
    )  # fmt: skip
    (library / "papers" / "vaswani2017attention.toml").write_bytes(dump_paper(paper))
    assert keys_of(cli, "attention")[0] == "vaswani2017attention"
    assert keys_of(cli, "atention")[0] == "vaswani2017attention"  # a typo ties the same way


def test_a_key_with_capitals_is_found_by_its_words_and_whole(
    cli: Runner, library: Path, tmp_path: Path
) -> None:
    # Keys a .bib gave keep their capitals (Google Scholar's, Zotero's, the ACL template's).
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{Ando2005, author={Ando, Rie Kubota}, title={A Framework for Learning "
        "Predictive Structures}, year=2005}\n"
        "@inproceedings{Devlin2019BERT, author={Devlin, Jacob}, title={Pre-training of Deep "
        "Bidirectional Transformers}, year=2019}\n"
        "@book{Gusfield:97, author={Gusfield, Dan}, title={Algorithms on Strings}, year=1997}\n"
    )
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    wanted = {"Ando2005": "Ando2005", "ando2005": "Ando2005",
              "devlin2019bert": "Devlin2019BERT", "bert 2019": "Devlin2019BERT"}  # fmt: skip
    for query, key in wanted.items():
        hits = json.loads(cli("search", "--json", query).stdout)
        assert [h["key"] for h in hits[:1]] == [key], query
        assert hits[0]["matched"] == "key", query
    # A key with a colon is not a filter in the search that 'show' suggests.
    shown = cli("show", "Gusfield:98")
    assert shown.exit_code == 1
    assert shown.stderr == (
        "papercli: error: no paper matches 'Gusfield:98': try 'papercli search Gusfield 98'\n"
    )
    hits = json.loads(cli("search", "--json", "Gusfield", "97").stdout)
    assert hits[0]["key"] == "Gusfield:97"
