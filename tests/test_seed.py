"""The bundled library: rebuilt by python -m papercli.seed, identical to the committed one."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from papercli.library import Library
from papercli.seed import LIBRARY_DIR, SOURCES_DIR, build, paper_files

from conftest import Runner


def test_rebuild_matches_the_committed_library(tmp_path: Path) -> None:
    started = time.monotonic()
    build(tmp_path / "lib")
    elapsed = time.monotonic() - started
    rebuilt = paper_files(tmp_path / "lib")
    committed = paper_files(LIBRARY_DIR)
    assert sorted(rebuilt) == sorted(committed)
    differing = [name for name in rebuilt if rebuilt[name] != committed[name]]
    assert differing == [], "run: python -m papercli.seed"
    assert elapsed < 15, elapsed


def test_what_the_bundled_library_holds(cli: Runner, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PAPERCLI_LIBRARY", str(LIBRARY_DIR))
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["arxiv"] == 163
    assert stats["by_type"]["paper"] == 176
    papers = list(Library.open(LIBRARY_DIR).papers())
    assert sum(1 for p in papers if p.type == "paper" and not p.arxiv_id) == 13
    for p in papers:
        assert not re.search(r"\((?:paper|pdf)\)|\*\*|:fire:", p.title, re.IGNORECASE), p.title
        assert "â€" not in p.title and "â€" not in " ".join(n.text for n in p.notes), p.key
        if p.type == "paper":
            assert "abstract" in p.incomplete
    by_key = {p.key: p for p in papers}
    lora = by_key["hu2021lora"]
    assert len([n for n in lora.notes if n.source == "nlp-notes"]) == 6
    assert any(n.source == "researcher-posts" for n in lora.notes)
    t5 = next(p for p in papers if p.arxiv_id == "1910.10683")
    assert (t5.authors, t5.incomplete) == (["Google Brain"], ["authors", "abstract"])


def test_sources_are_attributed() -> None:
    attribution = (SOURCES_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in attribution and "Cedric Chee" in attribution
    for source in SOURCES_DIR.iterdir():
        if source.name != "ATTRIBUTION.md":
            assert f"`{source.name}`" in attribution
