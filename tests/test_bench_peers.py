"""The bench's peer command lines (bench/peers.py): keys, placeholders, environment. Nothing
here runs a peer or times anything."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def peers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_peers", BENCH / "peers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_peers"] = module
    spec.loader.exec_module(module)
    return module


def write_bib(path: Path, keys: list[str]) -> Path:
    path.write_text("".join(f"@misc{{{key},\n  title = {{T}},\n}}\n\n" for key in keys))
    return path


def test_middle_key_names_one_paper(peers: ModuleType, tmp_path: Path) -> None:
    # The middle key c3 is inside c34 (both peers match substrings): the next one is chosen.
    bib = write_bib(tmp_path / "lib.bib", ["d.5", "c34", "a1", "c3", "b2"])
    assert peers.middle_key(bib) == "c34"
    # The middle key has a dot (papis reads a regular expression): the next one is chosen.
    bib = write_bib(tmp_path / "dot.bib", ["c3", "b.2", "a1"])
    assert peers.middle_key(bib) == "c3"


def test_middle_key_without_a_unique_key_is_an_error(peers: ModuleType, tmp_path: Path) -> None:
    bib = write_bib(tmp_path / "lib.bib", ["a.1", "a.2"])
    with pytest.raises(peers.PeerFailed, match="no citation key"):
        peers.middle_key(bib)


def test_papis_command_keeps_its_format_and_fills_placeholders(peers: ModuleType) -> None:
    papis = peers.Papis(Path("/venv/bin/papis"))
    rows = {of: args for of, _, args in papis.cases}
    argv = papis.argv(1000, rows["list --limit 0"], "k1", "s1")
    conf = str(peers.PEERS_DIR / "papis1000.conf")
    assert argv[:5] == ["/venv/bin/papis", "--config", conf, "-l", "bench1000"]
    assert argv[5:] == ["list", "--all", "--format", peers.PAPIS_LINE]
    assert papis.argv(1000, rows["tag KEY"], "k1", "s1")[5:] == ["tag", "--append", "benchs1",
                                                                  "ref:k1"]  # fmt: skip


def test_pubs_add_reads_the_one_entry_file(peers: ModuleType) -> None:
    pubs = peers.Pubs(Path("/venv/bin/pubs"))
    rows = {of: args for of, _, args in pubs.cases}
    argv = pubs.argv(10, rows["add (by hand)"], "k1", "s1")
    assert argv == ["/venv/bin/pubs", "-c", str(peers.PEERS_DIR / "pubs10.conf"), "add",
                    str(peers.PEERS_DIR / "one.bib"), "-k", "benchs1"]  # fmt: skip


def test_every_peer_row_stands_beside_a_papercli_case(peers: ModuleType) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import run
    finally:
        sys.path.remove(str(BENCH))
    papercli_cases = {case[0] for case in run.CASES}
    for peer in peers.PEERS:
        assert {of for of, _, _ in peer.cases} <= papercli_cases


def test_peer_env_keeps_the_user_out(peers: ModuleType) -> None:
    env = peers.peer_env({"HOME": "/home/u", "PAPIS_CONFIG": "x", "PUBSCONF": "y", "PATH": "/b"})
    assert "PAPIS_CONFIG" not in env and "PUBSCONF" not in env
    assert env["PATH"] == "/b"
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        assert Path(env[name]).is_relative_to(peers.PEERS_DIR)
    assert env["EDITOR"] == env["VISUAL"] == "false"


def test_find_peers_names_what_is_missing(peers: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    pubs = tmp_path / "bin" / "pubs"
    pubs.write_text("#!/bin/sh\n")
    pubs.chmod(0o755)
    found, missing = peers.find_peers(tmp_path)
    assert [peer.name for peer in found] == ["pubs"]
    assert missing == [f"papis: not in {tmp_path} ({tmp_path}/bin/pip install papis), skipped"]
