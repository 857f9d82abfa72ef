"""Logging in: the whole OAuth 1.0a flow against a real provider on loopback (tests/oauth_provider.py)
with the real mwoauth, the bad callbacks, and local mode with its loopback-only rule."""

from __future__ import annotations

import dataclasses
import re
import threading
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from wle.app import create_app
from wle.auth import add_organizer, add_person
from wle.config import ConfigError, Settings
from wle.models import User

from tests.oauth_provider import OAuthProvider
from tests.web.conftest import csrf_token

CALLBACK = "http://localhost/oauth-callback"


@pytest.fixture
def wiki():
    with OAuthProvider(callback=CALLBACK) as provider:
        yield provider


@pytest.fixture
def oauth_settings(settings, wiki) -> Settings:
    return dataclasses.replace(settings, oauth_url=wiki.index_url, oauth_key=wiki.consumer_key,
                               oauth_secret=wiki.consumer_secret)


@pytest.fixture
def oauth_client(oauth_settings):
    app = create_app(oauth_settings)
    app.config.update(TESTING=True)
    return app.test_client()


def start_login(client, next: str | None = None) -> str:
    """Press "Log in with Wikimedia"; return the wiki address the browser is sent to."""
    data = {"csrf_token": csrf_token(client, "/login")}
    if next:
        data["next"] = next
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def at_the_wiki(authorize_url: str) -> str:
    """The user at the wiki approves (or cancels); return where the wiki sends the browser back."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    callback = response.headers["Location"]
    assert callback.startswith(CALLBACK + "?")
    return callback


def back_at(client, callback_url: str):
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def log_in_with_wikimedia(client, next: str | None = None):
    return back_at(client, at_the_wiki(start_login(client, next)))


def logged_in_as(client) -> str | None:
    response = client.get("/api/v1/me")
    return response.get_json()["username"] if response.status_code == 200 else None


def users(session) -> list[User]:
    session.rollback()  # see what the app committed
    return session.scalars(select(User).order_by(User.id)).all()


# --- The whole flow ----------------------------------------------------------------------------


def test_a_wikimedia_login_creates_the_user_and_logs_them_in(oauth_client, wiki, session):
    authorize_url = start_login(oauth_client, next="/contests/new")
    assert authorize_url.startswith(wiki.index_url + "?title=Special%3AOAuth%2Fauthenticate")

    response = back_at(oauth_client, at_the_wiki(authorize_url))

    assert response.status_code == 302
    assert response.headers["Location"] == "/contests/new"
    assert logged_in_as(oauth_client) == "Alice"
    [user] = users(session)
    assert (user.username, user.wiki_sub, user.is_admin) == ("Alice", "4242", False)
    # Every request to the wiki named the tool and its operator, as Wikimedia's policy asks.
    titles = [title for title, _agent in wiki.requests]
    assert titles == ["Special:OAuth/initiate", "Special:OAuth/authenticate", "Special:OAuth/token",
                      "Special:OAuth/identify"]
    for title, agent in wiki.requests:
        if title != "Special:OAuth/authenticate":  # that one is the user's browser
            assert agent.startswith("WLE-Jury/") and "wle-tests@example.org" in agent


def test_the_session_is_renewed_at_login(oauth_client):
    with oauth_client.session_transaction() as browser:
        browser["planted"] = "by someone else"  # e.g. a fixed session from a shared computer

    log_in_with_wikimedia(oauth_client)

    with oauth_client.session_transaction() as browser:
        assert "planted" not in browser
        assert "oauth_request_token" not in browser


def test_a_renamed_account_keeps_its_user(oauth_client, wiki, session):
    log_in_with_wikimedia(oauth_client)
    [before] = users(session)
    oauth_client.post("/logout", data={"csrf_token": csrf_token(oauth_client, "/api/docs")})
    wiki.wiki_user = dataclasses.replace(wiki.wiki_user, username="Alice Renamed")

    log_in_with_wikimedia(oauth_client)

    [after] = users(session)
    assert after.id == before.id
    assert (after.username, after.wiki_sub) == ("Alice Renamed", "4242")
    assert logged_in_as(oauth_client) == "Alice Renamed"


def test_someone_added_by_name_claims_their_account_at_first_login(oauth_client, session, contest):
    add_organizer(session, contest, "alice", actor="cli:test")  # added before they ever logged in
    session.commit()

    log_in_with_wikimedia(oauth_client)

    [user] = users(session)
    assert (user.username, user.wiki_sub) == ("Alice", "4242")
    assert oauth_client.get("/api/v1/me").get_json()["roles"]["organizer"] == [contest.slug]
    assert oauth_client.get(f"/contests/{contest.slug}").status_code == 200


def test_a_new_login_after_a_rename_is_not_given_the_old_names_rights(oauth_client, wiki, session, contest):
    # "Alice" (sub 4242) organizes; she is renamed on the wiki and someone else takes the name.
    add_person(session, "Alice").wiki_sub = "4242"
    add_organizer(session, contest, "Alice", actor="cli:test")
    session.commit()
    wiki.wiki_user = dataclasses.replace(wiki.wiki_user, sub="9999")

    log_in_with_wikimedia(oauth_client)

    assert logged_in_as(oauth_client) == "Alice"
    assert oauth_client.get(f"/contests/{contest.slug}").status_code == 403
    old = session.scalar(select(User).where(User.wiki_sub == "4242"))
    assert old.username.startswith("Alice (renamed")


# --- Bad endings: a clear page, and no session ---------------------------------------------------


def assert_not_logged_in(client, session):
    assert logged_in_as(client) is None
    with client.session_transaction() as browser:
        assert "_user_id" not in browser
    assert users(session) == []


def test_a_cancelled_login(oauth_client, wiki, session):
    wiki.denies = True

    response = log_in_with_wikimedia(oauth_client)

    assert response.status_code == 400
    assert "The login was cancelled" in response.get_data(as_text=True)
    assert_not_logged_in(oauth_client, session)


def test_a_forged_verifier_is_refused_by_the_wiki(oauth_client, session):
    callback = at_the_wiki(start_login(oauth_client))
    forged = re.sub(r"oauth_verifier=[^&]+", "oauth_verifier=forgedforgedforgedforged", callback)

    response = back_at(oauth_client, forged)

    assert response.status_code == 403
    assert "Wikimedia did not confirm this login" in response.get_data(as_text=True)
    assert_not_logged_in(oauth_client, session)
    # The request token was spent on the forgery: the real answer cannot be used either.
    assert back_at(oauth_client, callback).status_code == 400
    assert_not_logged_in(oauth_client, session)


def test_a_callback_for_a_login_this_browser_never_started(oauth_client, session):
    response = oauth_client.get("/oauth-callback?oauth_token=0123456789abcdef0123&oauth_verifier=abcdef0123456789abcd")

    assert response.status_code == 400
    assert "was not started in this browser" in response.get_data(as_text=True)
    assert_not_logged_in(oauth_client, session)


def test_a_callback_for_another_request_token(oauth_client, session):
    callback = at_the_wiki(start_login(oauth_client))
    other = re.sub(r"oauth_token=[^&]+", "oauth_token=0123456789abcdef0123", callback)

    assert back_at(oauth_client, other).status_code == 400
    assert_not_logged_in(oauth_client, session)


def test_a_replayed_callback_logs_no_one_in(oauth_client, oauth_settings, session):
    authorize_url = start_login(oauth_client)
    cookie_before = oauth_client.get_cookie("session").value  # still holding the request token
    callback = at_the_wiki(authorize_url)
    assert back_at(oauth_client, callback).status_code == 302
    oauth_client.post("/logout", data={"csrf_token": csrf_token(oauth_client, "/api/docs")})
    session.execute(User.__table__.delete())
    session.commit()

    # The same browser again: its session no longer holds the request token.
    assert back_at(oauth_client, callback).status_code == 400
    # A browser that replays the whole session as it was: the wiki refuses the spent verifier.
    replayer = create_app(oauth_settings).test_client()
    replayer.set_cookie("session", cookie_before)
    response = back_at(replayer, callback)
    assert response.status_code == 403
    assert_not_logged_in(replayer, session)


def test_an_identity_from_another_issuer_is_refused(oauth_client, wiki, session):
    wiki.issuer = "https://evil.example.org"

    response = log_in_with_wikimedia(oauth_client)

    assert response.status_code == 403
    assert_not_logged_in(oauth_client, session)


def test_an_expired_identity_is_refused(oauth_client, wiki, session):
    wiki.identity_lifetime = -120

    response = log_in_with_wikimedia(oauth_client)

    assert response.status_code == 403
    assert_not_logged_in(oauth_client, session)


def test_an_identity_signed_with_another_secret_is_refused(oauth_client, wiki, session):
    wiki.signing_secret = "not-the-consumer-secret-but-as-long-as-one"

    response = log_in_with_wikimedia(oauth_client)

    assert response.status_code == 403
    assert_not_logged_in(oauth_client, session)


def test_a_consumer_the_wiki_does_not_know_gets_a_clear_page(settings, wiki, session):
    app = create_app(dataclasses.replace(settings, oauth_url=wiki.index_url, oauth_key=wiki.consumer_key,
                                         oauth_secret="not-the-consumer-secret"))
    client = app.test_client()

    response = client.post("/login", data={"csrf_token": csrf_token(client, "/login")})

    assert response.status_code == 502
    assert "refused to start the login" in response.get_data(as_text=True)
    assert_not_logged_in(client, session)


def test_a_blocked_account_is_refused_with_a_clear_message(oauth_client, wiki, session):
    wiki.wiki_user = dataclasses.replace(wiki.wiki_user, blocked=True)

    response = log_in_with_wikimedia(oauth_client)

    assert response.status_code == 403
    assert "is blocked on Wikimedia" in response.get_data(as_text=True)
    assert_not_logged_in(oauth_client, session)


def test_an_unreachable_wiki_is_said(settings, session):
    app = create_app(dataclasses.replace(settings, oauth_url="http://127.0.0.1:9/w/index.php", oauth_key="k",
                                         oauth_secret="s"))
    client = app.test_client()

    response = client.post("/login", data={"csrf_token": csrf_token(client, "/login")})

    assert response.status_code == 502
    assert "could not be reached" in response.get_data(as_text=True)


# --- Around the login ------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["//evil.example.org/x", "https://evil.example.org/", "/\\evil.example.org"])
def test_no_redirect_off_the_site_after_login(oauth_client, target):
    response = log_in_with_wikimedia(oauth_client, next=target)

    assert response.headers["Location"] == "/"


def test_pages_send_anonymous_visitors_to_the_login_and_back(oauth_client, contest):
    response = oauth_client.get(f"/contests/{contest.slug}/entries?show=gone")

    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")
    page = oauth_client.get(login_url).get_data(as_text=True)
    assert "Log in with Wikimedia" in page
    assert f'value="/contests/{contest.slug}/entries?show=gone"' in page


def test_the_login_button_needs_its_csrf_token(oauth_client, wiki):
    response = oauth_client.post("/login")

    assert response.status_code == 400
    assert wiki.requests == []


def test_logging_out(oauth_client):
    log_in_with_wikimedia(oauth_client)
    assert oauth_client.get("/logout").status_code == 405  # a link elsewhere cannot log people out

    page = oauth_client.get("/api/docs").get_data(as_text=True)
    assert "Log out" in page and "Alice" in page
    response = oauth_client.post("/logout", data={"csrf_token": csrf_token(oauth_client, "/api/docs")})

    assert response.status_code == 302
    assert logged_in_as(oauth_client) is None


def test_me_without_a_login_is_a_json_401(oauth_client):
    response = oauth_client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.get_json()["status"] == 401


def test_with_wikimedia_login_there_is_no_local_mode(oauth_client, session):
    page = oauth_client.get("/login").get_data(as_text=True)
    assert "Local mode" not in page

    oauth_client.post("/login", data={"csrf_token": csrf_token(oauth_client, "/login"), "username": "Mallory"})

    assert logged_in_as(oauth_client) is None


# --- Local mode ------------------------------------------------------------------------------------


def local_login(client, username="Local Tester", **environ):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"csrf_token": token, "username": username}, environ_overrides=environ)


def test_local_mode_logs_in_by_name_on_loopback_and_says_so_on_every_page(anonymous_client, contest):
    response = local_login(anonymous_client, "local_tester")

    assert response.status_code == 302
    assert logged_in_as(anonymous_client) == "Local tester"
    for url in ("/", "/api/docs"):
        assert "Local mode: anyone on this machine can log in" in anonymous_client.get(url).get_data(as_text=True)


def test_local_mode_refuses_a_server_listening_beyond_loopback(anonymous_client, session):
    page = anonymous_client.get("/login", environ_overrides={"SERVER_NAME": "0.0.0.0"})
    assert page.status_code == 403

    response = local_login(anonymous_client, SERVER_NAME="0.0.0.0")

    assert response.status_code == 403
    assert "loopback address (127.0.0.1)" in response.get_data(as_text=True)
    assert logged_in_as(anonymous_client) is None
    assert users(session) == []


def test_local_mode_refuses_a_visitor_from_elsewhere(anonymous_client, session):
    response = local_login(anonymous_client, REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 403
    assert logged_in_as(anonymous_client) is None
    assert users(session) == []


def test_local_mode_refuses_a_bad_username(anonymous_client, session):
    response = local_login(anonymous_client, "a|b")

    assert response.status_code == 400
    assert "cannot be a Wikimedia username" in response.get_data(as_text=True)
    assert users(session) == []


@pytest.mark.parametrize("host, allowed", [("127.0.0.1", True), ("0.0.0.0", False)])
def test_local_mode_behind_a_real_server_socket(app, session, host, allowed):
    """Through a real werkzeug server: SERVER_NAME is the address it listens on."""
    server = make_server(host, 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        browser = requests.Session()
        base = f"http://127.0.0.1:{server.server_port}"
        page = browser.get(f"{base}/login", timeout=10)
        assert page.status_code == (200 if allowed else 403)
        if allowed:
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
            browser.post(f"{base}/login", data={"csrf_token": token, "username": "Socket"}, timeout=10)
            assert browser.get(f"{base}/api/v1/me", timeout=10).json()["username"] == "Socket"
    finally:
        server.shutdown()
        server.server_close()


def test_production_never_runs_in_local_mode():
    with pytest.raises(ConfigError, match="WLE_ENV=production needs Wikimedia login"):
        Settings(env="production")
    with pytest.raises(ConfigError, match="WLE_ENV=production"):
        Settings.from_env({"WLE_ENV": "production"})
    assert not Settings(env="production", oauth_key="k", oauth_secret="s", contact="me@example.org").local_mode


def test_half_a_consumer_or_no_contact_is_refused_at_startup():
    with pytest.raises(ConfigError, match="both WLE_OAUTH_KEY and WLE_OAUTH_SECRET"):
        Settings(oauth_key="k")
    with pytest.raises(ConfigError, match="WLE_CONTACT"):
        Settings(oauth_key="k", oauth_secret="s")
