"""papercli's command line: parse, call the core once, render. The only place that exits.

Commands for papers already in the library live here; search, arXiv, export and import commands
live in ``cli_search``, ``cli_arxiv``, ``cli_export`` and ``cli_import`` and register themselves
on this app.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from papercli import __version__
from papercli.cli_common import (
    FieldsOpt,
    ask_first,
    complete_paper_tags,
    complete_ref,
    complete_status,
    complete_tags,
    complete_type,
    confirm,
    echo,
    handle_errors,
    open_library,
    plain_help,
    print_json,
    report_problems_once,
    state,
    warn,
)
from papercli.errors import (
    EXIT_NOT_FOUND,
    LibraryError,
    MalformedFileError,
    NotFoundError,
    PapercliError,
    UsageError,
)
from papercli.library import Index, Library, dump_paper, parse_paper_bytes
from papercli.models import (
    PAPER_TYPES,
    STATUSES,
    Note,
    Paper,
    normalize_tag,
    parse_author,
    timestamp,
    validate_key,
    validate_status,
    validate_type,
)

app = typer.Typer(
    name="papercli",
    help="A research-notes manager: papers and annotated notes in a local TOML library.\n\n"
    "Examples: papercli search chinchilla; papercli add 2305.14314 --tag fine-tuning; "
    "papercli export bibtex --cited draft.tex -o refs.bib",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: no type labels such as <bool> beside flags
)

TagOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tag", "-t", metavar="TAG", help="A tag (repeatable).", autocompletion=complete_tags
    ),
]
NoPagerOpt = Annotated[
    bool, typer.Option("--no-pager", help="Print it all, without $PAGER, on a terminal too.")
]
RefArg = Annotated[
    str,
    typer.Argument(
        metavar="REF",
        help="A key, an arXiv id, or a unique key prefix.",
        autocompletion=complete_ref,
    ),
]


def _version(value: bool) -> None:
    if value:
        echo(f"papercli {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    library: Annotated[
        Path | None,
        typer.Option(
            "--library",
            "-L",
            metavar="PATH",
            help="The library directory (default: $PAPERCLI_LIBRARY, the config file, "
            "or the user data directory).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    state.library_option = library
    state.problems_reported = False
    state.config_checked = False


def bib_fields(values: list[str]) -> dict[str, str]:
    """``--field NAME=VALUE`` options as a [bibtex] table; raises ``UsageError`` naming a bad
    one."""
    from papercli.models import FIELD_NAME_RE

    fields: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        name = name.strip().lower()
        if not sep or not FIELD_NAME_RE.match(name) or not text.strip():
            raise UsageError(f"invalid --field {value!r}: write NAME=VALUE, as in pages=1--10")
        if name in fields:
            raise UsageError(f"--field {name} is given twice")
        fields[name] = text.strip()
    return fields


def tags_from(values: list[str] | None) -> list[str]:
    """Tags as given on the command line (repeatable, or comma-separated), normalised."""
    tags: list[str] = []
    for value in values or []:
        parts = [p for p in value.split(",") if p.strip()]
        if not parts:
            raise UsageError(f"invalid tag {value!r}: a tag cannot be empty")
        tags.extend(normalize_tag(part) for part in parts)
    return list(dict.fromkeys(tags))


# ---------------------------------------------------------------------------------------------
# init


@app.command()
@handle_errors
def init(
    path: Annotated[
        Path | None,
        typer.Argument(metavar="PATH", help="Where to create it (default: the default library)."),
    ] = None,
    empty: Annotated[bool, typer.Option("--empty", help="Without the bundled papers.")] = False,
) -> None:
    """Create a new library, with the bundled reading lists unless --empty.

    Example: papercli init ~/papers --empty
    """
    from papercli.bundled import bundled_paper_files
    from papercli.config import library_path

    target = path if path is not None else library_path(state.library_option)[0]
    files = [] if empty else list(bundled_paper_files())
    Library.create(target, files)
    echo(f"created a library at {target} with {len(files)} entries")


# ---------------------------------------------------------------------------------------------
# add


@app.command()
@handle_errors
def add(
    ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ID",
            help="arXiv ids or URLs (2106.09685, arXiv:hep-th/9901001, ...) and DOIs "
            "(10.1038/nature14539, doi:..., https://doi.org/...).",
            show_default=False,
        ),
    ] = None,
    title: Annotated[
        str | None, typer.Option(metavar="TITLE", help="Title, for an entry typed by hand.")
    ] = None,
    author: Annotated[
        list[str] | None,
        typer.Option(
            "--author",
            "-a",
            metavar="NAME",
            help="An author, 'Given Family' or 'Family, Given' "
            "(repeatable); {Braced Name} for an organisation.",
        ),
    ] = None,
    year: Annotated[int | None, typer.Option(metavar="YEAR", help="Year of publication.")] = None,
    url: Annotated[str | None, typer.Option(metavar="URL", help="Where to read it.")] = None,
    kind: Annotated[
        str,
        typer.Option(
            "--type",
            metavar="TYPE",
            help=f"One of: {', '.join(PAPER_TYPES)}.",
            autocompletion=complete_type,
        ),
    ] = "paper",
    venue: Annotated[
        str | None, typer.Option(metavar="VENUE", help="Journal or conference.")
    ] = None,
    doi: Annotated[str | None, typer.Option(metavar="DOI", help="DOI.")] = None,
    key: Annotated[str | None, typer.Option(metavar="KEY", help="Choose the citation key.")] = None,
    bib_field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            "-f",
            metavar="NAME=VALUE",
            help="A BibTeX field for the bibliography, NAME=VALUE as written in a .bib "
            "(repeatable): --field volume=30 --field pages=5998--6008.",
        ),
    ] = None,
    tag: TagOpt = None,
    note: Annotated[
        str | None, typer.Option(metavar="TEXT", help="A first note (Markdown).")
    ] = None,
    status: Annotated[
        str,
        typer.Option(
            metavar="STATUS", help="unread, reading or read.", autocompletion=complete_status
        ),
    ] = "unread",
    update: Annotated[
        bool, typer.Option("--update", help="arXiv: refresh papers already in the library.")
    ] = False,
    duplicate: Annotated[
        bool,
        typer.Option("--duplicate", help="Add it even when the library has the same paper."),
    ] = False,
) -> None:
    """Add papers by arXiv id or DOI, or one paper typed by hand with --title. A paper the
    library has already is refused (exit 1) unless --duplicate; a DOI of a preprint's
    published version is merged into it.

    Examples: papercli add 2305.14314 10.1038/nature14539 --tag fine-tuning;
    papercli add --title "Deep Learning" --author "Yann LeCun" --year 2015 --venue Nature
    --field volume=521 --field pages=436--444
    """
    tags = tags_from(tag)
    validate_status(status)
    if ids:
        if title is not None:
            raise UsageError("give arXiv ids or DOIs, or --title, not both")
        from papercli.cli_arxiv import add_from_arxiv, add_from_doi
        from papercli.doi_source import parse_doi

        dois = [d for d in (parse_doi(i) for i in ids) if d]
        arxiv_ids = [i for i in ids if parse_doi(i) is None]
        if dois:
            add_from_doi(dois, tags=tags, note=note, status=status, duplicate=duplicate)
        if arxiv_ids:
            add_from_arxiv(
                arxiv_ids, tags=tags, note=note, status=status, update=update, duplicate=duplicate
            )
        return
    if title is None or not title.strip():
        raise UsageError("give one or more arXiv ids, or --title for an entry typed by hand")
    from papercli.keys import make_key

    paper = Paper(key="", title=" ".join(title.split()), type=validate_type(kind))
    paper.authors = [parse_author(a) for a in author or []]
    if year is not None and not 0 < year < 3000:
        raise UsageError(f"invalid year {year}: give a year such as 2021")
    paper.year = year
    paper.url = url or ""
    if url:
        from papercli.arxiv_ids import parse_arxiv_id

        linked = parse_arxiv_id(url)
        if linked:
            paper.arxiv_id, paper.arxiv_version = linked.base, linked.version
    paper.venue = venue or ""
    paper.doi = doi or ""
    paper.bibtex = bib_fields(bib_field or [])
    paper.tags = tags
    paper.status = status
    paper.provenance = [{"source": "manual", "added": timestamp()}]
    if note is not None:
        if not note.strip():
            raise UsageError("the note is empty: give --note some text")
        paper.notes.append(Note(text=note.strip(), created=timestamp()))
    if key is not None:
        validate_key(key)
    library = open_library()
    with library.writing() as writer:
        if not duplicate:
            from papercli.finder_cache import library_finder

            finder = library_finder(library)
            same = finder.find(paper) or finder.other_version(paper)
            if same is not None:
                raise PapercliError(
                    f"the library has this paper already as {same}: see 'papercli show {same}'; "
                    "--duplicate adds it anyway",
                    EXIT_NOT_FOUND,
                )
        paper.key = key or make_key(
            paper.authors,
            paper.year,
            paper.title,
            lambda k: writer.owner_of(k) is not None or writer.exists(k),
        )
        writer.create(paper)
    echo(f"added {paper.key}: {paper.title}")


# ---------------------------------------------------------------------------------------------
# list and show


SORTS = ("added", "year", "title", "key")


# Positions in a Summary tuple (see papercli.library.Summary).
_KEY, _TYPE, _TITLE, _YEAR, _STATUS, _TAGS, _ADDED = 0, 1, 2, 4, 5, 6, 11


def select_rows(
    index: Index,
    tags: list[str],
    status: str | None,
    kind: str | None,
    sort: str,
    reverse: bool,
) -> list[int]:
    """Positions (in ``index.keys()`` order) of the papers that pass the filters, sorted.

    Works on the index's columns, so a list of 100,000 papers builds no per-paper objects.
    Newest first for added and year; A to Z for title and key. Papers with no year come last
    when sorted by year, reversed or not.
    """
    keys = index.keys()
    picked: list[int] = list(range(len(keys)))
    if tags:
        wanted = set(tags)
        tag_col = index.column(_TAGS)
        picked = [i for i in picked if wanted.issubset(tag_col[i])]
    if status:
        status_col = index.column(_STATUS)
        picked = [i for i in picked if status_col[i] == status]
    if kind:
        type_col = index.column(_TYPE)
        picked = [i for i in picked if type_col[i] == kind]
    # Stable sorts with C-level keys: the last sort is the main order, earlier ones break ties.
    if sort == "title":
        titles = index.column(_TITLE)
        picked.sort(key=keys.__getitem__)
        picked.sort(key=lambda i: titles[i].lower())
    elif sort == "key":
        picked.sort(key=keys.__getitem__)
    else:
        added, years = index.column(_ADDED), index.column(_YEAR)
        picked.sort(key=keys.__getitem__, reverse=True)
        if sort == "year":
            picked.sort(key=added.__getitem__, reverse=True)
            picked.sort(key=years.__getitem__, reverse=True)
        else:
            # Papers added together (an import): the newest published first.
            picked.sort(key=years.__getitem__, reverse=True)
            picked.sort(key=added.__getitem__, reverse=True)
    if reverse:
        picked.reverse()
    if sort == "year":
        # Papers with no year (0) go last in either direction: they are not the oldest.
        years = index.column(_YEAR)
        picked = [i for i in picked if years[i]] + [i for i in picked if not years[i]]
    return picked


@app.command("list")
@handle_errors
def list_cmd(
    tag: TagOpt = None,
    status: Annotated[
        str | None,
        typer.Option(
            metavar="STATUS", help="unread, reading or read.", autocompletion=complete_status
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--type", metavar="TYPE", help="paper, article, repo, ...", autocompletion=complete_type
        ),
    ] = None,
    sort: Annotated[
        str, typer.Option(metavar="ORDER", help="added (newest first), year, title or key.")
    ] = "added",
    reverse: Annotated[bool, typer.Option("--reverse", help="Reverse the order.")] = False,
    limit: Annotated[
        # No -n: that is --dry-run in the import commands (one meaning for a short option).
        int | None, typer.Option("--limit", metavar="N", help="At most N papers (0: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list (see README).")] = False,
    fields_spec: FieldsOpt = None,
) -> None:
    """List papers, newest first; filter by tags (all must match), status and type.

    Example: papercli list --tag large-language-model --status unread --sort year --limit 20
    """
    if status:
        validate_status(status)
    if kind:
        validate_type(kind)
    if sort not in SORTS:
        raise UsageError(f"invalid --sort {sort!r}: use one of {', '.join(SORTS)}")
    if limit is not None and limit < 0:
        raise UsageError("--limit must be 0 (all) or more")
    from papercli.render import LIST_FIELDS, paper_table, parse_fields, plain_columns

    fields = parse_fields(fields_spec) if fields_spec is not None else []
    library = open_library()
    report_problems_once(library)
    index = library.index()
    picked = select_rows(index, tags_from(tag), status, kind, sort, reverse)
    if limit:
        picked = picked[:limit]
    if not as_json and picked and not sys.stdout.isatty():
        # Piped: one paper a line, written field by field from the index's columns, a slice
        # at a time (listing 100,000 papers never holds them all as tuples or lines).
        for start in range(0, len(picked), 20000):
            part = picked[start : start + 20000]
            plain_columns(
                partial(index.values_at, positions=part),
                len(part),
                fields or LIST_FIELDS,
                texts=partial(index.texts_at, positions=part),
            )
        return
    rows = index.rows_at(picked)
    if as_json:
        papers = {p.key: p for p in library.papers(r.key for r in rows)}
        print_json([papers[r.key].to_json() for r in rows if r.key in papers])
        if not rows:
            raise typer.Exit(EXIT_NOT_FOUND)
        return
    if not rows:
        warn("no papers match")
        raise typer.Exit(EXIT_NOT_FOUND)
    paper_table(rows, fields=fields)


@app.command()
@handle_errors
def show(
    ref: RefArg,
    as_json: Annotated[bool, typer.Option("--json", help="The full record as JSON.")] = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """Show one paper with its abstract and numbered notes (through $PAGER on a terminal when
    longer than the screen).

    Example: papercli show 1706.03762
    """
    library = open_library()
    paper = library.read(library.resolve(ref))
    if as_json:
        print_json(paper.to_json(with_notes=True))
        return
    from papercli.render import paper_markdown, show_markdown

    problem = show_markdown(paper_markdown(paper), pager=not no_pager)
    if problem:
        warn(problem)


# ---------------------------------------------------------------------------------------------
# edit, note, notes


def editor_command() -> list[str]:
    """$VISUAL or $EDITOR split like a shell would (``code -w``), run without a shell."""
    import shlex
    import shutil

    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError as exc:
                raise UsageError(f"${name} cannot be parsed ({exc}): fix it") from None
            if words:
                return words
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # A terminal editor run without a terminal fails after painting escapes on the pipe.
        raise UsageError(
            "no terminal to run an editor in: set $VISUAL or $EDITOR to one that opens its "
            "own window (for example EDITOR='code -w'), or give the text on the command line"
        )
    for fallback in ("sensible-editor", "nano", "vi"):
        if shutil.which(fallback):
            return [fallback]
    raise UsageError("no editor found: set $VISUAL or $EDITOR (for example EDITOR='nano')")


def run_editor(path: Path) -> None:
    import subprocess

    from papercli import early_scan

    command = editor_command()
    early_scan.discard()  # its answer is of no use after an edit, and it would outlive it
    try:
        result = subprocess.run([*command, str(path)], check=False)
    except FileNotFoundError:
        raise UsageError(
            f"the editor {command[0]!r} was not found: set $VISUAL or $EDITOR to an editor"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot run the editor {command[0]!r}: {exc.strerror}") from None
    if result.returncode != 0:
        raise UsageError(f"the editor exited with status {result.returncode}; nothing was saved")


def read_draft(draft: Path) -> bytes:
    """What the editor left in the draft file."""
    try:
        return draft.read_bytes()
    except FileNotFoundError:
        raise UsageError("the editor removed the file it was editing; nothing was saved") from None
    except OSError as exc:
        raise UsageError(
            f"cannot read what the editor wrote ({exc.strerror}); nothing was saved"
        ) from None


@app.command()
@handle_errors
def edit(ref: RefArg) -> None:
    """Edit a paper's TOML file in $VISUAL or $EDITOR; an invalid edit is not saved.

    Example: EDITOR='code -w' papercli edit 2106.09685
    """
    import tempfile

    library = open_library()
    key = library.resolve(ref)
    path = library.path_for(key)
    try:
        original = path.read_bytes()
    except OSError as exc:
        raise LibraryError(f"{path}: cannot read ({exc.strerror})") from None
    before = parse_paper_bytes(key, original, str(path))  # a malformed file is not edited
    with tempfile.TemporaryDirectory(prefix="papercli-edit-") as tmp:
        draft = Path(tmp) / f"{key}.toml"
        draft.write_bytes(original)
        while True:
            run_editor(draft)
            edited = read_draft(draft)
            if edited == original:
                echo(f"no changes to {key}")
                return
            try:
                after = parse_paper_bytes(key, edited, f"{key}.toml")
            except MalformedFileError as exc:
                if sys.stdin.isatty():
                    warn(f"invalid edit: {exc}")
                    if confirm("Reopen the editor?"):
                        continue
                raise UsageError(f"invalid edit, {key} was not changed: {exc}") from None
            break
        with library.writing() as writer:
            if path.read_bytes() != original:
                raise LibraryError(
                    f"{key} changed on disk while you edited it; your edit was not saved"
                )
            carried = _carry_edit(before, after)
            writer._write(path, dump_paper(after, edited) if carried else edited)
    echo(f"saved {key}")
    if carried:
        echo(f"the BibTeX record follows your edit: {', '.join(carried)}")


def _carry_edit(before: Paper, after: Paper) -> list[str]:
    """When an edit changed papercli's title, authors, year, ... but not the BibTeX record,
    the record's fields are rewritten to match (export writes the record). An edit of the
    record itself is kept as written."""
    if not after.bibtex_type or after.bibtex != before.bibtex or after.view() == before.view():
        return []
    from papercli.record import carry_changes

    return carry_changes(after, before.view())


@app.command()
@handle_errors
def note(
    ref: RefArg,
    text: Annotated[
        str | None,
        typer.Argument(
            metavar="TEXT", help="The note (Markdown); without it, the editor opens on a template."
        ),
    ] = None,
    page: Annotated[str | None, typer.Option(metavar="PAGE", help="The page it refers to.")] = None,
    section: Annotated[
        str | None, typer.Option(metavar="SECTION", help="The section it refers to.")
    ] = None,
    quote: Annotated[
        str | None, typer.Option(metavar="TEXT", help="The passage it annotates.")
    ] = None,
    edit_number: Annotated[
        int | None,
        typer.Option("--edit", metavar="N", help="Change note N: in the editor, or to TEXT."),
    ] = None,
    delete_number: Annotated[
        int | None, typer.Option("--delete", metavar="N", help="Delete note N (asks first).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
) -> None:
    """Add a note to a paper, change one (--edit N) or delete one (--delete N).

    With no TEXT the editor ($VISUAL, $EDITOR) opens on a template: the paper's title, authors
    and key, page, section and quote lines to fill, and the earlier notes as comments; an empty
    note saves nothing. Notes are numbered as 'papercli notes' shows them.

    Examples: papercli note 2106.09685 "rank 4 is enough for GPT-3" --page 7;
    papercli note 2106.09685 --edit 1; papercli note 2106.09685 --delete 1 --yes
    """
    if edit_number is not None and delete_number is not None:
        raise UsageError("give --edit N or --delete N, not both")
    library = open_library()
    key = library.resolve(ref)
    paper = library.read(key)  # refuse before the editor opens if the file is malformed
    if delete_number is not None:
        if text is not None or page is not None or section is not None or quote is not None:
            raise UsageError("--delete N takes no TEXT, --page, --section or --quote")
        delete_note(library, paper, delete_number, yes)
        return
    if edit_number is not None:
        old = numbered_note(paper, edit_number)
        start = replace(old, page=_given(page, old.page), section=_given(section, old.section))
        start.quote = _given(quote, old.quote)
        changed = written_note(paper, start, text, edit_number)
        if not changed.text:
            raise UsageError(
                f"the note's text is empty; note {edit_number} was not changed (to delete it: "
                f"papercli note {key} --delete {edit_number})"
            )
        if changed == old:
            echo(f"no changes to note {edit_number} of {key}")
            return

        def swap(p: Paper) -> None:
            _same_note(p, edit_number, old, "your change was not saved")
            p.notes[edit_number - 1] = changed

        with library.writing() as writer:
            writer.update(key, swap)
        echo(f"changed note {edit_number} of {key}")
        return
    start = Note(text="", page=page or "", section=section or "", quote=quote or "")
    new = written_note(paper, start, text, None)
    if not new.text:
        if text is not None:
            raise UsageError("the note is empty; nothing was saved")
        warn("the note is empty; nothing was saved")
        raise typer.Exit(EXIT_NOT_FOUND)
    new.created = timestamp()
    with library.writing() as writer:
        paper = writer.update(key, lambda p: p.notes.append(new))
    echo(f"added note {len(paper.notes)} to {key}")


def _given(option: str | None, before: str) -> str:
    return before if option is None else option


def numbered_note(paper: Paper, number: int) -> Note:
    """Note ``number`` (from 1) of ``paper``, or ``NotFoundError`` saying how many it has."""
    if not 1 <= number <= len(paper.notes):
        has = f"it has {len(paper.notes)}" if paper.notes else "it has none"
        raise NotFoundError(
            f"{paper.key} has no note {number}: {has} (see 'papercli notes {paper.key}')"
        )
    return paper.notes[number - 1]


def _same_note(paper: Paper, number: int, expected: Note, what: str) -> None:
    """Refuse when note ``number`` is no longer ``expected`` (another papercli changed the
    notes meanwhile), so a number never hits the wrong note."""
    if len(paper.notes) < number or paper.notes[number - 1] != expected:
        raise LibraryError(
            f"the notes of {paper.key} changed meanwhile; {what}: see 'papercli notes {paper.key}'"
        )


def written_note(paper: Paper, start: Note, text: str | None, number: int | None) -> Note:
    """``start`` with TEXT given on the command line, or with what the person wrote in the
    editor's template (fields whose lines they removed keep their values)."""
    from papercli.note_template import COMMENT, read_template, template

    if text is not None:
        return replace(start, text=text.strip())
    if any(line.startswith(COMMENT) for line in start.text.splitlines()):
        raise UsageError(
            f"note {number} has lines starting with {COMMENT}, which the editor's template drops: "
            f"give the new text (papercli note {paper.key} --edit {number} TEXT) or use "
            f"'papercli edit {paper.key}'"
        )
    import tempfile

    with tempfile.TemporaryDirectory(prefix="papercli-note-") as tmp:
        draft = Path(tmp) / f"{paper.key}-note.md"
        draft.write_text(template(paper, start, number), encoding="utf-8")
        run_editor(draft)
        try:
            written = read_template(read_draft(draft).decode("utf-8"))
        except UnicodeDecodeError:
            raise UsageError("the note is not UTF-8 text; nothing was saved") from None
    return replace(
        start,
        text=written.text,
        page=_given(written.page, start.page),
        section=_given(written.section, start.section),
        quote=_given(written.quote, start.quote),
    )


