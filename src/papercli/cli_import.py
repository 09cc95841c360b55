"""``papercli import``: reading lists (Markdown) and post dumps (notes) into the library.

The work is done by ``papercli.import_markdown`` and ``papercli.import_notes``; this module
parses options, runs one import under the library's write lock and prints the report. Other
modules may add commands to ``import_app`` (``import bibtex``).
"""

from __future__ import annotations

import typer

import_app = typer.Typer(
    help="Import reading lists and notes into the library (markdown, notes, ...).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``import`` group to the app."""
    app.add_typer(import_app, name="import")
