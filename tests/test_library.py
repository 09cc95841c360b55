"""The library on disk: format, atomic writes, the lock, the derived cache, malformed files."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from papercli.errors import LibraryError, MalformedFileError, UsageError
from papercli.library import Library, dump_paper
from papercli.models import (
    Note,
    Paper,
    key_file_name,
    key_of_file_name,
    parse_author,
    validate_key,
)

from conftest import Runner, run_papercli


def add(cli: Runner, title: str, *extra: str) -> str:
    result = cli("add", "--title", title, *extra)
    assert result.exit_code == 0, result
    return result.stdout.split(":")[0].removeprefix("added ")


def test_paper_file_is_readable_toml_with_notes_as_sections(cli: Runner, library: Path) -> None:
    key = add(
        cli,
        "LoRA: Low-Rank Adaptation of Large Language Models",
        "-a",
        "Edward J. Hu",
        "-a",
        "Yelong Shen",
        "--year",
        "2021",
        "-t",
        "peft",
        "--note",
        "first note",
    )
    assert key == "hu2021lora"
    text = (library / "papers" / "hu2021lora.toml").read_text()
    assert 'title = "LoRA: Low-Rank Adaptation of Large Language Models"\n' in text
    assert 'authors = ["Hu, Edward J.", "Shen, Yelong"]\n' in text
    assert "\n[[notes]]\n" in text
    assert 'text = "first note"\n' in text
    data = tomllib.loads(text)
    assert "key" not in data  # the file name is the key
    assert data["year"] == 2021


def test_unknown_fields_survive_a_rewrite(cli: Runner, library: Path) -> None:
    key = add(cli, "Attention Is All You Need", "-a", "Ashish Vaswani", "--year", "2017")
    path = library / "papers" / f"{key}.toml"
    path.write_text(
        "my_rating = 5\n"
        + path.read_text()
        + '[custom]\nshelf = "A3"\n\n[[notes]]\ntext = "hand"\nmood = "good"\n'
    )
    assert cli("tag", key, "classic").exit_code == 0
    data = tomllib.loads(path.read_text())
    assert data["my_rating"] == 5
    assert data["custom"] == {"shelf": "A3"}
    assert data["notes"][0]["mood"] == "good"
    assert data["tags"] == ["classic"]


def test_unknown_times_survive_the_cache_and_a_rewrite(cli: Runner, library: Path) -> None:
    # rtoml reads paper files: its time zones must pickle into the cache and write back alike.
    key = add(cli, "Attention Is All You Need", "-a", "Ashish Vaswani", "--year", "2017")
    path = library / "papers" / f"{key}.toml"
    path.write_text(
        "read_on = 2024-05-01T09:30:00+02:00\nseen = 2024-05-01T07:30:00Z\n"
        "local = 2024-05-01T09:30:00\nday = 2024-05-01\n" + path.read_text()
    )
    assert cli("list").exit_code == 0  # parsed and cached
    assert cli("show", key).exit_code == 0  # served from the cache shard
    assert cli("tag", key, "classic").exit_code == 0
    data = tomllib.loads(path.read_text())
    assert data["read_on"].isoformat() == "2024-05-01T09:30:00+02:00"
    assert data["seen"].isoformat() == "2024-05-01T07:30:00+00:00"
    assert data["local"].isoformat() == "2024-05-01T09:30:00"
    assert data["day"].isoformat() == "2024-05-01"
    paper = Library.open(library).read(key)
    assert paper.extra["read_on"].tzinfo.__class__.__module__ == "datetime"


def test_keys_cannot_escape_the_papers_directory(cli: Runner, library: Path) -> None:
    for bad in ("", "x" * 121, "a b", "a,b", "a{b", "a}b", "a%b", "a\\b", "a~b", "a#b", 'a"b',
                "a\nb", "a\x1bb"):  # fmt: skip
        with pytest.raises(UsageError):
            validate_key(bad)
    # BibTeX keys with path characters are kept, in a file whose name cannot leave papers/.
    for key, name in (("../../etc/passwd", "%2E.%2F..%2Fetc%2Fpasswd.toml"),
                      (".hidden", "%2Ehidden.toml"), ("Gusfield:97", "Gusfield%3A97.toml"),
                      ("2016A&A...594A..13P", "2016A%26A...594A..13P.toml"),
                      ("Kübler", "K%C3%BCbler.toml")):  # fmt: skip
        assert key_file_name(key) == name and key_of_file_name(name) == key
        result = cli("add", "--title", f"Paper {name}", "--key", key)
        assert result.exit_code == 0, result
        assert (library / "papers" / name).is_file()
        assert cli("show", key).exit_code == 0
    assert sorted(os.listdir(library)) == [".papercli.lock", "library.toml", "papers"]
    result = cli("add", "--title", "Evil", "--key", "a/b%2F")
    assert (result.exit_code, result.stderr.count("\n")) == (2, 1)
    assert "invalid key" in result.stderr
    result = cli("show", "../library")
    assert result.exit_code == 1
    # A file name papercli would not write is reported, not guessed at.
    (library / "papers" / "a:b.toml").write_text('title = "By hand"\n')
    result = cli("list")
    assert "the file name is not papercli's: rename it to a%3Ab.toml" in result.stderr


def test_malformed_file_is_reported_skipped_and_never_overwritten(
    cli: Runner, library: Path
) -> None:
    good = add(cli, "A good paper about things", "--year", "2020")
    bad = library / "papers" / "broken2020paper.toml"
    bad.write_text('title = "Broken\nyear = 2020\n')
    before = bad.read_bytes()
    result = cli("list")
    assert result.exit_code == 0
    assert good in result.stdout
    assert "broken2020paper" not in result.stdout
    assert "papercli: skipped papers/broken2020paper.toml:1:" in result.stderr
    for args in (
        ("tag", "broken2020paper", "x"),
        ("note", "broken2020paper", "hi"),
        ("status", "broken2020paper", "read"),
    ):
        result = cli(*args)
        assert result.exit_code == 4, result
        assert result.stderr.count("\n") == 1
        assert "broken2020paper.toml:1:" in result.stderr
    assert bad.read_bytes() == before


def test_semantic_errors_name_the_field(library: Path) -> None:
    (library / "papers" / "x2020y.toml").write_text('title = "T"\nyear = "twenty"\n')
    lib = Library.open(library)
    with pytest.raises(MalformedFileError, match=r"x2020y.toml:1:1: field 'year' must be an"):
        lib.read("x2020y")


def test_cache_sees_edits_by_hand_and_by_git(cli: Runner, library: Path) -> None:
    key = add(cli, "Scaling Laws for Neural Language Models", "--year", "2020")
    assert "Scaling Laws" in cli("list").stdout
    path = library / "papers" / f"{key}.toml"
    # An in-place edit (same inode), as nano or VS Code do.
    text = path.read_text().replace("Scaling Laws", "Scaling Rules")
    time.sleep(0.01)
    with open(path, "r+") as handle:
        handle.write(text)
        handle.truncate()
    assert "Scaling Rules" in cli("list").stdout
    # A new file dropped in (git pull), and one removed.
    (library / "papers" / "new2021file.toml").write_text('title = "Dropped in by git"\n')
    out = cli("list").stdout
    assert "Dropped in by git" in out
    path.unlink()
    out = cli("list").stdout
    assert "Scaling Rules" not in out and "Dropped in by git" in out


def test_cache_is_only_a_cache(cli: Runner, library: Path, isolated_env: Path) -> None:
    add(cli, "Deep Residual Learning for Image Recognition", "--year", "2015")
    assert cli("list").exit_code == 0
    cache = Path(os.environ["PAPERCLI_CACHE_DIR"])
    assert any(cache.rglob("index.bin"))
    for f in cache.rglob("*"):
        if f.is_file():
            f.write_bytes(b"garbage")
    result = cli("list", "--json")
    assert result.exit_code == 0
    assert "Deep Residual Learning" in result.stdout


def test_read_only_library_refuses_writes_cleanly(cli: Runner, library: Path) -> None:
    """A library on a read-only file system (or a read-only directory for a normal user)."""
    key = add(cli, "A paper on reading", "--year", "2020")
    assert cli("list").exit_code == 0
    before = {p.name: p.read_bytes() for p in (library / "papers").iterdir()}
    commands = [["add", "--title", "Another paper"], ["tag", key, "x"], ["rm", key, "--yes"]]
    if os.geteuid() == 0:
        if not shutil.which("unshare"):
            pytest.skip("needs unshare to mount the library read-only as root")
        # A private mount namespace where the library is bind-mounted read-only.
        lib = shlex.quote(str(library))
        results = []
        for args in commands:
            papercli = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "papercli", *args])
            script = f"mount --bind {lib} {lib} && mount -o remount,bind,ro {lib} && {papercli}"
            proc = subprocess.run(
                ["unshare", "-m", "sh", "-c", script],
                capture_output=True,
                text=True,
                env=dict(os.environ),
            )
            if "mount" in proc.stderr and proc.returncode != 4:
                pytest.skip(f"cannot make a read-only mount here: {proc.stderr.strip()}")
            results.append(proc)
    else:
        os.chmod(library / "papers", 0o555)
        os.chmod(library, 0o555)
        try:
            results = [run_papercli(*args) for args in commands]
        finally:
            os.chmod(library, 0o755)
            os.chmod(library / "papers", 0o755)
    for proc in results:
        assert proc.returncode == 4, proc
        assert "read-only" in proc.stderr
        assert proc.stderr.count("\n") == 1
        assert "Traceback" not in proc.stderr
    assert {p.name: p.read_bytes() for p in (library / "papers").iterdir()} == before


def test_lock_timeout_is_a_library_error(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = Library.open(library)
    monkeypatch.setenv("PAPERCLI_LOCK_TIMEOUT", "0.2")
    with lib.writing():
        other = Library.open(library)
        with pytest.raises(LibraryError, match="locked by another papercli"):
            with other.writing():
                pass


def test_atomic_write_leaves_no_temporary_files(cli: Runner, library: Path) -> None:
    key = add(cli, "Some paper title here", "--year", "2020")
    for i in range(5):
        assert cli("note", key, f"note {i}").exit_code == 0
    assert sorted(os.listdir(library / "papers")) == [f"{key}.toml"]


def test_not_a_library(cli: Runner, tmp_path: Path) -> None:
    result = cli("-L", str(tmp_path / "nowhere"), "list")
    assert result.exit_code == 4
    assert result.stderr == (
        f"papercli: error: no papercli library at {tmp_path / 'nowhere'}: "
        f"create one with 'papercli init {tmp_path / 'nowhere'}'\n"
    )


def test_newer_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "papers").mkdir()
    (tmp_path / "library.toml").write_text("format = 99\n")
    with pytest.raises(LibraryError, match="newer than this papercli"):
        Library.open(tmp_path)


def test_round_trip_through_the_file_format(tmp_path: Path) -> None:
    paper = Paper(
        key="kaiser2017one",
        title='One Model To Learn Them All: "quotes" \\ backslash',
        authors=[parse_author("Łukasz Kaiser"), parse_author("{Google Brain}")],
        year=2017,
        abstract="Line one.\nLine two with ''' and \"\"\" inside.",
        tags=["multitask"],
        notes=[Note(text="multi\nline", page="3", quote="we show", created="2026-01-02T03:04:05Z")],
        provenance=[{"source": "manual"}],
    )
    data = dump_paper(paper)
    again = Paper.from_toml("kaiser2017one", tomllib.loads(data.decode()))
    assert again == paper


def test_large_library_mode_sees_renames_at_once_and_in_place_edits_within_a_minute(
    tmp_path: Path, cli: Runner, library: Path
) -> None:
    """Above PAPERCLI_FULL_STAT_LIMIT files, unchanged names and inodes keep their cached
    stat while the directory is unchanged; in-place rewrites are found by the full check that
    a directory change or a minute triggers."""
    for i in range(3):
        add(cli, f"Paper number {i} about something", "--year", "2020")
    env = {"PAPERCLI_FULL_STAT_LIMIT": "1"}
    assert run_papercli("list", env=env).returncode == 0
    # A rename-based change (what git and papercli do) is seen on the next command.
    (library / "papers" / "fresh2021file.toml").write_text('title = "Fresh from git"\n')
    assert "Fresh from git" in run_papercli("list", env=env).stdout
    # An in-place rewrite keeps the inode and the directory: seen once the last full check is
    # a minute old.
    path = library / "papers" / "fresh2021file.toml"
    with open(path, "r+") as handle:
        handle.write('title = "Edited in place, longer"\n')
    stamps = list(Path(os.environ["PAPERCLI_CACHE_DIR"]).rglob("verified"))
    assert len(stamps) == 1
    assert "Edited in place" not in run_papercli("list", env=env).stdout  # the documented lag
    os.utime(stamps[0], (time.time() - 120, time.time() - 120))
    assert "Edited in place, longer" in run_papercli("list", env=env).stdout
    # An editor that leaves a swap or lock file beside the file changes the directory: the
    # next command checks every file.
    with open(path, "r+") as handle:
        handle.write('title = "Edited with a swap file"\n')
    swap = library / "papers" / ".fresh2021file.toml.swp"
    swap.write_text("x")
    swap.unlink()
    assert "Edited with a swap file" in run_papercli("list", env=env).stdout


def test_large_library_mode_papercli_writes_keep_the_last_full_check(
    cli: Runner, library: Path
) -> None:
    """papercli's own writes change the papers directory but do not make the next command
    stat every file again (0.3 s at 100,000 papers): what papercli wrote has new inodes and
    is seen at once; an in-place edit keeps the documented minute's lag; a change by anything
    else in the directory still brings a full check."""
    for i in range(3):
        add(cli, f"Paper number {i} about something", "--year", "2020")
    env = {"PAPERCLI_FULL_STAT_LIMIT": "1"}
    assert run_papercli("list", env=env).returncode == 0  # full check, stamp written
    victim = next((library / "papers").glob("*.toml"))
    with open(victim, "r+") as handle:  # same inode, same directory
        handle.truncate()
        handle.write('title = "Edited in place"\nyear = 2020\n')
    added = run_papercli("add", "--title", "Written by papercli itself", "--year", "2021", env=env)
    assert added.returncode == 0, added.stderr
    listed = run_papercli("list", env=env).stdout
    assert "Written by papercli itself" in listed
    assert "Edited in place" not in listed  # the documented lag, not a full check
    swap = library / "papers" / ".editor.swp"
    swap.write_text("x")  # another program changes the directory
    swap.unlink()
    assert "Edited in place" in run_papercli("list", env=env).stdout


def test_large_library_mode_skips_the_listing_of_a_settled_directory(
    cli: Runner, library: Path
) -> None:
    """When the papers directory has not changed since a full check (and had settled before
    it), its listing is the cache's: nothing is missed that creates, removes or renames a
    file, and an in-place edit waits for the minute's full check, as before."""
    for i in range(3):
        add(cli, f"Paper number {i} about something", "--year", "2020")
    env = {"PAPERCLI_FULL_STAT_LIMIT": "1"}
    time.sleep(0.1)  # the directory settles before the full check
    assert run_papercli("list", env=env).returncode == 0  # full check, stamp written
    listed = run_papercli("list", env=env)  # served from the cache's listing
    assert len(listed.stdout.splitlines()) == 3  # piped: one paper a line
    victim = next((library / "papers").glob("*.toml"))
    with open(victim, "r+") as handle:
        handle.write('title = "Edited in place"\n')
    assert "Edited in place" not in run_papercli("list", env=env).stdout  # the documented lag
    (library / "papers" / "new2022paper.toml").write_text('title = "A New File"\n')
    assert "A New File" in run_papercli("list", env=env).stdout  # the directory changed
    (library / "papers" / "new2022paper.toml").unlink()
    assert "A New File" not in run_papercli("list", env=env).stdout


