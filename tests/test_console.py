"""The console script's end (papercli.console): the process leaves without the interpreter's
teardown, and nothing the command did is lost for it: output, exit codes, exit handlers and
other threads' work. Real subprocesses each time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Runner, run_papercli


@pytest.fixture(autouse=True)
def _buffered_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user runs it: with PYTHONUNBUFFERED (set in some sandboxes and CI) every write
    goes out at once, nothing waits for the last flush, and these tests could not fail."""
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)


def _console(prelude: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script's main after ``prelude`` ran in the same process."""
    code = f"{prelude}\nimport sys\nsys.argv = ['papercli', *sys.argv[1:]]\n"
    code += "from papercli.console import main\nmain()\n"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
    )


def test_output_and_exit_codes_are_those_of_the_command(filled: Path, cli: Runner) -> None:
    exported = run_papercli("export", "bibtex")
    in_process = cli("export", "bibtex")
    assert exported.returncode == 0 and exported.stdout == in_process.stdout != ""
    assert exported.stderr == in_process.stderr
    key = json.loads(cli("list", "--json").stdout)[0]["key"]
    shown = run_papercli("show", key, "--json")  # a short output, still in the buffer at the end
    assert shown.returncode == 0 and json.loads(shown.stdout)["key"] == key
    missing = run_papercli("show", "no-such-paper")
    assert missing.returncode == 1 and missing.stdout == ""
    assert len(missing.stderr.splitlines()) == 1
    assert run_papercli("list", "--sort", "nonsense").returncode == 2


def test_exit_handlers_run(filled: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    prelude = "import atexit, pathlib\n"
    prelude += f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'ran')\n"
    prelude += "atexit.register(print, 'said by an exit handler')"
    done = _console(prelude, "list")
    assert done.returncode == 0 and done.stdout.count("\n") > 5
    assert marker.read_text() == "ran"
    assert done.stdout.endswith("said by an exit handler\n")  # flushed after the handlers


def test_another_threads_work_is_waited_for(filled: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    prelude = (
        "import pathlib, threading, time\n"
        "def work():\n"
        "    time.sleep(1)\n"
        f"    pathlib.Path({str(marker)!r}).write_text('done')\n"
        "threading.Thread(target=work).start()"
    )
    done = _console(prelude, "show", "no-such-paper")
    assert done.returncode == 1  # the command's code, through the ordinary exit
    assert marker.read_text() == "done"


def test_a_reader_gone_before_the_last_flush_is_quiet(filled: Path, cli: Runner) -> None:
    key = json.loads(cli("list", "--json").stdout)[0]["key"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "papercli", "show", key, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # before papercli has started: every write meets a closed pipe
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert stderr == b""


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux's /proc")
def test_ctrl_c_while_the_last_flush_waits_is_one_line(filled: Path) -> None:
    """A reader that stopped reading (a pager left open): the help text waits in the buffer
    for the last flush, which blocks on the full pipe until Ctrl-C."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        while os.write(write_end, b"x" * 4096):
            pass
    except BlockingIOError:
        pass  # the pipe is full
    os.set_blocking(write_end, True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "papercli", "list", "--help"],
        stdout=write_end,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    wchan = Path(f"/proc/{proc.pid}/wchan")
    deadline = time.monotonic() + 30  # a kernel that hides wchan says "0": never "pipe"
    while proc.poll() is None and "pipe" not in wchan.read_text():
        if time.monotonic() > deadline:
            proc.kill()
            proc.communicate()
            pytest.skip("this kernel does not say where a process waits (/proc/PID/wchan)")
        os.sched_yield()  # until it waits on the pipe: a state, not a time
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("after Ctrl-C, papercli still waits to flush into the full pipe")
    os.close(read_end)
    assert proc.returncode == 130
    assert stderr == b"papercli: interrupted\n"


def test_a_closed_stdout_takes_no_files_number(filled: Path) -> None:
    """``papercli add ... >&-``: the paper is written whole (no file papercli opens gets
    descriptor 1, where output would land), and nothing is said about the closed stream."""
    code = "import os, sys\nos.close(1)\nos.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
    done = subprocess.run(
        [sys.executable, "-c", code, "-m", "papercli", "add", "--title", "Closed Output",
         "--year", "2023"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    listed = run_papercli("list", "--json")
    paper = next(p for p in json.loads(listed.stdout) if p["title"] == "Closed Output")
    import tomllib

    text = (filled / "papers" / f"{paper['key']}.toml").read_text()
    assert tomllib.loads(text)["title"] == "Closed Output" and "added " + paper["key"] not in text


def test_a_stdout_that_cannot_encode_writes_escapes(filled: Path) -> None:
    listed = run_papercli("list", env={"PYTHONIOENCODING": "ascii"})
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert "\\x" in listed.stdout or "\\u" in listed.stdout  # the test library has accents


def test_a_full_disk_under_the_output_is_one_line(filled: Path) -> None:
    for args in (["list"], ["export", "bibtex"], ["stats", "--json"]):
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                [sys.executable, "-m", "papercli", *args],
                stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
            )  # fmt: skip
        assert done.returncode == 4, (args, done.stderr)
        errors = [line for line in done.stderr.splitlines() if "error" in line]
        assert errors == [
            "papercli: error: cannot write the output (No space left on device):"
            " make room, or send it elsewhere (export: -o FILE)"
        ], done.stderr
