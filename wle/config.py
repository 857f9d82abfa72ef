"""Settings from the environment (``WLE_*``), shared by the web app, the CLI and the jobs.

Plain data, no Flask: a job running in an RQ worker reads the same settings as the web process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

COMMONS_API_URL = "https://commons.wikimedia.org/w/api.php"
OAUTH_URL = "https://meta.wikimedia.org/w/index.php"  # Wikimedia's OAuth consumers are registered on Meta
ENVIRONMENTS = ("development", "production")
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
    # Days after a contest's upload window during which `wle scheduler` keeps syncing it: files
    # uploaded in time are often put in the contest's category days later.
    sync_grace_days: int = 14
    instance_dir: str = field(default_factory=lambda: str(default_instance_dir()))
    # Login with Wikimedia (OAuth 1.0a): the wiki's index.php and the consumer's key and secret.
    # Without a key and secret the platform runs in local mode (see ``local_mode``).
    oauth_url: str = OAUTH_URL
    oauth_key: str = ""
    oauth_secret: str = ""
    env: str = "development"  # "production": local mode is off and OAuth credentials are required

    def __post_init__(self) -> None:
        self._check_login_settings()
        instance = Path(self.instance_dir)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{instance / 'wle.sqlite3'}")
        if not self.media_dir:
            object.__setattr__(self, "media_dir", str(instance / "media"))

    @property
    def local_mode(self) -> bool:
        """No OAuth consumer configured: a plain username login, for trying the platform out on
        one's own machine. Never in production (``_check_login_settings`` refuses that)."""
        return not self.oauth_key

    def _check_login_settings(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"WLE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}")
        if bool(self.oauth_key) != bool(self.oauth_secret):
            raise ConfigError("Set both WLE_OAUTH_KEY and WLE_OAUTH_SECRET (the consumer's key and secret), or neither.")
        if self.env == "production" and not self.oauth_key:
            raise ConfigError(
                "WLE_ENV=production needs Wikimedia login: set WLE_OAUTH_KEY and WLE_OAUTH_SECRET "
                "(register an OAuth 1.0a consumer on Meta, Special:OAuthConsumerRegistration). "
                "Local mode, a login without password, is never available in production."
            )
        if self.oauth_key and not self.contact.strip():
            raise ConfigError(
                "Wikimedia login needs WLE_CONTACT (an e-mail address or a wiki user page): Wikimedia "
                "blocks tools that do not say who runs them in their User-Agent."
            )
        if self.oauth_key and not self.oauth_url.startswith(("https://", "http://")):
            raise ConfigError(f"WLE_OAUTH_URL must be the wiki's index.php address, not {self.oauth_url!r}")

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