def test_a_forked_helper_parses_half_of_a_new_cache_with_the_same_result(
    cli: Runner, library: Path, tmp_path: Path
) -> None:
    """From PAPERCLI_PARALLEL_PARSE_MIN files to parse, a forked process parses half the
    shards: the index, the problems named and later reads are those of a parse in one
    process."""
    for i in range(40):
        add(cli, f"Paper number {i} about something", "--year", str(2000 + i), "-t", f"t{i % 3}")
    (library / "papers" / "broken2020x.toml").write_text('title = "unterminated\n')
    outputs = []
    for minimum, cache in (("1", "parallel"), ("1000000", "serial")):
        env = {"PAPERCLI_PARALLEL_PARSE_MIN": minimum, "PAPERCLI_CACHE_DIR": str(tmp_path / cache)}
        first = run_papercli("list", "--limit", "0", env=env)
        again = run_papercli("list", "--limit", "0", "--tag", "t1", env=env)  # from the cache
        for path in list((library / "papers").glob("2*.toml"))[:30]:  # 30 changed files
            path.write_text(path.read_text().replace("about something", "edited"))
        edited = run_papercli("search", "edited", "--limit", "0", env=env)
        outputs.append((first.stdout, first.stderr, again.stdout, edited.stdout))
        assert first.returncode == 0 and "broken2020x.toml" in first.stderr
        for path in (library / "papers").glob("2*.toml"):
            path.write_text(path.read_text().replace("edited", "about something"))
    assert outputs[0] == outputs[1]
    assert len(outputs[0][0].splitlines()) == 40 and len(outputs[0][3].splitlines()) == 30


