"""Text from anywhere (an imported .bib, an arXiv answer, a hand edit) made safe for a .bib.

Every value papercli exports passes through ``safe_value``:

- TeX primitives and LaTeX commands that write files, read files, run commands or redefine
  what the document does (``\\write18``, ``\\immediate``, ``\\input``, ``\\catcode``,
  ``\\csname``, ``\\def``, ``\\directlua`` and kin) lose their backslash, so they print as
  words instead of acting; ``^^`` (TeX's way of spelling any character, a backslash
  included) is broken up. Ordinary markup and math (``\\emph``, ``$O(n^2)$``) stay.
- Braces are balanced: a closing brace with no opening one is dropped and an opening brace
  never closed is closed at the end, so no value can end its entry early and plant another.
- Control characters become spaces; C1 characters that are Windows-1252 punctuation read as
  Latin-1 (U+0092 for a right quote, from a mis-decoded export) become that punctuation.

Written by hand: no library knows which TeX control sequences act outside the typeset page.
It sees text only, never the document, so it cannot tell a user's own ``\\def`` in a .bib
from a hostile one; a .bib has no business defining macros (that is ``@preamble``'s job).
No I/O.
"""

from __future__ import annotations

import re

_ACTING = (
    "write", "immediate", "openout", "closeout", "openin", "closein", "read", "readline",
    "input", "include", "includeonly", "InputIfFileExists", "IfFileExists", "endinput",
    "verbatiminput", "lstinputlisting", "inputminted", "catcode", "csname", "endcsname",
    "def", "edef", "gdef", "xdef", "let", "futurelet", "newcommand", "renewcommand",
    "providecommand", "DeclareRobustCommand", "DeclareTextCommand", "newwrite", "newread",
    "special", "directlua", "latelua", "luaexec", "luadirect", "pdfshellescape",
    "ShellEscape", "scantokens", "everyeof", "everyjob", "everypar", "everymath", "output",
    "expandafter", "afterassignment", "aftergroup", "usepackage", "RequirePackage",
    "documentclass", "shipout", "pdfobj", "pdfliteral", "pdfstartlink", "pdfannot",
    "lccode", "uccode", "mathcode", "sfcode", "delcode", "uppercase", "lowercase",
    "UseName", "ExplSyntaxOn", "ExplSyntaxOff", "makeatletter", "ProvidesExplPackage",
    "pdffiledump", "pdfmdfivesum", "pdffilemoddate", "pdffilesize", "filedump", "mdfivesum",
    "filemoddate", "filesize", "input@path", "AtBeginDocument", "AtEndDocument",
)  # fmt: skip
# Every backslash before the name goes: removing only the last of "\\write" would leave
# "\write", the very primitive.
_ACTING_RE = re.compile(r"\\+(" + "|".join(_ACTING) + r")(?![A-Za-z])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def neutralise(value: str) -> tuple[str, list[str]]:
    """``value`` with acting TeX commands disarmed; returns the commands found."""
    found: list[str] = []
    if "\\" in value:

        def disarm(match: re.Match[str]) -> str:
            found.append("\\" + match.group(1))
            return match.group(1)

        value = _ACTING_RE.sub(disarm, value)
    if "^^" in value:
        found.append("^^")
        value = value.replace("^^", "^{}^")
    return value, found


def balance(value: str) -> tuple[str, bool]:
    """``value`` with its braces balanced; True when it had to change."""
    if "{" not in value and "}" not in value:
        return value, False
    out: list[str] = []
    depth = 0
    changed = False
    for char in value:
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                changed = True
                continue
            depth -= 1
        out.append(char)
    if depth:
        changed = True
        out.append("}" * depth)
    return "".join(out), changed


def _control(match: re.Match[str]) -> str:
    char = match.group(0)
    if "\x80" <= char <= "\x9f":
        # Windows-1252 punctuation read as Latin-1 (a mis-decoded export): its meaning.
        try:
            return char.encode("latin-1").decode("cp1252")
        except UnicodeDecodeError:
            pass
    return " "


def safe_expression(expression: str) -> tuple[str, list[str]]:
    """A BibTeX expression (``jan # {~5}``) checked as BibTeX will join it: when its pieces
    joined would hold an acting command (``{\\in} # {put}``), the joined text, disarmed and
    braced, replaces it."""
    joined = re.sub(r'\s*#\s*|[{}"]', "", expression)
    if neutralise(joined)[1] or "^^" in joined:
        text, problems = safe_value(joined)
        return "{" + text + "}", problems
    return safe_value(expression)


# What a @preamble may not do: it exists to define macros (\providecommand{\noopsort}), so
# only the commands that write, read or run things, or change how TeX reads, are disarmed.
_PREAMBLE_ACTING = re.compile(
    r"\\+(write|immediate|openout|closeout|openin|closein|read|readline|input|include|"
    r"InputIfFileExists|IfFileExists|verbatiminput|lstinputlisting|inputminted|catcode|"
    r"directlua|latelua|luaexec|luadirect|ShellEscape|scantokens|special|shipout|"
    r"UseName|ExplSyntaxOn|makeatletter|pdffiledump|pdfmdfivesum|filedump|csname)(?![A-Za-z])"
)


def safe_preamble(expression: str) -> tuple[str, list[str]]:
    """A @preamble expression ready for a .bib: definitions kept, acting commands disarmed,
    ``^^`` broken up, braces balanced, control characters removed."""
    found: list[str] = []

    def disarm(match: re.Match[str]) -> str:
        found.append("\\" + match.group(1))
        return match.group(1)

    expression = _PREAMBLE_ACTING.sub(disarm, _CONTROL.sub(" ", expression))
    if "^^" in expression:
        found.append("^^")
        expression = expression.replace("^^", "^{}^")
    expression, changed = balance(expression)
    if changed:
        found.append("unbalanced braces")
    return expression, found


def safe_value(value: str) -> tuple[str, list[str]]:
    """A field value ready for a .bib, and what was changed to make it so (commands disarmed,
    ``unbalanced braces``, ``control characters``); [] when nothing was."""
    problems: list[str] = []
    if _CONTROL.search(value):
        value = _CONTROL.sub(_control, value)
        problems.append("control characters")
    value, disarmed = neutralise(value)
    problems.extend(disarmed)
    value, changed = balance(value)
    if changed:
        problems.append("unbalanced braces")
    return value, problems
