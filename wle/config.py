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
# Whoever knows the secret key can forge a session, i.e. log in as anyone: in production it must be
# long, random and not one of the examples shipped with the code.
MIN_SECRET_KEY_LENGTH = 32
EXAMPLE_SECRET_KEYS = (DEV_SECRET_KEY, "change-me-to-a-long-random-string")  # the second: .env.example
FLAGS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


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


def _flag(name: str, raw: str) -> bool:
    try:
        return FLAGS[raw.strip().lower()]
    except KeyError:
        raise ConfigError(f"WLE_{name.upper()} must be 1 or 0 (true or false), not {raw!r}") from None


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
    # The session cookie is sent over HTTPS only. None: in production only. Set it to 0 for a test
    # deployment served over plain HTTP (the login cannot work there otherwise).
    session_cookie_secure: bool | None = None
    # How many reverse proxies in front of the app set X-Forwarded-For and X-Forwarded-Proto. Only
    # these are trusted: rate limits count per visitor's address, which the proxy hides otherwise.
    trusted_proxies: int = 0
    # Rate limits (see wle.web.security), in the notation of the `limits` library: per address for
    # the login (starting it, the wiki's callback, local mode), per user for the JSON API.
    rate_limit_login: str = "20 per minute; 200 per hour"
    rate_limit_api: str = "30 per second; 600 per minute"

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

    @property
    def secure_cookies(self) -> bool:
        return self.env == "production" if self.session_cookie_secure is None else self.session_cookie_secure

    def check_secret_key(self) -> None:
        """Refuse a guessable secret key in production (the web app calls this when it starts;
        the workers sign nothing)."""
        if self.env != "production":
            return
        if self.secret_key in EXAMPLE_SECRET_KEYS:
            raise ConfigError(
                "WLE_ENV=production needs a secret key of your own: WLE_SECRET_KEY is the example value, "
                "with which anyone could forge a login. Make one with: "
                "python3 -c \"import secrets; print(secrets.token_urlsafe(48))\""
            )
        if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"WLE_SECRET_KEY is too short for production ({len(self.secret_key)} characters; at least "
                f"{MIN_SECRET_KEY_LENGTH}). Make one with: python3 -c \"import secrets; print(secrets.token_urlsafe(48))\""
            )

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
                if f.type == "int":
                    values[f.name] = _whole_number(f.name, raw)
                elif f.type.startswith("bool"):
                    values[f.name] = _flag(f.name, raw)
                else:
                    values[f.name] = raw
        values.update(overrides)
        return cls(**values)