def test_a_rows_file_from_another_moment_is_never_mixed_in(cli: Runner, library: Path) -> None:
    """The index keeps each shard's rows in its own file, named by index.bin with an id: a
    rows file another process wrote at another moment (or a damaged one) makes that shard
    parsed again, so a change is never hidden behind index.bin's current file stats."""
    for i in range(30):
        add(cli, f"Paper number {i} about something", "--year", str(2000 + i))
    assert run_papercli("list").returncode == 0
    rows_dir = next(Path(os.environ["PAPERCLI_CACHE_DIR"]).rglob("rows"))
    before = {path: path.read_bytes() for path in rows_dir.iterdir()}
    key = sorted(p.stem for p in (library / "papers").glob("*.toml"))[7]
    assert run_papercli("tag", key, "changed").returncode == 0
    assert run_papercli("list", "--tag", "changed", "--format", "key").stdout == f"{key}\n"
    for path, data in before.items():  # the older rows files come back
        path.write_bytes(data)
    assert run_papercli("list", "--tag", "changed", "--format", "key").stdout == f"{key}\n"
    for path in rows_dir.iterdir():
        path.write_bytes(b"damaged")
    listed = run_papercli("list", "--tag", "changed", "--format", "key")
    assert listed.stdout == f"{key}\n" and listed.stderr == ""
    assert len(run_papercli("list").stdout.splitlines()) == 30


