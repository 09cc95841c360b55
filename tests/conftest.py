"""Shared test fixtures: every test gets its own config, data and cache directories, and real
temporary libraries on disk. Nothing here patches papercli's functions."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from papercli.cli import app

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every user directory papercli may use into tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("PAPERCLI_CACHE_DIR", str(home / "cache" / "papercli"))
    monkeypatch.setenv("PAPERCLI_CONFIG", str(home / "config" / "papercli" / "config.toml"))
    for name in ("PAPERCLI_LIBRARY", "PAPERCLI_ARXIV_API", "VISUAL", "EDITOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAPERCLI_ARXIV_DELAY", "0")
    # No test reaches the real DOI resolver: refresh --all of a library with DOI papers would.
    monkeypatch.setenv("PAPERCLI_DOI_API", "http://127.0.0.1:9")
    monkeypatch.setenv("COLUMNS", "200")
    return home


class Result:
    def __init__(self, exit_code: int, stdout: str, stderr: str) -> None:
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self) -> str:
        return f"Result(exit_code={self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


Runner = Callable[..., Result]


@pytest.fixture
def cli() -> Runner:
    """Run papercli in-process with CliRunner: cli("list", "--json", input=...)."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def library(tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty library, selected through PAPERCLI_LIBRARY."""
    path = tmp_path / "lib"
    result = cli("init", str(path), "--empty")
    assert result.exit_code == 0, result
    monkeypatch.setenv("PAPERCLI_LIBRARY", str(path))
    return path


@pytest.fixture
def filled(library: Path) -> Path:
    """The varied test library (tests/fixtures/bib/library: non-ASCII names, organisations,
    acronyms, venues, web entries) copied into an empty library."""
    import shutil

    for path in sorted((ROOT / "tests" / "fixtures" / "bib" / "library").glob("*.toml")):
        shutil.copy(path, library / "papers" / path.name)
    return library


def run_papercli(
    *args: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """papercli as a real subprocess, with this process's (isolated) environment."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "papercli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=input,
        timeout=timeout,
        cwd=cwd,
    )
