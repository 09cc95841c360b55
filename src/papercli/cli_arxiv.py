"""CLI commands for arxiv (being written)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""


def add_from_arxiv(
    ids: list[str], *, tags: list[str], note: str | None, status: str, update: bool
) -> None:
    """Fetch ``ids`` from arXiv and add them (called by ``papercli add``)."""
    from papercli.errors import UsageError

    raise UsageError("adding from arXiv is not available yet")