def test_an_index_updated_from_the_listing_alone_equals_one_built_afresh(
    cli: Runner, library: Path, tmp_path: Path
) -> None:
    """In a large library's mode, after papercli's own writes the listing is matched to the
    cache by name and inode and only new files are stat'ed: papers tagged (rewritten under
    a new inode), removed and added give the index one built from nothing gives."""
    for i in range(30):
        add(cli, f"Paper number {i} about something", "--year", str(2000 + i), "-t", f"t{i % 4}")
    env = {"PAPERCLI_FULL_STAT_LIMIT": "1"}
    assert run_papercli("list", env=env).returncode == 0  # full check, stamp written
    keys = sorted(path.stem for path in (library / "papers").glob("*.toml"))
    for key in keys[:3]:
        assert run_papercli("tag", key, "retagged", env=env).returncode == 0
    assert run_papercli("rm", keys[3], keys[4], "--yes", env=env).returncode == 0
    for title in ("A paper added later", "Another later paper"):
        assert run_papercli("add", "--title", title, "--year", "2024", env=env).returncode == 0
    fields = ["list", "--limit", "0", "--format", "key,year,status,authors,tags,title,notes"]
    updated = run_papercli(*fields, env=env)
    fresh = run_papercli(*fields, env={**env, "PAPERCLI_CACHE_DIR": str(tmp_path / "fresh")})
    assert updated.returncode == fresh.returncode == 0
    assert sorted(updated.stdout.splitlines()) == sorted(fresh.stdout.splitlines())
    assert len(updated.stdout.splitlines()) == 30 - 2 + 2
    assert updated.stdout.count("retagged") == 3 and "Another later paper" in updated.stdout
    assert keys[3] not in updated.stdout


