"""Fetching commands: ``papercli add ID... DOI...`` (through ``add_from_arxiv`` and
``add_from_doi``) and ``papercli refresh`` (arXiv, or by DOI for papers without an arXiv id;
``--published`` merges a preprint's published version into it).

Both validate identifiers locally, fetch everything first (no lock held while the network is
used), then make every change in one ``library.writing()`` block. An id arXiv does not know gets
one stderr line, a failed request (no network, HTTP error) one line for all its ids; papers
that did arrive are kept. Exit codes: 0 all done, 1 an id arXiv or a DOI the resolver does not
know, a paper the library has already (``add`` without ``--duplicate``) or a REF with nothing to
refresh, 2 an invalid identifier (nothing is fetched), 3 a network failure.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated

import typer

from papercli.arxiv_ids import ArxivId, parse_arxiv_id
from papercli.cli_common import (
    checked_settings,
    complete_ref,
    echo,
    handle_errors,
    open_library,
    warn,
)
from papercli.errors import EXIT_NOT_FOUND, EXIT_USAGE, NotFoundError, PapercliError, UsageError
from papercli.library import Library, Summary, summarize
from papercli.models import Note, Paper, timestamp


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(refresh)


def parse_ids(raw: list[str]) -> list[ArxivId]:
    """Every identifier parsed, or (after one stderr line per bad one) exit 2, fetching nothing."""
    parsed: list[ArxivId] = []
    bad = False
    for text in raw:
        found = parse_arxiv_id(text)
        if found is None:
            warn(
                f"error: {text}: not an arXiv identifier "
                "(expected e.g. 2106.09685, 2106.09685v2, hep-th/9901001 or an arxiv.org URL)"
            )
            bad = True
        else:
            parsed.append(found)
    if bad:
        raise typer.Exit(EXIT_USAGE)
    return parsed


def _by_arxiv_id(library: Library) -> dict[str, list[str]]:
    """Base arXiv id -> keys of the papers that carry it, from the index (no file parsing)."""
    out: dict[str, list[str]] = {}
    for key, row in library.index().rows.items():
        if row[7]:
            parsed = parse_arxiv_id(row[7])
            out.setdefault(parsed.base if parsed else row[7], []).append(key)
    return out


def _report_failures(
    failures: Mapping[str, Exception], outcome: str, papers: Callable[[str], int]
) -> None:
    """One stderr line per id arXiv answered about (unknown id); one line per failed request
    (network, HTTP error), naming how many papers it carried, e.g. ``163 papers not refreshed:
    cannot reach arXiv ...``. ``papers(label)`` counts the papers behind one failure label."""
    from papercli.errors import NetworkError

    requests: dict[int, tuple[Exception, list[str]]] = {}
    for label, error in failures.items():
        if isinstance(error, NetworkError):
            # fetch_papers gives every id of a failed request the same exception object.
            requests.setdefault(id(error), (error, []))[1].append(label)
        else:
            warn(f"error: {label}: {error}")
    for error, labels in requests.values():
        if len(labels) == 1:
            warn(f"error: {labels[0]}: {error}")
        else:
            warn(f"error: {sum(map(papers, labels))} papers {outcome}: {error}")


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal (rich imported only then)."""
    if total <= 1 or not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.progress import Progress

    from papercli.render import console

    with Progress(console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def add_from_arxiv(
    ids: list[str],
    *,
    tags: list[str],
    note: str | None,
    status: str,
    update: bool,
    duplicate: bool = False,
    refuse_known: bool = True,
) -> None:
    """Fetch ``ids`` from arXiv and add them (called by ``papercli add``). A paper the library
    has already (same arXiv id, DOI or title, or its published version) is refused, naming
    it (exit 1 once the others are added), unless ``update`` (merge arXiv's metadata into it)
    or ``duplicate`` (add it anyway); ``refuse_known=False`` only says so (``check --add``)."""
    from papercli.arxiv_source import fetch_papers, update_from_arxiv
    from papercli.finder_cache import library_finder
    from papercli.keys import make_key

    wanted = list(dict.fromkeys(p.base for p in parse_ids(ids)))
    library = open_library()
    known = _by_arxiv_id(library)
    to_fetch: list[str] = []
    refused = False
    for base in wanted:
        keys = known.get(base)
        if keys and not update and not duplicate:
            _say_known(
                f"{base} is already in the library as {', '.join(keys)}: see 'papercli show "
                f"{keys[0]}'; 'papercli add --update' refreshes it, --duplicate adds it anyway",
                refuse_known,
            )
            refused = refused or refuse_known
        else:
            to_fetch.append(base)
    if not to_fetch:
        if refused:
            raise typer.Exit(EXIT_NOT_FOUND)
        return
    settings = checked_settings()
    with _progress(len(to_fetch), "Fetching from arXiv") as advance:
        fetched = fetch_papers(to_fetch, settings, on_batch=advance)

    # The same paper may be in the library without its arXiv id (imported by title or DOI),
    # or as its published version (the preprint and the published paper are one paper).
    finder = library_finder(library)
    created: list[Paper] = []
    targets: list[tuple[str, Paper]] = []  # (existing key, fetched paper)
    for base in to_fetch:
        paper = fetched.papers.get(base)
        if paper is None:
            continue
        keys = []
        match = None
        if not duplicate:
            keys = known.get(base) or []
            match = keys[0] if keys else finder.find(paper) or finder.other_version(paper)
        if match is None:
            created.append(paper)
            finder.add(paper)
        elif update:
            targets.extend((k, paper) for k in keys or [match])
        else:
            _say_known(
                f"{base} is already in the library as {match} (same title or DOI, or its "
                f"published version): see 'papercli show {match}'; 'papercli add --update' "
                "merges arXiv's metadata into it, --duplicate adds it anyway",
                refuse_known,
            )
            refused = refused or refuse_known
    stamp = timestamp()
    changes: list[tuple[str, list[str]]] = []
    if created or targets:
        with library.writing() as writer:
            for paper in created:
                paper.key = make_key(
                    paper.authors,
                    paper.year,
                    paper.title,
                    lambda k: writer.owner_of(k) is not None or writer.exists(k),
                )
                paper.tags = list(tags)
                paper.status = status
                if note:
                    paper.notes.append(Note(text=note, created=stamp))
                writer.create(paper)
            for key, paper in targets:
                current = writer.read(key)
                changed = update_from_arxiv(current, paper)
                if current.add_tags(tags):
                    changed.append("tagged " + ", ".join(tags))
                if note and all(n.text != note for n in current.notes):
                    current.notes.append(Note(text=note, created=stamp))
                    changed.append("added a note")
                if changed:
                    writer.save(current)
                changes.append((key, changed))
    if created:
        from papercli.render import paper_table

        paper_table([Summary._make(summarize(p)) for p in created], title="Added from arXiv")
    for key, changed in changes:
        echo(f"updated {key}: {'; '.join(changed)}" if changed else f"{key}: already up to date")
    _report_failures(fetched.failures, "not added", lambda label: 1)
    code = max(fetched.exit_code, EXIT_NOT_FOUND if refused else 0)
    if code:
        raise typer.Exit(code)


def _say_known(message: str, refused: bool) -> None:
    warn(f"error: {message}" if refused else message)


def add_from_doi(
    dois: list[str], *, tags: list[str], note: str | None, status: str, duplicate: bool
) -> None:
    """Fetch ``dois`` by DOI content negotiation and add them (called by ``papercli add``).
    Every DOI is fetched before anything is written. The published version of a preprint in
    the library is merged into it (said on stderr); another paper the library has is refused
    (exit 1, naming it, nothing written) unless ``duplicate``."""
    from papercli.doi_source import fetch_csl, paper_from_csl
    from papercli.finder_cache import library_finder
    from papercli.keys import make_key
    from papercli.merge import is_awaiting, merge_published

    settings = checked_settings()
    papers = [paper_from_csl(fetch_csl(doi, settings), doi) for doi in dict.fromkeys(dois)]
    library = open_library()
    stamp = timestamp()
    created: list[Paper] = []
    merged: list[tuple[str, str, list[str]]] = []  # (key, doi, what changed)
    with library.writing() as writer:
        finder = library_finder(library)
        preprints: dict[str, Paper] = {}
        for paper in papers:
            same = None if duplicate else finder.find(paper) or finder.other_version(paper)
            if same is not None:
                existing = preprints.get(same) or writer.read(same)
                if not is_awaiting(existing, paper.doi):
                    raise PapercliError(
                        f"{paper.doi} is already in the library as {same}: see 'papercli show "
                        f"{same}'; --duplicate adds it anyway",
                        EXIT_NOT_FOUND,
                    )
                preprints[same] = existing
                changed = merge_published(existing, paper, stamp)
                if existing.add_tags(tags):
                    changed.append("tagged " + ", ".join(tags))
                if note and all(n.text != note for n in existing.notes):
                    existing.notes.append(Note(text=note, created=stamp))
                    changed.append("added a note")
                merged.append((same, paper.doi, changed))
                continue
            finder.add(paper)
            created.append(paper)
        for paper in created:
            paper.key = make_key(
                paper.authors, paper.year, paper.title,
                lambda k: writer.owner_of(k) is not None or writer.exists(k),
            )  # fmt: skip
            paper.tags = list(tags)
            paper.status = status
            if note:
                paper.notes.append(Note(text=note, created=stamp))
            writer.create(paper)
        for existing in preprints.values():
            writer.save(existing)
    for key, doi, changed in merged:
        warn(f"merged the published version {doi} into the preprint {key}: {'; '.join(changed)}")
    if created:
        from papercli.render import paper_table

        paper_table([Summary._make(summarize(p)) for p in created], title="Added from DOIs")


@handle_errors
def refresh(
    refs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="REF",
            help="Papers to refresh (keys, arXiv ids, key prefixes).",
            autocompletion=complete_ref,
            show_default=False,
        ),
    ] = None,
    all_papers: Annotated[
        bool, typer.Option("--all", help="Every paper with an arXiv id or a DOI.")
    ] = False,
    missing: Annotated[
        bool,
        typer.Option("--missing", help="Only entries marked incomplete (lacking authors, ...)."),
    ] = False,
    published: Annotated[
        bool,
        typer.Option(
            "--published",
            help="Also fetch the published version of preprints that have a DOI and merge it "
            "(as 'add DOI' does).",
        ),
    ] = False,
) -> None:
    """Fetch current metadata from arXiv, or by DOI for papers without an arXiv id: fill empty
    fields, report newer versions and preprints that have been published.

    Never changes a title, tags, notes, status or key, nor a non-empty abstract or author
    list. arXiv: up to 100 papers per request, 3 seconds apart. A preprint whose arXiv record
    now names a DOI is said; --published merges its published version into it.

    Examples: papercli refresh 2106.09685; papercli refresh --missing;
    papercli refresh 1810.04805 --published
    """
    from papercli.arxiv_source import fetch_papers, update_from_arxiv
    from papercli.merge import is_awaiting

    refs = refs or []
    if refs and all_papers:
        raise UsageError("give REFs or --all, not both")
    if not refs and not all_papers and not missing:
        raise UsageError("name the papers to refresh, or use --all or --missing")
    library = open_library()
    rows = library.index().rows
    code = 0
    if refs:
        keys = list(dict.fromkeys(library.resolve(r) for r in refs))
    else:
        keys = sorted(rows)
    if missing:
        keys = [k for k in keys if k in rows and rows[k][13]]
    # Base id -> keys carrying it (two entries may share one); DOI -> keys, for the others.
    by_id: dict[str, list[str]] = {}
    by_doi: dict[str, list[str]] = {}
    for key in keys:
        arxiv_id = rows[key][7] if key in rows else ""
        parsed = parse_arxiv_id(arxiv_id) if arxiv_id else None
        if parsed is None:
            doi = rows[key][8] if key in rows else ""
            if doi:
                by_doi.setdefault(doi, []).append(key)
            elif refs:
                warn(f"error: {key}: has no arXiv id or DOI, nothing to refresh")
                code = EXIT_NOT_FOUND
            continue
        by_id.setdefault(parsed.base, []).append(key)
    if not by_id and not by_doi:
        if code:
            raise typer.Exit(code)
        what = "incomplete papers" if missing else "papers"
        raise NotFoundError(f"no {what} with an arXiv id or a DOI to refresh")
    settings = checked_settings()
    with _progress(len(by_id), "Refreshing from arXiv") as advance:
        fetched = fetch_papers(list(by_id), settings, on_batch=advance)

    results: dict[str, list[str]] = {}  # key -> what changed
    awaiting: dict[str, list[str]] = {}  # DOI -> preprints not yet merged with it
    if fetched.papers:
        with library.writing() as writer:
            for base, paper in fetched.papers.items():
                for key in by_id[base]:
                    try:
                        current = writer.read(key)
                    except NotFoundError:  # removed while we fetched
                        continue
                    changed = update_from_arxiv(current, paper)
                    if changed:
                        writer.save(current)
                    results[key] = changed
                    if current.doi and is_awaiting(current, current.doi):
                        awaiting.setdefault(current.doi, []).append(key)
    for doi, waiting in awaiting.items():
        if not published:
            for key in waiting:
                warn(
                    f"{key} has been published (DOI {doi}): 'papercli refresh {key} "
                    "--published' merges the published version into it"
                )
    doi_code, doi_failed = _refresh_dois(library, by_doi, awaiting if published else {}, results)
    code = max(code, doi_code)
    changed_count = 0
    for key, changed in results.items():
        if changed:
            changed_count += 1
            echo(f"{key}: {'; '.join(changed)}")
    failed = sum(len(by_id[b]) for b in fetched.failures) + doi_failed
    echo(
        f"refreshed {len(results)} paper(s): {changed_count} changed, "
        f"{len(results) - changed_count} unchanged" + (f", {failed} failed" if failed else "")
    )
    labels = {f"{b} ({', '.join(by_id[b])})": b for b in fetched.failures}
    _report_failures(
        {label: fetched.failures[b] for label, b in labels.items()},
        "not refreshed",
        lambda label: len(by_id[labels[label]]),
    )
    code = max(code, fetched.exit_code)
    if code:
        raise typer.Exit(code)


