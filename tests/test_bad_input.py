"""Bad input never produces a traceback: one stderr line, a documented exit code, and the
library left as it was. (Cases found by an adversarial review.)"""

from __future__ import annotations

import marshal
import os
import stat
import sys
from pathlib import Path

import pytest

from conftest import Runner, run_papercli


def snapshot(library: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (library / "papers").iterdir() if p.is_file()}


@pytest.fixture
def one(cli: Runner, library: Path) -> str:
    assert cli("add", "--title", "A paper about robust tools", "--year", "2020").exit_code == 0
    return "2020paper"


def one_line_error(proc_or_result: object, code: int) -> str:
    stderr = proc_or_result.stderr
    exit_code = getattr(proc_or_result, "exit_code", getattr(proc_or_result, "returncode", None))
    assert exit_code == code, proc_or_result
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    return str(stderr)


def test_absurd_year_in_a_file_is_a_malformed_file(cli: Runner, library: Path, one: str) -> None:
    (library / "papers" / "zbad.toml").write_text('title = "ok"\nyear = 99999999999999999999\n')
    (library / "papers" / "zneg.toml").write_text('title = "ok"\nyear = -5\n')
    result = cli("list")
    assert result.exit_code == 0
    assert one in result.stdout
    assert "zbad.toml:1:1: field 'year' must be between 1 and 9999" in result.stderr
    assert "zneg.toml:1:1: field 'year' must be between 1 and 9999" in result.stderr
    assert cli("stats", "--json").exit_code == 0


def test_wrong_types_are_named(cli: Runner, library: Path) -> None:
    (library / "papers" / "t42.toml").write_text("title = 42\n")
    (library / "papers" / "pbool.toml").write_text(
        'title = "x"\n[[notes]]\ntext = "n"\npage = true\n'
    )
    err = cli("list").stderr
    assert "t42.toml:1:1: field 'title' must be a string" in err
    assert "pbool.toml:1:1: note field 'page' must be a string" in err