def test_an_updated_index_equals_one_built_afresh(
    cli: Runner, library: Path, tmp_path: Path
) -> None:
    """After edits, removals, additions and a broken file, the index patched column by column
    lists what an index built from nothing lists."""
    for i in range(30):
        add(cli, f"Paper number {i} about something", "--year", str(2000 + i), "-t", f"t{i % 4}")
    assert cli("list").exit_code == 0  # the cache as it is now
    papers = sorted((library / "papers").glob("*.toml"))
    for path in papers[:3]:
        path.write_text(path.read_text().replace("about something", "edited by hand"))
    for path in papers[3:5]:
        path.unlink()
    (library / "papers" / "broken2020x.toml").write_text('title = "unterminated\n')
    add(cli, "A paper added later", "--year", "2024", "-t", "late")
    add(cli, "Another later paper", "-a", "Ada Lovelace", "--year", "1843")
    fields = ["list", "--limit", "0", "--format", "key,year,status,authors,tags,title,notes"]
    patched = run_papercli(*fields)
    fresh = run_papercli(*fields, env={"PAPERCLI_CACHE_DIR": str(tmp_path / "fresh")})
    assert patched.returncode == fresh.returncode == 0
    assert sorted(patched.stdout.splitlines()) == sorted(fresh.stdout.splitlines())
    assert len(patched.stdout.splitlines()) == 30 - 2 + 2
    assert "edited by hand" in patched.stdout and "broken2020x.toml" in patched.stderr
    assert run_papercli("tag", papers[0].stem, "again").returncode == 0
    listed = run_papercli("list", "--tag", "again", "--format", "key")
    assert listed.stdout.split() == [papers[0].stem]


