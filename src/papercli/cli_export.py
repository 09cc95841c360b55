"""``papercli export bibtex|markdown|json`` and ``papercli import bibtex``.

The text is built by ``papercli.bibtex``, ``papercli.markdown_export`` and, for imports,
``papercli.bibtex_in``; this module picks the papers (QUERY, filters, ``--key``, ``--cited``),
writes the result to stdout or, atomically, to ``-o FILE``, and prints reports.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from papercli.cli_common import (
    checked_settings,
    complete_query,
    complete_ref,
    complete_status,
    complete_tags,
    complete_type,
    handle_errors,
    open_library,
    report_problems_once,
    warn,
)
from papercli.cli_import import TagOpt as ImportTagOpt
from papercli.errors import EXIT_NOT_FOUND, LibraryError, NotFoundError, PapercliError, UsageError
from papercli.library import Library, Summary
from papercli.models import Paper, normalize_tag, validate_status, validate_type
from papercli.visible import json_visible, visible

if TYPE_CHECKING:
    from papercli.bibtex import Prepared

export_app = typer.Typer(
    help="Write papers out: BibTeX for a draft, a Markdown reading list, JSON for scripts.\n\n"
    "Examples: papercli export bibtex --cited draft.tex -o refs.bib; "
    "papercli export markdown --tag large-language-model -o llm.md",
    no_args_is_help=True,
    rich_markup_mode=None,
)

QueryArg = Annotated[
    str | None,
    typer.Argument(
        metavar="QUERY",
        help="A search, as in 'papercli search' (words, tag:, author:, year:).",
        autocompletion=complete_query,
    ),
]
TagOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        "-t",
        metavar="TAG",
        help="Only papers with this tag (repeatable).",
        autocompletion=complete_tags,
    ),
]
StatusOpt = Annotated[
    str | None,
    typer.Option(
        metavar="STATUS", help="Only papers with this status.", autocompletion=complete_status
    ),
]
TypeOpt = Annotated[
    str | None,
    typer.Option(
        "--type", metavar="TYPE", help="Only papers of this type.", autocompletion=complete_type
    ),
]
KeyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--key",
        "-k",
        metavar="REF",
        help="This paper (a key or REF; repeatable).",
        autocompletion=complete_ref,
    ),
]
CitedOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--cited",
        "-c",
        metavar="DRAFT",
        help="Exactly the papers a draft cites: .tex (follows \\input), .aux, biber's .bcf or "
        "Markdown (repeatable).",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", metavar="FILE", help="Write to FILE instead of standard output."
    ),
]


# ---------------------------------------------------------------------------------------------
# Selection


@dataclass
class Selection:
    """The papers chosen, in output order (``keys``), the name each is written under
    (``names``: the key or alias a draft or ``--key`` used; a paper cited under two names is
    written twice), and the cited keys the library lacks."""

    keys: list[str]
    names: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    explicit_order: bool = False
    # Not naming papers (the library, a tag, a query): aliases with a record of their own
    # are written too, so an exported .bib holds every entry that was imported.
    every_record: bool = False

    def __post_init__(self) -> None:
        if not self.names:
            self.names = list(self.keys)


def select_papers(
    library: Library,
    query: str | None,
    tags: list[str] | None,
    status: str | None,
    kind: str | None,
    keys: list[str] | None = None,
    cited: list[Path] | None = None,
) -> Selection:
    """``--key`` and ``--cited`` name papers (in that order, once each); QUERY, ``--tag``
    (all of them), ``--status`` and ``--type`` narrow that list, or the whole library when no
    paper is named. ``\\nocite{*}`` names every paper. A cited key is found as a key, as an
    alias, or, with a warning naming the library's spelling, when only its case differs."""
    index = library.index()
    # Columns, not rows: a whole export of 100,000 papers builds no per-paper tuple.
    position = {key: i for i, key in enumerate(index.keys())}
    named: list[tuple[str, str]] = []  # (paper key, name to write it under)
    missing: list[str] = []
    everything = False

    def indexed(key: str) -> str:
        if key not in position:
            # The file exists but the index skipped it: reading it names the problem.
            library.read(key)
            raise LibraryError(f"{library.shown(key)} changed while exporting: try again")
        return key

    if cited:
        from papercli.latex import cited_keys

        found = cited_keys(cited)
        if not found.keys and not keys:
            raise NotFoundError(f"no citations found in {', '.join(map(str, cited))}")
        for path in found.unreadable:
            warn(f"cannot read {path} (pulled in by \\input or \\include): skipped")
        for name in found.keys:
            if name == "*":
                everything = True
                continue
            hit = library.lookup(name)
            if hit is None:
                missing.append(name)
                continue
            key, how, spelled = hit
            if how == "case":
                warn(
                    f"the draft cites {name!r}, which the library spells {spelled!r}: written "
                    f"as the draft cites it (biber matches keys with their case)"
                )
            named.append((indexed(key), name))
    for ref in keys or []:
        hit = library.lookup(ref.strip())
        if hit is not None and hit[1] != "case":
            named.append((indexed(hit[0]), ref.strip()))
            continue
        try:
            key = library.resolve(ref)
        except NotFoundError:
            missing.append(ref)
            continue
        named.append((indexed(key), key))
    explicit = bool(cited or keys) and not everything
    if explicit:
        # A draft's citation order is kept; keys named with --key alone are sorted.
        unique = list(dict.fromkeys(named))
        candidates = unique if cited else sorted(unique, key=lambda pair: pair[1])
    else:
        candidates = [(key, key) for key in sorted(position)]
    wanted_tags = [normalize_tag(t) for t in tags or []]
    if status:
        validate_status(status)
    if kind:
        validate_type(kind)
    matching: set[str] | None = None
    if query and query.strip():
        # The same QUERY syntax and matching as 'papercli search' (inline filters included).
        from papercli.search import parse_query, search

        found_hits = search(library, parse_query(query), limit=None).hits
        matching = {hit.key for hit in found_hits}
    tags_of = index.column(Summary._fields.index("tags")) if wanted_tags else []
    status_of = index.column(Summary._fields.index("status")) if status else []
    type_of = index.column(Summary._fields.index("type")) if kind else []
    chosen = candidates  # when nothing narrows the list (a whole export of 100,000 papers)
    if wanted_tags or status or kind or matching is not None:
        chosen = []
        for key, name in candidates:
            i = position[key]
            if wanted_tags and not set(wanted_tags).issubset(tags_of[i]):
                continue
            if status and status_of[i] != status:
                continue
            if kind and type_of[i] != kind:
                continue
            if matching is not None and key not in matching:
                continue
            chosen.append((key, name))
    return Selection(
        [k for k, _ in chosen],
        [n for _, n in chosen],
        list(dict.fromkeys(missing)),
        explicit_order=bool(cited),
        every_record=not explicit,
    )


