"""arXiv identifiers in every form people paste, and the ones that cannot exist."""

from __future__ import annotations

import pytest

from papercli.arxiv_ids import find_arxiv_ids, normalize_arxiv_id, parse_arxiv_id, year_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2106.09685", "2106.09685"),
        ("2106.09685v2", "2106.09685v2"),
        ("arXiv:2106.09685", "2106.09685"),
        ("ARXIV: 2106.09685v3", "2106.09685v3"),
        ("0704.0001", "0704.0001"),
        ("1412.8765", "1412.8765"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v2", "hep-th/9901001v2"),
        ("math.GT/0309136", "math/0309136"),  # the subject class is not part of the id
        ("arXiv:math.GT/0309136v1", "math/0309136v1"),
        ("https://arxiv.org/abs/2106.09685", "2106.09685"),
        ("http://arxiv.org/abs/2106.09685v1", "2106.09685v1"),
        ("https://arxiv.org/abs//2106.09685", "2106.09685"),
        ("https://arxiv.org/pdf/2106.09685.pdf", "2106.09685"),
        ("https://arxiv.org/pdf/2106.09685v2.pdf", "2106.09685v2"),
        ("https://arxiv.org/pdf/2106.09685v2", "2106.09685v2"),
        ("https://export.arxiv.org/abs/hep-th/9901001", "hep-th/9901001"),
        ("export.arxiv.org/abs/math.GT/0309136", "math/0309136"),
        ("https://www.arxiv.org/abs/2106.09685?context=cs", "2106.09685"),
        ("  2106.09685  ", "2106.09685"),
    ],
)
def test_accepted_forms(text: str, expected: str) -> None:
    assert normalize_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "",
        "2106.0968",  # too few digits
        "2113.09685",  # month 13
        "1412.12345",  # five digits before 2015
        "1501.1234",  # four digits from 2015
        "0703.0001",  # new style before April 2007
        "2106.09685v0",
        "foo-bar/9901001",  # no such archive
        "hep-th/0801001",  # old style after March 2007
        "hep-th/990100",
        "https://example.org/abs/2106.09685",
        "10.1023/A:1026654312961",
    ],
)
def test_rejected(text: str) -> None:
    assert parse_arxiv_id(text) is None


def test_find_and_year() -> None:
    text = (
        "see arXiv:2106.09685v2, https://arxiv.org/abs/math.GT/0309136 "
        "and arxiv.org/abs/math/0309136"
    )
    assert [str(i) for i in find_arxiv_ids(text)] == ["2106.09685v2", "math/0309136"]
    assert year_of("2106.09685") == 2021
    assert year_of("hep-th/9901001") == 1999
    assert year_of("math.GT/0309136") == 2003
    assert year_of("nonsense") is None
