"""The search quality bar: realistic queries against the bundled library (tests/
search_queries.toml), each with the paper it must find. Prints both figures."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from conftest import Runner

QUERIES = Path(__file__).parent / "search_queries.toml"


def test_query_set_finds_the_intended_papers(
    cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    queries = tomllib.loads(QUERIES.read_text())["query"]
    assert len(queries) >= 40
    path = tmp_path / "bundled"
    assert cli("init", str(path)).exit_code == 0
    monkeypatch.setenv("PAPERCLI_LIBRARY", str(path))
    first = top3 = 0
    misses = []
    for item in queries:
        result = cli("search", "--json", "--limit", "3", item["q"])
        keys = [hit["key"] for hit in json.loads(result.stdout)]
        first += keys[:1] == [item["key"]]
        top3 += item["key"] in keys
        if keys[:1] != [item["key"]]:
            misses.append(f"{item['q']!r} ({item['kind']}): got {keys}, want {item['key']}")
    with capsys.disabled():
        print(
            f"\nsearch quality: {first}/{len(queries)} first ({100 * first / len(queries):.0f}%), "
            f"{top3}/{len(queries)} in the top 3 ({100 * top3 / len(queries):.0f}%)"
        )
        for miss in misses:
            print("  not first:", miss)
    assert first / len(queries) >= 0.85, misses
    assert top3 / len(queries) >= 0.95, misses