def test_a_writer_answers_key_questions_from_the_index_as_from_the_map(library: Path) -> None:
    """A writer answers who owns a key or alias up to case from the loaded index (a few
    questions, as adding a paper asks) and, after many, from a map of every name: the same
    answers, through writes, removals and renames made by the same writer."""
    from papercli.library import LOOKUPS_BEFORE_MAP

    papers = library / "papers"
    smith = Paper(key="Smith2020deep", title="Deep", aliases=["OldKey-1", "straße2020"])
    (papers / "Smith2020deep.toml").write_bytes(dump_paper(smith))
    (papers / "jones2021.toml").write_bytes(dump_paper(Paper(key="jones2021", title="Jones")))
    questions = ["smith2020DEEP", "oldkey-1", "STRASSE2020", "JONES2021", "nobody", "old", ""]
    answers = []
    for many in (False, True):
        lib = Library.open(library)
        lib.index()
        with lib.writing() as writer:
            if many:
                for _ in range(LOOKUPS_BEFORE_MAP + 1):
                    writer.owner_of("warm-up")
            asked = [writer.owner_of(q) for q in questions]
            writer.create(Paper(key="new2024", title="New", aliases=["Fresh-Alias"]))
            after_create = [writer.owner_of(q) for q in ("NEW2024", "fresh-alias")]
            writer.rename("jones2021", "Jones2021b")
            after_rename = [writer.owner_of(q) for q in ("jones2021", "jones2021B")]
            writer.delete("new2024")
            writer.delete("Smith2020deep")
            after_delete = [writer.owner_of(q) for q in ("new2024", "FRESH-ALIAS", "OLDKEY-1")]
        answers.append((asked, after_create, after_rename, after_delete))
        for path in papers.glob("*.toml"):  # back to the two papers
            if path.stem not in ("Smith2020deep", "jones2021"):
                path.unlink()
        (papers / "jones2021.toml").write_bytes(dump_paper(Paper(key="jones2021", title="Jones")))
        (papers / "Smith2020deep.toml").write_bytes(dump_paper(smith))
    assert answers[0] == answers[1]
    assert answers[0][0] == ["Smith2020deep"] * 3 + ["jones2021", None, None, None]
    assert answers[0][1] == ["new2024", "new2024"]
    assert answers[0][2][1] == "Jones2021b"
    assert answers[0][3] == [None, None, None]


