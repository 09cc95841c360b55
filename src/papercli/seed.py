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

The output is reproducible: every entry gets the same ``added`` time (``STAMP``), no
``updated`` time, and keys come from the fixed order of ``SOURCES``. See docs/bundled-library.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from papercli.import_markdown import ImportPlan, import_markdown, markdown_from_json
from papercli.import_notes import import_notes
from papercli.library import Library

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


def load_documents(sources: Path) -> list[tuple[str, str]]:
    documents = []
    for file_name, name, field_name in MARKDOWN_SOURCES:
        text = (sources / file_name).read_text(encoding="utf-8")
        if field_name:
            text = markdown_from_json(text, field_name, file_name)
        documents.append((name, text))
    return documents


def build(target: Path, sources: Path = SOURCES_DIR) -> dict[str, int]:
    """Create a library at ``target`` (new or empty) from ``sources``; returns counts."""
    library = Library.create(target, name="papercli bundled library")
    with library.writing() as writer:
        plan = ImportPlan(library)
        import_markdown(plan, load_documents(sources))
        posts_file, posts_name = NOTES_SOURCE
        posts = (sources / posts_file).read_text(encoding="utf-8")
        report = import_notes(plan, posts, posts_name)
        plan.write(writer, stamp=STAMP)
    return {
        "entries": len(report.added),
        "notes": sum(len(p.notes) for p in plan.papers.values()),
        "skipped": len(report.skipped),
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
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / "library"
        counts = build(built, args.sources)
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
        f"({counts['skipped']} items skipped)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
