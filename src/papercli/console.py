"""The ``papercli`` console script: starts the early scan of the library's paper files (see
``early_scan``), then imports and runs the CLI. Nothing else: the order is the point, the
scan's child is forked before Typer and rich are imported, so that it runs beside them."""

from __future__ import annotations

import sys


def main() -> None:
    from papercli import early_scan

    early_scan.start(sys.argv[1:])
    from papercli.cli import main as run_cli

    run_cli()
