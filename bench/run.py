"""Time papercli commands as whole processes against the floor any Typer CLI pays.

    python bench/run.py [--sizes 10000,100000] [--runs 7] [--import-runs 2] [--only list,search]
                        [--peers VENV]

Builds synthetic libraries (bench/make_library.py) under bench/_work/ once and reuses them,
warms papercli's cache, then runs each command and a minimal Typer app whose command does
nothing, in turn (A B A B ...), so that drift of the machine's speed hits both alike. Prints the
median wall time of each, their ratio, the issue's target ratio and the peak memory (max RSS of
the process; 300 MiB is the ceiling at 100,000 papers). The cold case removes the cache before
each run; the import cases import the library's own export into an empty library, then time
the first search after it. With --peers, pubs and papis (from a virtual environment of their
own) are timed on the same papers against the same floor, each row under papercli's for the
same operation (peers.py holds their command lines and builds their libraries). Uses only the
standard library and the installed papercli.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import peers

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"

NOOP_APP = '''
import typer

app = typer.Typer()


@app.command()
def main(name: str = "x") -> None:
    """Does nothing."""


app()
'''

# (name, arguments after "papercli -L LIB", target ratio at 10k, at 100k; None: no target)
CASES: list[tuple[str, list[str], float | None, float | None]] = [
    ("--help", ["--help"], 1.0, 1.0),
    ("export --help", ["export", "--help"], 1.0, 1.0),
    ("list --limit 20", ["list", "--limit", "20"], 1.5, 4.0),
    ("list --limit 0", ["list", "--limit", "0"], 1.5, None),
    ("show KEY", ["show", "{key}"], 1.5, 4.0),
    # A title starting with a word of its own: each run's paper gets a key of its own, as a
    # new paper does (the same title every run made keys 2024benchmarka, ...b, ... pile up).
    ("add (by hand)", ["add", "--title", "{word} benchmark paper {n}", "--year", "2024"], 1.5, 4.0),
    ("tag KEY", ["tag", "{key}", "bench{n}"], 1.5, 4.0),
    ("search title word", ["search", "speculative decoding", "--limit", "20"], 1.5, 4.0),
    ("search author", ["search", "author:hoffmann", "--limit", "20"], 1.5, 4.0),
    ("search typo", ["search", "atention", "--limit", "20"], 1.5, 4.0),
    ("search tag filter", ["search", "quantization", "tag:peft", "--limit", "20"], 1.5, 4.0),
    ("export bibtex (all)", ["export", "bibtex"], 2.0, 8.0),
    # The cache directory is removed before each run: the first command a new user or a
    # deleted cache pays (every paper file parsed once).
    ("cold first command", ["list", "--limit", "20"], 6.0, 40.0),
]
COLD = "cold first command"
# Import of the library's own export into an empty library (fewer runs: each takes seconds).
IMPORT_TARGETS = {10_000: 40.0, 100_000: 400.0}

# Shell completion, as bash's completion function asks for it: (name, the command line after
# "papercli -L LIB" with the cursor at its end, target ratio at 10k, at 100k).
COMPLETIONS: list[tuple[str, str, float, float]] = [
    ("complete a key", "show {prefix}", 1.5, 4.0),
    ("complete every key", "show ", 1.5, 4.0),
    ("complete a tag", "list --tag pe", 1.5, 4.0),
]


def completion_env(env: dict[str, str], line: str) -> dict[str, str]:
    """``env`` with the variables bash's completion function sets to complete ``line``."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    return dict(env, _PAPERCLI_COMPLETE="complete_bash", COMP_WORDS=line, COMP_CWORD=str(cword))


def letters(number: int) -> str:
    """``number`` written in the letters a to z (a word no other run's title starts with)."""
    word = ""
    while number:
        number, digit = divmod(number, 26)
        word += chr(ord("a") + digit)
    return word or "a"


def papercli_command() -> list[str]:
    script = Path(sys.executable).parent / "papercli"
    return [str(script)] if script.exists() else [sys.executable, "-m", "papercli"]


