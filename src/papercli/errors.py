"""The exceptions papercli shows to its user.

Every error a person can cause or meet (bad input, a missing paper, a damaged file, no network)
is a ``PapercliError``: ``str(error)`` is the one line printed on stderr and ``exit_code`` the
process's exit status. Anything else escaping to the CLI is a bug. This module does no I/O.
"""

from __future__ import annotations

# Exit codes, documented in README.md ("Exit codes").
EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_NETWORK = 3
EXIT_LIBRARY = 4


class PapercliError(Exception):
    """An error with a message meant for the user and the exit code that goes with it."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(PapercliError):
    """The command's arguments are wrong (a bad key, a bad year range, an unknown status)."""

    exit_code = EXIT_USAGE


class NotFoundError(PapercliError):
    """Nothing matched: an unknown REF, an empty search, an id arXiv does not know."""

    exit_code = EXIT_NOT_FOUND


class AmbiguousRefError(PapercliError):
    """A REF matches several papers; the message lists them."""

    exit_code = EXIT_NOT_FOUND


class LibraryError(PapercliError):
    """The library cannot be read or written: damaged file, locked, read-only, not a library."""

    exit_code = EXIT_LIBRARY


class MalformedFileError(LibraryError):
    """A paper or settings file that does not parse; the message is ``file:line:column: msg``."""


class LockTimeoutError(LibraryError):
    """Another papercli process held the library's write lock for too long."""


class NetworkError(PapercliError):
    """arXiv could not be reached or answered with an error."""

    exit_code = EXIT_NETWORK
