"""``papercli import``: reading lists (Markdown) and post dumps (notes) into the library.

The work is done by ``papercli.import_markdown`` and ``papercli.import_notes``; this module
parses options, runs one import under the library's write lock and prints the report. Other
modules may add commands to ``import_app`` (``import bibtex``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from papercli.cli_common import complete_tags, echo, handle_errors, open_library, print_json, warn
from papercli.documents import read_document
from papercli.errors import EXIT_NOT_FOUND, UsageError
from papercli.models import normalize_tag

if TYPE_CHECKING:
    from papercli.import_markdown import ImportPlan, ImportReport

# The importers are imported by the commands that use them: other commands do not pay for them.
DEFAULT_SEPARATOR = "------"

import_app = typer.Typer(
    help="Import reading lists, posts and .bib files into the library.\n\n"
    "Examples: papercli import markdown awesome-list.md --tag reading-list; "
    "papercli import bibtex zotero.bib",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add the ``import`` group to the app."""
    app.add_typer(import_app, name="import")


FilesArg = Annotated[
    list[Path],
    typer.Argument(
        metavar="FILE", help="Markdown files ('-' reads standard input).", show_default=False
    ),
]
TagOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        "-t",
        metavar="TAG",
        help="A tag for every entry (repeatable).",
        autocompletion=complete_tags,
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", "-n", help="Report what would change; write nothing.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="The report as JSON.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="List every entry added, merged or skipped.")
]


def _document_name(path: Path) -> str:
    return "stdin" if str(path) == "-" else path.name


def _shown(path: Path) -> str:
    return "standard input" if str(path) == "-" else str(path)


def fail_if_nothing_found(empty: list[str], imported_anything: bool) -> None:
    """Exit 1 when the command imported and merged nothing and some file held no reference
    at all, with one stderr line per such file (an empty .bib, a binary file, a Markdown file
    without links)."""
    if imported_anything or not empty:
        return
    for name in dict.fromkeys(empty):
        warn(f"no references found in {name}")
    raise typer.Exit(EXIT_NOT_FOUND)


def _run(
    build: Callable[[ImportPlan], ImportReport],
    dry_run: bool,
    as_json: bool,
    verbose: bool,
    shown: dict[str, str],
) -> None:
    """Plan the import (under the write lock unless --dry-run), write it, print the report;
    exit 1 when nothing was found (see ``fail_if_nothing_found``)."""
    from papercli.import_markdown import ImportPlan

    library = open_library()
    if dry_run:
        report = build(ImportPlan(library))
    else:
        with library.writing() as writer:
            plan = ImportPlan(library)
            report = build(plan)
            plan.write(writer)
    if as_json:
        data = report.to_json()
        data["dry_run"] = dry_run
        print_json(data)
    else:
        _print_report(report, dry_run, verbose)
    fail_if_nothing_found(
        [shown.get(name, name) for name in report.empty], bool(report.added or report.merged)
    )


def _print_report(report: ImportReport, dry_run: bool, verbose: bool) -> None:
    would = "would be " if dry_run else ""
    if verbose:
        for key in report.added:
            echo(f"added   {key}: {report.titles.get(key, '')}")
        for key, fields in report.merged.items():
            echo(f"merged  {key}: {', '.join(fields)}")
        for key in report.unchanged:
            echo(f"same    {key}")
        for skip in report.skipped:
            echo(f"skipped ({skip.reason}): {skip.detail}")
    echo(
        f"{len(report.added)} {would}added, {len(report.merged)} {would}merged, "
        f"{len(report.unchanged)} already up to date, {len(report.skipped)} skipped; "
        f"{report.notes_attached} notes"
    )
    for reason, count in report.skipped_by_reason():
        echo(f"  skipped {count}: {reason}")
    if dry_run:
        echo("dry run: nothing was written")


@import_app.command("markdown")
@handle_errors
def import_markdown_cmd(
    files: FilesArg,
    tag: TagOpt = None,
    field: Annotated[
        str | None,
        typer.Option(
            "--field",
            metavar="FIELD",
            help="The files are JSON: read the Markdown from this text field (e.g. readme_en).",
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Import Markdown reading lists (awesome-list style): one entry per linked reference,
    headings as tags, nested comments as notes; duplicates are merged. Exits 1 when nothing
    was imported or merged and a file held no reference at all (one 'no references found in
    FILE' line each).

    Example: papercli import markdown README.md --tag reading-list --dry-run
    """
    from papercli.import_markdown import import_markdown, markdown_from_json

    if field is not None and not field.strip():
        raise UsageError("--field is empty: name the JSON text field, e.g. --field readme_en")
    tags = _tags(tag)
    documents: list[tuple[str, str]] = []
    shown: dict[str, str] = {}
    for path in files:
        text, remark = read_document(path)
        if remark:
            warn(remark)
        if field is not None:
            text = markdown_from_json(text, field, str(path))
        documents.append((_document_name(path), text))
        shown.setdefault(_document_name(path), _shown(path))
    _run(lambda plan: import_markdown(plan, documents, tags), dry_run, as_json, verbose, shown)


@import_app.command("notes")
@handle_errors
def import_notes_cmd(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="A text file of posts ('-' reads standard input)."),
    ],
    separator: Annotated[
        str, typer.Option("--separator", metavar="LINE", help="The line between two posts.")
    ] = DEFAULT_SEPARATOR,
    tag: TagOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Attach posts (separated by a line such as '------') as notes to the papers they link on
    arXiv or name by full title; papers linked on arXiv but missing are added. Exits 1 when
    no post names a paper (one 'no references found in FILE' line).

    Example: papercli import notes posts.txt --separator '------' --dry-run
    """
    if not separator.strip():
        raise UsageError("--separator must not be empty")
    from papercli.import_notes import import_notes

    tags = _tags(tag)
    text, remark = read_document(file)
    if remark:
        warn(remark)
    name = _document_name(file)
    _run(
        lambda plan: import_notes(plan, text, name, separator.strip(), tags),
        dry_run,
        as_json,
        verbose,
        {name: _shown(file)},
    )


def _tags(values: list[str] | None) -> list[str]:
    tags: list[str] = []
    for value in values or []:
        tags.extend(normalize_tag(part) for part in value.split(",") if part.strip())
    return list(dict.fromkeys(tags))