def test_large_library_mode_sees_a_paper_written_twice_under_its_old_inode(
    cli: Runner, library: Path
) -> None:
    """A file papercli replaces twice can get its old inode back (ext4 does): the files
    papercli wrote since the last full check are stat'ed by the next commands all the same,
    so a status changed twice is never shown as it was."""
    for i in range(4):
        add(cli, f"Paper number {i} about something", "--year", str(2020 + i))
    env = {"PAPERCLI_FULL_STAT_LIMIT": "2"}
    assert run_papercli("list", env=env).returncode == 0  # full check, stamp written
    key = sorted(path.stem for path in (library / "papers").glob("*.toml"))[1]
    for status in ("read", "reading"):
        assert run_papercli("status", key, status, env=env).returncode == 0
    listed = run_papercli("list", "--status", "reading", "--format", "key", env=env)
    assert listed.stdout == f"{key}\n"
    assert run_papercli("list", "--status", "unread", env=env).stdout.count("\n") == 3


def test_an_interrupted_writer_leaves_no_temporary_file_behind(library: Path) -> None:
    """A writer stopped by anything but a refusal (Ctrl-C during a batch's sync, a crash)
    leaves the lock saying a write was under way: the next writer removes what it left."""
    lib = Library.open(library)
    leftover = library / "papers" / ".half2020.toml.abc123.tmp"
    with pytest.raises(KeyboardInterrupt), lib.writing():
        leftover.write_text("half")  # what an interrupted batch leaves
        raise KeyboardInterrupt
    assert leftover.exists()
    with lib.writing() as writer:
        writer.create(Paper(key="next2021", title="The next write"))
    assert not leftover.exists()
    assert [p.name for p in (library / "papers").iterdir()] == ["next2021.toml"]


def test_large_library_mode_a_full_check_made_by_a_write_is_kept(
    cli: Runner, library: Path
) -> None:
    """When a papercli write's own sync makes the minute's full check, the stamp it writes
    is the one carried after the write: the next commands do not check every file again."""
    for i in range(4):
        add(cli, f"Paper number {i} about something", "--year", str(2020 + i))
    env = {"PAPERCLI_FULL_STAT_LIMIT": "2"}
    assert run_papercli("list", env=env).returncode == 0  # full check, stamp written
    (stamp,) = Path(os.environ["PAPERCLI_CACHE_DIR"]).rglob("verified")
    os.utime(stamp, (time.time() - 120, time.time() - 120))  # that check is two minutes old
    added = run_papercli("add", "--title", "Written after a minute", "--year", "2024", env=env)
    assert added.returncode == 0, added.stderr
    assert time.time() - stamp.stat().st_mtime < 60  # add's sync checked every file, kept
