"""In production the app refuses a guessable secret key, and its session cookie is Secure,
HttpOnly and SameSite=Lax (Secure can be switched off for a plain-HTTP test deployment)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from wle.app import create_app
from wle.config import DEV_SECRET_KEY, ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "Xq3v9-long-random-secret-key-for-tests-only-4f2a"
OAUTH = dict(oauth_key="consumer-key", oauth_secret="consumer-secret", oauth_url="https://meta.wikimedia.org/w/index.php")


def production(settings, **changes) -> Settings:
    return dataclasses.replace(settings, env="production", **{"secret_key": GOOD_KEY, **OAUTH, **changes})


def env_example_secret_key() -> str:
    return re.search(r"^WLE_SECRET_KEY=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE).group(1).strip()


@pytest.mark.parametrize("key, problem", [
    (DEV_SECRET_KEY, "the example value"),
    (env_example_secret_key(), "the example value"),  # copied from .env.example without changing it
    ("short-but-not-the-default", "too short"),
    ("", "too short"),
])
def test_production_refuses_a_guessable_secret_key(settings, key, problem):
    with pytest.raises(ConfigError, match=problem) as refused:
        create_app(production(settings, secret_key=key))
    assert "secrets.token_urlsafe" in str(refused.value)  # and says how to make a good one


def test_production_starts_with_a_long_random_key(settings):
    assert create_app(production(settings)).test_client().get("/healthz").status_code == 200


def test_development_accepts_the_development_key(settings):
    assert create_app(dataclasses.replace(settings, secret_key=DEV_SECRET_KEY)).test_client().get("/healthz").status_code == 200


def test_the_secret_key_comes_from_the_environment():
    settings = Settings.from_env({"WLE_ENV": "production", "WLE_SECRET_KEY": GOOD_KEY, "WLE_CONTACT": "ops@example.org",
                                  "WLE_OAUTH_KEY": "k", "WLE_OAUTH_SECRET": "s"})
    assert settings.secret_key == GOOD_KEY
    settings.check_secret_key()


def session_cookie(app) -> str:
    """The Set-Cookie header of the session, as a first visit to the login page gets it."""
    response = app.test_client().get("/login")
    [cookie] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    return cookie


def test_the_session_cookie_in_production_is_secure_httponly_and_samesite(settings):
    cookie = session_cookie(create_app(production(settings)))

    assert "; Secure" in cookie
    assert "; HttpOnly" in cookie
    assert "; SameSite=Lax" in cookie


def test_in_development_the_cookie_also_goes_over_plain_http(settings):
    cookie = session_cookie(create_app(settings))

    assert "; Secure" not in cookie
    assert "; HttpOnly" in cookie and "; SameSite=Lax" in cookie


def test_a_plain_http_test_deployment_can_switch_secure_off(settings):
    environ = {"WLE_ENV": "production", "WLE_SECRET_KEY": GOOD_KEY, "WLE_CONTACT": "ops@example.org",
               "WLE_OAUTH_KEY": "k", "WLE_OAUTH_SECRET": "s", "WLE_SESSION_COOKIE_SECURE": "0",
               "WLE_DATABASE_URL": settings.database_url, "WLE_INSTANCE_DIR": settings.instance_dir}

    cookie = session_cookie(create_app(Settings.from_env(environ)))

    assert "; Secure" not in cookie
    assert "; HttpOnly" in cookie and "; SameSite=Lax" in cookie


def test_a_flag_setting_that_is_not_a_flag_is_refused_clearly():
    with pytest.raises(ConfigError, match="WLE_SESSION_COOKIE_SECURE must be 1 or 0"):
        Settings.from_env({"WLE_SESSION_COOKIE_SECURE": "maybe"})
