"""Time papercli commands as whole processes against the floor any Typer CLI pays.

    python bench/run.py [--sizes 10000,100000] [--runs 7] [--only list,search]

Builds synthetic libraries (bench/make_library.py) under bench/_work/ once and reuses them,
warms papercli's cache, then runs each command and a minimal Typer app whose command does
nothing, in turn (A B A B ...), so that drift of the machine's speed hits both alike. Prints the
median wall time of each, their ratio, the issue's target ratio and the peak memory (max RSS of
the process). Uses only the standard library and the installed papercli.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
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

# (name, arguments after "papercli -L LIB", target ratio at 10k, at 100k)
CASES: list[tuple[str, list[str], float, float]] = [
    ("list --limit 20", ["list", "--limit", "20"], 1.5, 4.0),
    ("show KEY", ["show", "{key}"], 1.5, 4.0),
    ("add (by hand)", ["add", "--title", "Benchmark paper {n}", "--year", "2024"], 1.5, 4.0),
    ("search title word", ["search", "speculative decoding", "--limit", "20"], 1.5, 4.0),
    ("search author", ["search", "author:hoffmann", "--limit", "20"], 1.5, 4.0),
    ("search typo", ["search", "atention", "--limit", "20"], 1.5, 4.0),
    ("search tag filter", ["search", "quantization", "tag:peft", "--limit", "20"], 1.5, 4.0),
]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=7)
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
        warm = subprocess.run([*base, "list", "--limit", "1"], env=env, capture_output=True)
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
            times, floors, peaks, codes = [], [], [], set()
            for n in range(args.runs + 1):
                argv = [
                    *(base if not completing else papercli),
                    *(a.format(key=key, n=f"{size}-{n}-{time.time_ns()}") for a in case_args),
                ]
                wall, peak, code = run_once(argv, case_env)
                floor_wall, _, _ = run_once(floor_cmd, env)
                if n == 0:
                    continue  # warm-up
                times.append(wall)
                floors.append(floor_wall)
                peaks.append(peak)
                codes.add(code)
            median, floor = statistics.median(times), statistics.median(floors)
            ratio = median / floor
            note = "" if ratio <= target else "over target"
            if codes - {0}:
                note = f"exit codes {sorted(codes)} {note}".strip()
            print(
                f"{name:22} {size:>7} {median:9.3f} {floor:8.3f} {ratio:6.2f} {target:6.1f}x"
                f" {max(peaks):9.1f}  {note}",
                flush=True,
            )


if __name__ == "__main__":
    main()
