"""Rebuild the bundled library (``data/library/papers``) from the documents in ``data/sources``
with papercli's own importers, as ``papercli import markdown`` and ``papercli import notes``
would::

    python -m papercli.seed            # rebuild data/library/papers in the source tree
    python -m papercli.seed --check    # exit 1 if the committed library is not what it gives
    python -m papercli.seed --output DIR

The equivalent commands, for a user's own library::

    papercli import markdown data/sources/nlp-notes.md
    papercli import markdown data/sources/awesome-transformer-nlp.page.json --field readme_en
    papercli import markdown data/sources/awesome-transformer-nlp.README.md \
        data/sources/llm-roadmap.md
    papercli import notes data/sources/researcher-posts.txt

Then the entries are completed from ``data/sources/arxiv-metadata`` (titles, full author lists,
dates and abstracts gathered for every paper the lists link; see its PROVENANCE.md): an arXiv
paper as ``papercli refresh`` completes it from arXiv's answer (``update_from_arxiv``), a paper
elsewhere by the importers' merge rules (``combine``). Only then are keys given, from the
completed records (``papercli.keys``); the key a paper had in papercli 0.1's bundled library
(``data/sources/bundled-0.1-keys.tsv``) stays as an alias, so drafts citing it keep working.

The output is reproducible: every entry gets the same ``added`` time (``STAMP``), no
``updated`` time, and keys come from the fixed order of ``SOURCES``. See docs/bundled-library.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from papercli.arxiv_ids import year_of
from papercli.arxiv_source import author_from_arxiv, clean_text, update_from_arxiv
from papercli.import_markdown import ImportPlan, combine, import_markdown, markdown_from_json
from papercli.import_notes import import_notes
from papercli.keys import STOPWORDS, ascii_fold, make_key
from papercli.library import Library
from papercli.merge import norm_url
from papercli.models import Paper

STAMP = "2025-01-01T00:00:00Z"
ROOT = Path(__file__).resolve().parents[2]
SOURCES_DIR = ROOT / "data" / "sources"
LIBRARY_DIR = ROOT / "data" / "library"

# (file in data/sources, document name used in notes and provenance, JSON field or None), in
# import order: the first document to name a paper gives its title.
MARKDOWN_SOURCES = (
    ("nlp-notes.md", "nlp-notes", None),
    ("awesome-transformer-nlp.page.json", "awesome-transformer-nlp", "readme_en"),
    ("awesome-transformer-nlp.README.md", "awesome-transformer-nlp (older README)", None),
    ("llm-roadmap.md", "llm-roadmap", None),
)
NOTES_SOURCE = ("researcher-posts.txt", "researcher-posts")
METADATA_DIR = "arxiv-metadata"
OLD_KEYS_FILE = "bundled-0.1-keys.tsv"


def load_documents(sources: Path) -> list[tuple[str, str]]:
    documents = []
    for file_name, name, field_name in MARKDOWN_SOURCES:
        text = (sources / file_name).read_text(encoding="utf-8")
        if field_name:
            text = markdown_from_json(text, field_name, file_name)
        documents.append((name, text))
    return documents


class Metadata(NamedTuple):
    """The gathered records, shaped as papercli's fetches shape theirs."""

    arxiv: dict[str, Paper]  # base arXiv id -> the paper as arXiv describes it
    elsewhere: dict[str, Paper]  # normalised URL -> a paper published outside arXiv


def _records(path: Path) -> Iterator[dict[str, Any]]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def _provenance(file_name: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "source": "metadata",
            "document": f"{METADATA_DIR}/{file_name}",
            "confidence": record.get("confidence") or "",
        }
    ]


def paper_from_arxiv_record(record: dict[str, Any]) -> Paper:
    """An ``arxiv.jsonl`` record as the Paper an arXiv answer gives (``paper_from_result``'s
    shape); a record without a v1 date takes the year its identifier encodes."""
    base = record["arxiv_id"]
    paper = Paper(key="", title=clean_text(record.get("title")) or f"arXiv:{base}")
    paper.authors = [author_from_arxiv(n) for n in record.get("authors") or [] if clean_text(n)]
    published = record.get("published") or ""
    paper.date = published
    paper.year = int(published[:4]) if published else year_of(base)
    paper.arxiv_id = base
    paper.url = f"https://arxiv.org/abs/{base}"
    paper.pdf_url = f"https://arxiv.org/pdf/{base}"
    paper.primary_category = record.get("primary_category") or ""
    paper.categories = [paper.primary_category] if paper.primary_category else []
    paper.doi = record.get("doi") or ""
    paper.journal_ref = record.get("journal_ref") or ""
    paper.abstract = clean_text(record.get("abstract"))
    paper.provenance = _provenance("arxiv.jsonl", record)
    return paper