def _write_output(text: str | Sequence[str], output: Path | None) -> bool:
    """Write ``text`` (or its pieces, in order) to stdout, or to ``output``: atomically for a
    regular file (through a symlink, to the file it points to, keeping the link), straight
    into a FIFO or device. A regular file whose content would not change is left untouched;
    returns whether anything was written. Pieces are encoded and compared one at a time, so a
    100,000-entry .bib is never held twice in memory."""
    parts = [text] if isinstance(text, str) else text
    if output is None or str(output) == "-":
        for part in parts:
            sys.stdout.write(part)
        sys.stdout.flush()
        return True
    import os
    import stat

    from papercli.library import atomic_write

    try:
        mode: int | None = output.stat().st_mode
    except FileNotFoundError:  # a new file, or a symlink to one
        mode = None
    except OSError as exc:
        raise UsageError(f"-o {output}: {exc.strerror}") from None
    try:
        if mode is not None and stat.S_ISDIR(mode):
            raise UsageError(f"-o {output} is a directory: name a file")
        if mode is not None and not stat.S_ISREG(mode):
            # A FIFO or device cannot be replaced by a renamed temporary file.
            with output.open("wb") as handle:
                for part in parts:
                    handle.write(part.encode("utf-8"))
            return True
        target = Path(os.path.realpath(output)) if output.is_symlink() else output
        if mode is not None and _same_bytes(target, parts):
            return False  # unchanged: its mtime stays, so make and latexmk rebuild nothing
        atomic_write(target, (part.encode("utf-8") for part in parts))
        return True
    except FileNotFoundError as exc:
        missing = Path(exc.filename).parent if exc.filename else output.parent
        raise UsageError(f"-o {output}: the directory {missing} does not exist") from None
    except OSError as exc:
        raise LibraryError(f"-o {output}: cannot write ({exc.strerror})") from exc


