"""Settings from the environment (``WLE_*``), shared by the web app, the CLI and the jobs.

Plain data, no Flask: a job running in an RQ worker reads the same settings as the web process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

COMMONS_API_URL = "https://commons.wikimedia.org/w/api.php"
DEV_SECRET_KEY = "dev-only-secret-change-me"


def default_instance_dir() -> Path:
    """Local state (the SQLite file, thumbnails) lives here when nothing else is configured."""
    return Path(os.environ.get("WLE_INSTANCE_DIR") or Path.cwd() / "instance")


class ConfigError(ValueError):
    """A setting from the environment cannot be used; the message names it."""


def _whole_number(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"WLE_{name.upper()} must be a whole number, not {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    redis_url: str = ""  # empty: jobs run in-process
    commons_api_url: str = COMMONS_API_URL
    media_dir: str = ""
    secret_key: str = DEV_SECRET_KEY
    contact: str = ""  # the operator's e-mail or wiki page, sent in the User-Agent
    thumb_source_width: int = 1280  # the one standard width each file is downloaded at
    download_limit: int = 2  # concurrent downloads from Wikimedia across all workers
    instance_dir: str = field(default_factory=lambda: str(default_instance_dir()))

    def __post_init__(self) -> None:
        instance = Path(self.instance_dir)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{instance / 'wle.sqlite3'}")
        if not self.media_dir:
            object.__setattr__(self, "media_dir", str(instance / "media"))

    @classmethod
    def from_env(cls, environ=os.environ, **overrides) -> Settings:
        """Read ``WLE_<NAME>`` for every field; ``overrides`` win (tests use them)."""
        values = {}
        for f in fields(cls):
            raw = environ.get(f"WLE_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _whole_number(f.name, raw) if f.type == "int" else raw
        values.update(overrides)
        return cls(**values)
