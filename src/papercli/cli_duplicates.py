"""The duplicate commands: ``papercli duplicates`` lists groups of probable duplicates and
``papercli merge KEY OTHER...`` folds papers into one.

``duplicates`` reads only the index (``papercli.duplicates``). ``merge`` reads the papers
under the write lock, folds them (``papercli.merge.fold_into``), writes the kept paper and only
then removes the others' files: a kill between the two leaves both papers (nothing lost), the
kept one already naming the others as aliases; ``duplicates`` reports that state and running
the same ``merge`` again finishes it. Exit codes: 0 done (also when there are no duplicates),
1 a REF names no paper, 2 a bad argument, 4 a library that cannot be written.
"""

from __future__ import annotations

from typing import Annotated

import typer

from papercli.cli_common import (
    complete_ref,
    echo,
    handle_errors,
    open_library,
    print_json,
    report_problems_once,
    warn,
)
from papercli.errors import UsageError


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("duplicates")(duplicates_cmd)
    app.command("merge")(merge_cmd)


@handle_errors
def duplicates_cmd(
    as_json: Annotated[
        bool, typer.Option("--json", help='A JSON list of {"keys": [...], "reason": "..."}.')
    ] = False,
) -> None:
    """List groups of probable duplicates, best first: shared identifiers (arXiv id, DOI,
    ISBN, URL), then the same title, a preprint and its published version, similar titles by
    the same first author. One line a group: its keys (the earliest added first), a tab, why.

    Examples: papercli duplicates --json; papercli merge hu2021lora hu2022lora
    """
    from papercli.duplicates import duplicate_groups

    library = open_library()
    report_problems_once(library)
    groups = duplicate_groups(library.index().rows.values())
    if as_json:
        print_json([{"keys": group.keys, "reason": group.reason} for group in groups])
        return
    if not groups:
        warn("no probable duplicates")
        return
    for group in groups:
        echo(f"{' '.join(group.keys)}\t{group.reason}")
    warn(f"{len(groups)} group(s): 'papercli merge KEY OTHER...' folds the others into KEY")


@handle_errors
def merge_cmd(
    key: Annotated[
        str, typer.Argument(help="The paper to keep: its key stays.", autocompletion=complete_ref)
    ],
    others: Annotated[
        list[str],
        typer.Argument(
            help="Papers to fold into it; their keys become its aliases.",
            autocompletion=complete_ref,
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Say what would change; change nothing.")
    ] = False,
) -> None:
    """Fold OTHER papers into KEY: no field, note, tag or provenance is lost. Where both have
    a value, KEY's stays and the other's is kept in KEY's provenance (said on stderr); the
    others' keys become aliases of KEY, so drafts citing them still find it.

    Example: papercli merge hu2021lora hu2022lora --dry-run
    """
    from papercli.merge import fold_into
    from papercli.models import timestamp

    library = open_library()
    kept_key = library.resolve_exact(key)
    other_keys: list[str] = []
    for ref in others:
        found = library.resolve_exact(ref)
        if found != kept_key:
            if found not in other_keys:
                other_keys.append(found)
        elif ref.strip() == kept_key:
            raise UsageError(f"{kept_key} is the paper to keep: name the papers to fold into it")
        else:
            warn(f"{ref} already names {kept_key} (merged before): nothing to do for it")
    if not other_keys:
        return
    stamp = timestamp()
    reports = []
    with library.writing() as writer:
        kept = writer.read(kept_key)
        for other_key in other_keys:
            other = writer.read(other_key)
            reports.append((other_key, *fold_into(kept, other, stamp)))
        if not dry_run:
            writer.save(kept)  # first: every other's data is in kept's file (fsynced)
            for other_key in other_keys:
                writer.delete(other_key)
    verb = "would merge" if dry_run else "merged"
    for other_key, changed, kept_fields in reports:
        said = f": {', '.join(changed)}" if changed else ""
        echo(f"{verb} {other_key} into {kept_key}{said}; {other_key} is an alias of {kept_key}")
        if kept_fields:
            warn(
                f"{kept_key} keeps its own {', '.join(kept_fields)}; {other_key}'s other "
                f'values are kept in its provenance (source = "merge", key = "{other_key}")'
            )
