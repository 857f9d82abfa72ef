"""Rate limits: on the login per address, on the JSON API per user; a clear 429 with Retry-After;
generous enough for a juror voting fast; shared through Redis; still counted while Redis is down."""

from __future__ import annotations

import dataclasses
import secrets

import pytest

from wle.app import create_app
from wle.config import ConfigError

from tests.conftest import REDIS_URL
from tests.security.conftest import log_in

DEAD_REDIS = "redis://127.0.0.1:9/0"  # nothing listens on the discard port


def app_with(settings, **changes):
    app = create_app(dataclasses.replace(settings, **changes))
    app.config.update(TESTING=True)
    return app


def local_login(client, **environ):
    """A local-mode login with a name that is refused: it changes nothing, but counts."""
    return client.post("/login", data={"username": "bad#name"}, environ_base=environ)


def assert_too_many(response, words: str) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert words in response.get_data(as_text=True)


# --- The login -----------------------------------------------------------------------------------


def test_logging_in_too_often_from_one_address_is_refused_for_a_while(settings):
    client = app_with(settings, rate_limit_login="3 per minute").test_client()

    answers = [local_login(client).status_code for _ in range(3)]
    refused = local_login(client)

    assert 429 not in answers
    assert_too_many(refused, "Too many login attempts from your address")
    assert "Wait" in refused.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # the page itself still shows
    assert local_login(client, REMOTE_ADDR="127.0.0.2").status_code != 429  # another address has its own count


def test_the_oauth_callback_is_limited_too(settings):
    client = app_with(settings, rate_limit_login="2 per minute").test_client()
    callback = "/oauth-callback?oauth_token=t&oauth_verifier=v"

    assert [client.get(callback).status_code for _ in range(2)] == [404, 404]  # (local mode: no OAuth here)
    assert_too_many(client.get(callback), "Too many login attempts")


# --- The API --------------------------------------------------------------------------------------


def test_the_api_is_limited_per_user_with_a_json_answer(settings, world):
    app = app_with(settings, rate_limit_api="5 per minute")
    juror = log_in(app.test_client(), world.admin)
    colleague = log_in(app.test_client(), world.organizer)  # same address, another person

    assert [juror.get("/api/v1/me").status_code for _ in range(5)] == [200] * 5
    refused = juror.get("/api/v1/me")

    assert_too_many(refused, "Too many requests")
    body = refused.get_json()
    assert body["status"] == 429 and body["error"] == "Too many requests" and "Wait" in body["message"]
    assert colleague.get("/api/v1/me").status_code == 200
    assert juror.get("/").status_code == 200  # pages are not counted


def test_the_default_limits_let_a_juror_vote_in_fast_bursts(settings, world):
    """A juror may send several votes a second (each vote and the next entry: two requests)."""
    juror = log_in(app_with(settings).test_client(), world.admin)

    for _burst in range(3):
        assert [juror.get("/api/v1/me").status_code for _ in range(8)] == [200] * 8


def test_a_limit_setting_that_cannot_be_read_stops_the_start(settings):
    with pytest.raises(ConfigError, match="WLE_RATE_LIMIT_API must be rate limits such as"):
        create_app(dataclasses.replace(settings, rate_limit_api="lots"))


# --- Behind a reverse proxy ----------------------------------------------------------------------


def test_behind_a_trusted_proxy_each_visitor_has_their_own_count(settings):
    client = app_with(settings, rate_limit_login="1 per minute", trusted_proxies=1).test_client()

    def attempt(address):
        return client.post("/login", data={}, headers={"X-Forwarded-For": address}).status_code

    assert attempt("203.0.113.1") != 429
    assert attempt("203.0.113.1") == 429
    assert attempt("203.0.113.2") != 429


def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(settings):
    client = app_with(settings, rate_limit_login="1 per minute").test_client()

    def attempt(address):
        return client.post("/login", data={}, headers={"X-Forwarded-For": address}).status_code

    assert attempt("203.0.113.1") != 429
    assert attempt("203.0.113.2") == 429  # the same visitor, whatever the header says


# --- Redis ----------------------------------------------------------------------------------------


def test_while_redis_is_down_requests_are_served_and_still_counted(settings, world):
    juror = log_in(app_with(settings, redis_url=DEAD_REDIS, rate_limit_api="3 per minute").test_client(), world.admin)

    assert [juror.get("/api/v1/me").status_code for _ in range(3)] == [200] * 3
    assert juror.get("/api/v1/me").status_code == 429  # counted in memory meanwhile


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="set WLE_TEST_REDIS_URL to run against a real Redis")
def test_web_processes_share_the_count_through_redis(settings):
    first, second = (app_with(settings, redis_url=REDIS_URL, rate_limit_api="3 per minute").test_client()
                     for _ in range(2))
    visitor = {"REMOTE_ADDR": f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"}

    answers = [client.get("/api/v1/openapi.json", environ_base=visitor).status_code
               for client in (first, second, first)]
    assert answers == [200, 200, 200]
    assert second.get("/api/v1/openapi.json", environ_base=visitor).status_code == 429