def run_once(
    argv: list[str], env: dict[str, str], stdin: int | None = None
) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MiB, exit code of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def ensure_library(size: int) -> Path:
    path = WORK / f"lib{size}"
    if not (path / "library.toml").exists():
        if path.exists():
            shutil.rmtree(path)
        print(f"building a synthetic library of {size} papers in {path} ...", flush=True)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, str(HERE / "make_library.py"), str(path), "--papers", str(size)],
            check=True,
        )
        print(f"  built in {time.perf_counter() - start:.1f} s", flush=True)
    return path


def measure(
    argv_of: Callable[[int], list[str]],
    floor_cmd: list[str],
    env: dict[str, str],
    runs: int,
    before: Callable[[], None] | None = None,
    floor_env: dict[str, str] | None = None,
    stdin: int | None = None,
) -> tuple[float, float, float, set[int]]:
    """Median wall seconds of ``argv_of(n)`` and of the floor, run in turn after one warm-up,
    the largest peak memory (MiB) and the exit codes. ``stdin`` is the command's (the
    floor's is inherited)."""
    times, floors, peaks, codes = [], [], [], set()
    for n in range(runs + 1):
        if before is not None:
            before()
        wall, peak, code = run_once(argv_of(n), env, stdin)
        floor_wall, _, _ = run_once(floor_cmd, floor_env or env)
        if n == 0:
            continue  # warm-up
        times.append(wall)
        floors.append(floor_wall)
        peaks.append(peak)
        codes.add(code)
    return statistics.median(times), statistics.median(floors), max(peaks), codes


def report(
    name: str, size: int, result: tuple[float, float, float, set[int]], target: float | None
) -> None:
    median, floor, peak, codes = result
    ratio = median / floor
    note = "" if target is None or ratio <= target else "over target"
    if peak >= 300:
        note = f"{note} over 300 MiB".strip()
    shown = "-" if target is None else f"{target:.1f}x"
    timed, ratio_shown = f"{median:9.3f}", f"{ratio:6.2f}"
    if codes - {0}:  # a command that failed has no time worth reading
        timed, ratio_shown = f"{'failed':>9}", f"{'-':>6}"
        note = f"exit codes {sorted(codes)}"
    print(
        f"{name:22} {size:>7} {timed} {floor:8.3f} {ratio_shown} {shown:>7} {peak:9.1f}  {note}",
        flush=True,
    )


def selected(wanted: list[str], *names: str) -> bool:
    """Whether a row with any of these names is asked for by ``--only`` (prefixes)."""
    return not wanted or any(name.startswith(w) for name in names for w in wanted)