def test_edit_of_a_directory_and_editors_that_misbehave(
    cli: Runner, library: Path, one: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(library)
    (library / "papers" / "dirpaper.toml").mkdir()
    err = one_line_error(cli("edit", "dirpaper"), 4)
    assert "dirpaper.toml: cannot read" in err
    (library / "papers" / "dirpaper.toml").rmdir()
    monkeypatch.setenv("EDITOR", "rm")
    for args in (("edit", one), ("note", one)):
        err = one_line_error(cli(*args), 2)
        assert "the editor removed the file it was editing; nothing was saved" in err
    script = tmp_path / "latin1.py"
    script.write_text("import sys\nopen(sys.argv[-1], 'wb').write(b'\\xff\\xfe caf\\xe9')\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    assert "not UTF-8" in one_line_error(cli("note", one), 2)
    # An invalid edit with no terminal: one line, naming where the edit is wrong.
    script.write_text("import sys\nopen(sys.argv[-1], 'a').write('year = = 1\\n')\n")
    err = one_line_error(cli("edit", one), 2)
    assert err.startswith(f"papercli: error: invalid edit, {one} was not changed: {one}.toml:")
    assert snapshot(library) == before


def test_damaged_library_and_config_files(
    cli: Runner, library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = library / "library.toml"
    settings.write_bytes(b"\xff\xfe")
    assert "not UTF-8 text" in one_line_error(cli("list"), 4)
    settings.write_text('format = "1"\n')
    assert "'format' must be a positive integer" in one_line_error(cli("list"), 4)
    settings.write_text("format = = 1\n")
    assert "library.toml:1:10: Invalid value" in one_line_error(cli("list"), 4)
    settings.write_text("format = 1\n")
    config = Path(os.environ["PAPERCLI_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    monkeypatch.delenv("PAPERCLI_LIBRARY")
    config.write_bytes(b"\xff")
    assert "the config file is not UTF-8 text" in one_line_error(cli("list"), 2)
    config.write_text("library = 5\n")
    assert "library must be a path" in one_line_error(cli("list"), 2)


def test_names_too_long_and_empty_refs(
    cli: Runner, library: Path, one: str, tmp_path: Path
) -> None:
    long = tmp_path / ("x" * 300)
    assert "not a usable path" in one_line_error(cli("-L", str(long), "list"), 4)
    assert "an empty REF" in one_line_error(cli("show", ""), 2)
    before = snapshot(library)
    assert "an empty REF" in one_line_error(cli("rm", " ", "--yes"), 2)
    assert snapshot(library) == before


def test_bad_settings_in_the_environment(library: Path, one: str) -> None:
    proc = run_papercli("tag", one, "x", env={"PAPERCLI_LOCK_TIMEOUT": "abc"})
    assert "PAPERCLI_LOCK_TIMEOUT='abc' is not a number" in one_line_error(proc, 2)
    assert run_papercli("list", env={"PAPERCLI_FULL_STAT_LIMIT": "abc"}).returncode == 0
    for name, value, words in (
        ("PAPERCLI_ARXIV_TIMEOUT", "nan", "out of range"),
        ("PAPERCLI_ARXIV_TIMEOUT", "-1", "out of range"),
        ("PAPERCLI_ARXIV_API", "http://[::1", "is not an http(s) URL"),
        ("PAPERCLI_ARXIV_API", "ftp://example.org/", "is not an http(s) URL"),
    ):
        proc = run_papercli("add", "2301.00001", env={name: value})
        assert words in one_line_error(proc, 2)


def test_a_damaged_cache_index_is_rebuilt(cli: Runner, library: Path, one: str) -> None:
    assert cli("list").exit_code == 0
    cache = Path(os.environ["PAPERCLI_CACHE_DIR"])
    (index,) = cache.rglob("index.bin")
    index.write_bytes(marshal.dumps({"version": 3, "root": str(library.resolve())}))
    result = cli("list")
    assert result.exit_code == 0 and one in result.stdout


def test_writes_keep_file_permissions(cli: Runner, library: Path, one: str) -> None:
    path = library / "papers" / f"{one}.toml"
    os.chmod(path, 0o640)
    assert cli("tag", one, "perm").exit_code == 0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    mask = os.umask(0o022)
    os.umask(mask)
    assert cli("add", "--title", "Fresh file mode", "--year", "2021").exit_code == 0
    assert stat.S_IMODE(os.stat(library / "papers" / "2021fresh.toml").st_mode) == 0o666 & ~mask


def test_empty_tags_authors_and_notes(cli: Runner, library: Path, one: str) -> None:
    before = snapshot(library)
    assert "a tag cannot be empty" in one_line_error(cli("tag", one, ""), 2)
    assert "a tag cannot be empty" in one_line_error(cli("untag", one, ","), 2)
    assert "author's name is empty" in one_line_error(
        cli("add", "--title", "x", "--author", "{}"), 2
    )
    assert "author's name is empty" in one_line_error(
        cli("add", "--title", "x", "--author", ","), 2
    )
    assert "the note is empty" in one_line_error(cli("add", "--title", "x", "--note", " "), 2)
    assert snapshot(library) == before
    # Adding a tag the paper already has changes nothing on disk.
    assert cli("tag", one, "robust").exit_code == 0
    mtime = os.stat(library / "papers" / f"{one}.toml").st_mtime_ns
    assert cli("tag", one, "robust").stdout == f"{one}: robust\n"
    assert os.stat(library / "papers" / f"{one}.toml").st_mtime_ns == mtime


def test_list_limit_zero_is_all_and_empty_json_exits_1(
    cli: Runner, library: Path, one: str
) -> None:
    assert cli("add", "--title", "Second paper on things", "--year", "2021").exit_code == 0
    assert len(cli("list", "--limit", "0").stdout.splitlines()) == 2
    result = cli("list", "--json", "--tag", "none-such")
    assert result.exit_code == 1 and result.stdout == "[]\n"


def test_command_line_errors_are_one_line(library: Path) -> None:
    for args, words in (
        (["frobnicate"], "No such command 'frobnicate'. (see 'papercli --help')"),
        (["list", "--limit", "abc"], "Invalid value for '--limit'"),
        (["show"], "Missing argument 'REF'. (see 'papercli show --help')"),
        (["add", "--title", "x", "--year", "abc"], "(see 'papercli add --help')"),
    ):
        proc = run_papercli(*args)
        assert words in one_line_error(proc, 2)
        assert proc.stderr.startswith("papercli: error: ")


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["-L", "~no-such-user-papercli/lib", "list"], {}),
        (["list"], {"PAPERCLI_LIBRARY": "~no-such-user-papercli/lib"}),
        (["list"], {"PAPERCLI_CACHE_DIR": "~no-such-user-papercli/cache"}),
    ],
)
def test_a_home_of_no_user_is_one_line(library: Path, args: list[str], env: dict[str, str]) -> None:
    """``~user`` of a user who does not exist, in an option or the environment: pathlib
    raises; papercli says which path and exits with the usage code."""
    done = run_papercli(*args, env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "~no-such-user-papercli" in done.stderr and "no such user" in done.stderr
