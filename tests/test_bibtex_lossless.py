"""Lossless BibTeX: real .bib files come back out of papercli as they went in.

The round trip imports each real file (tests/fixtures/real/bib, sources in PROVENANCE.md),
exports the library, and compares both with bibtexparser, resolving @string macros and '#'
concatenation with the small reader below (written apart from papercli's, so the two check
each other). Then the rules one by one: keys, aliases, names, dates, arXiv forms, duplicates,
crossref order, hostile values.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from bibtexparser.entrypoint import parse_string
from bibtexparser.model import DuplicateFieldKeyBlock, Entry, String

from papercli.models import key_file_name

from conftest import ROOT, Runner

REAL = ROOT / "tests" / "fixtures" / "real"
REAL_BIBS = sorted((REAL / "bib").glob("*.bib")) + sorted((REAL / "drafts").glob("*/*.bib"))


def _value(expression: str, strings: dict[str, str]) -> str:
    """A bibtexparser raw value as text: pieces joined by '#', macros looked up."""
    out: list[str] = []
    depth = 0
    quoted = False
    word = ""
    for char in expression + " ":
        if depth or quoted:
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0 and not quoted:
                    continue  # the closing brace of a {...} piece
            elif char == '"' and quoted and depth == 0:
                quoted = False
                continue
            out.append(char)
        elif char == "{":
            depth = 1
        elif char == '"':
            quoted = True
        elif char.isspace() or char == "#":
            if word:
                out.append(strings.get(word.lower(), word))
                word = ""
        else:
            word += char
    return "".join(out)


def bib_entries(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    """key -> (entry type, {field: value}); the first of a repeated key or field, as BibTeX."""
    strings: dict[str, str] = {}
    entries: dict[str, tuple[str, dict[str, str]]] = {}
    for block in parse_string(text, parse_stack=[]).blocks:
        if isinstance(block, String):
            strings[block.key.lower()] = _value(block.value, strings)
        entry = block.ignore_error_block if isinstance(block, DuplicateFieldKeyBlock) else block
        if isinstance(entry, Entry) and entry.key not in entries:
            fields: dict[str, str] = {}
            for f in entry.fields:
                fields.setdefault(f.key.lower(), " ".join(_value(f.value, strings).split()))
            entries[entry.key] = (entry.entry_type.lower(), fields)
    return entries


def _paper(library: Path, key: str) -> dict[str, object]:
    return tomllib.loads((library / "papers" / key_file_name(key)).read_text())


def _files(library: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((library / "papers").glob("*.toml"))}


def test_real_files_round_trip_with_no_field_lost(
    library: Path, cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    totals = {"entries": 0, "fields": 0, "lost": 0, "types": 0}
    losses = []
    for bib in REAL_BIBS:
        for path in (library / "papers").glob("*"):
            path.unlink()
        result = cli("import", "bibtex", str(bib))
        assert result.exit_code == 0, result
        assert "Traceback" not in result.stdout + result.stderr
        exported = cli("export", "bibtex")
        assert exported.exit_code == 0, exported
        before = bib_entries(bib.read_text(encoding="utf-8"))
        after = bib_entries(exported.stdout)
        for key, (kind, fields) in before.items():
            totals["entries"] += 1
            totals["fields"] += len(fields)
            if key not in after:
                totals["lost"] += len(fields)
                losses.append(f"{bib.name}: entry {key} missing")
                continue
            if after[key][0] != kind:
                totals["types"] += 1
                losses.append(f"{bib.name}: {key} @{kind} became @{after[key][0]}")
            for name, value in fields.items():
                now = after[key][1].get(name)
                if now != value:
                    totals["lost"] += 1
                    losses.append(f"{bib.name}: {key}.{name} {value!r} -> {now!r}")
            extra = set(after[key][1]) - set(fields)
            assert not extra, f"{bib.name}: {key} gained {extra}"
        assert len(after) == len(before), bib.name
    with capsys.disabled():
        print(
            f"\nbibtex round trip over {len(REAL_BIBS)} real files: {totals['entries']} entries, "
            f"{totals['fields']} fields, {totals['lost']} lost, {totals['types']} types changed"
        )
    assert losses == []
    assert totals["entries"] >= 250


def test_importing_again_changes_nothing(library: Path, cli: Runner) -> None:
    for bib in REAL_BIBS:
        assert cli("import", "bibtex", str(bib)).exit_code == 0
    before = _files(library)
    for bib in REAL_BIBS:
        result = cli("import", "bibtex", str(bib), "--json")
        report = json.loads(result.stdout)
        assert (report["added"], report["merged"]) == ([], []), bib.name
    assert _files(library) == before


def test_keys_are_kept_verbatim_and_case_collisions_refused(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    bib = tmp_path / "keys.bib"
    bib.write_text(
        "@article{Ando2005, author={Ando, Rie}, title={A Framework}, journal={JMLR}, year=2005}\n"
        "@book{Gusfield:97, author={Gusfield, Dan}, title={Algorithms on Strings}, year=1997,"
        " publisher={Cambridge}}\n"
        "@article{2016A&A...594A..13P, author={{Planck Collaboration}}, title={Planck 2015"
        " results. XIII.}, journal={A\\&A}, year=2016, volume=594, pages={A13}}\n"
        "@misc{10.7717/peerj-cs.55, author={Meurer, Aaron}, title={SymPy}, year=2017}\n"
    )
    result = cli("import", "bibtex", str(bib))
    assert result.exit_code == 0, result
    assert "key     " not in result.stdout
    for key in ("Ando2005", "Gusfield:97", "2016A&A...594A..13P", "10.7717/peerj-cs.55"):
        assert cli("show", key, "--json").exit_code == 0, key
    # A key that differs only in case names the same paper, and is refused for another.
    result = cli("add", "--title", "Something else", "--key", "ando2005")
    assert result.exit_code == 2
    assert "differs only in case from 'Ando2005'" in result.stderr
    assert cli("show", "ando2005", "--json").exit_code == 0
    # rekey takes such keys, and the old key stays an alias.
    result = cli("rekey", "Gusfield:97", "gusfield1997algorithms")
    assert result.exit_code == 0, result
    assert _paper(library, "gusfield1997algorithms")["aliases"] == ["Gusfield:97"]
    shown = json.loads(cli("show", "Gusfield:97", "--json").stdout)
    assert shown["key"] == "gusfield1997algorithms"
    result = cli("rekey", "gusfield1997algorithms", "Gusfield:97")
    assert result.exit_code == 0, result
    assert _paper(library, "Gusfield:97")["aliases"] == ["gusfield1997algorithms"]


def test_cited_exports_aliases_under_the_cited_key(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    bib = tmp_path / "a.bib"
    bib.write_text(
        "@inproceedings{vaswani2017attention, author={Vaswani, Ashish and Shazeer, Noam and "
        "others}, title={Attention is All you Need}, booktitle={Advances in Neural Information "
        "Processing Systems}, volume={30}, pages={5998--6008}, year={2017}}\n"
        "@article{DBLP:journals/corr/VaswaniSPUJGKP17, author={Ashish Vaswani and Noam Shazeer},"
        " title={Attention Is All You Need}, journal={CoRR}, volume={abs/1706.03762}, "
        "year={2017}, eprinttype={arXiv}, eprint={1706.03762}}\n"
    )
    result = cli("import", "bibtex", str(bib))
    assert result.exit_code == 0, result
    assert "alias   DBLP:journals/corr/VaswaniSPUJGKP17 -> vaswani2017attention" in result.stdout
    draft = tmp_path / "draft.tex"
    draft.write_text(
        "\\cite{DBLP:journals/corr/VaswaniSPUJGKP17} and \\citet{Vaswani2017Attention}\n"
    )
    result = cli("export", "bibtex", "--cited", str(draft))
    assert result.exit_code == 0, result
    entries = bib_entries(result.stdout)
    assert list(entries) == ["DBLP:journals/corr/VaswaniSPUJGKP17", "Vaswani2017Attention"]
    # Each name gets the record its .bib had; the case-only match is said, once.
    assert entries["DBLP:journals/corr/VaswaniSPUJGKP17"][1]["journal"] == "CoRR"
    assert entries["Vaswani2017Attention"][0] == "inproceedings"
    assert entries["Vaswani2017Attention"][1]["author"] == (
        "Vaswani, Ashish and Shazeer, Noam and others"
    )
    assert result.stderr.count("\n") == 1
    assert "'Vaswani2017Attention', which the library spells 'vaswani2017attention'" in (
        result.stderr
    )


def test_names_accents_dates_and_types_are_kept(library: Path, cli: Runner, tmp_path: Path) -> None:
    bib = tmp_path / "n.bib"
    bib.write_text(
        "@string{nips = {Advances in Neural Information Processing Systems}}\n"
        "@inproceedings{lewis2020, author = {Lewis, Patrick and {{Mathpix, Inc.}} and "
        "Erd\\H{o}s, P{\\'a}l and van der Berg, Jr., Jan and others}, title = {Retrieval on "
        "{L1} Data}, booktitle = nips # { 33}, year = 2020, month = dec, date = "
        "{2020-12-06/2020-12-12}, urldate = {2024-01-02}}\n"
        "@incollection{kb, author={Kaiser, B.}, title={A Chapter}, booktitle={A Book}, "
        "year={1999}, publisher={P}, pages={1--20}, editor={Ed, Itor}}\n"
    )
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    paper = _paper(library, "lewis2020")
    assert paper["authors"] == [
        "Lewis, Patrick", "{Mathpix, Inc.}", "Erdős, Pál", "van der Berg, Jr., Jan"
    ]  # fmt: skip
    assert (paper["year"], paper["date"], paper["bibtex_type"]) == (
        2020,
        "2020-12-06",
        "inproceedings",
    )
    assert paper["venue"] == "Advances in Neural Information Processing Systems 33"
    shown = json.loads(cli("show", "lewis2020", "--json").stdout)
    assert "Mathpix, Inc." in shown["authors"]
    out = cli("export", "bibtex", "-k", "lewis2020", "-k", "kb").stdout
    assert "@inproceedings{lewis2020," in out and "@incollection{kb," in out
    assert "Erd\\H{o}s" in out and "{{Mathpix, Inc.}}" in out and "and others}" in out
    assert "title = {Retrieval on {L1} Data}" in out
    assert "month = dec," in out and "urldate = {2024-01-02}" in out
    assert "date = {2020-12-06/2020-12-12}" in out


@pytest.mark.parametrize(
    ("fields", "arxiv_id"),
    [
        ("journal = {Ar{X}iv:2106.09685}", "2106.09685"),
        ("journal = {arXiv preprint arXiv:2106.09685}", "2106.09685"),
        ("journal = {CoRR}, volume = {abs/2106.09685}", "2106.09685"),
        ("howpublished = {arXiv:2106.09685v2}", "2106.09685"),
        ("note = {arXiv:hep-th/9901001}", "hep-th/9901001"),
        ("eprint = {2106.09685}, archivePrefix = {arXiv}", "2106.09685"),
        ("eprint = {2106.09685}, eprinttype = {arxiv}", "2106.09685"),
        ("url = {https://arxiv.org/pdf/2106.09685v1.pdf}", "2106.09685"),
    ],
)
def test_arxiv_in_every_common_form(
    library: Path, cli: Runner, tmp_path: Path, fields: str, arxiv_id: str
) -> None:
    bib = tmp_path / "x.bib"
    bib.write_text(f"@article{{k, title = {{LoRA}}, author = {{Hu, E.}}, year = 2021, {fields}}}")
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    paper = _paper(library, "k")
    assert paper["arxiv_id"] == arxiv_id
    assert paper["bibtex_type"] == "article"
    assert "venue" not in paper  # arXiv and CoRR are not venues
    out = bib_entries(cli("export", "bibtex").stdout)
    assert out == bib_entries(bib.read_text())  # the original fields, unchanged


def test_latex_that_cannot_be_read_never_stops_an_import(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    bib = tmp_path / "latex.bib"
    bib.write_text(
        "@misc{href, title={A {\\textsc{Tool}} for $\\mathcal{O}(n$}, author={Doe, J.}, "
        "note={\\href{https://x.org/a_b%20c}{the site}}, howpublished={\\url{https://x.org/t}},"
        " year=2020}\n"
        "@misc{weird, title={\\unknownmacro{X} \\begin{itemize} \\item{a}}, year=2021, "
        'author="A {\\"o} B"}\n'
        "@misc{broken, title={never closed, year=2020}\n"
        "@misc{after, title={After the break}, year=2020}\n"
    )
    for extra in (["--dry-run"], []):
        result = cli("import", "bibtex", str(bib), *extra)
        assert result.exit_code == 0, result
        assert "Traceback" not in result.stdout + result.stderr
    assert sorted(_files(library)) == ["after.toml", "href.toml", "weird.toml"]
    assert "latex.bib:3: malformed entry" in result.stdout
    assert _paper(library, "href")["url"] == "https://x.org/t"  # from \url in howpublished


def test_same_title_other_authors_or_year_is_another_paper(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    bib = tmp_path / "t.bib"
    bib.write_text(
        "@article{raglin1990, author={Raglin, John}, title={Sea Ice and Climate}, year=1990,"
        " journal={A}}\n"
        "@article{mikkelsen2017, author={Mikkelsen, Anne and Other, B.}, title={Sea ice and"
        " climate}, year=2017, journal={B}}\n"
        "@article{raglin1990b, author={J. Raglin}, title={Sea ice and climate.}, year=1990,"
        " journal={A}, doi={10.1/x}}\n"
        "@book{agazzi, title={Probability in the Sciences}, year=1988, isbn={978-94-009-3061-2}}\n"
        "@incollection{bunge, title={Two Faces of Probability}, booktitle={Probability in the "
        "Sciences}, year=1988, isbn={9789400930612}}\n"
    )
    result = cli("import", "bibtex", str(bib))
    assert result.exit_code == 0, result
    assert sorted(_files(library)) == [
        "agazzi.toml", "bunge.toml", "mikkelsen2017.toml", "raglin1990.toml"
    ]  # fmt: skip
    assert _paper(library, "raglin1990")["aliases"] == ["raglin1990b"]
    assert "'bunge' shares ISBN 9789400930612 with agazzi, but the titles differ" in result.stdout


def test_crossref_parents_follow_their_cited_children(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    bib = tmp_path / "c.bib"
    bib.write_text(
        "@proceedings{conf2020, title={Proceedings of Conf}, year=2020, editor={Ed, A.},"
        " publisher={P}}\n"
        "@inproceedings{child1, author={Doe, J.}, title={First}, crossref={conf2020},"
        " pages={1--2}}\n"
        "@inproceedings{child2, author={Roe, R.}, title={Second}, crossref={conf2020},"
        " pages={3--4}}\n"
    )
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    child = _paper(library, "child1")
    assert (child["venue"], child["year"]) == ("Proceedings of Conf", 2020)  # inherited
    draft = tmp_path / "d.tex"
    draft.write_text("\\cite{conf2020} \\cite{child2}\n")
    out = cli("export", "bibtex", "--cited", str(draft)).stdout
    assert list(bib_entries(out)) == ["child2", "conf2020"]
    out = cli("export", "bibtex").stdout
    assert list(bib_entries(out)) == ["child1", "child2", "conf2020"]
    draft.write_text("\\cite{child1}\n")
    out = cli("export", "bibtex", "--cited", str(draft)).stdout
    assert list(bib_entries(out)) == ["child1", "conf2020"]


@pytest.mark.parametrize(
    ("field", "bad", "shown"),
    [
        ("title", "Fast $\\immediate\\write18{touch /tmp/x}$ sorting", "\\immediate, \\write"),
        ("note", "see \\input{/etc/passwd}", "\\input"),
        ("title", "Efficient $O(n)}} @misc{planted2099, title={x}} @comment{{$", "unbalanced"),
        ("title", "^^5cwrite18{x}", "^^"),
    ],
)
def test_hostile_values_are_made_safe_and_said(
    library: Path, cli: Runner, tmp_path: Path, field: str, bad: str, shown: str
) -> None:
    from papercli.library import Library
    from papercli.models import Paper

    lib = Library.open(library)
    with lib.writing() as writer:
        paper = Paper(key="evil", title="Evil", bibtex_type="misc", bibtex={field: bad})
        writer.create(paper)
    result = cli("export", "bibtex")
    assert result.exit_code == 0, result
    entries = bib_entries(result.stdout)
    assert list(entries) == ["evil"]
    value = entries["evil"][1][field]
    assert "\\write" not in value and "\\input" not in value and "^^" not in value
    assert "papercli: evil: made safe for LaTeX" in result.stderr and shown in result.stderr
    depth = 0
    for char in value:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0


def test_an_edit_of_a_normalised_field_reaches_the_record(
    library: Path, cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bib = tmp_path / "e.bib"
    bib.write_text("@article{e1, author={Doe, Jane}, title={Old {T}itle}, journal={J}, "
                   "year=2001, pages={1--9}}\n")  # fmt: skip
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    script = tmp_path / "ed.py"
    script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text().replace('title = \"Old Title\"', 'title = \"New Title\"'"
        ", 1).replace('year = 2001', 'year = 2002', 1))\n"
    )
    import sys

    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    result = cli("edit", "e1")
    assert result.exit_code == 0, result
    assert "the BibTeX record follows your edit: title, year" in result.stdout
    fields = bib_entries(cli("export", "bibtex").stdout)["e1"][1]
    assert (fields["title"], fields["year"], fields["pages"]) == ("New Title", "2002", "1--9")


def test_a_format_1_library_is_migrated_once(cli: Runner, tmp_path: Path) -> None:
    old = tmp_path / "old"
    (old / "papers").mkdir(parents=True)
    (old / "library.toml").write_text('format = 1\nname = "mine"  # kept\n')
    (old / "papers" / "ando2005.toml").write_text(
        'title = "A Framework"\nyear = 2005\n\n[[provenance]]\nsource = "bibtex"\n'
        'file = "x.bib"\nkey = "Ando2005"\n'
    )
    (old / "papers" / "hu2021lora.toml").write_text('title = "LoRA"\n')
    untouched = (old / "papers" / "hu2021lora.toml").read_bytes()
    result = cli("--library", str(old), "show", "Ando2005", "--json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["key"] == "ando2005"
    assert result.stderr == (
        f"papercli: upgraded the library at {old} from format 1 to 2 (1 paper(s) got their "
        "original BibTeX keys back as aliases; nothing lost)\n"
    )
    assert (old / "library.toml").read_text() == 'format = 2\nname = "mine"  # kept\n'
    assert (old / "papers" / "hu2021lora.toml").read_bytes() == untouched
    assert cli("--library", str(old), "list").stderr == ""  # once


def test_papers_papercli_types_get_conference_types_and_their_fields(
    library: Path, cli: Runner
) -> None:
    from papercli.bibtex import format_entry
    from papercli.models import Paper

    result = cli(
        "add", "--title", "Attention Is All You Need", "--author", "Ashish Vaswani",
        "--year", "2017", "--venue", "Advances in Neural Information Processing Systems",
        "--field", "volume=30", "--field", "pages=5998--6008",
    )  # fmt: skip
    assert result.exit_code == 0, result
    fields = bib_entries(cli("export", "bibtex").stdout)["vaswani2017attention"]
    assert fields == (
        "inproceedings",
        {"author": "Vaswani, Ashish", "title": "Attention Is All You Need", "year": "2017",
         "booktitle": "Advances in Neural Information Processing Systems", "volume": "30",
         "pages": "5998--6008"},
    )  # fmt: skip
    venues = (
        "Proceedings of the 40th International Conference on Machine Learning",
        "Proceedings of Machine Learning Research (PMLR)",
        "Findings of the Association for Computational Linguistics: ACL 2023",
    )
    for venue in venues:
        paper = Paper(key="k", title="T", authors=["Doe, J."], year=2023, venue=venue)
        assert format_entry(paper).startswith("@inproceedings{k,"), venue
    # An arXiv paper whose journal reference names a conference is a conference paper.
    paper = Paper(key="k", title="T", authors=["Doe, J."], year=2017, arxiv_id="1706.03762",
                  journal_ref="NeurIPS 2017")  # fmt: skip
    assert "booktitle = {NeurIPS 2017}" in format_entry(paper)
    paper.journal_ref = "Phys. Rev. D 76, 044016 (2007)"
    text = format_entry(paper)
    assert text.startswith("@misc{k,") and "note = {Published in Phys. Rev. D 76" in text
    result = cli("add", "--title", "X", "--field", "pages")
    assert (result.exit_code, result.stderr) == (
        2, "papercli: error: invalid --field 'pages': write NAME=VALUE, as in pages=1--10\n"
    )  # fmt: skip


def test_macros_from_another_file_and_months_as_written(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    """IEEEabrv.bib-style abbreviations stay macros, so the draft's own copy of that file
    still expands them; a braced month stays braced, a month macro stays bare."""
    abbreviations = tmp_path / "abbrv.bib"
    abbreviations.write_text('@string{IEEE_J_IP = "{IEEE} Trans. Image Process."}\n')
    refs = tmp_path / "refs.bib"
    refs.write_text(
        "@article{zhang2020, author={Zhang, Li}, title={Infrared Small Targets}, "
        "journal=IEEE_J_IP, year=2020, month=mar, volume=29}\n"
        "@article{lee2021, author={Lee, Kim}, title={Braced Months}, journal={J}, "
        "year=2021, month={Mar}, note=jan # {~5}}\n"
    )
    result = cli("import", "bibtex", str(refs))
    assert result.exit_code == 0, result
    assert "@string macro 'IEEE_J_IP' is not defined in the files imported" in result.stdout
    out = cli("export", "bibtex").stdout
    assert "  journal = IEEE_J_IP,\n" in out and "  month = mar,\n" in out
    assert "  month = {Mar},\n" in out and "  note = jan # {~5},\n" in out
    shown = json.loads(cli("show", "zhang2020", "--json").stdout)
    assert shown["venue"] == "IEEE_J_IP" and shown["date"] == "2020-03"
    # Imported with the file defining it, the macro is read as its text.
    for path in (library / "papers").glob("*.toml"):
        path.unlink()
    result = cli("import", "bibtex", str(abbreviations), str(refs))
    assert "not defined" not in result.stdout
    assert "journal = {{IEEE} Trans. Image Process.}" in cli("export", "bibtex").stdout
    # And the draft that reads both files compiles to the same bibliography.
    draft = tmp_path / "draft.tex"
    draft.write_text(
        "\\documentclass{article}\\begin{document}\\cite{zhang2020,lee2021}"
        "\\bibliographystyle{plain}\\bibliography{abbrv,refs}\\end{document}\n"
    )
    if shutil.which("pdflatex") and shutil.which("bibtex"):
        for path in (library / "papers").glob("*.toml"):
            path.unlink()
        assert cli("import", "bibtex", str(refs)).exit_code == 0
        original = _bbl(
            tmp_path / "original", draft, {"abbrv.bib": abbreviations, "refs.bib": refs}
        )
        exported = tmp_path / "exported.bib"
        cli("export", "bibtex", "--cited", str(draft), "-o", str(exported))
        ours = _bbl(tmp_path / "ours", draft, {"abbrv.bib": abbreviations, "refs.bib": exported})
        assert ours == original and "Image Process" in ours and "March" in ours


def _bbl(folder: Path, draft: Path, bibs: dict[str, Path]) -> str:
    folder.mkdir()
    shutil.copy(draft, folder / "draft.tex")
    for name, path in bibs.items():
        shutil.copy(path, folder / name)
    for command in (["pdflatex", "-interaction=nonstopmode", "draft.tex"], ["bibtex", "draft"]):
        subprocess.run(command, cwd=folder, capture_output=True, timeout=120, check=False)
    return (folder / "draft.bbl").read_text()


def test_keys_differing_in_case_each_find_their_own_paper(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    bib = tmp_path / "case.bib"
    bib.write_text(
        "@book{Baddeley, author={Baddeley, Alan}, title={Working Memory}, year=1986, "
        "publisher={OUP}}\n"
        "@article{baddeley, author={Baddeley, Alan}, title={Working memory: looking back and "
        "looking forward}, journal={Nat Rev Neurosci}, year=2003}\n"
    )
    result = cli("import", "bibtex", str(bib))
    assert result.exit_code == 0, result
    assert "'baddeley' stays an alias of it" in result.stdout
    draft = tmp_path / "d.tex"
    draft.write_text("\\cite{baddeley} \\cite{Baddeley}\n")
    result = cli("export", "bibtex", "--cited", str(draft))
    entries = bib_entries(result.stdout)
    assert entries["baddeley"][0] == "article" and entries["Baddeley"][0] == "book"
    assert result.stderr == ""  # exact spellings: no case warning


def test_a_second_identical_entry_is_exported_under_its_own_key(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    bib = tmp_path / "twice.bib"
    record = "author={Leary, Mark}, title={Pecking Order}, journal={RFS}, year=2010"
    bib.write_text(f"@article{{rob08, {record}}}\n@article{{rob10, {record}}}\n")
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    assert list(bib_entries(cli("export", "bibtex").stdout)) == ["rob08", "rob10"]
    assert cli("rekey", "rob08", "leary2010pecking").exit_code == 0
    assert list(bib_entries(cli("export", "bibtex").stdout)) == ["leary2010pecking", "rob10"]


def test_windows_1252_punctuation_read_as_latin_1_is_repaired_on_export(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    bib = tmp_path / "c1.bib"
    bib.write_text("@misc{q, title={The \x91place\x92 \x97 here}, year=2001}\n", encoding="utf-8")
    assert cli("import", "bibtex", str(bib)).exit_code == 0
    result = cli("export", "bibtex")
    assert bib_entries(result.stdout)["q"][1]["title"] == "The \u2018place\u2019 \u2014 here"
    assert "made safe for LaTeX (control characters)" in result.stderr


def test_preambles_travel_with_their_entries_and_cannot_act(
    library: Path, cli: Runner, tmp_path: Path
) -> None:
    bib = tmp_path / "p.bib"
    bib.write_text(
        '@preamble{"\\providecommand{\\noopsort}[1]{}"}\n'
        '@preamble{"\\immediate\\write18{touch x}"}\n'
        "@book{knuth, author={Knuth, Donald}, title={{\\noopsort{a}}The Art}, year=1968}\n"
    )
    result = cli("import", "bibtex", str(bib))
    assert result.exit_code == 0 and "preamble" not in result.stdout
    result = cli("export", "bibtex", "-k", "knuth")
    assert result.stdout.startswith(
        '@preamble{"\\providecommand{\\noopsort}[1]{}"}\n'
        '@preamble{"immediatewrite18{touch x}"}\n\n@book{knuth,'
    )
    assert "papercli: @preamble: made safe for LaTeX (\\immediate, \\write)" in result.stderr
    assert cli("import", "bibtex", str(bib), "--json").exit_code == 0  # again: nothing new
    assert json.loads(cli("import", "bibtex", str(bib), "--json").stdout)["merged"] == []


def test_plain_values_skip_pylatexenc_and_read_the_same() -> None:
    """Values with only protective braces, ~ ties and single hyphens or quotes are read
    without pylatexenc (a hundredth of the cost): on every such value of the real .bib files
    here, the reading is what pylatexenc gives."""
    import re

    from papercli.record import _NEEDS_LATEX, _converter, _fix, latex_to_text, quiet

    values = set()
    for path in (ROOT / "tests" / "fixtures" / "real").rglob("*.bib"):
        text = path.read_text(encoding="utf-8", errors="replace")
        found = re.finditer(r"=\s*\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}", text)
        values.update(match.group(1) for match in found)
    plain = [v for v in values if not _NEEDS_LATEX.search(_fix(v))]
    assert len(plain) > 1000
    for value in plain:
        with quiet():
            by_pylatexenc = str(_converter().latex_to_text(_fix(value)))
        assert latex_to_text(value) == " ".join(by_pylatexenc.replace("\u00a0", " ").split())