PEERS_HELP = """Peers (optional): --peers VENV also times pubs and papis, installed in a virtual
environment of their own (pubs needs bibtexparser<2, papercli bibtexparser 2):
  python3 -m venv /tmp/peers && /tmp/peers/bin/pip install pubs 'bibtexparser<2' papis
Their rows stand under papercli's for the same operation, against the same floor; the exact
command of each row is in bench/peers.py. Each peer's library is built once per size by its own
import of bench/_work/lib{size}.bib (papis's with its cache off, then its cache built once) and
reused; its build time is printed on every run. A peer missing from VENV is skipped. Without
--peers only papercli and the standard library are needed."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=PEERS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--import-runs", type=int, default=2, help="runs of each import case")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated case prefixes to run; a peer's row runs with its papercli case"
        " or by its own name ('pubs', 'papis list')",
    )
    parser.add_argument(
        "--peers", type=Path, metavar="VENV", help="a virtual environment with pubs and/or papis"
    )
    parser.add_argument(
        "--peer-max-size",
        type=int,
        default=10_000,
        help="largest library the peers are timed on (building theirs at 100,000 takes pubs"
        " about 7 min, papis longer)",
    )
    parser.add_argument(
        "--all-peer-imports",
        action="store_true",
        help="time every peer's import, also where it takes minutes (by default pubs up to"
        " 10,000 papers, papis up to 1,000)",
    )
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    noop = WORK / "noop_typer.py"
    noop.write_text(NOOP_APP)
    env = dict(os.environ)
    env["PAPERCLI_CACHE_DIR"] = str(WORK / "cache")
    env["XDG_DATA_HOME"] = str(WORK / "data")
    env["XDG_CONFIG_HOME"] = str(WORK / "config")
    env.pop("PAPERCLI_LIBRARY", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-compiled modules, as an installed papercli
    papercli = papercli_command()
    floor_cmd = [sys.executable, str(noop)]
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    print(f"python {sys.version.split()[0]}, papercli at {papercli[0]}, {args.runs} runs each")
    found: list[peers.Peer] = []
    if args.peers is not None:
        found, missing = peers.find_peers(args.peers)
        for line in missing:
            print(line)
    peer_env = peers.prepare(env) if found else env
    print(
        f"{'case':22} {'papers':>7} {'median s':>9} {'floor s':>8} {'ratio':>6} {'target':>7}"
        f" {'peak MiB':>9}  note"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        library = ensure_library(size)
        base = [*papercli, "-L", str(library)]
        start = time.perf_counter()
        warm = subprocess.run([*base, "search", "x", "--limit", "1"], env=env, capture_output=True)
        subprocess.run([*base, "export", "bibtex"], env=env, capture_output=True)
        print(
            f"  (cache built or checked in {time.perf_counter() - start:.1f} s,"
            f" exit {warm.returncode})",
            flush=True,
        )
        key = sorted(os.listdir(library / "papers"))[size // 2].removesuffix(".toml")
        ready, peer_key = ready_peers(found, size, args.peer_max_size, base, env, peer_env)
        completions = [
            (name, [], t10, t100, f"papercli -L {library} {line.format(prefix=key[:6])}")
            for name, line, t10, t100 in COMPLETIONS
        ]
        cases = [(*case, "") for case in CASES] + completions
        for name, case_args, target_10k, target_100k, completing in cases:
            beside = [
                (peer, label, peer_args)
                for peer in ready
                for of, label, peer_args in peer.cases
                if of == name and selected(wanted, name, label)
            ]
            if not beside and not selected(wanted, name):
                continue
            case_env = completion_env(env, completing) if completing else env
            target = target_10k if size <= 10_000 else target_100k

            def argv_of(
                n: int,
                case_args: list[str] = case_args,
                base: list[str] = base if not completing else papercli,
                key: str = key,
                size: int = size,
            ) -> list[str]:
                stamp = f"{size}-{n}-{time.time_ns()}"
                word = letters(time.time_ns())
                return [*base, *(a.format(key=key, n=stamp, word=word) for a in case_args)]

            def drop_cache() -> None:
                shutil.rmtree(WORK / "cache", ignore_errors=True)

            if selected(wanted, name):
                cold = name == COLD
                runs = args.import_runs if cold and size > 10_000 else args.runs
                before = drop_cache if cold else None
                result = measure(argv_of, floor_cmd, case_env, runs, before, floor_env=env)
                report(name, size, result, target)
                if cold:  # leave a warm cache for the cases after
                    warm_argv = [*base, "search", "x", "--limit", "1"]
                    subprocess.run(warm_argv, env=env, capture_output=True)
                    subprocess.run([*base, "export", "bibtex"], env=env, capture_output=True)
            for peer, label, peer_args in beside:

                def peer_argv_of(
                    n: int,
                    peer: peers.Peer = peer,
                    peer_args: list[str] = peer_args,
                    size: int = size,
                    key: str = peer_key,
                ) -> list[str]:
                    # A word: pubs reads a '-' in a tag as "remove".
                    return peer.argv(size, peer_args, key, f"{size}n{n}t{time.time_ns()}")

                result = measure(
                    peer_argv_of, floor_cmd, peer_env, args.runs, None, env, subprocess.DEVNULL
                )
                report(label, size, result, None)
        if selected(wanted, "import bibtex"):
            bench_import(size, base, papercli, floor_cmd, env, args.import_runs)
        for peer in ready:
            if not selected(wanted, "import bibtex", f"{peer.name} import"):
                continue
            if size > peer.import_up_to and not args.all_peer_imports:
                print(
                    f"{peer.name + ' import':22} {size:>7}  skipped: minutes at this size"
                    " (--all-peer-imports times it)",
                    flush=True,
                )
                continue
            bench_peer_import(peer, size, bib_of(size, base, env), floor_cmd, env, peer_env, args)


def bib_of(size: int, base: list[str], env: dict[str, str]) -> Path:
    """bench/_work/lib{size}.bib: papercli's export of the synthetic library, written once."""
    bib = WORK / f"lib{size}.bib"
    if not bib.exists():
        with bib.open("wb") as out:
            subprocess.run([*base, "export", "bibtex"], env=env, stdout=out, check=True)
    return bib


