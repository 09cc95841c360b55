"""Where things are: the library, the config file, the cache; and the user's settings.

Precedence for the library: ``--library PATH``, then ``PAPERCLI_LIBRARY``, then ``library`` in
the config file, then ``<user data dir>/library``. The config file is
``<user config dir>/config.toml`` (``PAPERCLI_CONFIG`` names another). The derived cache lives in
``<user cache dir>`` (``PAPERCLI_CACHE_DIR`` names another) and is never the source of truth.
This module reads the config file and environment; it writes nothing.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papercli.errors import UsageError

APP = "papercli"
DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query"


def _platformdirs() -> Any:
    import platformdirs  # small, but only some commands need it

    return platformdirs


def config_path() -> Path:
    env = os.environ.get("PAPERCLI_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(_platformdirs().user_config_dir(APP)) / "config.toml"


def default_library_path() -> Path:
    return Path(_platformdirs().user_data_dir(APP)) / "library"


def cache_root() -> Path:
    env = os.environ.get("PAPERCLI_CACHE_DIR")
    if env:
        return Path(env).expanduser()
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


def load_settings() -> Settings:
    """Read the config file (absent is fine) and the environment."""
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
            raise UsageError(f"{where}: 'library' must be a path (a string)")
        settings.library = Path(data["library"]).expanduser()
    arxiv = data.get("arxiv", {})
    if not isinstance(arxiv, dict):
        raise UsageError(f"{where}: [arxiv] must be a table")
    if "api" in arxiv:
        settings.arxiv_api = _url(arxiv["api"], f"{where}: [arxiv] api")
    for name in ("delay", "timeout", "retries"):
        if name in arxiv:
            setattr(settings, f"arxiv_{name}", _number(name, arxiv[name], f"{where}: [arxiv]"))
    display = data.get("display", {})
    if isinstance(display, dict) and isinstance(display.get("color"), bool):
        settings.color = display["color"]
    settings.extra = data
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


def library_path(option: Path | None, settings: Settings | None = None) -> tuple[Path, bool]:
    """The library to use and whether it is the default one (which may be created on first run)."""
    if option is not None:
        return option.expanduser(), False
    env = os.environ.get("PAPERCLI_LIBRARY")
    if env:
        return Path(env).expanduser(), False
    settings = settings or load_settings()
    if settings.library is not None:
        return settings.library, False
    return default_library_path(), True