def _same_bytes(path: Path, parts: Sequence[str]) -> bool:
    """Whether ``path`` holds exactly ``parts`` encoded as UTF-8 (read piece by piece)."""
    try:
        with path.open("rb") as handle:
            for part in parts:
                data = part.encode("utf-8")
                if handle.read(len(data)) != data:
                    return False
            return handle.read(1) == b""
    except OSError:
        return False


def _nothing_to_export() -> NoReturn:
    """Exit 1 with one stderr line: an empty selection is a failed export, not an empty one."""
    warn("nothing to export: no paper matches")
    raise typer.Exit(EXIT_NOT_FOUND)


def _load(library: Library, selection: Selection) -> list[Paper]:
    papers = {p.key: p for p in library.papers(list(dict.fromkeys(selection.keys)))}
    seen: set[str] = set()
    out = []
    for key in selection.keys:
        if key in papers and key not in seen:
            seen.add(key)
            out.append(papers[key])
    return out


def _prepared_named(library: Library, selection: Selection, biblatex: bool) -> list[Prepared]:
    """The entries to write, in the selection's order (each under the name the draft or
    ``--key`` used), followed by the entries what is written refers to (crossref and xdata
    parents, set members, related entries) that the selection lacks; BibTeX needs a parent
    after the entries citing it. Prepared entries come from the export cache."""
    from papercli.bibtex import order_parents_last
    from papercli.entry_cache import prepared_entries

    requests: list[tuple[str, str | None]] = [
        (key, None if selection.every_record else name)
        for key, name in zip(selection.keys, selection.names, strict=True)
    ]
    entries = prepared_entries(library, requests, biblatex)
    written = {entry.name for entry in entries}
    absent: dict[str, list[str]] = {}  # entry not in the library -> the entries naming it
    pos = 0
    while pos < len(entries):
        wanted: list[tuple[str, str | None]] = []
        for entry in entries[pos:]:
            for parent in entry.parents:
                if parent in written:
                    continue
                hit = library.lookup(parent)
                if hit is None:
                    absent.setdefault(parent, []).append(entry.name)
                    continue
                written.add(parent)
                wanted.append((hit[0], parent))
        pos = len(entries)
        entries.extend(prepared_entries(library, wanted, biblatex))
    if absent:
        shown = "; ".join(
            f"{parent} (named by {', '.join(names[:3])}{' ...' if len(names) > 3 else ''})"
            for parent, names in list(absent.items())[:5]
        )
        more = f" and {len(absent) - 5} more" if len(absent) > 5 else ""
        warn(
            f"{len(absent)} entr{'y' if len(absent) == 1 else 'ies'} named in crossref, xdata, "
            f"entryset or related fields not in the library: {shown}{more}"
        )
    if not any(entry.parents for entry in entries):
        return entries  # nothing to move (most libraries)
    return [entries[i] for i in order_parents_last([(e.name, e.parents) for e in entries])]


# ---------------------------------------------------------------------------------------------
# export bibtex