def delete_note(library: Library, paper: Paper, number: int, yes: bool) -> None:
    """Delete note ``number`` of ``paper``, asking first on a terminal unless ``yes``."""
    from papercli.note_template import note_summary

    old = numbered_note(paper, number)
    first = " ".join(old.text.split())
    described = f"{note_summary(number, old)} of {paper.key}: " + (
        first if len(first) <= 60 else first[:59] + "…"
    )
    if not yes:
        ask_first(f"Delete {described}?", "deleting a note", "deleted")

    def drop(p: Paper) -> None:
        _same_note(p, number, old, "nothing was deleted")
        del p.notes[number - 1]

    with library.writing() as writer:
        writer.update(paper.key, drop)
    echo(f"deleted {described}")


@app.command()
@handle_errors
def notes(
    ref: RefArg,
    as_json: Annotated[bool, typer.Option("--json", help="The notes as JSON.")] = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """List a paper's notes, numbered as 'note --edit N' and 'note --delete N' take them
    (through $PAGER on a terminal when longer than the screen).

    Example: papercli notes 2203.15556
    """
    from papercli.render import note_heading, show_markdown

    library = open_library()
    paper = library.read(library.resolve(ref))
    if as_json:
        print_json([n.to_json() for n in paper.notes])
        return
    if not paper.notes:
        warn(f"{paper.key} has no notes")
        raise typer.Exit(EXIT_NOT_FOUND)
    parts = [f"# Notes on {paper.title}"]
    for i, item in enumerate(paper.notes, 1):
        parts.append(note_heading(i, item))
        if item.quote:
            parts.append("\n".join(f"> {q}" for q in item.quote.splitlines()))
        parts.append(item.text.strip())
    problem = show_markdown("\n\n".join(parts) + "\n", pager=not no_pager)
    if problem:
        warn(problem)


# ---------------------------------------------------------------------------------------------
# rm, status, tag, untag, tags, rekey, open


@app.command()
@handle_errors
def rm(
    refs: Annotated[
        list[str],
        typer.Argument(metavar="REF", help="Papers to remove.", autocompletion=complete_ref),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Remove papers (and their notes) from the library; asks first unless --yes.

    Examples: papercli add --title "Scratch paper" --year 2026; papercli rm 2026scratch --yes
    """
    library = open_library()
    keys = list(dict.fromkeys(library.resolve_exact(r) for r in refs))
    rows = library.index().rows
    named = [f"{key} ({rows[key][2]})" if key in rows else key for key in keys]
    if not yes:
        ask_first(f"Remove {len(keys)} paper(s): {'; '.join(named)}?", "removing", "removed")
    with library.writing() as writer:
        for key in keys:
            writer.delete(key)
    for shown in named:
        echo(f"removed {shown}")


@app.command()
@handle_errors
def status(
    ref: RefArg,
    value: Annotated[
        str,
        typer.Argument(
            metavar="STATUS", help="unread, reading or read.", autocompletion=complete_status
        ),
    ],
) -> None:
    """Set a paper's reading status.

    Example: papercli status 2106.09685 read
    """
    validate_status(value)
    library = open_library()
    key = library.resolve(ref)
    with library.writing() as writer:
        writer.update(key, lambda p: setattr(p, "status", value))
    echo(f"{key}: {value}")


@app.command()
@handle_errors
def tag(
    ref: RefArg,
    tags: Annotated[
        list[str], typer.Argument(metavar="TAG", help="Tags to add.", autocompletion=complete_tags)
    ],
) -> None:
    """Add tags to a paper.

    Example: papercli tag 2106.09685 fine-tuning peft
    """
    new = tags_from(tags)
    library = open_library()
    key = library.resolve(ref)
    with library.writing() as writer:
        paper = writer.read(key)
        if paper.add_tags(new):
            writer.save(paper)
    echo(f"{key}: {', '.join(paper.tags)}")


@app.command()
@handle_errors
def untag(
    ref: RefArg,
    tags: Annotated[
        list[str],
        typer.Argument(metavar="TAG", help="Tags to remove.", autocompletion=complete_paper_tags),
    ],
) -> None:
    """Remove tags from a paper.

    Example: papercli untag 2106.09685 derivatives-of-llama
    """
    gone = set(tags_from(tags))
    library = open_library()
    key = library.resolve(ref)
    current = library.read(key)
    missing = sorted(gone.difference(current.tags))
    if missing and gone.issubset(missing):
        raise NotFoundError(f"{key} has no tag {', '.join(missing)}")

    def drop(p: Paper) -> None:
        p.tags = [t for t in p.tags if t not in gone]

    with library.writing() as writer:
        paper = writer.update(key, drop)
    echo(f"{key}: {', '.join(paper.tags) or '(no tags)'}")


tags_app = typer.Typer(
    help="Every tag with its count; 'tags rename OLD NEW' renames one.\n\n"
    "Examples: papercli tags --sort name; "
    "papercli tags rename language-models large-language-model",
    rich_markup_mode=None,
)
app.add_typer(tags_app, name="tags")


@tags_app.callback(invoke_without_command=True)
@handle_errors
def tags_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON object tag -> count.")] = False,
    sort: Annotated[str, typer.Option(metavar="ORDER", help="count or name.")] = "count",
) -> None:
    """Every tag with the number of papers that carry it.

    Example: papercli tags --sort name
    """
    if ctx.invoked_subcommand is not None:
        return
    if sort not in ("count", "name"):
        raise UsageError("invalid --sort: use count or name")
    library = open_library()
    report_problems_once(library)
    counts: Counter[str] = Counter()
    for row in library.index().summaries():
        counts.update(row.tags)
    ordered = (
        sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if sort == "count"
        else sorted(counts.items())
    )
    if as_json:
        print_json(dict(ordered))
        return
    if not ordered:
        warn("the library has no tags")
        raise typer.Exit(EXIT_NOT_FOUND)
    from papercli.render import counts_table

    counts_table("Tag", ordered)


@tags_app.command("rename")
@handle_errors
def tags_rename(
    old: Annotated[
        str, typer.Argument(metavar="OLD", help="The tag to rename.", autocompletion=complete_tags)
    ],
    new: Annotated[str, typer.Argument(metavar="NEW", help="Its new name (merged if it exists).")],
) -> None:
    """Rename a tag across the library (merging into NEW where a paper has both).

    Example: papercli tags rename language-models large-language-model
    """
    old_tag, new_tag = normalize_tag(old), normalize_tag(new)
    library = open_library()
    keys = [r.key for r in library.index().summaries() if old_tag in r.tags]
    if not keys:
        raise NotFoundError(f"no paper has the tag {old_tag!r}")

    def rename(p: Paper) -> None:
        p.tags = list(dict.fromkeys(new_tag if t == old_tag else t for t in p.tags))

    changed = 0
    with library.writing() as writer:
        for key in keys:
            try:
                writer.update(key, rename)
                changed += 1
            except NotFoundError:
                continue
    echo(f"renamed {old_tag} to {new_tag} on {changed} paper(s)")


@app.command()
@handle_errors
def rekey(
    old: Annotated[
        str, typer.Argument(metavar="REF", help="The paper (REF).", autocompletion=complete_ref)
    ],
    new: Annotated[str, typer.Argument(metavar="NEW_KEY", help="Its new citation key.")],
) -> None:
    """Give a paper a new citation key, on purpose; the old key stays an alias, so drafts
    citing it still find the paper.

    Example: papercli rekey 1706.03762 attention-is-all-you-need
    """
    validate_key(new)
    library = open_library()
    key = library.resolve(old)
    with library.writing() as writer:
        renamed = writer.rename(key, new)
    kept = f"; {key} is kept as an alias" if key in renamed.aliases else ""
    echo(f"renamed {key} to {new}{kept}")


@app.command("open")
@handle_errors
def open_cmd(
    ref: RefArg,
    pdf: Annotated[bool, typer.Option("--pdf", help="Open the PDF rather than the page.")] = False,
) -> None:
    """Open a paper's page (or PDF) in the web browser ($BROWSER is honoured).

    Example: papercli open 2106.09685 --pdf
    """
    library = open_library()
    paper = library.read(library.resolve(ref))
    arxiv_pdf = f"https://arxiv.org/pdf/{paper.arxiv_id}" if paper.arxiv_id else ""
    arxiv_page = f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else ""
    doi_page = f"https://doi.org/{paper.doi}" if paper.doi else ""
    candidates = [paper.pdf_url, arxiv_pdf] if pdf else []
    candidates += [paper.url, arxiv_page, doi_page, paper.pdf_url]
    candidates = [c for c in dict.fromkeys(candidates) if c]
    if not candidates:
        raise NotFoundError(f"{paper.key} has no URL to open: add one with 'papercli edit'")
    target = next((c for c in candidates if web_address(c)), "")
    if not target:
        raise UsageError(
            f"{paper.key}'s URL {candidates[0]!r} is not an http(s) address: papercli opens "
            "only those; fix it with 'papercli edit'"
        )
    if not launch_browser(target):
        raise UsageError(f"no web browser could open {target}: set $BROWSER")
    echo(f"opened {target}")


def web_address(url: str) -> bool:
    """True for an http or https URL with a host and nothing a shell or a browser's command
    line could read as more (white space, control characters)."""
    from urllib.parse import urlsplit

    if any(c.isspace() or not c.isprintable() for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def launch_browser(url: str) -> bool:
    """Open ``url`` with $BROWSER (commands separated by ':', each with arguments; '%s' stands
    for the URL, else it comes last), or the system's browser. Never through a shell; the URL
    is an http(s) address, so it can never be read as an option."""
    import shlex
    import subprocess

    chosen = os.environ.get("BROWSER", "")
    if not chosen.strip():
        import webbrowser

        return webbrowser.open(url)
    for command in chosen.split(os.pathsep):
        try:
            args = shlex.split(command)
        except ValueError:
            continue
        if not args:
            continue
        if any("%s" in a for a in args):
            args = [a.replace("%s", url) for a in args]
        else:
            args.append(url)
        try:
            if subprocess.run(args, stdin=subprocess.DEVNULL, check=False).returncode == 0:
                return True
        except OSError:
            continue
    return False


@app.command()
@handle_errors
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="The counts as JSON.")] = False,
) -> None:
    """Counts by type, tag, year and status, how many entries lack metadata, and how complete
    the papers are (placeholder titles, full author lists, abstracts of arXiv papers).

    Example: papercli stats
    """
    library = open_library()
    report_problems_once(library)
    rows = list(library.index().summaries())
    by_type = Counter(r.type for r in rows)
    by_status = Counter(r.status for r in rows)
    by_year = Counter(str(r.year) if r.year else "unknown" for r in rows)
    by_tag: Counter[str] = Counter()
    for r in rows:
        by_tag.update(r.tags)
    with_abstract = {p.key for p in library.papers() if p.abstract.strip()}
    no_abstract = len(rows) - len(with_abstract)
    # How complete the research papers are: what a bibliography is made of.
    papers = [r for r in rows if r.type == "paper"]
    arxiv_papers = [r for r in papers if r.arxiv_id]
    paper_counts = {
        "papers": len(papers),
        "placeholder_title": sum(1 for r in papers if "title" in r.incomplete),
        "full_authors": sum(1 for r in papers if r.authors and "authors" not in r.incomplete),
        "year": sum(1 for r in papers if r.year and "year" not in r.incomplete),
        "arxiv_papers": len(arxiv_papers),
        "arxiv_with_abstract": sum(1 for r in arxiv_papers if r.key in with_abstract),
    }
    missing = {
        "authors": sum(1 for r in rows if not r.authors),
        "year": sum(1 for r in rows if not r.year),
        "abstract": no_abstract,
        "marked_incomplete": sum(1 for r in rows if r.incomplete),
    }
    report = {
        "entries": len(rows),
        "arxiv": sum(1 for r in rows if r.arxiv_id),
        "notes": sum(r.n_notes for r in rows),
        "by_type": dict(by_type.most_common()),
        "by_status": dict(by_status.most_common()),
        "by_year": dict(sorted(by_year.items())),
        "by_tag": dict(by_tag.most_common()),
        "missing": missing,
        "papers": paper_counts,
    }
    if as_json:
        print_json(report)
        return
    from papercli.render import counts_table

    echo(
        f"{report['entries']} entries, {report['arxiv']} with an arXiv id, {report['notes']} notes"
    )
    counts_table("Type", list(by_type.most_common()))
    counts_table("Status", list(by_status.most_common()))
    counts_table("Year", sorted(by_year.items()))
    counts_table("Tag", by_tag.most_common(25))
    counts_table("Missing", list(missing.items()))
    counts_table("Papers", list(paper_counts.items()))


# The other command groups register themselves on ``app``.
from papercli import (  # noqa: E402
    cli_arxiv,
    cli_duplicates,
    cli_export,
    cli_import,
    cli_pick,
    cli_search,
)

for _module in (cli_search, cli_pick, cli_arxiv, cli_export, cli_import, cli_duplicates):
    _module.register(app)
plain_help(app)


def _only_the_command_asked_for(argv: list[str]) -> None:
    """Keep only the command named on the command line in ``app``.

    Typer builds every command's parameters before running one (about 15 ms for this app),
    so when argv names a known command the others are dropped first (for a completion, when the
    words before the one completed name it). Help and unknown commands see the whole app.
    """
    words = iter(argv)
    name = None
    for word in words:
        if word in ("--library", "-L"):
            next(words, None)
        elif not word.startswith("-"):
            name = word
            break
        elif word in ("--help", "-h", "--version"):
            return
    if name is None:
        return
    commands = [
        c
        for c in app.registered_commands
        if (c.name or (c.callback.__name__ if c.callback else "").replace("_", "-")) == name
    ]
    groups = [g for g in app.registered_groups if g.name == name]
    if commands or groups:
        app.registered_commands = commands
        app.registered_groups = groups


def _help_of_a_command(argv: list[str]) -> bool:
    """Print the help of ``papercli GROUP [COMMAND] --help`` without running the app: run,
    it would call the main options' callback first, and Typer checks a callback's values with
    pydantic (about 90 ms to import), which help does not need. False for anything else."""
    if argv[-1:] not in (["--help"], ["-h"]) or len(argv) < 2:
        return False
    words = argv[:-1]
    if words[:1] in (["-L"], ["--library"]):
        words = words[2:]  # the library changes no help
    elif words and words[0].startswith("--library="):
        words = words[1:]
    if not words or any(word.startswith("-") for word in words):
        return False  # other options before the help: let the app parse them
    command: Any = typer.main.get_command(app)
    # Contexts made directly, not by parsing (which would coerce every option's value).
    ctx = command.context_class(command, info_name="papercli", **command.context_settings)
    for word in words:
        sub = command.get_command(ctx, word) if hasattr(command, "get_command") else None
        if sub is None:
            return False  # not a command: the app says so
        ctx = sub.context_class(sub, info_name=word, parent=ctx, **sub.context_settings)
        command = sub
    sys.stdout.write(command.get_help(ctx) + "\n")
    return True


def _command_line_error(exc: Exception) -> NoReturn:
    """A usage error found while parsing the command line, as one stderr line (exit 2)."""
    exit_code = getattr(exc, "exit_code", 2)
    ctx = getattr(exc, "ctx", None)
    message = str(exc.format_message()) if hasattr(exc, "format_message") else str(exc)
    if type(exc).__name__ == "NoArgsIsHelpError":  # the help was printed already
        if message.strip():
            sys.stderr.write(message.strip() + "\n")
        sys.exit(exit_code)
    where = ctx.command_path if ctx is not None else "papercli"
    warn(f"error: {' '.join(message.split())} (see '{where} --help')")
    sys.exit(exit_code)


def main() -> None:
    """The console script: errors from parsing the command line are one stderr line too."""
    if os.environ.get("_PAPERCLI_COMPLETE"):  # a shell asks for completions (see cli_common)
        from papercli.completion import words_before_cursor

        _only_the_command_asked_for(words_before_cursor(os.environ))
    else:
        _only_the_command_asked_for(sys.argv[1:])
        if _help_of_a_command(sys.argv[1:]):
            sys.exit(0)
    try:
        code = app(prog_name="papercli", standalone_mode=False)
    except typer.Abort:
        warn("aborted")
        sys.exit(1)
    except typer.TyperException as exc:  # the vendored click's usage errors
        _command_line_error(exc)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["app", "main", "STATUSES"]
