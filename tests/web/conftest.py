"""Fixtures for the web pages, on top of the shared ones (settings, app, client, session).

Contests go through ``create_contest``; entries are made directly through the model, since a
sync would need Commons. ``client`` is logged in as a site admin; ``anonymous_client`` is not,
and ``log_in(client, user)`` logs any test client in as anyone.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from datetime import datetime, timedelta, timezone
from itertools import count

import pytest

from wle.app import create_app
from wle.models import Entry, User

from tests.factories import make_contest

_pageids = count(1000)


@pytest.fixture
def make_app(settings):
    """The app with some settings changed (no contact, a Redis that is not there...)."""

    def make(**changes):
        app = create_app(dataclasses.replace(settings, **changes))
        app.config.update(TESTING=True)
        return app

    return make


@pytest.fixture
def admin(session) -> User:
    """A site admin who has logged in with Wikimedia before."""
    user = User(username="Site Admin", wiki_sub="1000001", is_admin=True)
    session.add(user)
    session.commit()
    return user


def log_in(client, user: User):
    """Log the test client in as ``user``, as a completed login leaves the session."""
    with client.session_transaction() as browser_session:
        browser_session.clear()
        browser_session["_user_id"] = str(user.id)
        browser_session["_fresh"] = True
    return client


@pytest.fixture
def client(app, admin):
    return log_in(app.test_client(), admin)


@pytest.fixture
def anonymous_client(app):
    return app.test_client()


@pytest.fixture
def contest(session):
    return make_contest(session)


def make_entry(session, contest, **overrides) -> Entry:
    """An entry with every required column set; ``overrides`` change any of them."""
    pageid = overrides.pop("pageid", None) or next(_pageids)
    uploaded = overrides.pop("uploaded_at", datetime(2025, 6, 20, 8, 0, tzinfo=timezone.utc))
    values = dict(
        contest_id=contest.id,
        pageid=pageid,
        title=f"File:Nature {pageid}.jpg",
        uploader="Photographer",
        uploaded_at=uploaded,
        last_uploaded_at=uploaded,
        width=4000,
        height=3000,
        size=5_123_456,
        mime="image/jpeg",
        sha1=secrets.token_hex(20),
        license="CC BY-SA 4.0",
        license_url="https://creativecommons.org/licenses/by-sa/4.0",
        description="A lake in the mountains.",
        categories=["Lakes of Kazakhstan"],
        file_url=f"https://upload.wikimedia.org/wikipedia/commons/a/ab/Nature_{pageid}.jpg",
        page_url=f"https://commons.wikimedia.org/wiki/File:Nature_{pageid}.jpg",
        thumb_key=secrets.token_hex(16),
    )
    values.update(overrides)
    entry = Entry(**values)
    session.add(entry)
    session.flush()
    return entry


def make_entries(session, contest, n: int, **overrides) -> list[Entry]:
    """``n`` entries uploaded a minute apart, the first one the oldest."""
    start = datetime(2025, 6, 20, tzinfo=timezone.utc)
    return [make_entry(session, contest, uploaded_at=start + timedelta(minutes=i), **overrides) for i in range(n)]


def csrf_token(client, url: str = "/contests/new") -> str:
    """The CSRF token of a form page, as a browser sends it back."""
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)