@export_app.command("bibtex")
@handle_errors
def export_bibtex(
    query: QueryArg = None,
    tag: TagOpt = None,
    status: StatusOpt = None,
    kind: TypeOpt = None,
    key: KeyOpt = None,
    cited: CitedOpt = None,
    output: OutOpt = None,
    biblatex: Annotated[
        bool, typer.Option("--biblatex", help="biblatex/biber flavour: UTF-8, @online, eprinttype.")
    ] = False,
    allow_missing: Annotated[
        bool,
        typer.Option("--allow-missing", help="Cited keys not in the library are only a warning."),
    ] = False,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="With -o: keep FILE in step with the draft (and the files it includes) and the "
            "library, rewriting it only when its bytes change; Ctrl-C ends.",
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="An entry lacking authors or a year, or marked incomplete, is an error "
            "(exit 1, nothing written) rather than a warning.",
        ),
    ] = False,
) -> None:
    """BibTeX for the selected papers (the whole library by default), sorted by key, or in
    citation order with --cited. Entries lacking authors or a year, or marked incomplete, are
    named on stderr (an error with --strict).

    Examples: papercli export bibtex --cited draft.tex -o refs.bib;
    papercli export bibtex --tag attention-mechanism --biblatex;
    papercli export bibtex --cited draft.tex -o refs.bib --watch
    """
    if watch:
        if output is None or str(output) == "-":
            raise UsageError("--watch needs -o FILE: the .bib to keep in step")
        _watch_bibtex(
            output,
            lambda: _bibtex_text(
                query, tag, status, kind, key, cited, biblatex, allow_missing, strict
            ),  # fmt: skip
            cited or [],
        )
        return
    _export_bibtex_once(
        query, tag, status, kind, key, cited, output, biblatex, allow_missing, strict
    )


def unfinished_entries(items: list[Prepared]) -> list[tuple[str, list[str]]]:
    """(name written, what it lacks) of each entry a bibliography built from is wrong for
    (``papercli.bibtex.citation_gaps``)."""
    return [(entry.name, list(entry.lacking)) for entry in items if entry.lacking]


def _report_unfinished(items: list[Prepared], strict: bool) -> None:
    """One stderr line naming every unfinished entry; with ``strict`` an error instead."""
    unfinished = unfinished_entries(items)
    if not unfinished:
        return
    count = len(unfinished)
    listed = ", ".join(f"{name} ({' '.join(lacking)})" for name, lacking in unfinished)
    what = f"{count} {'entry' if count == 1 else 'entries'} incomplete"
    if strict:
        raise PapercliError(
            f"{what}, nothing written (--strict): {listed}; complete them "
            "('papercli refresh --missing', 'papercli edit') or leave out --strict",
            EXIT_NOT_FOUND,
        )
    warn(f"warning: {what} (a bibliography from them is wrong): {listed}")


def _export_bibtex_once(
    query: str | None,
    tag: list[str] | None,
    status: str | None,
    kind: str | None,
    key: list[str] | None,
    cited: list[Path] | None,
    output: Path | None,
    biblatex: bool,
    allow_missing: bool,
    strict: bool = False,
) -> None:
    from papercli.bibtex import bibliography_parts, replaced_characters, unsafe_entries

    library = open_library()
    report_problems_once(library)
    selection = select_papers(library, query, tag, status, kind, key, cited)
    if selection.missing:
        shown = ", ".join(selection.missing)
        if not allow_missing:
            raise NotFoundError(
                f"not in the library: {shown}; add them, or pass --allow-missing to export the rest"
            )
        warn(f"not in the library (left out): {shown}")
    if not selection.keys:
        if selection.missing and allow_missing:
            _write_output("", output)  # the draft's build still finds its .bib
        _nothing_to_export()
    items = _prepared_named(library, selection, biblatex)
    _report_unfinished(items, strict)
    written = _write_output(bibliography_parts(items), output)
    for name, problems in unsafe_entries().items():
        warn(
            f"{name}: made safe for LaTeX ({', '.join(problems)}): check the entry's text "
            "(see 'papercli show')"
        )
    lost = replaced_characters()
    if lost:
        shown = "".join(lost[:20]) + ("..." if len(lost) > 20 else "")
        warn(
            f"warning: {len(lost)} character(s) have no LaTeX form and were written as '?' or "
            f"their ASCII letters: {shown} (try --biblatex with LuaLaTeX or XeLaTeX)"
        )
    if output is not None and str(output) != "-":
        count = len(items)
        entries = f"{count} {'entry' if count == 1 else 'entries'}"
        warn(f"wrote {entries} to {output}" if written else f"{output} is up to date ({entries})")


