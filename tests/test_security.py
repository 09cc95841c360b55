"""Hostile input never runs code, plants entries, hangs papercli or reaches the terminal raw.

One test per finding of the probe (numbered as in docs/security.md), each through the real
code path: real libraries on disk, real subprocesses, real TeX runs, a real HTTP server on
127.0.0.1.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from papercli.keys import unique_key
from papercli.library import Library
from papercli.models import Paper

from conftest import Runner, run_papercli

ESC = "\x1b"


def _add(cli: Runner, title: str, *extra: str) -> str:
    result = cli("add", "--title", title, "--author", "Jane Doe", "--year", "2020", *extra)
    assert result.exit_code == 0, result
    return result.stdout.split()[1].rstrip(":")


# 1, 2 -- TeX that acts, braces that plant entries ---------------------------------------------


@pytest.mark.tex
def test_1_tex_primitives_never_run_even_with_shell_escape(
    cli: Runner, library: Path, tmp_path: Path
) -> None:
    if not (shutil.which("pdflatex") and shutil.which("bibtex")):
        if os.environ.get("CI"):
            pytest.fail("CI must install pdflatex and bibtex")
        pytest.skip("needs pdflatex and bibtex")
    marker = tmp_path / "ran"
    key = _add(
        cli, f"Fast $\\immediate\\write18{{touch {marker}}}$ sorting and \\input{{/etc/hostname}}"
    )
    result = cli("export", "bibtex", "-o", str(tmp_path / "refs.bib"))
    assert result.exit_code == 0, result
    assert f"papercli: {key}: made safe for LaTeX" in result.stderr
    assert "\\immediate" in result.stderr and "\\write" in result.stderr
    (tmp_path / "d.tex").write_text(
        "\\documentclass{article}\\begin{document}\\nocite{*}\\bibliographystyle{plain}"
        "\\bibliography{refs}\\end{document}\n"
    )
    latex = ["pdflatex", "-shell-escape", "-interaction=nonstopmode", "d.tex"]
    for command in (latex, ["bibtex", "d"], latex):
        subprocess.run(command, cwd=tmp_path, capture_output=True, timeout=120, check=False)
    assert not marker.exists()
    assert "\\write18" not in (tmp_path / "d.bbl").read_text()


def test_2_no_value_can_plant_an_entry(cli: Runner, library: Path) -> None:
    from bibtexparser.entrypoint import parse_string

    _add(cli, "Efficient $O(n)}} @misc{planted2099, title={x}} @comment{{$ sorting")
    result = cli("export", "bibtex")
    keys = [entry.key for entry in parse_string(result.stdout).entries]
    assert keys == ["doe2020efficient"]
    assert "unbalanced braces" in result.stderr


# 3 -- the cache ----------------------------------------------------------------------------


class _Planted:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {os.environ['PLANT_MARKER']}",))


def test_3_a_planted_pickle_never_runs_and_a_shared_cache_is_not_used(
    cli: Runner, library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(cli, "A paper worth finding")
    assert cli("search", "worth").exit_code == 0  # builds the cache
    lib = Library.open(library)
    marker = tmp_path / "pwned"
    monkeypatch.setenv("PLANT_MARKER", str(marker))
    planted = pickle.dumps(_Planted())
    for shard in range(64):
        lib.shard_path(shard).write_bytes(planted)
    for name in os.listdir(lib.cache_dir):
        if name.endswith(".bin") or name.startswith("search"):
            (lib.cache_dir / name).write_bytes(planted)
    result = cli("export", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)[0]["title"] == "A paper worth finding"
    assert cli("search", "worth").exit_code == 0
    assert not marker.exists()
    assert stat.S_IMODE(os.stat(lib.cache_dir).st_mode) == 0o700
    # A cache directory others may write is not used at all, said once.
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)
    monkeypatch.setenv("PAPERCLI_CACHE_DIR", str(shared))
    result = cli("list")
    assert result.exit_code == 0 and "A paper worth finding" in result.stdout
    assert "is not yours alone" in result.stderr
    assert os.listdir(shared) == []


# 4 -- the terminal -------------------------------------------------------------------------


def test_4_control_characters_and_bidi_overrides_are_shown_not_obeyed(
    cli: Runner, library: Path
) -> None:
    lib = Library.open(library)
    evil = f"Title {ESC}]52;c;cm0gLXJmIH4=\x07 {ESC}[2J \u202etxt.exe\u202c \x9b31m"
    with lib.writing() as writer:
        writer.create(Paper(key="evil", title=evil, authors=[f"Doe{ESC}[31m, J."],
                            tags=[f"x{ESC}y"], abstract=evil))  # fmt: skip
    assert cli("note", "evil", f"note {ESC}[2J here").exit_code == 0
    for args in (["list"], ["show", "evil"], ["search", "Title"], ["notes", "evil"],
                 ["export", "markdown"], ["stats"]):  # fmt: skip
        result = cli(*args)
        assert result.exit_code == 0, (args, result)
        shown = result.stdout + result.stderr
        assert ESC not in shown and "\x07" not in shown and "\x9b" not in shown, args
        assert "\u202e" not in shown, args
    assert "\\x1b]52;c;" in cli("show", "evil").stdout
    data = cli("show", "evil", "--json").stdout
    assert ESC not in data and "\u202e" not in data and "\x9b" not in data
    assert json.loads(data)["title"] == evil  # JSON escapes read back as the same text


# 5 -- open ---------------------------------------------------------------------------------


def test_5_open_hands_a_browser_only_http_urls_never_as_an_option(
    cli: Runner, library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "browser.log"
    script = tmp_path / "browser.py"
    script.write_text(f"import sys\nopen({str(log)!r}, 'a').write(repr(sys.argv[1:]) + '\\n')\n")
    monkeypatch.setenv("BROWSER", f"{sys.executable} {script} --new-window %s")
    lib = Library.open(library)
    with lib.writing() as writer:
        for key, url in (("opt", "--user-data-dir=/tmp/evil"), ("js", "javascript:alert(1)"),
                         ("file", "file:///etc/passwd"), ("good", "https://example.org/p?a=1"),
                         ("arx", "javascript:x")):  # fmt: skip
            paper = Paper(key=key, title=f"Paper {key}", url=url)
            if key == "arx":
                paper.arxiv_id = "2106.09685"
            writer.create(paper)
    for key in ("opt", "js", "file"):
        result = cli("open", key)
        assert result.exit_code == 2, result
        assert "is not an http(s) address" in result.stderr
    assert cli("open", "good").exit_code == 0
    assert cli("open", "arx").exit_code == 0  # falls back to the arXiv page
    assert log.read_text().splitlines() == [
        "['--new-window', 'https://example.org/p?a=1']",
        "['--new-window', 'https://arxiv.org/abs/2106.09685']",
    ]


# 6 -- the network ----------------------------------------------------------------------------


class _Hostile(BaseHTTPRequestHandler):
    other_port = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.2:{self.other_port}/api?x")
            self.end_headers()
        elif self.path.startswith("/bomb"):
            body = gzip.compress(b"<feed>" + b" " * (40 * 1024 * 1024), compresslevel=9)
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/drip"):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(60):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass


@pytest.fixture
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    _Hostile.other_port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/redirect/api", "redirected to another site (http://127.0.0.2:"),
        ("/bomb/api", "sent more than 20 MB"),
        ("/drip/api", "did not answer within 1 s (tried 2 times)"),
    ],
)
def test_6_redirects_bombs_and_drips_are_refused_in_time(
    cli: Runner, library: Path, hostile: str, monkeypatch: pytest.MonkeyPatch, path: str,
    message: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("PAPERCLI_ARXIV_API", hostile + path)
    monkeypatch.setenv("PAPERCLI_ARXIV_TIMEOUT", "1")
    monkeypatch.setenv("PAPERCLI_ARXIV_RETRIES", "1")
    started = time.monotonic()
    result = cli("add", "2106.09685")
    assert result.exit_code == 3, result
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert time.monotonic() - started < 8
    assert os.listdir(library / "papers") == []


# 7, 8, 9 -- what lies in the library directory ----------------------------------------------


def test_7_the_lock_file_is_never_followed_through_a_symlink(
    cli: Runner, library: Path, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere"
    (library / ".papercli.lock").unlink(missing_ok=True)
    (library / ".papercli.lock").symlink_to(target)
    result = cli("add", "--title", "A paper")
    assert result.exit_code == 4
    assert "is a symbolic link: papercli does not follow it" in result.stderr
    assert not target.exists()


def test_8_fifos_devices_and_escaping_symlinks_are_skipped_not_read(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    _add(cli, "A regular paper")
    papers = library / "papers"
    os.mkfifo(papers / "fifo.toml")
    (papers / "zero.toml").symlink_to("/dev/zero")
    outside = tmp_path / "outside.toml"
    outside.write_text('title = "Outside"\n')
    (papers / "outside.toml").symlink_to(outside)
    for args in (["list"], ["search", "regular"], ["show", "doe2020regular"],
                 ["tag", "doe2020regular", "x"]):  # fmt: skip
        result = run_papercli(*args, timeout=30)
        assert result.returncode == 0, (args, result.stderr)
    result = run_papercli("list", timeout=30)
    assert "fifo.toml: not a regular file" in result.stderr
    assert "zero.toml: not a regular file" in result.stderr
    assert "outside.toml: a symbolic link to a file outside the library" in result.stderr
    assert "Outside" not in result.stdout


def test_8b_a_symlink_loop_in_papers_is_skipped_not_a_traceback(library: Path, cli: Runner) -> None:
    _add(cli, "A regular paper")
    papers = library / "papers"
    (papers / "loopa.toml").symlink_to("loopb.toml")
    (papers / "loopb.toml").symlink_to("loopa.toml")
    for env in ({}, {"PAPERCLI_FULL_STAT_LIMIT": "1"}):  # both ways of checking the files
        result = run_papercli("list", env=env, timeout=30)
        assert result.returncode == 0 and "A regular paper" in result.stdout, result.stderr
        assert "Traceback" not in result.stderr
        assert "loopa.toml:1:1: cannot read (Too many levels of symbolic links)" in result.stderr
    shown = run_papercli("show", "loopa", timeout=30)
    assert shown.returncode == 4 and len(shown.stderr.splitlines()) == 1, shown.stderr


def test_9_deeply_nested_files_are_malformed_not_a_crash(
    library: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _add(cli, "A regular paper")
    (library / "papers" / "deep.toml").write_text(
        'title = "x"\nv = ' + "[" * 500 + "]" * 500 + "\n"
    )
    result = cli("list")
    assert result.exit_code == 0 and "A regular paper" in result.stdout
    assert "deep.toml:1:1: arrays or tables nested too deeply" in result.stderr
    editor = tmp_path / "ed.py"
    editor.write_text(
        "import sys\nopen(sys.argv[1], 'a').write('w = ' + '[' * 500 + ']' * 500 + '\\n')\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    result = cli("edit", "doe2020regular")
    assert result.exit_code == 2 and "nested too deeply" in result.stderr
    assert "w = " not in (library / "papers" / "doe2020regular.toml").read_text()


# 10, 11 -- hand edits and an unwritable cache --------------------------------------------------


def test_10_an_edit_keeping_size_and_mtime_is_seen_at_once(cli: Runner, library: Path) -> None:
    for i in range(30):
        _add(cli, f"Paper number {i:02d} about things")
    path = library / "papers" / "doe2020paper.toml"
    assert cli("list").exit_code == 0  # the cache knows every file
    before = os.stat(path)
    text = path.read_text().replace("Paper number 00", "Paper NUMBER 00")
    path.write_text(text)  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # touch -r: the old mtime
    assert "Paper NUMBER 00" in cli("list", "--limit", "0").stdout


def test_11_with_an_unwritable_cache_every_command_reads_the_current_files(
    cli: Runner, library: Path
) -> None:
    key = _add(cli, "A paper to tag")
    assert cli("export", "json").exit_code == 0  # shards written
    lib = Library.open(library)
    shards = lib.cache_dir / "shards"
    frozen = [shards, lib.cache_dir]
    if subprocess.run(["chattr", "+i", *map(str, frozen)], capture_output=True).returncode:
        pytest.skip("chattr +i (an unwritable cache, even for root) is not supported here")
    try:
        assert cli("tag", key, "fresh").exit_code == 0
        assert cli("note", key, "a fresh note").exit_code == 0
        record = json.loads(cli("export", "json").stdout)[0]
        assert record["tags"] == ["fresh"] and record["notes"][0]["text"] == "a fresh note"
        assert key in cli("search", "tag:fresh").stdout
    finally:
        subprocess.run(["chattr", "-i", *map(str, frozen)], check=False)


# 12, 13 -- destructive commands and interrupted ones -----------------------------------------


def test_12_rm_takes_an_exact_key_or_a_unique_prefix_with_case_kept(
    cli: Runner, library: Path
) -> None:
    lib = Library.open(library)
    with lib.writing() as writer:
        for key, title in (("foobar2020x", "Foo Bar"), ("smith2020attention", "Attention"),
                           ("smith2021other", "Other")):  # fmt: skip
            writer.create(Paper(key=key, title=title))
    result = cli("rm", "Foo", "--yes")
    assert result.exit_code == 1 and "no paper has the key 'Foo'" in result.stderr
    result = cli("rm", "smith202", "--yes")
    assert result.exit_code == 1 and "starts 2 keys" in result.stderr
    result = cli("rm", "smith2020", "--yes")
    assert result.stdout == "removed smith2020attention (Attention)\n"
    assert sorted(os.listdir(library / "papers")) == ["foobar2020x.toml", "smith2021other.toml"]


def test_12_declining_rm_on_a_terminal_exits_1(cli: Runner, library: Path) -> None:
    import pty

    _add(cli, "Keep me")
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "papercli", "rm", "doe2020keep"],
        stdin=follower, stdout=follower, stderr=follower, env=dict(os.environ),
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while b"[y/N]" not in seen:
        seen += os.read(leader, 1024)
    assert b"doe2020keep (Keep me)" in seen
    os.write(leader, b"n\n")
    assert proc.wait(timeout=30) == 1
    os.close(leader)
    assert (library / "papers" / "doe2020keep.toml").exists()


def test_13_a_rekey_killed_midway_is_finished_by_running_it_again(
    cli: Runner, library: Path
) -> None:
    lib = Library.open(library)
    with lib.writing() as writer:
        writer.create(Paper(key="old2020", title="Renamed"))
    # The state a kill between the rename's two steps leaves: the new file (with the old key
    # as alias) and the old one, plus a temporary file of an interrupted write.
    new = Paper(key="new2020", title="Renamed", aliases=["old2020"])
    (library / "papers" / "new2020.toml").write_bytes(
        __import__("papercli.library", fromlist=["dump_paper"]).dump_paper(new)
    )
    (library / "papers" / ".old2020.toml.abc123.tmp").write_text("half")
    # A killed writer leaves the lock file saying a write was under way; a lock file removed
    # (safe when no papercli runs) says the same: the next writer looks for leftovers.
    (library / ".papercli.lock").unlink()
    result = cli("rekey", "old2020", "new2020")
    assert result.exit_code == 0, result
    assert sorted(os.listdir(library / "papers")) == ["new2020.toml"]
    # And with real kills at random moments, the paper is always under one key or both,
    # never lost, and running rekey again finishes the job.
    for attempt in range(5):
        old, new_key = f"a{attempt}", f"b{attempt}"
        with Library.open(library).writing() as writer:
            writer.create(Paper(key=old, title=f"Paper {attempt}", abstract="x " * 200_000))
        proc = subprocess.Popen([sys.executable, "-m", "papercli", "rekey", old, new_key],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(0.25 + 0.05 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        files = set(os.listdir(library / "papers"))
        assert f"{old}.toml" in files or f"{new_key}.toml" in files
        if f"{old}.toml" in files:
            assert cli("rekey", old, new_key).exit_code == 0
        files = {f for f in os.listdir(library / "papers") if not f.startswith(".")}
        assert f"{new_key}.toml" in files and f"{old}.toml" not in files
        assert json.loads(cli("show", old, "--json").stdout)["key"] == new_key


# 14, 15, 16, 17 -----------------------------------------------------------------------------


def test_14_odd_keys_settings_and_tags_are_refused(
    cli: Runner, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = cli("add", "--title", "T", "--key", "nl\n")
    assert result.exit_code == 2 and "invalid key" in result.stderr
    monkeypatch.setenv("PAPERCLI_LOCK_TIMEOUT", "nan")
    result = cli("add", "--title", "T")
    assert result.exit_code == 2 and "PAPERCLI_LOCK_TIMEOUT='nan'" in result.stderr
    monkeypatch.delenv("PAPERCLI_LOCK_TIMEOUT")
    (library / "papers" / "tagged.toml").write_text('title = "T"\ntags = ["", "x"]\n')
    assert "holds an empty tag" in cli("list").stderr
    (library / "library.toml").write_text("format = -5\n")
    result = cli("list")
    assert result.exit_code == 4 and "'format' must be a positive integer" in result.stderr


def test_15_key_suffixes_are_found_in_linear_time() -> None:
    taken: set[str] = set()
    hints: dict[str, int] = {}
    calls = 0

    def is_taken(key: str) -> bool:
        nonlocal calls
        calls += 1
        return key in taken

    for _ in range(3000):
        taken.add(unique_key("smith2020graphs", is_taken, hints))
    assert len(taken) == 3000
    assert calls < 2 * 3000  # quadratic would be about 4.5 million


def test_16_a_thousand_nested_list_levels_is_one_clear_error(
    cli: Runner, library: Path, tmp_path: Path
) -> None:
    nested = tmp_path / "nested.md"
    nested.write_text("".join(f"{'  ' * i}- [Paper {i}](https://example.org/{i})\n"
                              for i in range(1000)))  # fmt: skip
    result = cli("import", "markdown", str(nested))
    assert result.exit_code == 2
    assert result.stderr == (
        "papercli: error: nested.md: lists nested more than 100 levels deep: not a reading "
        "list papercli reads; flatten it\n"
    )
    assert os.listdir(library / "papers") == []


def test_17_a_read_only_paper_file_is_not_rewritten_and_a_bom_is_fine(
    cli: Runner, library: Path
) -> None:
    key = _add(cli, "Locked")
    path = library / "papers" / f"{key}.toml"
    before = path.read_bytes()
    path.chmod(0o444)
    result = cli("tag", key, "x")
    assert result.exit_code == 4
    assert f"{path} is read-only (mode 444): papercli does not change it" in result.stderr
    assert path.read_bytes() == before
    path.chmod(0o644)
    path.write_bytes(b"\xef\xbb\xbf" + before)
    assert "Locked" in cli("list").stdout
    assert cli("tag", key, "x").exit_code == 0


# A second probe's findings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "gone"),
    [
        ("title = {Line\\\\write18{touch x}}", "\\write"),
        ("note = {\\UseName{input}{/etc/hostname}}", "\\UseName"),
        ("note = {\\ExplSyntaxOn\\sys_shell_now:n{touch~x}\\ExplSyntaxOff}", "\\ExplSyntaxOn"),
        ("note = jan # {\\in} # {put{/etc/hostname}}", "input{"),
    ],
)
def test_1_disarming_never_builds_a_primitive_and_sees_joined_pieces(
    cli: Runner, library: Path, tmp_path: Path, fields: str, gone: str
) -> None:
    bib = tmp_path / "h.bib"
    bib.write_text(f"@misc{{h, title={{T}}, {fields}}}\n".replace("title={T}, title", "title"))
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    result = cli("export", "bibtex")
    assert result.exit_code == 0, result
    assert gone not in result.stdout.replace("{put{", "")  # the joined text holds no command
    for primitive in ("\\write", "\\input", "\\UseName", "\\ExplSyntaxOn"):
        assert primitive not in result.stdout
    assert "papercli: h: made safe for LaTeX" in result.stderr


def test_odd_entries_are_said_or_kept_never_break_the_library(
    cli: Runner, library: Path, tmp_path: Path
) -> None:
    long_key = "文" * 100
    bib = tmp_path / "odd.bib"
    bib.write_text(
        "@my-type{t1, title={One}}\n"
        "@article{z2, title={Year Zero}, date={0000-01}}\n"
        f"@misc{{{long_key}, title={{A Long Key}}, year=2020}}\n"
        f"@misc{{k2, title={{x}}, {ESC}[2J=3}}\n",
        encoding="utf-8",
    )
    result = cli("import", "bibtex", str(bib))
    assert result.exit_code == 0, result
    assert "@my-type{t1: not read" in result.stdout
    assert "too long for a file name" in result.stdout
    listed = cli("list")
    assert listed.stderr == "" and "Year Zero" in listed.stdout and "A Long Key" in listed.stdout
    out = cli("export", "bibtex").stdout
    assert ESC not in out


def test_scanners_stay_linear_on_hostile_drafts(tmp_path: Path) -> None:
    script = (
        "import sys, pathlib\n"
        "from papercli.latex import cited_keys\n"
        "from papercli.pandoc import cited_in_markdown\n"
        "d = pathlib.Path(sys.argv[1])\n"
        "for i, body in enumerate(['\\\\cite{' * 40000, '\\\\cite[' * 40000]):\n"
        "    p = d / f'{i}.tex'\n"
        "    p.write_text(body)\n"
        "    cited_keys([p])\n"
        "for text in ['`' * 60000, '](' * 100000, '~' * 60000]:\n"
        "    cited_in_markdown(text)\n"
        "print('done')\n"
    )
    # Quadratic scanning took minutes on these; linear scanning takes well under a second.
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.stdout == "done\n", result.stderr
