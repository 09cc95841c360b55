"""Where things are: the library, the config file, the cache; and the user's settings.

Precedence for the library: ``--library PATH``, then ``PAPERCLI_LIBRARY``, then ``library`` in
the config file, then ``<user data dir>/library``. The config file is
``<user config dir>/config.toml`` (``PAPERCLI_CONFIG`` names another). The derived cache lives in
``<user cache dir>`` (``PAPERCLI_CACHE_DIR`` names another) and is never the source of truth.
This module reads the config file and environment; it writes nothing.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papercli.errors import LibraryError

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
    if path.is_file():
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise LibraryError(f"{path}: cannot read the config file: {exc}") from exc
    if isinstance(data.get("library"), str):
        settings.library = Path(data["library"]).expanduser()
    arxiv = data.get("arxiv", {})
    if isinstance(arxiv, dict):
        if isinstance(arxiv.get("api"), str):
            settings.arxiv_api = arxiv["api"]
        for name in ("delay", "timeout"):
            if isinstance(arxiv.get(name), int | float):
                setattr(settings, f"arxiv_{name}", float(arxiv[name]))
        if isinstance(arxiv.get("retries"), int):
            settings.arxiv_retries = arxiv["retries"]
    display = data.get("display", {})
    if isinstance(display, dict) and isinstance(display.get("color"), bool):
        settings.color = display["color"]
    settings.extra = data
    env_api = os.environ.get("PAPERCLI_ARXIV_API")
    if env_api:
        settings.arxiv_api = env_api
    for name, cast in (("delay", float), ("timeout", float), ("retries", int)):
        raw = os.environ.get(f"PAPERCLI_ARXIV_{name.upper()}")
        if raw:
            try:
                setattr(settings, f"arxiv_{name}", cast(raw))
            except ValueError as exc:
                raise LibraryError(
                    f"PAPERCLI_ARXIV_{name.upper()}={raw!r} is not a number"
                ) from exc
    return settings


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