def _bibtex_text(
    query: str | None,
    tag: list[str] | None,
    status: str | None,
    kind: str | None,
    key: list[str] | None,
    cited: list[Path] | None,
    biblatex: bool,
    allow_missing: bool,
    strict: bool = False,
) -> tuple[str, int]:
    """The .bib text of the selection and its entry count (``--watch``); raises
    ``PapercliError`` for what the one-shot export reports as an error."""
    from papercli.bibtex import assemble_bibliography

    library = open_library()
    selection = select_papers(library, query, tag, status, kind, key, cited)
    if selection.missing and not allow_missing:
        raise NotFoundError(f"not in the library: {', '.join(selection.missing)}")
    items = _prepared_named(library, selection, biblatex) if selection.keys else []
    if strict:
        _report_unfinished(items, strict)
    return assemble_bibliography(items), len(items)


def _watch_bibtex(output: Path, build: Callable[[], tuple[str, int]], drafts: list[Path]) -> None:
    """Write ``output`` now and whenever a draft file (or a directory holding one: editors
    replace files by renaming) or the library changes, when the bytes differ; one stderr line
    per update. watchfiles waits for the changes (inotify), so nothing is polled here."""
    import watchfiles

    from papercli.cli_common import state
    from papercli.config import library_path

    library_dir = library_path(state.library_option)[0]
    target = Path(os.path.realpath(output))

    def refresh() -> None:
        try:
            text, count = build()
        except PapercliError as exc:
            warn(f"not updated: {exc}")
            return
        data = text.encode("utf-8")
        try:
            if target.read_bytes() == data:
                return
        except OSError:
            pass
        _write_output(text, output)
        warn(f"updated {output} ({count} {'entry' if count == 1 else 'entries'})")

    def folders() -> set[Path]:
        """The folders of the draft and of every file it includes, and the library's."""
        from papercli.latex import cited_keys

        try:
            files = cited_keys(drafts).files if drafts else []
        except PapercliError:
            files = [str(d) for d in drafts]
        found = {Path(os.path.realpath(f)).parent for f in files} | {library_dir / "papers"}
        return {p for p in found if p.is_dir()}

    def relevant(_change: object, path: str) -> bool:
        name = os.path.basename(path)
        return Path(path) != target and not name.startswith(".") and not name.endswith("~")

    refresh()
    watched = folders()
    recheck = False
    while True:
        # A quiet second yields an empty set: after the folders changed, that first yield (the
        # new watcher is running by then) refreshes once more, so a file written while the
        # watcher was being replaced is not missed. Otherwise quiet seconds cost nothing.
        for changes in watchfiles.watch(
            *watched, watch_filter=relevant, debounce=300, rust_timeout=1000, yield_on_timeout=True
        ):
            if not changes and not recheck:
                continue
            recheck = False
            refresh()
            now = folders()
            if now != watched:  # the draft includes a file in another folder now
                watched = now
                recheck = True
                break


# ---------------------------------------------------------------------------------------------
# export markdown


@export_app.command("markdown")
@handle_errors
def export_markdown(
    query: QueryArg = None,
    tag: TagOpt = None,
    status: StatusOpt = None,
    kind: TypeOpt = None,
    key: KeyOpt = None,
    group_by: Annotated[
        str, typer.Option("--group-by", "-g", metavar="GROUP", help="tag, year, type or none.")
    ] = "tag",
    title: Annotated[
        str, typer.Option(metavar="TITLE", help="The document's heading.")
    ] = "Reading list",
    output: OutOpt = None,
) -> None:
    """A Markdown reading list: contents, each paper linked with authors, year, venue and
    tags, and its notes (quotes as blockquotes, with pages).

    Example: papercli export markdown --tag ai-safety --group-by year -o safety.md
    """
    from papercli.markdown_export import GROUPINGS, reading_list

    if group_by not in GROUPINGS:
        raise UsageError(f"invalid --group-by {group_by!r}: use one of {', '.join(GROUPINGS)}")
    library = open_library()
    report_problems_once(library)
    selection = select_papers(library, query, tag, status, kind, key)
    if selection.missing:
        raise NotFoundError(f"not in the library: {', '.join(selection.missing)}")
    if not selection.keys:
        _nothing_to_export()
    skip = [normalize_tag(t) for t in tag or []]
    text = reading_list(_load(library, selection), group_by, title, skip_tags=skip)
    _write_output(visible(text), output)


