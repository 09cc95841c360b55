"""Crashes and concurrent writers, with real processes: nothing lost, nothing half-written."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest

from papercli.library import Library

from conftest import Runner


def make_big_paper(cli: Runner, library: Path) -> str:
    result = cli("add", "--title", "A Very Large Paper Record", "--year", "2020")
    assert result.exit_code == 0, result
    key = "2020very"
    assert (library / "papers" / f"{key}.toml").exists()
    lib = Library.open(library)
    with lib.writing() as writer:
        # A few megabytes, so that a write takes long enough to be interrupted.
        writer.update(key, lambda p: setattr(p, "abstract", "lorem ipsum dolor " * 150_000))
    return key


def notes_in(path: Path) -> list[str]:
    data = tomllib.loads(path.read_text())  # raises if the file is half-written
    return [n["text"] for n in data.get("notes", [])]


@pytest.mark.slow
def test_killed_writer_loses_nothing_and_leaves_no_half_file(cli: Runner, library: Path) -> None:
    key = make_big_paper(cli, library)
    path = library / "papers" / f"{key}.toml"
    writer_script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from papercli.library import Library
        from papercli.models import Note
        lib = Library.open(Path({str(library)!r}))
        start = int(sys.argv[1])
        for i in range(start, start + 10_000):
            with lib.writing() as w:
                w.update({key!r}, lambda p: p.notes.append(Note(text=f"n{{i}}")))
            print(i, flush=True)
        """
    )
    rng = random.Random(7)
    acknowledged: list[int] = []
    next_note = 0
    for _round in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", writer_script, str(next_note)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        wanted = rng.randint(1, 6)
        for _ in range(wanted):
            line = proc.stdout.readline()
            assert line, "the writer died on its own"
            acknowledged.append(int(line))
        # Kill it mid-write (the next write is under way), at a random moment.
        time.sleep(rng.random() * 0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        rest = proc.stdout.read().split()
        acknowledged.extend(int(x) for x in rest)
        proc.stdout.close()
        texts = notes_in(path)
        # Every acknowledged note is there, in order; at most one more (written, then killed
        # before it could say so).
        expected = [f"n{i}" for i in acknowledged]
        assert texts[: len(expected)] == expected
        assert len(texts) - len(expected) <= 1
        next_note = acknowledged[-1] + 100
        acknowledged = [int(t[1:]) for t in texts]
    # Leftover temporary files are hidden and never read as papers.
    lib = Library.open(library)
    assert list(lib.index().rows) == [key]
    assert lib.index().problems == {}


@pytest.mark.slow
def test_killed_cli_command_leaves_old_or_new_file(cli: Runner, library: Path) -> None:
    key = make_big_paper(cli, library)
    path = library / "papers" / f"{key}.toml"
    rng = random.Random(11)
    for i in range(6):
        before = notes_in(path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "papercli", "note", key, f"cli note {i}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ),
        )
        time.sleep(0.15 + rng.random() * 0.4)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = notes_in(path)
        assert after in (before, [*before, f"cli note {i}"])


@pytest.mark.slow
def test_concurrent_writers_lose_no_paper_and_no_note(cli: Runner, library: Path) -> None:
    result = cli("add", "--title", "Shared Paper Everyone Annotates", "--year", "2021")
    assert result.exit_code == 0
    key = "2021shared"
    workers = 4
    per_worker = 6
    procs = []
    for w in range(workers):
        script = "; ".join(
            [f"{sys.executable} -m papercli note {key} 'w{w} note {i}'" for i in range(per_worker)]
            + [
                f"{sys.executable} -m papercli add --title 'Paper by worker {w}' --year 2022",
                f"{sys.executable} -m papercli add --title 'Same Title Everywhere' --year 2022 "
                "--duplicate",
            ]
        )
        procs.append(
            subprocess.Popen(
                ["sh", "-c", script],
                env=dict(os.environ),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    texts = notes_in(library / "papers" / f"{key}.toml")
    assert sorted(texts) == sorted(
        f"w{w} note {i}" for w in range(workers) for i in range(per_worker)
    )
    titles = [tomllib.loads(p.read_text())["title"] for p in (library / "papers").glob("*.toml")]
    assert sorted(t for t in titles if t.startswith("Paper by worker")) == [
        f"Paper by worker {w}" for w in range(workers)
    ]
    # The same title added four times at once: four papers, four distinct keys.
    same = sorted(
        p.stem
        for p in (library / "papers").glob("*.toml")
        if tomllib.loads(p.read_text())["title"] == "Same Title Everywhere"
    )
    assert same == ["2022same", "2022samea", "2022sameb", "2022samec"]
