"""The library that ships with papercli (installed as the package ``papercli._bundled``, from
``data/library`` in the source tree) and its copy into a user's library.

The installed package's files are only ever read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from papercli.errors import LibraryError
from papercli.library import Library


def bundled_paper_files() -> Iterator[tuple[str, bytes]]:
    """(file name, content) of every paper in the bundled library."""
    try:
        papers = resources.files("papercli._bundled").joinpath("papers")
        entries = sorted(papers.iterdir(), key=lambda entry: entry.name)
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.name.endswith(".toml") and not entry.name.startswith("."):
            yield entry.name, entry.read_bytes()


def install_bundled(path: Path) -> int | None:
    """Create a library at ``path`` holding the bundled papers. Returns how many, or None when
    another process created it first. Built in a temporary sibling and renamed into place, so
    a crash or a second papercli never leaves half a library."""
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
    except OSError as exc:
        raise LibraryError(f"cannot create the library at {path}: {exc.strerror}") from exc
    try:
        files = list(bundled_paper_files())
        shutil.rmtree(tmp)
        Library.create(tmp, files, name="papercli")
        try:
            os.rename(tmp, path)
        except OSError:
            if (path / "library.toml").exists():
                return None
            raise
        return len(files)
    except OSError as exc:
        raise LibraryError(f"cannot create the library at {path}: {exc.strerror}") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