# ---------------------------------------------------------------------------------------------
# export csl-json


@export_app.command("csl-json")
@handle_errors
def export_csl_json(
    query: QueryArg = None,
    tag: TagOpt = None,
    status: StatusOpt = None,
    kind: TypeOpt = None,
    key: KeyOpt = None,
    cited: CitedOpt = None,
    output: OutOpt = None,
) -> None:
    """CSL-JSON for pandoc --citeproc and Zotero-compatible tools (types, authors, dates,
    container, volume, pages, DOI, URL, abstract).

    Example: papercli export csl-json --cited paper.md -o refs.json
    """
    import json

    from papercli.csl import csl_item

    library = open_library()
    report_problems_once(library)
    selection = select_papers(library, query, tag, status, kind, key, cited)
    if selection.missing:
        raise NotFoundError(f"not in the library: {', '.join(selection.missing)}")
    if not selection.keys:
        _nothing_to_export()
    papers = {p.key: p for p in library.papers(list(dict.fromkeys(selection.keys)))}
    items = [
        csl_item(papers[k], n)
        for k, n in zip(selection.keys, selection.names, strict=True)
        if k in papers
    ]
    text = json.dumps(items, ensure_ascii=False, indent=2)
    _write_output(json_visible(text) + "\n", output)


# ---------------------------------------------------------------------------------------------
# export json


@export_app.command("json")
@handle_errors
def export_json(
    query: QueryArg = None,
    tag: TagOpt = None,
    status: StatusOpt = None,
    kind: TypeOpt = None,
    key: KeyOpt = None,
    output: OutOpt = None,
) -> None:
    """The full records (abstracts, notes, provenance) of the selected papers as a JSON list.

    Example: papercli export json --tag ai-safety | jq '.[].title'
    """
    import json

    library = open_library()
    report_problems_once(library)
    selection = select_papers(library, query, tag, status, kind, key)
    if selection.missing:
        raise NotFoundError(f"not in the library: {', '.join(selection.missing)}")
    if not selection.keys:
        if output is None or str(output) == "-":
            _write_output("[]\n", None)  # scripts reading stdout still get a JSON list
        _nothing_to_export()
    records = [p.to_json(with_notes=True) for p in _load(library, selection)]
    text = json.dumps(records, ensure_ascii=False, indent=2)
    _write_output(json_visible(text) + "\n", output)


# ---------------------------------------------------------------------------------------------
# import bibtex


