"""Scholar-style citation keys: surname + year + first significant title word, ASCII, unique."""

from __future__ import annotations

import pytest

from papercli.keys import base_key, make_key
from papercli.models import parse_author


@pytest.mark.parametrize(
    ("author", "year", "title", "key"),
    [
        ("Ashish Vaswani", 2017, "Attention Is All You Need", "vaswani2017attention"),
        ("Edward J. Hu", 2021, "LoRA: Low-Rank Adaptation of Large Language Models", "hu2021lora"),
        (
            "Rishi Bommasani",
            2021,
            "On the Opportunities and Risks of Foundation Models",
            "bommasani2021opportunities",
        ),
        ("Tom B. Brown", 2020, "Language Models are Few-Shot Learners", "brown2020language"),
        ("Łukasz Kaiser", 2017, "One Model To Learn Them All", "kaiser2017one"),
        ("Sandra Kübler", 2009, "Dependency Parsing", "kubler2009dependency"),
        ("Ludwig van Beethoven", 1808, "The Fifth", "beethoven1808fifth"),
        (
            "Shai Ben-David",
            2010,
            "A theory of learning from different domains",
            "bendavid2010theory",
        ),
        ("{Google Brain}", 2023, "What's in a name?", "google2023whats"),
    ],
)
def test_scholar_style(author: str, year: int, title: str, key: str) -> None:
    assert base_key([parse_author(author)], year, title) == key


def test_missing_parts_and_clashes() -> None:
    assert base_key([], None, "") == "paper"
    assert base_key([], 2020, "The Pile") == "2020pile"
    taken = {"hu2021lora", "hu2021loraa"}
    assert make_key([parse_author("Edward Hu")], 2021, "LoRA", taken) == "hu2021lorab"
    many = {"x2020y"} | {f"x2020y{chr(97 + i)}" for i in range(26)}
    assert make_key(["x"], 2020, "y", many) == "x2020yaa"


@pytest.mark.parametrize(
    ("url", "title", "key"),
    [
        ("https://github.com/karpathy/nanoGPT", "nanoGPT", "karpathynanogpt"),
        ("https://github.com/benywon/ChineseBert", "benywon/ChineseBert", "benywonchinesebert"),
        ("https://huggingface.co/blog/rlhf", "Illustrating RLHF", "huggingfaceillustrating"),
        ("https://lilianweng.github.io/posts/x/", "Prompt Engineering", "lilianweng2023prompt"),
        ("https://www.youtube.com/watch?v=1", "Attention explained", "youtube2023attention"),
        (
            "https://web.archive.org/web/2023/https://twitter.com/ylecun/status/1",
            "Yann",
            "ylecun2023yann",
        ),
        ("https://arxiv.org/abs/2305.18290", "Direct Preference Optimization", "2023direct"),
    ],
)
def test_without_authors_the_site_names_the_entry(url: str, title: str, key: str) -> None:
    assert base_key([], 2023 if "2023" in key else None, title, url) == key


def test_authors_come_before_the_site() -> None:
    authors = [parse_author("Jay Alammar")]
    url = "http://jalammar.github.io/illustrated-transformer"
    assert base_key(authors, 2018, "The Illustrated Transformer", url) == "alammar2018illustrated"
