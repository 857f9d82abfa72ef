"""``/healthz`` and ``/readyz``: answered without login, 503 naming what is down."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import REDIS_URL


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthz_answers_without_login_and_without_touching_the_database(make_app):
    # A database that is down: liveness must not depend on it.
    app = make_app(database_url=f"postgresql://wle@127.0.0.1:{closed_port()}/wle")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_readyz_checks_the_database_and_says_redis_is_not_used_without_it(anonymous_client):
    response = anonymous_client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "redis": "not used"}}


def test_readyz_is_503_naming_redis_when_it_is_down_without_its_address(make_app):
    app = make_app(redis_url=f"redis://:hunter2@127.0.0.1:{closed_port()}/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body == {"status": "unavailable", "checks": {"database": "ok", "redis": "down"}, "down": ["redis"]}
    assert "hunter2" not in response.get_data(as_text=True)


def test_readyz_is_503_naming_the_database_when_it_is_down(make_app):
    app = make_app(database_url=f"postgresql://wle:secret@127.0.0.1:{closed_port()}/wle")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "down"
    assert "secret" not in response.get_data(as_text=True)


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="set WLE_TEST_REDIS_URL to check a real Redis")
def test_readyz_with_a_real_redis(make_app):
    response = make_app(redis_url=REDIS_URL).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}



def test_every_page_has_a_favicon_and_the_usual_address_answers(anonymous_client):
    page = anonymous_client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    for url in ("/static/favicon.svg", "/favicon.ico"):
        response = anonymous_client.get(url)
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        assert response.get_data().startswith(b"<svg")
