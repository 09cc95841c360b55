"""The ``papercli`` console script: starts the early scan of the library's paper files (see
``early_scan``), imports and runs the CLI, then ends the process without tearing the
interpreter down.

The order is the point: the scan's child is forked before Typer and rich are imported, so
that it runs beside them. The end is the other half: once the command is done and its output
flushed, freeing every module and object one by one (what a normal interpreter exit does) only
delays the shell's prompt, by 20 to 30 ms for any Typer program and more after a command that
held the index of a large library. So ``main`` runs the exit handlers and leaves with
``os._exit``, as mypy does for the same reason. It does so only when nothing else runs (one
thread) and both standard streams flushed; otherwise it exits the ordinary way. Every file
papercli writes is closed, and fsynced where it must be, before its command returns, so no
data waits for a finalizer.

What it does not do: parse the command line (``cli.main`` does), or catch errors: a bug's
traceback goes out as it would have.
"""

from __future__ import annotations

import sys


def main() -> None:
    from papercli import early_scan

    early_scan.start(sys.argv[1:])
    from papercli.cli import main as run_cli

    try:
        run_cli()
    except SystemExit as done:
        if done.code is not None and not isinstance(done.code, int):
            raise  # a message as the exit status: the interpreter prints it
        _exit_now(done.code or 0)
    _exit_now(0)


def _exit_now(code: int) -> None:
    """End the process with ``code``: at once when that is safe, else by ``sys.exit``."""
    import atexit
    import contextlib
    import os

    threading = sys.modules.get("threading")
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None or (threading is not None and threading.active_count() > 1):
        sys.exit(code)  # another thread would be cut off mid-work: the interpreter waits
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except BrokenPipeError:
            pass  # the reader (head, less) went away: as in handle_errors, not an error
        except KeyboardInterrupt:
            # Ctrl-C while a reader that stopped reading (a pager left open) holds the last
            # flush: said as handle_errors says it, and the rest dropped, not flushed again
            # (the interpreter's teardown would wait on the same full pipe).
            code = 130
            with contextlib.suppress(OSError, KeyboardInterrupt):
                os.write(2, b"papercli: interrupted\n")
            break
        except (OSError, ValueError):
            sys.exit(code)  # the interpreter reports what it cannot write, as it always has
    run_exit_handlers()
    os._exit(code)
