"""The ``papercli search`` command: parse, call ``papercli.search.search`` once, render.

Tab-separated lines when stdout is not a terminal; a table fitted to the terminal, matching
words highlighted, when it is (see papercli.render).
"""

from __future__ import annotations

from typing import Annotated

import typer

from papercli.cli_common import (
    FieldsOpt,
    complete_query,
    complete_status,
    complete_tags,
    complete_type,
    handle_errors,
    open_library,
    print_json,
    report_problems_once,
    warn,
)
from papercli.errors import EXIT_NOT_FOUND, UsageError

SEARCH_HELP = """Find papers by what you remember: title words (typos welcome), authors, a
nickname or acronym (lora, chinchilla, t5), a concept from the abstract or your notes.

Inline filters can go inside QUERY: tag:papers (several tag: filters must all match; tag:a,b
matches either), -tag:articles (a leading '-' negates any filter), author:hu,
year:2021, year:2019..2023, year:>=2020, status:unread, type:paper, and "an exact phrase".

With filters and no words it lists the papers that pass them, newest first.
Exit status 1 when nothing matches.

Examples: papercli search atention; papercli search llama tag:derivatives-of-llama 'year:>=2023';
papercli search --author vaswani --json; papercli search "few-shot" -tag:articles
"""


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    # No short options, and unknown '-...' words kept as query words so that "-tag:vision" is
    # a negated filter, not the options -t -a -g; search_cmd then refuses the other ones.
    app.command(
        "search",
        help=SEARCH_HELP,
        context_settings={"ignore_unknown_options": True, "help_option_names": ["--help"]},
    )(search_cmd)


@handle_errors
def search_cmd(
    ctx: typer.Context,
    query: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="QUERY",
            help="Words to look for, with optional inline filters.",
            autocompletion=complete_query,
            show_default=False,
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            metavar="TAG",
            help="Only papers with this tag (repeatable: all; a,b: either).",
            autocompletion=complete_tags,
        ),
    ] = None,
    not_tag: Annotated[
        list[str] | None,
        typer.Option(
            "--not-tag",
            metavar="TAG",
            help="Leave out papers with this tag.",
            autocompletion=complete_tags,
        ),
    ] = None,
    author: Annotated[
        list[str] | None,
        typer.Option("--author", metavar="NAME", help="Only papers by this author."),
    ] = None,
    year: Annotated[
        str | None, typer.Option(metavar="YEAR", help="A year or range: 2021, 2019..2023, >=2020.")
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            metavar="TYPE",
            help="paper, article, repo, ... (repeatable).",
            autocompletion=complete_type,
        ),
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            metavar="STATUS",
            help="unread, reading or read (repeatable).",
            autocompletion=complete_status,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", metavar="N", help="At most N results (default 20; 0 for all)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="A JSON list, best first (see docs/search.md).")
    ] = False,
    fields_spec: FieldsOpt = None,
) -> None:
    from papercli.render import SEARCH_EXTRA, parse_fields, search_table
    from papercli.search import hit_json, parse_query, search

    if "-h" in (query or []):
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    for word in query or []:
        if word.startswith("--"):
            option = word.split("=", 1)[0].split()[0]
            raise UsageError(f"unknown option {option!r}: see 'papercli search --help'")
    if limit is not None and limit < 0:
        raise UsageError("--limit must be 0 (no limit) or more")
    fields = parse_fields(fields_spec, SEARCH_EXTRA) if fields_spec is not None else []
    parsed = parse_query(
        " ".join(query or []),
        tags=tag or [],
        not_tags=not_tag or [],
        authors=author or [],
        year=year,
        types=kind or [],
        statuses=status or [],
    )
    if not parsed.has_words and not parsed.filters:
        raise UsageError("give words to search for or a filter: see 'papercli search --help'")
    library = open_library()
    report_problems_once(library)
    result = search(library, parsed, None if limit == 0 else (limit or 20))
    if as_json:
        print_json([hit_json(h) for h in result.hits])
        if not result.hits:
            raise typer.Exit(EXIT_NOT_FOUND)
        return
    if not result.hits:
        what = " ".join(query or []) or " ".join(str(f) for f in parsed.filters)
        warn(f"nothing matches {what!r}: try fewer words, or 'papercli list'")
        raise typer.Exit(EXIT_NOT_FOUND)
    search_table(
        [h.row for h in result.hits],
        [f"{h.score:.0f}" for h in result.hits],
        [h.matched for h in result.hits],
        result.highlight,
        fields,
    )
    if result.more:
        warn(f"showing the best {len(result.hits)}: use --limit N for more (0: all)")