def paper_from_other_record(record: dict[str, Any]) -> Paper:
    """A ``non-arxiv.jsonl`` record as a Paper; what it lacks is marked incomplete. The
    gatherer's remarks closing a venue ("(from the URL)") are not part of it."""
    paper = Paper(key="", title=clean_text(record.get("title")))
    paper.authors = [author_from_arxiv(n) for n in record.get("authors") or [] if clean_text(n)]
    paper.year = record.get("year")
    paper.url = record["url"]
    paper.venue = re.sub(r"\s*\([^()]*\)$", "", clean_text(record.get("venue")))
    paper.doi = record.get("doi") or ""
    paper.arxiv_id = record.get("arxiv_id") or ""
    paper.abstract = clean_text(record.get("abstract"))
    paper.incomplete = [
        name for name in ("title", "authors", "year", "abstract") if not getattr(paper, name)
    ]
    paper.provenance = _provenance("non-arxiv.jsonl", record)
    return paper


def load_metadata(sources: Path) -> Metadata:
    folder = sources / METADATA_DIR
    arxiv = {p.arxiv_id: p for p in map(paper_from_arxiv_record, _records(folder / "arxiv.jsonl"))}
    elsewhere = {
        norm_url(p.url): p
        for p in map(paper_from_other_record, _records(folder / "non-arxiv.jsonl"))
    }
    return Metadata(arxiv, elsewhere)


def complete(plan: ImportPlan, metadata: Metadata) -> int:
    """Complete the planned papers from ``metadata``; returns how many a record completed.

    An arXiv paper is brought up to date as ``papercli refresh`` does with arXiv's answer;
    a paper linked elsewhere takes its record by the importers' merge rules. A paper linked
    elsewhere that the record shows to be an arXiv paper already planned is merged into it."""
    by_arxiv = {plan.papers[k].arxiv_id: k for k in plan.new if plan.papers[k].arxiv_id}
    completed = 0
    for key in list(plan.new):
        paper = plan.papers[key]
        if paper.arxiv_id:
            fetched = metadata.arxiv.get(paper.arxiv_id)
            if fetched is not None:
                _mark_stand_in_title(paper, fetched)
                update_from_arxiv(paper, copy.deepcopy(fetched))
                completed += 1
            continue
        record = metadata.elsewhere.get(norm_url(paper.url))
        if record is None:
            continue
        completed += 1
        same = by_arxiv.get(record.arxiv_id) if record.arxiv_id else None
        if same is not None:
            plan.new.remove(key)
            del plan.papers[key]
            combine(plan.papers[same], paper)
            continue
        combine(paper, copy.deepcopy(record))
        if paper.arxiv_id:
            by_arxiv[paper.arxiv_id] = key
    return completed


def _significant_words(title: str) -> str:
    """A title's words, lower-case ASCII, without stop words and without what a list adds in
    brackets ("(H3)", "(ICL)"), space-separated with a space at each end."""
    plain = ascii_fold(re.sub(r"\s*\([^()]*\)", " ", title)).lower().replace("'", "")
    words = re.findall(r"[a-z0-9]+", plain)
    return " " + " ".join(w for w in words if w not in STOPWORDS) + " "


def _mark_stand_in_title(paper: Paper, record: Paper) -> None:
    """Mark the paper's title a stand-in when it is the record's title as a list or a post
    wrote it: cut short ("Are Transformers Effective for Time Series" for "...Forecasting?"),
    with an acronym or a name added ("GPT-3: Language Models are Few-Shot Learners",
    "Nonparametric Masked (NPM) Language Modeling"), or differing in case, quotes or stop
    words. A title of another version ("... Secretly Perform" for "... Implicitly Perform"), or
    a record title in TeX ("$Q^*$"), is left alone."""
    if "title" in paper.incomplete or "$" in record.title or paper.title == record.title:
        return
    mine, theirs = _significant_words(paper.title), _significant_words(record.title)
    if mine.strip() and theirs.strip() and (mine in theirs or theirs in mine):
        paper.incomplete.insert(0, "title")


