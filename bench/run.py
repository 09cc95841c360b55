"""Time papercli commands as whole processes against the floor any Typer CLI pays.

    python bench/run.py [--sizes 10000,100000] [--runs 7] [--import-runs 2] [--only list,search]

Builds synthetic libraries (bench/make_library.py) under bench/_work/ once and reuses them,
warms papercli's cache, then runs each command and a minimal Typer app whose command does
nothing, in turn (A B A B ...), so that drift of the machine's speed hits both alike. Prints the
median wall time of each, their ratio, the issue's target ratio and the peak memory (max RSS of
the process; 300 MiB is the ceiling at 100,000 papers). The cold case removes the cache before
each run; the import cases import the library's own export into an empty library, then time
the first search after it. Uses only the standard library and the installed papercli.
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
    ("add (by hand)", ["add", "--title", "Benchmark paper {n}", "--year", "2024"], 1.5, 4.0),
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


def papercli_command() -> list[str]:
    script = Path(sys.executable).parent / "papercli"
    return [str(script)] if script.exists() else [sys.executable, "-m", "papercli"]


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MiB, exit code of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
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
) -> tuple[float, float, float, set[int]]:
    """Median wall seconds of ``argv_of(n)`` and of the floor, run in turn after one warm-up,
    the largest peak memory (MiB) and the exit codes."""
    times, floors, peaks, codes = [], [], [], set()
    for n in range(runs + 1):
        if before is not None:
            before()
        wall, peak, code = run_once(argv_of(n), env)
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
    if codes - {0}:
        note = f"exit codes {sorted(codes)} {note}".strip()
    shown = "-" if target is None else f"{target:.1f}x"
    print(
        f"{name:22} {size:>7} {median:9.3f} {floor:8.3f} {ratio:6.2f} {shown:>7}"
        f" {peak:9.1f}  {note}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Only papercli and the standard library are needed. Peers (pubs, papis) are not "
        "run by this script: their figures in the README were measured separately.",
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--import-runs", type=int, default=2, help="runs of each import case")
    parser.add_argument("--only", default="", help="comma-separated case prefixes to run")
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
        completions = [
            (name, [], t10, t100, f"papercli -L {library} {line.format(prefix=key[:6])}")
            for name, line, t10, t100 in COMPLETIONS
        ]
        cases = [(*case, "") for case in CASES] + completions
        for name, case_args, target_10k, target_100k, completing in cases:
            if wanted and not any(name.startswith(w) for w in wanted):
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
                return [*base, *(a.format(key=key, n=stamp) for a in case_args)]

            def drop_cache() -> None:
                shutil.rmtree(WORK / "cache", ignore_errors=True)

            cold = name == COLD
            runs = args.import_runs if cold and size > 10_000 else args.runs
            before = drop_cache if cold else None
            result = measure(argv_of, floor_cmd, case_env, runs, before, floor_env=env)
            report(name, size, result, target)
            if cold:  # leave a warm cache for the cases after
                subprocess.run([*base, "search", "x", "--limit", "1"], env=env, capture_output=True)
                subprocess.run([*base, "export", "bibtex"], env=env, capture_output=True)
        if not wanted or any("import".startswith(w) for w in wanted):
            bench_import(size, base, papercli, floor_cmd, env, args.import_runs)


def bench_import(
    size: int,
    base: list[str],
    papercli: list[str],
    floor_cmd: list[str],
    env: dict[str, str],
    runs: int,
) -> None:
    """``import bibtex`` of the library's own export into an empty library, then the first
    command after it (which the import leaves a ready cache for)."""
    bib = WORK / f"lib{size}.bib"
    if not bib.exists():
        with bib.open("wb") as out:
            subprocess.run([*base, "export", "bibtex"], env=env, stdout=out, check=True)
    target_dir = WORK / f"import{size}"

    def fresh() -> None:
        shutil.rmtree(target_dir, ignore_errors=True)
        subprocess.run([*papercli, "init", str(target_dir), "--empty"], env=env, check=True,
                       capture_output=True)  # fmt: skip

    def argv_of(n: int) -> list[str]:
        return [*papercli, "-L", str(target_dir), "import", "bibtex", str(bib)]

    report(
        "import bibtex",
        size,
        measure(argv_of, floor_cmd, env, runs, fresh),
        IMPORT_TARGETS.get(size),
    )
    after = [*papercli, "-L", str(target_dir), "search", "attention", "--limit", "20"]
    first = measure(lambda n: after, floor_cmd, env, 1, fresh_import(fresh, argv_of, env))
    report("search after import", size, first, 4.0 if size > 10_000 else 1.5)
    shutil.rmtree(target_dir, ignore_errors=True)


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