def import_bibtex_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE", help=".bib files (Zotero, Google Scholar, JabRef, arXiv)."),
    ],
    tag: ImportTagOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Report what would change; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also list the entries already in the library.")
    ] = False,
) -> None:
    """Import BibTeX entries losslessly: keys, entry types and every field kept as written
    (export writes them back); papers already in the library merged (same arXiv id, DOI,
    ISBN or URL, or same title, year and first author), the file's key kept as an alias;
    unreadable entries reported as FILE:LINE and skipped. Importing a file again changes
    nothing. Exits 1 when nothing was imported or merged and a file held no entry at all
    (one 'no references found in FILE' line each).

    Example: papercli import bibtex zotero.bib --tag thesis --dry-run
    """
    from papercli.bibtex_in import import_bibtex
    from papercli.cli_import import fail_if_nothing_found

    tags = list(dict.fromkeys(normalize_tag(t) for value in tag or [] for t in value.split(",")
                              if t.strip()))  # fmt: skip
    library = open_library()
    report = import_bibtex(library, files, tags, dry_run=dry_run)
    for remark in report.notes:
        warn(remark)
    if as_json:
        from papercli.cli_common import print_json

        print_json({
            "added": [{"key": k, "from": w} for k, w in report.added],
            "merged": [{"key": k, "from": w, "fields": f} for k, w, f in report.merged],
            "rekeyed": [{"from": o, "to": n, "why": y} for o, n, y in report.rekeyed],
            "aliased": [{"alias": a, "key": k} for a, k in report.aliased],
            "skipped": [{"from": s.where, "why": s.why} for s in report.skipped],
            "unchanged": [{"key": k, "from": w} for k, w in report.unchanged],
            "remarks": [{"from": s.where, "why": s.why} for s in report.remarks],
            "dry_run": dry_run,
        })  # fmt: skip
        fail_if_nothing_found(report.empty, bool(report.added or report.merged))
        return
    from papercli.cli_common import echo

    for key, where in report.added:
        echo(f"added   {key} ({where})")
    for key, where, fields in report.merged:
        echo(f"merged  {key} ({where}): {', '.join(fields)}")
    for old, new, why in report.rekeyed:
        echo(f"key     {old} -> {new} ({why})")
    for alias, key in report.aliased:
        echo(f"alias   {alias} -> {key} (the same paper: {alias} now names it too)")
    for key, where in report.unchanged if verbose else []:
        echo(f"same    {key} ({where}): nothing new")
    for skip in report.skipped:
        echo(f"skipped {skip.where}: {skip.why}")
    for said in report.remarks:
        echo(f"note    {said.where}: {said.why}")
    would = "would be " if dry_run else ""
    echo(
        f"{len(report.added)} {would}added, {len(report.merged)} {would}merged, "
        f"{len(report.unchanged)} already in the library, {len(report.skipped)} skipped"
    )
    if dry_run:
        echo("dry run: nothing was written")
    fail_if_nothing_found(report.empty, bool(report.added or report.merged))


def check_cmd(
    drafts: Annotated[
        list[Path],
        typer.Argument(
            metavar="DRAFT",
            help="The draft: .tex (follows \\input), .aux, biber's .bcf, or Markdown (.md, "
            ".qmd, .Rmd).",
            show_default=False,
        ),
    ],
    unused: Annotated[
        Path | None,
        typer.Option(
            "--unused",
            metavar="BIB",
            help="Also list the entries of this .bib the draft does not cite.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as one JSON object.")] = False,
    add: Annotated[
        bool,
        typer.Option(
            "--add",
            help="Fetch missing keys that are arXiv ids or DOIs and add them, the cited form "
            "kept as an alias.",
        ),
    ] = False,
) -> None:
    """Check a draft's citations against the library: keys missing (with the papers they
    probably meant), cited papers that are incomplete, two cited keys for one paper. Exits 0
    when nothing is missing or incomplete, 1 otherwise (for latexmk, make and CI).

    Example: papercli check paper.tex --unused refs.bib
    """
    from papercli.check import check_draft

    library = open_library()
    report_problems_once(library)
    report = check_draft(library, drafts, unused)
    if add and report.missing:
        if _add_cited_ids(library, [key for key, _ in report.missing]):
            library = open_library()
            report = check_draft(library, drafts, unused)
    for path in report.unreadable:
        warn(f"cannot read {path} (pulled in by \\input or \\include): skipped")
    if as_json:
        from papercli.cli_common import print_json

        print_json(report.to_json(with_unused=unused is not None))
    else:
        from papercli.cli_common import echo

        for key, suggestions in report.missing:
            meant = f"did you mean {', '.join(suggestions)}?" if suggestions else "no similar paper"
            echo(f"missing     {key}: {meant}")
        for key, lacks in report.incomplete:
            echo(f"incomplete  {key}: {', '.join(lacks)}")
        for first, second in report.duplicates:
            echo(f"same paper  {first} and {second}")
        for key in report.unused:
            echo(f"unused      {key} (in {unused})")
        echo(
            f"{len(report.cited)} cited, {len(report.missing)} missing, "
            f"{len(report.incomplete)} incomplete, {len(report.duplicates)} cited twice"
            + (f", {len(report.unused)} unused" if unused is not None else "")
        )
    if not report.ok:
        raise typer.Exit(EXIT_NOT_FOUND)


