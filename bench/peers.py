"""The peers papercli is measured beside (pubs, papis): their command lines and libraries.

run.py times these command lines beside papercli's on the same synthetic papers: each peer's
library is built once per size by the peer itself from ``bench/_work/lib{size}.bib`` (papercli's
own BibTeX export of the synthetic library) and reused across runs. Every file a peer reads or
writes is under ``bench/_work/peers/``: its configuration, its library, its cache and the HOME
and XDG directories it runs with, so nothing of the user's is read or changed. The peers are
run non-interactively (stdin is /dev/null, the editor and browser are ``false``) and offline (a
proxy that refuses every connection).

This module does not time anything and does not print: run.py does both.

Each case below is (the papercli case it stands beside, the row's name, the arguments after
the peer's prefix). The prefix is ``pubs -c CONF`` or ``papis --config CONF -l LIBRARY``, where
CONF is the peer's configuration in bench/_work/peers/. Placeholders: ``{key}`` a citation key
(the middle one of the .bib, chosen so that no other key contains it: both peers match keys as
substrings), ``{n}`` a stamp unique to the run, ``{one_bib}`` a one-entry .bib file.

What is compared, and what is not alike:
- The peers' libraries hold what papercli's BibTeX export holds (keys, authors, titles, years,
  arXiv ids, URLs), not papercli's abstracts, notes or tags: they carry less text than
  papercli's own library.
- papercli's searches print the best 20; the peers print every match (neither has a limit
  option). papis prints a folder per paper unless given a format, so its list rows print the
  fields papercli's list shows.
- The peak memory column is the peer's own process: papis filters in worker processes, whose
  memory is not counted.
- pubs has no "show": its nearest is ``list citekey:KEY`` (one line); papis's is the export of
  one paper's record as YAML. pubs adds a paper by hand only through an editor: its nearest is
  ``add`` of a one-entry .bib file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent / "_work" / "peers"

# The columns papercli's list shows, for papis's list rows (by default papis prints folders).
PAPIS_LINE = "{doc[ref]}  {doc[year]}  {doc[author]}  {doc[title]}"

PUBS_CASES: list[tuple[str, str, list[str]]] = [
    ("--help", "pubs --help", ["--help"]),
    ("export --help", "pubs export --help", ["export", "--help"]),
    ("list --limit 0", "pubs list", ["list"]),
    ("show KEY", "pubs list citekey:KEY", ["list", "citekey:{key}"]),
    ("add (by hand)", "pubs add ONE.bib", ["add", "{one_bib}", "-k", "bench{n}"]),
    ("tag KEY", "pubs tag KEY", ["tag", "{key}", "bench{n}"]),
    ("search title word", "pubs list title:", ["list", "title:speculative", "title:decoding"]),
    ("search author", "pubs list author:", ["list", "author:hoffmann"]),
    ("export bibtex (all)", "pubs export", ["export"]),
]
PAPIS_CASES: list[tuple[str, str, list[str]]] = [
    ("--help", "papis --help", ["--help"]),
    ("export --help", "papis export --help", ["export", "--help"]),
    ("list --limit 0", "papis list --all", ["list", "--all", "--format", PAPIS_LINE]),
    ("show KEY", "papis export yaml KEY", ["export", "--format", "yaml", "ref:{key}"]),
    (
        "add (by hand)",
        "papis add --set",
        [
            "add",
            "--batch",
            "--set",
            "title",
            "Benchmark paper {n}",
            "--set",
            "author",
            "Bench, Mark",
            "--set",
            "year",
            "2024",
        ],
    ),  # fmt: skip
    ("tag KEY", "papis tag KEY", ["tag", "--append", "bench{n}", "ref:{key}"]),
    (
        "search title word",
        "papis list QUERY",
        ["list", "--all", "--format", PAPIS_LINE, "speculative decoding"],
    ),
    (
        "search author",
        "papis list author:",
        ["list", "--all", "--format", PAPIS_LINE, "author:hoffmann"],
    ),  # fmt: skip
    ("export bibtex (all)", "papis export bibtex", ["export", "--all", "--format", "bibtex"]),
]

ONE_BIB = """@misc{benchpaper,
  title = {Benchmark paper},
  author = {Bench, Mark},
  year = {2024},
}
"""


class PeerFailed(Exception):
    """A peer's command that builds or prepares a library exited non-zero."""


