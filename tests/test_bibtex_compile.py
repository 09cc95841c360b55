"""The proof that exported bibliographies compile: \\nocite{*} over a whole library through
pdflatex, bibtex (plainnat) or biber (biblatex), and pdflatex twice, with no error and no
warning in the .log or the .blg.

Needs pdflatex, bibtex and biber (Debian: texlive-latex-base, texlive-latex-recommended,
texlive-bibtex-extra, biber). Skipped locally when they are missing; with CI set, missing tools
fail the test instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Runner

FIXTURES = Path(__file__).parent / "fixtures" / "bib" / "library"
TOOLS = ("pdflatex", "bibtex", "biber")

pytestmark = [pytest.mark.tex, pytest.mark.slow]

BIBTEX_DOC = r"""\documentclass{article}
\usepackage[utf8]{inputenc}
\usepackage[numbers]{natbib}
\usepackage{url}
\usepackage{hyperref}
\begin{document}
\nocite{*}
\bibliographystyle{plainnat}
\bibliography{refs}
\end{document}
"""

BIBLATEX_DOC = r"""\documentclass{article}
\usepackage[utf8]{inputenc}
\usepackage[backend=biber,style=authoryear,pagetracker=false]{biblatex}
\usepackage{hyperref}
\addbibresource{refs.bib}
\begin{document}
\nocite{*}
\printbibliography
\end{document}
"""

# Lines of a .log that report a problem (the package name "infwarerr" is not one).
LOG_PROBLEM = re.compile(
    r"Warning|^! |undefined|Missing character|Unicode character|not set up for use"
)


def _require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    message = f"TeX tools missing: {', '.join(missing)}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must install them; see tests/test_bibtex_compile.py)")
    pytest.skip(message)


def _run(args: list[str], cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120,
                          errors="replace")  # fmt: skip
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}"
    return done.stdout


def compile_bibliography(bib: str, biblatex: bool, workdir: Path) -> None:
    """Compile ``bib`` with \\nocite{*}; assert no error and no warning anywhere."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "refs.bib").write_text(bib, encoding="utf-8")
    (workdir / "doc.tex").write_text(BIBLATEX_DOC if biblatex else BIBTEX_DOC)
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc"]
    _run(latex, workdir)
    _run(["biber", "doc"] if biblatex else ["bibtex", "doc"], workdir)
    _run(latex, workdir)
    _run(latex, workdir)
    blg = (workdir / "doc.blg").read_text(errors="replace")
    if biblatex:
        problems = [line for line in blg.splitlines() if re.search(r"\] (WARN|ERROR) ", line)]
    else:
        problems = [line for line in blg.splitlines() if "Warning--" in line or "error" in line]
        assert "(There were" not in blg and "(There was" not in blg, blg
    assert problems == [], "\n".join(problems)
    log = (workdir / "doc.log").read_text(errors="replace")
    problems = [line for line in log.splitlines() if LOG_PROBLEM.search(line)]
    assert problems == [], "\n".join(problems)
    bbl = (workdir / "doc.bbl").read_text(errors="replace")
    assert bbl.strip(), "the bibliography is empty"


def _export(cli: Runner, library: Path, biblatex: bool) -> str:
    args = ["--library", str(library), "export", "bibtex"] + (["--biblatex"] if biblatex else [])
    r = cli(*args)
    assert r.exit_code == 0, r
    return r.stdout


@pytest.mark.parametrize("biblatex", [False, True], ids=["bibtex", "biblatex"])
def test_varied_library_compiles(cli: Runner, tmp_path: Path, biblatex: bool) -> None:
    _require_tools()
    library = tmp_path / "lib"
    assert cli("init", str(library), "--empty").exit_code == 0
    for path in FIXTURES.glob("*.toml"):
        shutil.copy(path, library / "papers" / path.name)
    bib = _export(cli, library, biblatex)
    assert bib.count("\n@") + 1 == len(list(FIXTURES.glob("*.toml")))
    compile_bibliography(bib, biblatex, tmp_path / "tex")


@pytest.mark.parametrize("biblatex", [False, True], ids=["bibtex", "biblatex"])
def test_bundled_library_compiles(cli: Runner, tmp_path: Path, biblatex: bool) -> None:
    _require_tools()
    library = tmp_path / "bundled"
    r = cli("init", str(library))
    assert r.exit_code == 0, r
    if not any((library / "papers").glob("*.toml")):
        if os.environ.get("CI"):
            pytest.fail("the bundled library is empty")
        pytest.skip("the bundled library (data/library/papers) is empty in this checkout")
    compile_bibliography(_export(cli, library, biblatex), biblatex, tmp_path / "tex")


def test_a_warning_is_caught(tmp_path: Path) -> None:
    """The checker itself fails on a BibTeX warning (an @article without a journal)."""
    _require_tools()
    bad = "@article{x,\n  author = {A, B},\n  title = {T},\n  year = {2020},\n}\n"
    with pytest.raises(AssertionError, match="Warning--empty journal"):
        compile_bibliography(bad, False, tmp_path / "tex")