def ready_peers(
    found: list[peers.Peer],
    size: int,
    max_size: int,
    base: list[str],
    env: dict[str, str],
    peer_env: dict[str, str],
) -> tuple[list[peers.Peer], str]:
    """The peers whose library of ``size`` papers is built (building it now if need be) and
    warm, with the citation key their show and tag rows use; one line for each."""
    if not found:
        return [], ""
    if size > max_size:
        print(f"  (peers skipped at {size} papers: --peer-max-size is {max_size})", flush=True)
        return [], ""
    bib = bib_of(size, base, env)
    ready = []
    for peer in found:
        try:
            seconds, now = peer.ensure_library(size, bib, peer_env)
            # The first search after a build (papis may index, both byte-compile) is not timed;
            # it also checks that the library answers.
            search = next(args for of, _, args in peer.cases if of == "search author")
            peers.run_checked(peer.argv(size, search, "", ""), peer_env)
        except peers.PeerFailed as error:
            print(f"  ({peer.name} skipped at {size} papers: {error})", flush=True)
            continue
        when = "now" if now else "in an earlier run, reused"
        print(
            f"  ({peer.name}: library of {size} papers built by its import of {bib.name}"
            f" {when}: {seconds:.1f} s)",
            flush=True,
        )
        ready.append(peer)
    return ready, peers.middle_key(bib) if ready else ""


def bench_peer_import(
    peer: peers.Peer,
    size: int,
    bib: Path,
    floor_cmd: list[str],
    env: dict[str, str],
    peer_env: dict[str, str],
    args: argparse.Namespace,
) -> None:
    """A peer's import of the same .bib into an empty library of its own, as papercli's (a
    new folder each run, all removed after: see ``bench_import``)."""
    made: list[str] = []

    def fresh() -> None:
        made.append(f"-import{len(made)}")
        peer.empty_library(made[-1], peer_env)

    def argv_of(n: int) -> list[str]:
        return peer.import_argv(made[-1], bib)

    result = measure(argv_of, floor_cmd, peer_env, args.import_runs, fresh, env, subprocess.DEVNULL)
    report(f"{peer.name} import", size, result, None)
    for name in made:
        shutil.rmtree(peer.library(name), ignore_errors=True)


def bench_import(
    size: int,
    base: list[str],
    papercli: list[str],
    floor_cmd: list[str],
    env: dict[str, str],
    runs: int,
) -> None:
    """``import bibtex`` of the library's own export into an empty library, then the first
    command after it (which the import leaves a ready cache for).

    Each run imports into a new folder, and the folders are removed after the last run:
    removing 10,000 files just before an import made the file system's own work (freeing
    them) part of the import's time, 4.8 s becoming 8.9 s here."""
    bib = bib_of(size, base, env)
    made: list[Path] = []

    def fresh() -> None:
        made.append(WORK / f"import{size}-{len(made)}")
        shutil.rmtree(made[-1], ignore_errors=True)  # left by an interrupted bench
        subprocess.run([*papercli, "init", str(made[-1]), "--empty"], env=env, check=True,
                       capture_output=True)  # fmt: skip

    def argv_of(n: int) -> list[str]:
        return [*papercli, "-L", str(made[-1]), "import", "bibtex", str(bib)]

    report(
        "import bibtex",
        size,
        measure(argv_of, floor_cmd, env, runs, fresh),
        IMPORT_TARGETS.get(size),
    )

    def after(n: int) -> list[str]:
        return [*papercli, "-L", str(made[-1]), "search", "attention", "--limit", "20"]

    first = measure(after, floor_cmd, env, 1, fresh_import(fresh, argv_of, env))
    report("search after import", size, first, 4.0 if size > 10_000 else 1.5)
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


def fresh_import(
    fresh: Callable[[], None], argv_of: Callable[[int], list[str]], env: dict[str, str]
) -> Callable[[], None]:
    """Before each run: an empty library, then the import, so the command timed is the first
    one after it."""

    def prepare() -> None:
        fresh()
        subprocess.run(argv_of(0), env=env, check=True, capture_output=True)

    return prepare


if __name__ == "__main__":
    main()
