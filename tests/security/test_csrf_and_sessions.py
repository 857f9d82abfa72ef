"""CSRF on every state-changing request (forms and JSON), a session renewed at login, and OAuth
request tokens bound to the browser that started the login.

The routes are read from the URL map: a route added later is covered without touching this file.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from wle.app import create_app

from tests.oauth_provider import OAuthProvider
from tests.security.conftest import MUTATING, csrf_from_page, log_in, routes, url_for_rule
from tests.web.test_auth import CALLBACK, at_the_wiki, back_at, logged_in_as, start_login

ROOT = Path(__file__).resolve().parents[2]
CSRF_REFUSAL = "security token is missing or has expired"
# State-changing routes that do not need the token, each with the reason. None: even the login
# button and the logout carry it (so no other site can log a visitor in or out).
EXEMPT: dict[tuple[str, str], str] = {}


def refused_for_csrf(response) -> bool:
    if response.status_code != 400:
        return False
    if response.mimetype == "application/json":
        return CSRF_REFUSAL in response.get_json()["message"]
    return CSRF_REFUSAL in response.get_data(as_text=True)


def state_changing_routes(app, world):
    for endpoint, method, rule in routes(app, MUTATING):
        if (endpoint, method) not in EXEMPT:
            yield method, url_for_rule(rule, world.values(world.ours))


def test_there_are_state_changing_routes_to_check(quiet_app, world):
    assert len(list(state_changing_routes(quiet_app, world))) >= 10


def test_every_state_changing_route_refuses_a_request_without_the_token(quiet_app, world):
    client = log_in(quiet_app.test_client(), world.admin)
    accepted = []
    for method, url in state_changing_routes(quiet_app, world):
        for body in ({"data": {"name": "x"}}, {"json": {"value": 1}}):
            response = client.open(url, method=method, **body)
            if not refused_for_csrf(response):
                accepted.append(f"{method} {url} ({'JSON' if 'json' in body else 'form'}): {response.status_code}")
    assert not accepted, "accepted without a CSRF token:\n" + "\n".join(accepted)


def test_every_state_changing_route_refuses_another_browsers_token(quiet_app, world):
    stranger = log_in(quiet_app.test_client(), world.organizer)
    foreign_token = csrf_from_page(stranger)
    client = log_in(quiet_app.test_client(), world.admin)
    csrf_from_page(client)  # the victim's browser has a token of its own
    for method, url in state_changing_routes(quiet_app, world):
        response = client.open(url, method=method, data={"csrf_token": foreign_token})
        assert refused_for_csrf(response), f"{method} {url} accepted another browser's token"


def test_every_state_changing_route_takes_the_token_from_the_header_scripts_send(quiet_app, world):
    """What static JS does: the token of the page's meta tag, in X-CSRFToken, with a JSON body."""
    for method, url in state_changing_routes(quiet_app, world):
        client = log_in(quiet_app.test_client(), world.admin)  # a fresh one each time: a route may log out
        token = csrf_from_page(client)
        response = client.open(url, method=method, json={}, headers={"X-CSRFToken": token})
        assert not refused_for_csrf(response), f"{method} {url} refused the X-CSRFToken header"


def test_over_https_a_post_from_another_site_is_refused_even_with_a_token(quiet_app, world):
    """Flask-WTF also checks the Referer over HTTPS; the Referrer-Policy (same-origin) sends it to us."""
    client = log_in(quiet_app.test_client(), world.admin)
    token = csrf_from_page(client)
    https = {"base_url": "https://localhost", "data": {"csrf_token": token}}

    assert refused_for_csrf(client.post("/logout", headers={"Referer": "https://evil.example/"}, **https))
    assert client.post("/logout", headers={"Referer": "https://localhost/"}, **https).status_code == 302


