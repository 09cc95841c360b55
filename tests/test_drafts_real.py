"""Real drafts compile the same against papercli's export as against their own .bib.

For each draft in tests/fixtures/real/drafts (sources in tests/fixtures/real/PROVENANCE.md):
compile it against its original .bib (pdflatex, then bibtex) and keep the .bbl and the
BibTeX warnings; import that .bib into an empty library; ``export bibtex --cited`` the draft
into a .bib of the same name in a fresh copy; compile again. The exported keys are exactly
those the .aux cites, the .bbl is byte for byte the same, and BibTeX warns no more. A biblatex
draft over biblatex's own example file does the same through biber.

Needs pdflatex, bibtex and biber, and the LaTeX packages the drafts load (Debian:
texlive-latex-extra, texlive-pictures). Skipped locally when they are missing; with CI set,
missing tools fail the test instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, Runner

DRAFTS = ROOT / "tests" / "fixtures" / "real" / "drafts"
REAL_BIB = ROOT / "tests" / "fixtures" / "real" / "bib"

pytestmark = [pytest.mark.tex, pytest.mark.slow]

# (folder, main file, .bib the draft names, stub files for what a test machine need not have:
# the build's version stamp, a font package)
CASES = [
    ("iclr2026", "iclr2026_conference.tex", "iclr2026_conference.bib", {}),
    ("acl", "acl_latex.tex", "custom.bib", {"inconsolata.sty": "\\ProvidesPackage{inconsolata}\n"}),
    (
        "ethereum-yellowpaper",
        "Paper.tex",
        "Biblio.bib",
        {"Version.tex": "\\newcommand{\\YellowPaperVersionNumber}{test}\n"},
    ),
]

BIBLATEX_DRAFT = r"""\documentclass{article}
\usepackage[backend=biber,style=authoryear]{biblatex}
\addbibresource{examples.bib}
\begin{document}
\textcite{westfahl:space} and \parencite{knuth:ct:a}, \autocite{stdmodel},
\cite{baez/online}, \cite{brandt}, \cite{vangennep}, \cite{nietzsche:ksa1}, \cite{doody}.
\printbibliography
\end{document}
"""


def _tools_or_skip(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    for sty in ("tikz.sty", "tabu.sty", "csquotes.sty", "seqsplit.sty"):
        found = subprocess.run(["kpsewhich", sty], capture_output=True, text=True).stdout
        if shutil.which("kpsewhich") and not found.strip():
            missing.append(sty)
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install {', '.join(missing)}")
        pytest.skip(f"needs {', '.join(missing)}")


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=300, errors="replace",
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _aux_keys(aux: Path) -> list[str]:
    keys: list[str] = []
    for match in re.finditer(r"\\citation\{([^}]*)\}", aux.read_text(errors="replace")):
        for key in match.group(1).split(","):
            if key.strip() not in keys:
                keys.append(key.strip())
    return keys


def _bibtex_build(folder: Path, main: str) -> tuple[str, list[str], list[str]]:
    """(the .bbl, BibTeX's warnings, the keys the .aux cites) of one pdflatex + bibtex run."""
    stem = main.removesuffix(".tex")
    _run(["pdflatex", "-interaction=nonstopmode", main], folder)
    aux = folder / f"{stem}.aux"
    assert aux.is_file(), (folder / f"{stem}.log").read_text(errors="replace")[-2000:]
    result = _run(["bibtex", stem], folder)
    warnings = [line for line in result.stdout.splitlines() if line.startswith("Warning--")]
    assert "error message" not in result.stdout, result.stdout
    return (folder / f"{stem}.bbl").read_text(errors="replace"), warnings, _aux_keys(aux)


@pytest.mark.parametrize(("name", "main", "bib", "stubs"), CASES, ids=[c[0] for c in CASES])
def test_a_real_draft_builds_the_same_bibliography_from_the_export(
    library: Path, cli: Runner, tmp_path: Path, name: str, main: str, bib: str,
    stubs: dict[str, str],
) -> None:  # fmt: skip
    _tools_or_skip("pdflatex", "bibtex")
    original, ours = tmp_path / "original", tmp_path / "ours"
    for folder in (original, ours):
        shutil.copytree(DRAFTS / name, folder)
        for stub, text in stubs.items():
            (folder / stub).write_text(text)
    bbl, warnings, cited = _bibtex_build(original, main)
    assert cited, "the draft cites nothing"

    result = cli("import", "bibtex", str(DRAFTS / name / bib))
    assert result.exit_code == 0, result
    (ours / bib).unlink()
    result = cli("export", "bibtex", "--cited", str(ours / main), "-o", str(ours / bib))
    assert result.exit_code == 0, result
    exported = re.findall(r"^@\w+\{([^,]+),", (ours / bib).read_text(), flags=re.MULTILINE)
    assert exported == cited  # exactly the cited keys, in citation order

    our_bbl, our_warnings, our_cited = _bibtex_build(ours, main)
    assert our_cited == cited
    assert our_bbl == bbl
    assert len(our_warnings) <= len(warnings), our_warnings


def test_a_biblatex_draft_builds_the_same_bibliography_through_biber(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    _tools_or_skip("pdflatex", "biber")
    source = REAL_BIB / "biblatex-examples.bib"
    original, ours = tmp_path / "original", tmp_path / "ours"
    for folder in (original, ours):
        folder.mkdir()
        (folder / "draft.tex").write_text(BIBLATEX_DRAFT)
    shutil.copy(source, original / "examples.bib")
    assert cli("import", "bibtex", str(source)).exit_code == 0
    result = cli(
        "export", "bibtex", "--biblatex", "--cited", str(ours / "draft.tex"),
        "-o", str(ours / "examples.bib"),
    )  # fmt: skip
    assert result.exit_code == 0, result

    def build(folder: Path) -> tuple[str, list[str]]:
        _run(["pdflatex", "-interaction=nonstopmode", "draft.tex"], folder)
        biber = _run(["biber", "draft"], folder)
        assert "ERROR" not in biber.stdout, biber.stdout
        warnings = [line for line in biber.stdout.splitlines() if "WARN" in line]
        return (folder / "draft.bbl").read_text(), warnings

    bbl, warnings = build(original)
    our_bbl, our_warnings = build(ours)
    # biber names the .bib it read in the .bbl's header; nothing else may differ.
    assert our_bbl == bbl
    assert len(our_warnings) <= len(warnings), our_warnings
