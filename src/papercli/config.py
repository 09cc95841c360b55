"""Where things are: the library, the config file, the cache; and the user's settings.

Precedence for the library: ``--library PATH``, then ``PAPERCLI_LIBRARY``, then ``library`` in
the config file, then ``<user data dir>/library``. The config file is
``<user config dir>/config.toml`` (``PAPERCLI_CONFIG`` names another). The derived cache lives in
``<user cache dir>`` (``PAPERCLI_CACHE_DIR`` names another) and is never the source of truth.
The config file is checked: a value of the wrong type is an error naming the key and the file,
an unknown key a warning (``Settings.warnings``). This module reads the config file and
environment; it writes and prints nothing.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papercli.errors import UsageError

APP = "papercli"
DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query"


def _platformdirs() -> Any:
    import platformdirs  # small, but only some commands need it

    return platformdirs


def expand_user(path: Path) -> Path:
    """``path`` with a leading ``~`` or ``~user`` made the home directory; raises
    ``UsageError`` for a user who has none (pathlib raises RuntimeError)."""
    try:
        return path.expanduser()
    except RuntimeError:
        raise UsageError(f"{path}: no such user's home directory; write the path in full") from None


def config_path() -> Path:
    env = os.environ.get("PAPERCLI_CONFIG")
    if env:
        return expand_user(Path(env))
    return Path(_platformdirs().user_config_dir(APP)) / "config.toml"


def default_library_path() -> Path:
    return Path(_platformdirs().user_data_dir(APP)) / "library"


def cache_root() -> Path:
    env = os.environ.get("PAPERCLI_CACHE_DIR")
    if env:
        return expand_user(Path(env))
    return Path(_platformdirs().user_cache_dir(APP))


@dataclass
class Settings:
    """The config file's contents, with defaults."""

    library: Path | None = None
    arxiv_api: str = DEFAULT_ARXIV_API
    arxiv_delay: float = 3.0  # seconds between requests, as arXiv's terms of use ask
    arxiv_timeout: float = 15.0
    arxiv_retries: int = 3
    color: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # unknown keys, for the CLI to say


# Every key the config file may hold: top-level keys, and the keys of each table.
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "": ("library", "arxiv", "display", "doi"),
    "arxiv": ("api", "delay", "timeout", "retries"),
    "display": ("color",),
    "doi": ("api",),
}


def unknown_keys(data: dict[str, Any], path: Path) -> list[str]:
    """One warning per key of ``data`` the config file does not know, with the closest known
    key when one is near (``libary`` -> ``library``, ``[arxiv] timout`` -> ``timeout``)."""
    from difflib import get_close_matches

    found: list[str] = []
    tables = [("", data)] + [
        (t, data[t]) for t in KNOWN_KEYS if t and isinstance(data.get(t), dict)
    ]
    for table, values in tables:
        known = KNOWN_KEYS[table]
        where = f"[{table}] " if table else ""
        for name in values:
            if name in known:
                continue
            close = get_close_matches(name.lower(), known, n=1, cutoff=0.6)
            elsewhere = [t for t, keys in KNOWN_KEYS.items() if t and t != table and name in keys]
            if close:
                hint = f" (did you mean {where}{close[0]}?)"
            elif elsewhere:
                hint = f" (did you mean [{elsewhere[0]}] {name}?)"
            else:
                hint = ""
            found.append(f"{path}: unknown key {where}{name}{hint}; it is ignored")
    return found


def load_settings() -> Settings:
    """Read the config file (absent is fine) and the environment.

    A value of the wrong type raises ``UsageError`` naming the key and the file; a key the
    file does not know is listed in ``Settings.warnings`` (the caller says it)."""
    settings = Settings()
    path = config_path()
    data: dict[str, Any] = {}
    try:
        exists = path.exists()
        if exists and not path.is_file():
            raise UsageError(f"{path}: the config file is not a regular file")
        if exists:
            data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: the config file is not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: the config file is not valid TOML: {exc}") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the config file ({exc.strerror})") from None
    where = f"{path}"
    if "library" in data:
        if not isinstance(data["library"], str) or not data["library"].strip():
            raise UsageError(f"{where}: library must be a path (a string), not {data['library']!r}")
        settings.library = expand_user(Path(data["library"]))
    for table in ("arxiv", "display", "doi"):
        if table in data and not isinstance(data[table], dict):
            raise UsageError(f"{where}: {table} must be a table ([{table}]), not {data[table]!r}")
    arxiv = data.get("arxiv", {})
    if "api" in arxiv:
        settings.arxiv_api = _url(arxiv["api"], f"{where}: [arxiv] api")
    for name in ("delay", "timeout", "retries"):
        if name in arxiv:
            setattr(settings, f"arxiv_{name}", _number(name, arxiv[name], f"{where}: [arxiv]"))
    display = data.get("display", {})
    if "color" in display:
        if not isinstance(display["color"], bool):
            raise UsageError(
                f"{where}: [display] color must be true or false, not {display['color']!r}"
            )
        settings.color = display["color"]
    doi = data.get("doi", {})
    if "api" in doi:
        _url(doi["api"], f"{where}: [doi] api")
    settings.extra = data
    settings.warnings = unknown_keys(data, path)
    env_api = os.environ.get("PAPERCLI_ARXIV_API")
    if env_api:
        settings.arxiv_api = _url(env_api, "PAPERCLI_ARXIV_API")
    for name in ("delay", "timeout", "retries"):
        raw = os.environ.get(f"PAPERCLI_ARXIV_{name.upper()}")
        if raw:
            setattr(settings, f"arxiv_{name}", _number(name, raw, "PAPERCLI_ARXIV_"))
    return settings


def _number(name: str, raw: Any, where: str) -> Any:
    """A validated arXiv setting: delay >= 0 and timeout > 0 seconds, retries a whole number."""
    label = f"{where}{name.upper() if where.endswith('_') else ' ' + name}"
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = int(raw) if name == "retries" else float(raw)
    except (TypeError, ValueError):
        kind = "a whole number" if name == "retries" else "a number of seconds"
        raise UsageError(f"{label}={raw!r} is not {kind}") from None
    if not math.isfinite(value) or value < 0 or (name == "timeout" and value == 0):
        raise UsageError(f"{label}={raw!r} is out of range: give a positive number")
    if name == "retries" and value > 20:
        raise UsageError(f"{label}={raw!r} is out of range: give 0 to 20")
    return value


def _url(raw: Any, label: str) -> str:
    """An http(s) URL with a host, or UsageError."""
    from urllib.parse import urlsplit

    if not isinstance(raw, str):
        raise UsageError(f"{label} must be a URL (a string)")
    try:
        parts = urlsplit(raw)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises on a bad port
    except ValueError:
        ok = False
    if not ok:
        raise UsageError(
            f"{label}={raw!r} is not an http(s) URL such as https://export.arxiv.org/api/query"
        )
    return raw


def library_path(
    option: Path | None, load: Callable[[], Settings] = load_settings
) -> tuple[Path, bool]:
    """The library to use and whether it is the default one (which may be created on first
    run). The config file is read (with ``load``) only when neither option nor env names one."""
    if option is not None:
        return expand_user(option), False
    env = os.environ.get("PAPERCLI_LIBRARY")
    if env:
        return expand_user(Path(env)), False
    settings = load()
    if settings.library is not None:
        return settings.library, False
    return default_library_path(), True