def peer_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with everything a peer could read of the user's pointed into PEERS_DIR."""
    home = PEERS_DIR / "home"
    clean = {k: v for k, v in env.items() if not k.startswith(("PAPIS", "PUBS", "PAPERCLI"))}
    refuse = "http://127.0.0.1:9"  # the discard port: a connection attempt fails at once
    clean.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_STATE_HOME=str(home / "state"),
        EDITOR="false",
        VISUAL="false",
        BROWSER="false",
        PAGER="cat",
        http_proxy=refuse,
        https_proxy=refuse,
        HTTP_PROXY=refuse,
        HTTPS_PROXY=refuse,
        no_proxy="",
        NO_PROXY="",
    )
    return clean


def run_checked(argv: list[str], env: dict[str, str]) -> None:
    """Run a peer's set-up command without a terminal; PeerFailed with its last error line."""
    done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise PeerFailed(f"{' '.join(argv)} exited {done.returncode}: {lines[-1] if lines else ''}")


def middle_key(bib: Path) -> str:
    """The middle citation key of ``bib`` (sorted) that no other key contains and that has no
    dot: pubs's ``citekey:`` and papis's ``ref:`` match substrings (papis a regular
    expression), and the key must name one paper in both."""
    keys = sorted(
        line.split("{", 1)[1].strip().rstrip(",")
        for line in bib.read_text(encoding="utf-8").splitlines()
        if line.startswith("@") and "{" in line
    )
    joined = "\n".join(keys)
    for key in keys[len(keys) // 2 :] + keys[: len(keys) // 2]:
        if "." not in key and joined.count(key) == 1:
            return key
    raise PeerFailed(f"no citation key in {bib} names exactly one paper")


def fill(arg: str, values: dict[str, str]) -> str:
    """``arg`` with each placeholder replaced (not str.format: papis's formats hold braces)."""
    for placeholder, value in values.items():
        arg = arg.replace(placeholder, value)
    return arg


class Peer:
    """One peer tool: where its library and configuration live, how they are built, and the
    command line of each case."""

    name = ""
    install = ""
    cases: list[tuple[str, str, list[str]]] = []
    # Sizes above this are imported (timed) only when asked: the import takes minutes.
    import_up_to = 10_000

    def __init__(self, executable: Path) -> None:
        self.executable = executable

    def library(self, size: int | str) -> Path:
        return PEERS_DIR / f"{self.name}{size}"

    def prefix(self, size: int | str) -> list[str]:
        raise NotImplementedError

    def import_args(self, bib: Path) -> list[str]:
        """The arguments after the prefix that import ``bib``."""
        raise NotImplementedError

    def import_argv(self, size: int | str, bib: Path) -> list[str]:
        return [*self.prefix(size), *self.import_args(bib)]

    def empty_library(self, size: int | str, env: dict[str, str]) -> None:
        """An empty library (and its configuration) for ``size``, replacing any there."""
        raise NotImplementedError

    def build(self, size: int, bib: Path, env: dict[str, str]) -> None:
        """The library of ``size`` papers from ``bib``, by the peer's own import."""
        self.empty_library(size, env)
        run_checked(self.import_argv(size, bib), env)

    def ensure_library(self, size: int, bib: Path, env: dict[str, str]) -> tuple[float, bool]:
        """Seconds the library of ``size`` papers took to build, and whether it was built now
        (else it is reused: a library whose build did not finish is built again)."""
        stamp = PEERS_DIR / f"{self.name}{size}.built"
        if stamp.exists():
            return float(stamp.read_text()), False
        stamp.unlink(missing_ok=True)
        start = time.perf_counter()
        self.build(size, bib, env)
        seconds = time.perf_counter() - start
        stamp.write_text(f"{seconds:.1f}\n")
        return seconds, True

    def argv(self, size: int, args: list[str], key: str, n: str) -> list[str]:
        """A case's command line; ``n`` must be a word (pubs reads '-' in a tag as 'remove')."""
        values = {"{key}": key, "{n}": n, "{one_bib}": str(PEERS_DIR / "one.bib")}
        return [*self.prefix(size), *(fill(arg, values) for arg in args)]


class Pubs(Peer):
    name = "pubs"
    install = "pubs 'bibtexparser<2'"
    cases = PUBS_CASES

    def config(self, size: int | str) -> Path:
        return PEERS_DIR / f"pubs{size}.conf"

    def prefix(self, size: int | str) -> list[str]:
        return [str(self.executable), "-c", str(self.config(size))]

    def import_args(self, bib: Path) -> list[str]:
        return ["import", str(bib)]

    def empty_library(self, size: int | str, env: dict[str, str]) -> None:
        shutil.rmtree(self.library(size), ignore_errors=True)
        self.config(size).unlink(missing_ok=True)
        run_checked([*self.prefix(size), "init", "-p", str(self.library(size))], env)


class Papis(Peer):
    name = "papis"
    install = "papis"
    cases = PAPIS_CASES
    # papis's import saves its whole cache after each paper (quadratic): about 80 s for
    # 1,000 entries here, about 50 min estimated for 10,000.
    import_up_to = 1_000

    def config(self, size: int | str) -> Path:
        return PEERS_DIR / f"papis{size}.conf"

    def cache_dir(self, size: int | str) -> Path:
        return PEERS_DIR / f"papis{size}-cache"

    def prefix(self, size: int | str) -> list[str]:
        return [str(self.executable), "--config", str(self.config(size)), "-l", f"bench{size}"]

    def import_args(self, bib: Path) -> list[str]:
        return ["bibtex", "read", str(bib), "import", "--all", "--batch"]

    def empty_library(self, size: int | str, env: dict[str, str]) -> None:
        shutil.rmtree(self.library(size), ignore_errors=True)
        shutil.rmtree(self.cache_dir(size), ignore_errors=True)
        self.library(size).mkdir(parents=True)
        self.config(size).write_text(
            "[settings]\n"
            f"default-library = bench{size}\n"
            f"cache-dir = {self.cache_dir(size)}\n"
            "editor = false\nopentool = false\nbrowser = false\n"
            "use-git = False\nadd-download-files = False\nadd-fetch-citations = False\n"
            # papis also reads a .papis.config in the current directory: not the user's.
            f"local-config-file = {PEERS_DIR / 'no-local-config'}\n"
            f"\n[bench{size}]\ndir = {self.library(size)}\n"
        )

    def build(self, size: int, bib: Path, env: dict[str, str]) -> None:
        """Built by papis's own import with its cache off (with it on, each paper rewrites the
        whole cache), then its cache built once, as its first command would."""
        self.empty_library(size, env)
        cache_off = ["--set", "use-cache", "False"]
        run_checked([*self.prefix(size), *cache_off, *self.import_args(bib)], env)
        run_checked([*self.prefix(size), "cache", "reset"], env)


PEERS: list[type[Peer]] = [Pubs, Papis]


def find_peers(venv: Path) -> tuple[list[Peer], list[str]]:
    """The peers installed in ``venv``, and one line for each that is not."""
    found, missing = [], []
    for peer in PEERS:
        executable = venv / "bin" / peer.name
        if os.access(executable, os.X_OK):
            found.append(peer(executable))
        else:
            missing.append(
                f"{peer.name}: not in {venv} ({venv}/bin/pip install {peer.install}), skipped"
            )
    return found, missing


def prepare(env: dict[str, str]) -> dict[str, str]:
    """The peers' working directory and environment."""
    # papis reads its --config file only if its configuration folder exists.
    for sub in ("home/config/papis", "home/data", "home/cache", "home/state"):
        (PEERS_DIR / sub).mkdir(parents=True, exist_ok=True)
    (PEERS_DIR / "one.bib").write_text(ONE_BIB)
    return peer_env(env)
