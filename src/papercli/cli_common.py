"""What every CLI module shares: the chosen library, error handling, plain output helpers, and
the shell completion of paper keys, tags, statuses and types (candidates from
``papercli.completion``).

The CLI modules (``cli``, ``cli_search``, ``cli_arxiv``, ``cli_export``, ``cli_import``) are the
only ones that print or exit. Core modules raise ``PapercliError``; ``handle_errors`` turns it
into one line on stderr and the error's exit code. rich is not imported here: plain output to a
pipe must not pay for it (see ``papercli.render``).
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from typer.core import TyperCommand

from papercli.config import Settings
from papercli.errors import EXIT_LIBRARY, PapercliError
from papercli.library import SETTINGS_FILE, Library

P = ParamSpec("P")
R = TypeVar("R")


class PlainHelpCommand(TyperCommand):
    """A command whose --help names each argument by its metavar (REF, TAG...) without the
    type label Typer adds to arguments (<str>, <list[str]>); options show their metavars."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                name = param.metavar or str(param.name).upper()
                arguments.append((name + ("..." if param.nargs != 1 else ""), record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def plain_help(app: typer.Typer) -> None:
    """Give every command of ``app`` and of its groups ``PlainHelpCommand``'s help."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = PlainHelpCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            plain_help(group.typer_instance)


# ``--format`` of list and search (see papercli.render.PLAIN_FIELDS).
FieldsOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        metavar="FIELDS",
        help="Tab-separated FIELDS, one paper a line (key,year,title,...: see README).",
    ),
]


class State:
    """Global options, set by the app's callback."""

    library_option: Path | None = None
    problems_reported: bool = False
    config_checked: bool = False


state = State()


def warn(message: str) -> None:
    """One line on stderr, prefixed with the program's name (control characters shown as
    escapes, so nothing read from a file or the network acts on the terminal)."""
    from papercli.visible import visible

    sys.stderr.write(f"papercli: {visible(message, one_line=True)}\n")
    sys.stderr.flush()


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a ``PapercliError`` into one stderr line and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except PapercliError as exc:
            warn(f"error: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            warn("interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError:
            # The reader (head, less) went away: not an error worth a traceback.
            _drop_stdout()
            raise typer.Exit(0) from None
        except OSError as exc:
            # Standard output on a full disk or a failing device (no file name: not one of
            # the library's files, whose errors are LibraryErrors).
            if exc.filename is not None or exc.errno not in _OUTPUT_ERRNOS:
                raise
            _drop_stdout()
            warn(OUTPUT_FAILED.format(reason=exc.strerror))
            raise typer.Exit(EXIT_LIBRARY) from None

    return wrapper


def _drop_stdout() -> None:
    """Standard output to /dev/null: what is left in its buffer goes nowhere at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


# A write to standard output that fails for want of room or a failing device.
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}
OUTPUT_FAILED = (
    "error: cannot write the output ({reason}): make room, or send it elsewhere (export: -o FILE)"
)


def checked_settings() -> Settings:
    """The config file's settings; its unknown keys said on stderr once per command."""
    from papercli.config import load_settings

    settings = load_settings()
    if not state.config_checked:
        state.config_checked = True
        for message in settings.warnings:
            warn(f"warning: {message}")
    return settings


def open_library() -> Library:
    """The library chosen by --library, PAPERCLI_LIBRARY, the config file or the default.

    On first run the default library is created from the bundled one, said in one stderr line.
    """
    from papercli.config import library_path

    path, is_default = library_path(state.library_option, checked_settings)
    if is_default and not (path / "library.toml").exists():
        from papercli.bundled import install_bundled

        count = install_bundled(path)
        if count is not None:
            warn(f"created your library at {path} from the bundled reading lists ({count} entries)")
    library = Library.open(path)
    if library.migrated is not None:
        before, changed = library.migrated
        warn(
            f"upgraded the library at {path} from format {before} to {library.settings['format']}"
            f" ({changed} paper(s) got their original BibTeX keys back as aliases; nothing lost)"
        )
    return library


def report_problems_once(library: Library) -> None:
    """Name every malformed paper file on stderr (reading commands skip them)."""
    if state.problems_reported:
        return
    state.problems_reported = True
    for message in library.index().problems.values():
        warn(f"skipped {message}")
    for notice in library.notices:
        warn(notice)


def print_json(data: Any) -> None:
    import json

    from papercli.visible import json_visible

    sys.stdout.write(json_visible(json.dumps(data, ensure_ascii=False, indent=2)) + "\n")


def echo(text: str = "") -> None:
    from papercli.visible import visible

    sys.stdout.write(visible(text) + "\n")


def confirm(question: str) -> bool:
    """Ask on the terminal; with no terminal the answer is no."""
    if not sys.stdin.isatty():
        return False
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def ask_first(question: str, doing: str, done: str) -> None:
    """Go on only when the person answers yes on a terminal: with no terminal, refuse (the
    command's --yes says yes); a no is said ("nothing removed") and exits 1."""
    from papercli.errors import EXIT_NOT_FOUND, UsageError

    if not sys.stdin.isatty():
        raise UsageError(f"not {doing} without confirmation: pass --yes")
    if not confirm(question):
        warn(f"nothing {done}")
        raise typer.Exit(EXIT_NOT_FOUND)


# ---------------------------------------------------------------------------------------------
# Shell completion. Typer calls these with the command line parsed so far (``ctx``) and the
# word being completed; they answer from the cache and never fail: a completion that cannot be
# worked out offers nothing rather than printing an error into the user's prompt.


def _completion_library(ctx: typer.Context) -> Library | None:
    """The library named by the --library typed so far, PAPERCLI_LIBRARY or the config file;
    None when there is none yet (completion never creates or upgrades a library)."""
    from papercli.config import library_path

    try:
        root, _ = library_path(ctx.find_root().params.get("library"))
        if not (root.expanduser() / SETTINGS_FILE).is_file():
            return None
    except (PapercliError, OSError):
        return None
    return Library(root.expanduser())


def _offering(
    find: Callable[[Library], list[str]],
) -> Callable[[typer.Context], list[str]]:
    def offer(ctx: typer.Context) -> list[str]:
        library = _completion_library(ctx)
        if library is None:
            return []
        try:
            return find(library)
        except (PapercliError, OSError):
            return []

    return offer


def complete_ref(ctx: typer.Context, incomplete: str) -> list[str]:
    """Paper keys and aliases."""
    from papercli.completion import ref_names

    return _offering(lambda library: ref_names(library, incomplete))(ctx)


def complete_tags(ctx: typer.Context, incomplete: str) -> list[str]:
    """The library's tags; after a comma, the next tag of a list."""
    from papercli.completion import library_tags, tag_list

    return tag_list(_offering(library_tags)(ctx), incomplete)


def complete_paper_tags(ctx: typer.Context, incomplete: str) -> list[str]:
    """The tags of the paper named before (``untag REF TAG``)."""
    from papercli.completion import paper_tags

    ref = ctx.params.get("ref")
    return _offering(lambda library: paper_tags(library, str(ref or "")))(ctx)


def complete_status(incomplete: str) -> list[str]:
    from papercli.models import STATUSES

    return list(STATUSES)


def complete_type(incomplete: str) -> list[str]:
    from papercli.models import PAPER_TYPES

    return list(PAPER_TYPES)


def complete_query(ctx: typer.Context, incomplete: str) -> list[str]:
    """The values of ``tag:``, ``status:`` and ``type:`` filters in a query."""
    from papercli.completion import query_words

    typed = ctx.params.get("query") or []
    words = [typed] if isinstance(typed, str) else [str(w) for w in typed]
    return _offering(lambda library: query_words(library, words, incomplete))(ctx)