def load_old_keys(sources: Path) -> dict[str, str]:
    """Normalised URL -> the key papercli 0.1's bundled library gave the entry at that URL."""
    path = sources / OLD_KEYS_FILE
    old: dict[str, str] = {}
    if not path.exists():
        return old
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, url = line.split("\t", 1)
            old[norm_url(url)] = key
    return old


def _taken_for(mine: str, taken: set[str], legacy: set[str]) -> Callable[[str], bool]:
    return lambda k: k in taken or (k in legacy and k != mine)


def rekey(plan: ImportPlan, old_keys: dict[str, str]) -> None:
    """Give every planned paper its key from its completed record, in import order; a paper's
    key in papercli 0.1, when different, becomes its alias. No new key takes an old key of
    another paper, so each old key keeps naming its paper."""
    legacy = set(old_keys.values())
    taken: set[str] = set()
    renamed: dict[str, Paper] = {}
    for key in plan.new:
        paper = plan.papers[key]
        mine = old_keys.get(norm_url(paper.url), "")
        new = make_key(
            paper.authors, paper.year, paper.title, _taken_for(mine, taken, legacy), url=paper.url
        )
        taken.add(new)
        paper.key = new
        if mine and mine != new and mine not in paper.aliases:
            paper.aliases.append(mine)
        renamed[new] = paper
    plan.papers = renamed
    plan.new = list(renamed)


def build(
    target: Path, sources: Path = SOURCES_DIR, *, with_metadata: bool = True
) -> dict[str, int]:
    """Create a library at ``target`` (new or empty) from ``sources``; returns counts.
    ``with_metadata=False`` leaves out the gathered metadata (to measure the importers alone)."""
    library = Library.create(target, name="papercli bundled library")
    with library.writing() as writer:
        plan = ImportPlan(library)
        import_markdown(plan, load_documents(sources))
        posts_file, posts_name = NOTES_SOURCE
        posts = (sources / posts_file).read_text(encoding="utf-8")
        report = import_notes(plan, posts, posts_name)
        completed = complete(plan, load_metadata(sources)) if with_metadata else 0
        rekey(plan, load_old_keys(sources))
        plan.write(writer, stamp=STAMP)
    papers = [p for p in plan.papers.values() if p.type == "paper"]
    return {
        "entries": len(plan.new),
        "notes": sum(len(p.notes) for p in plan.papers.values()),
        "skipped": len(report.skipped),
        "completed": completed,
        "placeholder_titles": sum(1 for p in papers if "title" in p.incomplete),
    }


def paper_files(library_dir: Path) -> dict[str, bytes]:
    papers = library_dir / "papers"
    return {p.name: p.read_bytes() for p in sorted(papers.glob("*.toml"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m papercli.seed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--output", type=Path, help="build here instead of data/library")
    parser.add_argument("--check", action="store_true", help="compare with data/library")
    parser.add_argument("--sources", type=Path, default=SOURCES_DIR)
    parser.add_argument(
        "--without-metadata",
        action="store_true",
        help=f"leave out {METADATA_DIR} (to measure the importers alone; needs --output)",
    )
    args = parser.parse_args(argv)
    if args.without_metadata and not args.output:
        parser.error("--without-metadata builds elsewhere: give --output DIR")
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / "library"
        counts = build(built, args.sources, with_metadata=not args.without_metadata)
        new_files = paper_files(built)
        if args.check:
            old_files = paper_files(LIBRARY_DIR)
            if old_files != new_files:
                changed = sorted(set(old_files) ^ set(new_files)) or sorted(
                    k for k in new_files if old_files.get(k) != new_files[k]
                )
                sys.stderr.write(
                    f"seed: data/library differs from a rebuild ({len(changed)} file(s), "
                    f"e.g. {', '.join(changed[:5])}): run python -m papercli.seed\n"
                )
                return 1
            print(f"data/library is up to date ({len(new_files)} entries)")
            return 0
        output = args.output or LIBRARY_DIR
        papers = output / "papers"
        if args.output and not (output / "library.toml").exists():
            shutil.copytree(built, output, dirs_exist_ok=True)
        else:
            papers.mkdir(parents=True, exist_ok=True)
            for old in papers.glob("*.toml"):
                if old.name not in new_files:
                    old.unlink()
            for name, data in new_files.items():
                target = papers / name
                if not target.exists() or target.read_bytes() != data:
                    target.write_bytes(data)
    print(
        f"built {counts['entries']} entries with {counts['notes']} notes in {output} "
        f"({counts['skipped']} items skipped, {counts['completed']} completed from metadata, "
        f"{counts['placeholder_titles']} papers with a placeholder title)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
