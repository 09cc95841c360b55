"""The ``papercli search`` command: parse, call ``papercli.search.search`` once, render.

Plain columns when stdout is not a terminal; a rich table with the matching words highlighted
when it is (rich is imported only then).
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from papercli.cli_common import (
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
from papercli.visible import visible

SEARCH_HELP = """Find papers by what you remember: title words (typos welcome), authors, a
nickname or acronym (lora, chinchilla, t5), a concept from the abstract or your notes.

Inline filters can go inside QUERY: tag:peft (several tag: filters must all match; tag:a,b
matches either), -tag:vision (a leading '-' negates any filter), author:hu,
year:2021, year:2019..2023, year:>=2020, status:unread, type:paper, and "an exact phrase".

With filters and no words it lists the papers that pass them, newest first.
Exit status 1 when nothing matches.

Examples: papercli search atention; papercli search lora tag:peft year:>=2021;
papercli search --author vaswani --json; papercli search "few-shot" -tag:vision
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
            help="Words to look for, with optional inline filters.",
            show_default=False,
            autocompletion=complete_query,
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            help="Only papers with this tag (repeatable: all; a,b: either).",
            autocompletion=complete_tags,
        ),
    ] = None,
    not_tag: Annotated[
        list[str] | None,
        typer.Option(
            "--not-tag", help="Leave out papers with this tag.", autocompletion=complete_tags
        ),
    ] = None,
    author: Annotated[
        list[str] | None, typer.Option("--author", help="Only papers by this author.")
    ] = None,
    year: Annotated[
        str | None, typer.Option(help="A year or range: 2021, 2019..2023, >=2020.")
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--type", help="paper, article, repo, ... (repeatable).", autocompletion=complete_type
        ),
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(help="unread, reading or read (repeatable).", autocompletion=complete_status),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", help="At most N results (default 20; 0 for all)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="A JSON list, best first (see docs/search.md).")
    ] = False,
) -> None:
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
    if sys.stdout.isatty():
        _rich_table(result)
    else:
        _plain_table(result)
    if result.more:
        warn(f"showing the best {len(result.hits)}: use --limit N for more (0: all)")


def _plain_table(result: Any) -> None:
    from papercli.models import authors_short
    from papercli.search import R_AUTHORS, R_TITLE, R_YEAR

    rows = [
        [
            visible(h.key, one_line=True),
            str(h.row[R_YEAR] or ""),
            f"{h.score:.0f}",
            h.matched,
            _clip(visible(authors_short(list(h.row[R_AUTHORS])), one_line=True), 32),
            visible(h.row[R_TITLE], one_line=True),
        ]
        for h in result.hits
    ]
    header = ["KEY", "YEAR", "SCORE", "MATCHED", "AUTHORS", "TITLE"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)] + [row[-1]]
        sys.stdout.write("  ".join(cells).rstrip() + "\n")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _highlighted(text: str, matched: frozenset[str]) -> Any:
    """``text`` as rich Text with the words that matched the query in bold yellow."""
    from rich.text import Text

    from papercli.search import text_tokens, word_spans

    text = visible(text, one_line=True)
    out = Text(text)
    for start, end in word_spans(text):
        if matched.intersection(text_tokens(text[start:end])):
            out.stylize("bold yellow", start, end)
    return out


def _rich_table(result: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    from papercli.models import authors_short
    from papercli.render import console
    from papercli.search import R_AUTHORS, R_TAGS, R_TITLE, R_YEAR

    table = Table(header_style="bold")
    table.add_column("Key", style="cyan", no_wrap=True)
    table.add_column("Year", justify="right")
    table.add_column("Score", justify="right")
    table.add_column("Matched", style="dim")
    table.add_column("Authors", max_width=28)
    table.add_column("Title", ratio=1)
    table.add_column("Tags", style="magenta", max_width=24)
    for h in result.hits:
        table.add_row(
            Text(visible(h.key, one_line=True)),
            str(h.row[R_YEAR] or ""),
            f"{h.score:.0f}",
            h.matched,
            _highlighted(authors_short(list(h.row[R_AUTHORS])), result.highlight),
            _highlighted(h.row[R_TITLE], result.highlight),
            _highlighted(", ".join(h.row[R_TAGS]), result.highlight),
        )
    console().print(table)
