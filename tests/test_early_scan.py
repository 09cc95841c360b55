"""The early scan: the paper files' stat taken by a forked child while the parent imports
(papercli.early_scan). A real fork and pipe each time; the library compares its answer with
its own listing."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from papercli import early_scan
from papercli.library import Library

from conftest import Runner, run_papercli


def _settle(papers: Path) -> None:
    """The directory last changed a second ago (file times are coarse: a change in the tick
    of the listing is never trusted), at a time with nanoseconds, as ext4 keeps them."""
    past = time.time_ns() - 1_000_000_000 + 123_457
    os.utime(papers, ns=(past, past))


def _own_scan(library: Path) -> tuple[list[str], list[bytes]]:
    scan = Library.open(library)._scan(None)
    return scan.names, [column.tobytes() for column in scan.stat]


def test_the_childs_listing_is_the_librarys_own(filled: Path) -> None:
    papers = filled / "papers"
    _settle(papers)
    early_scan.start(["list", "--tag", "x"])
    scan = early_scan.take(papers, os.stat(papers))
    assert scan is not None
    assert len(scan.names) == len(list(papers.glob("*.toml"))) > 5
    assert (scan.names, [column.tobytes() for column in scan.stat]) == _own_scan(filled)
    assert early_scan.take(papers, os.stat(papers)) is None  # asked once


def test_a_file_created_after_the_listing_makes_it_unused(filled: Path, cli: Runner) -> None:
    papers = filled / "papers"
    _settle(papers)
    early_scan.start(["list"])
    time.sleep(0.2)  # the child has listed
    assert cli("add", "--title", "Written after the listing", "--year", "2024").exit_code == 0
    assert early_scan.take(papers, os.stat(papers)) is None
    # What Library._scan does then: its own listing, which has the new paper.
    early_scan.start(["list"])
    assert "Written after the listing" in "".join(
        row.title for row in Library.open(filled).index().summaries()
    )


def test_a_directory_changed_in_the_listings_tick_is_not_trusted(filled: Path) -> None:
    papers = filled / "papers"
    os.utime(papers)  # now: a rename in the same tick could hide behind this mtime
    early_scan.start(["search", "attention"])
    assert early_scan.take(papers, os.stat(papers)) is None


def test_the_child_holds_none_of_the_parents_stdio(filled: Path) -> None:
    """A child whose answer is never asked for (``show`` of an exact key) waits on its pipe
    until the parent exits: it must not keep the parent's stdout open meanwhile (a reader of
    ``papercli ... |`` would wait for it)."""
    papers = filled / "papers"
    for i in range(1500):  # a listing larger than a pipe holds: the child waits, alive
        (papers / f"paper{i:05d}-{'x' * 40}.toml").write_text('title = "T"\n')
    _settle(papers)
    early_scan.start(["show", "k"])
    assert early_scan._pending is not None
    pid = early_scan._pending[1]
    deadline = time.monotonic() + 5
    try:
        while True:
            targets = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in (0, 1, 2)}
            if targets == {os.devnull} or time.monotonic() > deadline:
                break
            time.sleep(0.01)
    finally:
        early_scan.take(papers, os.stat(papers))
    assert targets == {os.devnull}


def test_a_writer_that_waited_for_the_lock_sees_an_edit_made_meanwhile(
    cli: Runner, library: Path
) -> None:
    """The listing the child took at the start is not used by a command that then waited for
    the lock: a paper edited in place during the wait (the directory's mtime unchanged) is
    seen, so adding the same paper is refused, not written twice."""
    assert cli("add", "--title", "Old scratch title", "--year", "2020", "--key",
               "Scratch2020", "--author", "Ann Writer").exit_code == 0  # fmt: skip
    assert run_papercli("list").returncode == 0  # the cache is written
    papers = library / "papers"
    _settle(papers)
    lock = os.open(library / ".papercli.lock", os.O_RDWR)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        adding = subprocess.Popen(
            [sys.executable, "-m", "papercli", "add", "--title", "A quite distinctive title",
             "--year", "2020", "--author", "Ann Writer", "--doi", "10.9999/distinct.1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
        )  # fmt: skip
        time.sleep(0.6)  # the child has listed; the command waits for the lock
        path = papers / "Scratch2020.toml"
        text = path.read_text().replace("Old scratch title", "A quite distinctive title")
        text = text.replace("year = 2020", 'year = 2020\ndoi = "10.9999/distinct.1"')
        with open(path, "r+") as handle:
            handle.truncate()
            handle.write(text)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)
    out, err = adding.communicate(timeout=60)
    assert adding.returncode != 0, out
    assert "Scratch2020" in err
    assert sorted(p.name for p in papers.glob("*.toml")) == ["Scratch2020.toml"]


def test_whole_seconds_are_not_trusted(filled: Path) -> None:
    """A directory time in whole seconds (FAT, HFS+): a file created in the same second as
    the listing would leave it unchanged, so the listing is never used there."""
    papers = filled / "papers"
    past = (time.time_ns() // 1_000_000_000 - 2) * 1_000_000_000
    os.utime(papers, ns=(past, past))
    early_scan.start(["list"])
    assert early_scan.take(papers, os.stat(papers)) is None


def test_above_the_full_stat_limit_names_and_inodes_only(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library above ``FULL_STAT_LIMIT`` files stats only what changed (Library._scan): the
    child lists names and inodes, and stats nothing."""
    import papercli.library

    papers = filled / "papers"
    (papers / ".swap.toml").write_text("x")  # hidden: not a paper
    (papers / "notes.txt").write_text("x")
    _settle(papers)
    monkeypatch.setattr(papercli.library, "FULL_STAT_LIMIT", 3)
    early_scan.start(["list"])
    scan = early_scan.take(papers, os.stat(papers))
    assert scan is not None and scan.listed_only
    with os.scandir(papers) as entries:
        expected = sorted(
            (e.name, e.inode()) for e in entries if e.name.endswith(".toml") and e.name[0] != "."
        )
    assert sorted(zip(scan.names, scan.stat[0], strict=True)) == expected
    assert len(expected) > 3 and not scan.stat[1] and not scan.stat[2]


def test_a_large_library_uses_the_childs_listing_unless_its_cache_has_it(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the limit the library lists its directory only when it cannot trust its cache's
    listing; the child answers nothing then, and its listing is the library's otherwise."""
    import papercli.library

    papers = filled / "papers"
    monkeypatch.setattr(papercli.library, "FULL_STAT_LIMIT", 3)
    _settle(papers)
    Library.open(filled).index()  # a full check, well after the directory's last change
    settled = os.stat(papers).st_mtime_ns
    assert papercli.library.cached_listing_trusted(filled, settled)
    assert early_scan._listing(papers) is None  # what the child answers: nothing to list
    # A file from another program: the cache's listing is not trusted, the child's is used.
    (papers / "fromgit2024.toml").write_text('title = "From git"\n')
    _settle(papers)
    assert not papercli.library.cached_listing_trusted(filled, os.stat(papers).st_mtime_ns)
    assert early_scan._listing(papers) is not None
    early_scan.start(["list"])
    time.sleep(0.2)  # the child has listed
    # Proof that the child's listing is the one used: a file created after it, behind a
    # directory mtime put back, is not in the index (Library._scan would have listed it).
    mtime = os.stat(papers).st_mtime_ns
    (papers / "afterwards2024.toml").write_text('title = "Afterwards"\n')
    os.utime(papers, ns=(mtime, mtime))
    titles = {row.title for row in Library.open(filled).index().summaries()}
    assert "From git" in titles and "Afterwards" not in titles


def test_another_library_gets_no_answer(filled: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(filled, other)
    _settle(filled / "papers")
    early_scan.start(["-L", str(other), "list"])
    assert early_scan.take(filled / "papers", os.stat(filled / "papers")) is None


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["list", "--help"],
        ["export", "bibtex", "-h"],
        ["--version"],
        ["init", "somewhere"],
        ["-L", "/nonexistent"],
    ],
)
def test_no_child_for_what_reads_no_index(argv: list[str], filled: Path) -> None:
    assert early_scan._papers_dir_of(argv) is None


def test_the_library_option_is_read_as_the_cli_reads_it(tmp_path: Path) -> None:
    assert early_scan._papers_dir_of(["-L", str(tmp_path), "list"]) == tmp_path / "papers"
    assert early_scan._papers_dir_of([f"--library={tmp_path}", "show", "k"]) == (
        tmp_path / "papers"
    )


def test_no_child_while_a_shell_completes(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_PAPERCLI_COMPLETE", "complete_bash")
    assert early_scan._papers_dir_of(["list"]) is None


def test_a_missing_papers_directory_gives_none(tmp_path: Path) -> None:
    early_scan.start(["-L", str(tmp_path / "nothing"), "list"])
    assert early_scan.take(tmp_path / "nothing" / "papers", os.stat(tmp_path)) is None


def test_the_command_sees_an_edit_in_place_made_just_before_it(filled: Path) -> None:
    """Through the console script: the child stats the file the edit changed (same inode,
    same directory mtime), so the command lists the new title."""
    papers = filled / "papers"
    assert run_papercli("list").returncode == 0  # the cache is written
    victim = sorted(papers.glob("*.toml"))[0]
    text = victim.read_text()
    _settle(papers)
    with open(victim, "r+") as handle:
        handle.write(text.replace('title = "', 'title = "Edited in place: ', 1))
    listed = run_papercli("list", "--limit", "0")
    assert listed.returncode == 0, listed.stderr
    assert "Edited in place: " in listed.stdout
    assert (
        listed.stdout
        == run_papercli("list", "--limit", "0", env={"PAPERCLI_NO_EARLY_SCAN": "1"}).stdout
    )