def _add_cited_ids(library: Library, names: list[str]) -> bool:
    """Add the papers of cited keys that are arXiv ids (their table goes to stderr, so --json
    stays JSON), each cited form an alias of its paper; True when any was added."""
    import contextlib

    from papercli.arxiv_ids import parse_arxiv_id
    from papercli.cli_arxiv import add_from_arxiv
    from papercli.doi_source import parse_doi

    ids = {name: found.base for name in names if (found := parse_arxiv_id(name)) is not None}
    dois = {name: doi for name in names if name not in ids and (doi := parse_doi(name))}
    added = _add_cited_dois(library, dois) if dois else False
    if not ids:
        return added
    with contextlib.redirect_stdout(sys.stderr):
        add_from_arxiv(sorted(set(ids.values())), tags=[], note=None, status="unread",
                       update=False, refuse_known=False)  # fmt: skip
    fresh = Library.open(library.root)
    by_id: dict[str, str] = {}
    for key, row in fresh.index().rows.items():
        by_id.setdefault(row[7], key)
    with fresh.writing() as writer:
        for name, base in ids.items():
            owner = by_id.get(base)
            if owner is None or name == owner:
                continue
            paper = writer.read(owner)
            if name not in paper.aliases and writer.owner_of(name) in (None, owner):
                paper.aliases.append(name)
                writer.save(paper)
                warn(f"{name} is now an alias of {owner}")
    return True


def _add_cited_dois(library: Library, dois: dict[str, str]) -> bool:
    """Add the papers of cited keys that are DOIs (metadata by DOI content negotiation), each
    cited form an alias; a paper the library has already gets the alias only."""
    from papercli.doi_source import fetch_csl, paper_from_csl
    from papercli.finder_cache import library_finder
    from papercli.keys import make_key
    from papercli.merge import is_awaiting, merge_published, norm_doi
    from papercli.models import timestamp

    settings = checked_settings()
    fetched = {}
    for name, doi in dois.items():
        try:
            fetched[name] = paper_from_csl(fetch_csl(doi, settings), doi)
        except PapercliError as exc:
            warn(f"{name}: not added: {exc}")
    if not fetched:
        return False
    with library.writing() as writer:
        finder = library_finder(library)
        by_doi = {norm_doi(row[8]): key for key, row in library.index().rows.items() if row[8]}
        for name, paper in fetched.items():
            same = by_doi.get(norm_doi(paper.doi)) or finder.find(paper)
            same = same or finder.other_version(paper)
            if same is not None:
                existing = writer.read(same)
                merged = is_awaiting(existing, paper.doi)
                if merged:
                    said = merge_published(existing, paper, timestamp())
                    warn(f"merged the published version {paper.doi} into {same}: {'; '.join(said)}")
                if name not in existing.aliases and writer.owner_of(name) in (None, same):
                    existing.aliases.append(name)
                    merged = True
                if merged:
                    writer.save(existing)
                warn(f"{name} is already in the library as {same}; now an alias of it")
                continue
            paper.key = make_key(
                paper.authors, paper.year, paper.title,
                lambda k: writer.owner_of(k) is not None or writer.exists(k),
            )  # fmt: skip
            if writer.owner_of(name) is None and name != paper.key:
                paper.aliases = [name]
            writer.create(paper)
            finder.add(paper)
            warn(f"added {paper.key} from DOI {paper.doi}; {name} is an alias of it")
    return True


def register(app: typer.Typer) -> None:
    """Add the ``export`` group to the app, and ``bibtex`` to the ``import`` group."""
    from papercli.cli_import import import_app

    app.add_typer(export_app, name="export")
    app.command("check")(handle_errors(check_cmd))
    import_app.command("bibtex")(handle_errors(import_bibtex_cmd))