def _refresh_dois(
    library: Library,
    by_doi: dict[str, list[str]],
    published: dict[str, list[str]],
    results: dict[str, list[str]],
) -> tuple[int, int]:
    """Refresh the papers of ``by_doi`` by DOI content negotiation, and merge the published
    version into each preprint of ``published`` (DOI -> keys); what changed goes to
    ``results``. One stderr line per DOI that fails; returns the exit code they call for and
    the number of papers of ``by_doi`` not refreshed."""
    from papercli.doi_source import (
        ResolverUnreachable,
        fetch_csl,
        paper_from_csl,
        update_from_doi,
    )
    from papercli.merge import merge_published

    wanted = list(dict.fromkeys([*by_doi, *published]))
    if not wanted:
        return 0, 0
    settings = checked_settings()
    found: dict[str, Paper] = {}
    code = failed = 0
    for number, doi in enumerate(wanted):
        try:
            found[doi] = paper_from_csl(fetch_csl(doi, settings), doi)
        except ResolverUnreachable as exc:
            # The others would fail alike: one line for them all, as for arXiv.
            rest = wanted[number:]
            failed += sum(len(by_doi.get(d, [])) for d in rest)
            if len(rest) == 1:
                keys = [*by_doi.get(doi, []), *published.get(doi, [])]
                warn(f"error: {doi} ({', '.join(keys)}): not refreshed: {exc.reason}")
            else:
                papers = {k for d in rest for k in (*by_doi.get(d, []), *published.get(d, []))}
                warn(f"error: {len(papers)} papers not refreshed: {exc.reason}")
            code = max(code, exc.exit_code)
            break
        except PapercliError as exc:
            keys = [*by_doi.get(doi, []), *published.get(doi, [])]
            warn(f"error: {doi} ({', '.join(keys)}): not refreshed: {exc}")
            code = max(code, exc.exit_code)
            failed += len(by_doi.get(doi, []))
    if not found:
        return code, failed
    stamp = timestamp()
    with library.writing() as writer:
        for doi, paper in found.items():
            for key, merging in [(k, False) for k in by_doi.get(doi, [])] + [
                (k, True) for k in published.get(doi, [])
            ]:
                try:
                    current = writer.read(key)
                except NotFoundError:  # removed while we fetched
                    continue
                differing: list[str] = []
                if merging:
                    changed = merge_published(current, paper, stamp)
                    warn(f"merged the published version {doi} into {key}")
                else:
                    changed = update_from_doi(current, paper, differing)
                if differing:
                    warn(
                        f"{key}: kept the record's {', '.join(differing)} (the DOI's "
                        "metadata differs; 'papercli edit' changes them)"
                    )
                if changed:
                    writer.save(current)
                results.setdefault(key, []).extend(changed)
    return code, failed
