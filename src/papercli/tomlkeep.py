"""Rewriting a paper file a person wrote comments in, so that the comments stay.

tomlkit keeps a TOML file's comments and layout; it is slower than ``papercli.tomlfmt``, so
only files that may have comments come here (``tomlfmt.may_have_comments``). No I/O.
"""

from __future__ import annotations

import tomllib
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Table


def keep_comments(previous: str, document: dict[str, Any]) -> str | None:
    """``document`` written over ``previous`` (the file it replaces) with tomlkit, so that the
    comments and layout a person gave the unchanged parts stay: values that did not change are
    left as they are, changed ones are replaced, removed ones deleted, new ones added; a
    ``[[notes]]`` entry that did not change keeps its comments even when others moved. None
    when ``previous`` does not parse or the result would not read back as ``document``, so the
    caller falls back to ``dumps`` and no data is ever altered for the sake of a comment."""
    try:
        kept = tomlkit.parse(previous)
        _merge(kept, document)
        text = kept.as_string()
        same = tomllib.loads(text) == document
    except (TOMLKitError, tomllib.TOMLDecodeError, ValueError, TypeError):
        return None
    return text if same else None


def _merge(table: Any, new: dict[str, Any]) -> None:
    """Make the tomlkit ``table`` hold ``new``, touching only what differs."""
    for name in [k for k in table if k not in new]:
        del table[name]
    for name, value in new.items():
        if name in table:
            current = table[name]
            if current.unwrap() == value:
                continue
            if isinstance(value, dict) and isinstance(current, Table):
                _merge(current, value)
                continue
            if isinstance(current, AoT) and _is_table_list(value):
                table[name] = _merged_tables(list(current), value)
                continue
        elif _is_table_list(value):
            table[name] = _merged_tables([], value)
            continue
        table[name] = _item(value)


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _merged_tables(old: list[Any], new: list[dict[str, Any]]) -> Any:
    """An array of tables holding ``new``, reusing an equal old table (with its comments)
    for each entry that has one."""
    out = tomlkit.aot()
    for value in new:
        same = next((t for t in old if t.unwrap() == value), None)
        if same is not None:
            old.remove(same)
            out.append(same)
        else:
            table = tomlkit.table()
            _merge(table, value)
            out.append(table)
    return out


def _item(value: Any) -> Any:
    """Long text as a multi-line string, as ``dumps`` writes it."""
    if isinstance(value, str) and "\n" in value:
        return tomlkit.string(value, multiline=True)
    return value