def test_behind_a_tls_proxy_our_own_forms_still_post(make_app, world):
    """With WLE_TRUSTED_PROXIES the app knows the visitor came over HTTPS, so Flask-WTF checks the
    Referer against the Host header the proxy passed on: our pages pass, another site does not."""
    client = log_in(make_app(trusted_proxies=1).test_client(), world.admin)
    token = csrf_from_page(client)
    # The proxy speaks plain HTTP to the app, passing the visitor's Host and the scheme they used.
    client.set_cookie("session", client.get_cookie("session").value, domain="jury.example.org")
    proxied = {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"}

    def logout(referer):
        return client.post("/logout", base_url="http://jury.example.org", data={"csrf_token": token},
                           headers={**proxied, "Referer": referer})

    assert refused_for_csrf(logout("https://evil.example/"))
    assert logout("https://jury.example.org/contests/wle-ours").status_code == 302


def test_every_page_gives_scripts_the_token(app, world):
    client = log_in(app.test_client(), world.admin)
    for url in ("/", f"/contests/{world.ours.slug}", "/no-such-page"):
        assert csrf_from_page(client, url)
    assert csrf_from_page(app.test_client(), "/login")


MUTATING_CALL = re.compile(r"""(method\s*:\s*["'](POST|PUT|PATCH|DELETE)["'])|(\.open\(\s*["'](POST|PUT|PATCH|DELETE))""",
                           re.IGNORECASE)


def test_static_scripts_that_change_something_send_the_token():
    for script in sorted((ROOT / "static").rglob("*.js")):
        text = script.read_text()
        if MUTATING_CALL.search(text):
            assert "X-CSRFToken" in text and "csrf-token" in text, (
                f"{script.name} sends POST/PUT/PATCH/DELETE requests: it must send the page's "
                "<meta name=\"csrf-token\"> in the X-CSRFToken header")


# --- The session at login ------------------------------------------------------------------------


def test_a_local_login_renews_the_session(app):
    client = app.test_client()
    token_before = csrf_from_page(client, "/login")
    with client.session_transaction() as browser:
        browser["planted"] = "by someone else"  # e.g. a session fixed on a shared computer

    response = client.post("/login", data={"csrf_token": token_before, "username": "Local Tester"})

    assert response.status_code == 302
    with client.session_transaction() as browser:
        assert "planted" not in browser
        assert browser.get("csrf_token") is None  # the old token went with the old session
        assert browser["_user_id"]
    assert refused_for_csrf(client.post("/logout", data={"csrf_token": token_before}))
    assert client.post("/logout", data={"csrf_token": csrf_from_page(client)}).status_code == 302


@pytest.fixture
def wiki():
    with OAuthProvider(callback=CALLBACK) as provider:
        yield provider


@pytest.fixture
def oauth_app(settings, wiki):
    app = create_app(dataclasses.replace(settings, oauth_url=wiki.index_url, oauth_key=wiki.consumer_key,
                                         oauth_secret=wiki.consumer_secret))
    app.config.update(TESTING=True)
    return app


def test_a_wikimedia_login_renews_the_session(oauth_app):
    client = oauth_app.test_client()
    with client.session_transaction() as browser:
        browser["planted"] = "by someone else"

    back_at(client, at_the_wiki(start_login(client)))

    with client.session_transaction() as browser:
        assert set(browser) <= {"_user_id", "_fresh", "_id", "csrf_token"}  # nothing from before the login


def test_the_oauth_request_token_is_bound_to_the_browser_that_started_the_login(oauth_app, session):
    """Login CSRF: an attacker who starts a login and sends the victim the wiki's answer must not
    log the victim in (as the attacker)."""
    attacker, victim = oauth_app.test_client(), oauth_app.test_client()
    callback = at_the_wiki(start_login(attacker))

    response = back_at(victim, callback)

    assert response.status_code == 400
    assert "not started in this browser" in response.get_data(as_text=True)
    assert logged_in_as(victim) is None
    assert back_at(attacker, callback).status_code == 302  # the browser that started it still can
    assert logged_in_as(attacker) == "Alice"


def test_the_request_token_never_reaches_the_page(oauth_app):
    client = oauth_app.test_client()
    start_login(client)
    with client.session_transaction() as browser:
        token_key = browser["oauth_request_token"][0]

    for url in ("/login", "/api/docs", "/no-such-page"):
        assert token_key not in client.get(url).get_data(as_text=True)
