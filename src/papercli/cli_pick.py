"""The ``papercli pick`` command: choose papers in a full-screen picker, print their keys.

Textual is imported only when the command runs (through ``papercli.pick``), so no other command
pays for it at start-up.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from papercli.cli_common import (
    complete_query,
    echo,
    handle_errors,
    open_library,
    report_problems_once,
)
from papercli.errors import UsageError

PICK_HELP = """Choose papers in a full-screen picker and print their keys.

Type to search (as 'papercli search': typos and filters welcome); the highlighted paper's
abstract and notes show beside the list; Enter prints its key.

Keys: Up/Down move; Tab marks several papers (Enter then prints every marked key, one a line);
Ctrl-O opens the paper; Ctrl-T tags it; Ctrl-R sets its status; Ctrl-E adds a note in your
editor; Ctrl-Y copies the key, Ctrl-L copies \\cite{key} (through the terminal, OSC 52);
Esc leaves with nothing printed (exit 1).

The picker draws on the terminal through stderr, so its output can be captured:
'papercli show "$(papercli pick lora)"' shows the paper you choose.

Example: papercli pick lora
"""


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("pick", help=PICK_HELP)(pick_cmd)


@handle_errors
def pick_cmd(
    query: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="QUERY",
            help="A search to start from (words and filters, as in 'papercli search').",
            show_default=False,
            autocompletion=complete_query,
        ),
    ] = None,
) -> None:
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError(
            "pick needs a terminal (its standard input and error): use 'papercli search' in scripts"
        )
    library = open_library()
    report_problems_once(library)
    from papercli.pick import PickApp

    chosen = PickApp(library, " ".join(query or [])).run()
    if not chosen:
        raise typer.Exit(1)
    for key in chosen:
        echo(key)
