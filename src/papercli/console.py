"""The ``papercli`` console script: starts the early scan of the library's paper files (see
``early_scan``), imports and runs the CLI, then ends the process without tearing the
interpreter down.

The order is the point: the scan's child is forked before Typer and rich are imported, so
that it runs beside them. The end is the other half: once the command is done and its output
flushed, freeing every module and object one by one (what a normal interpreter exit does) only
delays the shell's prompt, by 20 to 30 ms for any Typer program and more after a command that
held the index of a large library. So ``main`` runs the exit handlers, flushes, and leaves with
``os._exit``, as mypy does for the same reason. It does so only when nothing else runs (one
thread) and both standard streams flushed; otherwise it exits the ordinary way. Every file
papercli writes is closed, and fsynced where it must be, before its command returns, so no
data waits for a finalizer.

Before all that it makes the standard streams safe to use: a closed one becomes /dev/null,
and one whose encoding cannot write a character writes an escape instead of failing.

What it does not do: parse the command line (``cli.main`` does), or catch errors: a bug's
traceback goes out as it would have.
"""

from __future__ import annotations

import sys


def main() -> None:
    _usable_std_streams()
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


def _usable_std_streams() -> None:
    """Standard streams that cannot fail the command: a closed one (``>&-``) is /dev/null, so
    that no file papercli opens takes its number (and a child's output into it); one that
    cannot encode a character writes it as an escape rather than raising."""
    import os

    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one
    if sys.stdin is None:
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # for the whole process
    if sys.stdout is None:
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    if sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def _exit_now(code: int) -> None:
    """End the process with ``code``: at once when that is safe, else by ``sys.exit``."""
    import atexit
    import contextlib
    import os

    from papercli.cli_common import OUTPUT_FAILED
    from papercli.errors import EXIT_LIBRARY

    threading = sys.modules.get("threading")
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None or (threading is not None and threading.active_count() > 1):
        sys.exit(code)  # another thread would be cut off mid-work: the interpreter waits
    run_exit_handlers()  # first, as the interpreter does: what they print is flushed below
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
        except OSError as exc:
            # A full disk or a failing device under the last of the output: one line, as
            # handle_errors says it, and the rest dropped (not flushed again at exit).
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
                message = "papercli: " + OUTPUT_FAILED.format(reason=exc.strerror) + "\n"
                os.write(2, message.encode("utf-8", "replace"))
            code = code or EXIT_LIBRARY
        except ValueError:
            sys.exit(code)  # a stream closed by the command: the interpreter reports it
    os._exit(code)
