"""The contest list, the new-contest form and the contest page."""

from __future__ import annotations

from datetime import date

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from wle.models import Contest, SyncRun
from wle.models.entry import THUMB_DONE, THUMB_FAILED

from tests.factories import utc
from tests.web.conftest import csrf_token, make_entries, make_entry


def contest_count(session) -> int:
    session.rollback()  # see what the app committed
    return session.scalar(select(func.count()).select_from(Contest))


# --- The list -------------------------------------------------------------------------------


def test_the_list_without_contests_invites_to_create_one(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "No contest yet" in response.get_data(as_text=True)


def test_the_list_shows_each_contest_with_its_entries_and_last_sync(client, session, contest):
    make_entries(session, contest, 3)
    make_entry(session, contest, gone_at=utc(2025, 7, 1), gone_reason="deleted")
    session.add(SyncRun(contest_id=contest.id, started_by="Alice", state="failed", error="boom"))
    session.commit()

    html = client.get("/").get_data(as_text=True)

    assert contest.name in html
    assert "Images from Wiki Loves Earth 2025 in Kazakhstan" in html
    assert 'class="num">3</td>' in html  # the gone entry is not counted
    assert "state-failed" in html
    assert "Asia/Almaty" in html


# --- Creating a contest ---------------------------------------------------------------------


def valid_form(token: str, **changes) -> dict:
    form = dict(
        csrf_token=token,
        slug="wle-2025-ru",
        name="Wiki Loves Earth 2025 in Russia",
        categories="Category:Images_from_Wiki_Loves_Earth_2025_in_Russia\n\nImages from WLE 2025 in Russia (extra)",
        starts_on="2025-05-01",
        ends_on="2025-05-31",
        timezone="Europe/Moscow",
        min_megapixels="2.5",
    )
    form.update(changes)
    return form


def test_the_form_renders_with_its_defaults(client):
    response = client.get("/contests/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count('type="date"') == 2 and html.count('type="time"') == 2
    assert '<option selected value="UTC">UTC (UTC+00:00)</option>' in html  # until the browser's zone is chosen
    assert '<option value="Asia/Almaty">Asia/Almaty (UTC+05:00)</option>' in html
    assert 'data-browser-zone="yes"' in html and "js/contest-form.js" in html
    assert f"wle-{date.today().year}-kz" in html  # the examples say this year
    assert '<option selected value="en">English</option>' in html


def test_the_window_takes_optional_times_and_a_language(client, session):
    form = valid_form(csrf_token(client), starts_time="09:30", ends_time="18:00", language="kk")
    assert client.post("/contests/new", data=form).status_code == 302
    session.rollback()
    contest = session.scalar(select(Contest).where(Contest.slug == "wle-2025-ru"))
    assert (contest.starts_at, contest.ends_at) == (utc(2025, 5, 1, 6, 30), utc(2025, 5, 31, 15, 0))
    assert contest.language == "kk"


def test_a_valid_form_creates_the_contest(client, session):
    response = client.post("/contests/new", data=valid_form(csrf_token(client)))

    assert response.status_code == 302
    assert response.headers["Location"] == "/contests/wle-2025-ru"
    session.rollback()
    contest = session.scalar(select(Contest).where(Contest.slug == "wle-2025-ru"))
    assert contest.category_names == ["Images from Wiki Loves Earth 2025 in Russia", "Images from WLE 2025 in Russia (extra)"]
    assert contest.starts_at == utc(2025, 4, 30, 21, 0)  # midnight in Moscow
    assert contest.ends_at == utc(2025, 5, 31, 21, 0)  # the last day counts whole: up to the next midnight
    assert contest.min_megapixels == 2.5 and contest.language == "en"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "was created" in page


@pytest.mark.parametrize("changes, message", [
    (dict(slug="Bad Slug!"), "The slug must be"),
    (dict(slug="wle-2025-kz"), "exists already"),
    (dict(ends_on="2025-04-01"), "must end after it starts"),
    (dict(ends_on="2025-05-01", starts_time="12:00", ends_time="12:00"), "must end after it starts"),
    (dict(timezone="Mars/Olympus_Mons"), "Unknown time zone"),
    (dict(categories="  \n \n"), "Give at least one Commons category"),
    (dict(categories="Foo|bar"), "a character Commons does not allow"),
    (dict(min_megapixels="two"), "must be a number"),
    (dict(min_megapixels="-1"), "between 0 and 1000"),
    (dict(starts_on="next Monday"), f"Give a date such as {date.today().year}-06-15."),
    (dict(ends_time="late"), "Give a time such as 18:00, or leave it empty."),
    (dict(ends_on=""), "Give the last day of the upload window"),
])
def test_each_mistake_is_explained_and_what_was_typed_is_kept(client, session, contest, changes, message):
    before = contest_count(session)

    response = client.post("/contests/new", data=valid_form(csrf_token(client), **changes))

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert "The contest was not created" in html
    assert contest_count(session) == before
    for name, value in changes.items():
        assert str(escape(value.strip())) in html  # shown back, not lost
    if "name" not in changes:
        assert 'value="Wiki Loves Earth 2025 in Russia"' in html


@pytest.mark.parametrize("changes", [
    dict(name="Nul\x00byte"),
    dict(starts_on="0001-01-01"),
    dict(ends_on="9999-12-31"),
    dict(ends_time="25:61"),
    dict(language="xx"),
    dict(min_megapixels="nan"),
    dict(min_megapixels="1e999"),
    dict(slug="a" * 10_000),
    dict(timezone="../../../etc/passwd"),
    dict(timezone="x" * 5_000),
    dict(categories="<script>alert(1)</script>"),
    dict(slug=None, name=None, categories=None, timezone=None, min_megapixels=None),
])
def test_garbage_is_refused_without_an_error_page(client, session, changes):
    data = {k: v for k, v in valid_form(csrf_token(client), **changes).items() if v is not None}

    response = client.post("/contests/new", data=data)

    assert response.status_code == 400
    assert "The contest was not created" in response.get_data(as_text=True)
    assert contest_count(session) == 0


def test_a_form_without_its_csrf_token_is_refused_clearly(client, session):
    form = valid_form("")
    del form["csrf_token"]

    response = client.post("/contests/new", data=form)

    assert response.status_code == 400
    assert "security token is missing or has expired" in response.get_data(as_text=True)
    assert contest_count(session) == 0


def test_a_forged_csrf_token_is_refused(client, session):
    response = client.post("/contests/new", data=valid_form("forged-token"))
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert contest_count(session) == 0


# --- The contest page -----------------------------------------------------------------------


def test_the_contest_page_shows_its_data_and_history(client, session, contest):
    make_entries(session, contest, 4, thumb_state=THUMB_DONE)
    make_entry(session, contest, thumb_state=THUMB_FAILED)
    for i in range(12):
        session.add(SyncRun(contest_id=contest.id, started_by=f"Organizer {i}", state="done", files_seen=100 + i,
                            created_at=utc(2025, 7, 1, 10, i), finished_at=utc(2025, 7, 1, 11, i)))
    session.add(SyncRun(contest_id=contest.id, started_by="Organizer 12", state="failed",
                        error="Commons is unavailable: the last problem: <b>HTTP 503</b>"))
    session.commit()

    response = client.get(f"/contests/{contest.slug}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert contest.name in html and "Asia/Almaty" in html
    assert 'action="/contests/wle-2025-kz/sync"' in html and 'name="csrf_token"' in html
    assert 'data-status-url="/api/v1/contests/wle-2025-kz/status"' in html
    assert '<script src="/static/js/status.js" defer></script>' in html
    # The ten newest runs, newest first, the error escaped.
    assert "Organizer 12" in html and "Organizer 3" in html and "Organizer 2<" not in html
    assert html.index("Organizer 12") < html.index("Organizer 11")
    assert "&lt;b&gt;HTTP 503&lt;/b&gt;" in html
    # Thumbnails: 5 present, 4 done + 1 failed made.
    assert '<progress data-thumbnail-bar max="5" value="5"' in html


def test_the_page_of_an_unknown_contest_is_a_friendly_404(client):
    response = client.get("/contests/no-such-contest")
    assert response.status_code == 404
    assert "There is no such contest" in response.get_data(as_text=True)


def test_the_page_has_no_inline_script_nor_event_handler(client, session, contest):
    make_entries(session, contest, 2)
    session.commit()
    for url in ("/", "/contests/new", f"/contests/{contest.slug}", f"/contests/{contest.slug}/entries"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>" not in html and " onclick=" not in html and " onload=" not in html
        assert "http://" not in html.replace("https://", "")  # no third-party assets


def test_pages_render_in_every_interface_language(client, contest):
    for language in ("kk", "ru", "en"):
        response = client.get(f"/contests/{contest.slug}", headers={"Accept-Language": language})
        assert response.status_code == 200
        assert f'<html lang="{language}">' in response.get_data(as_text=True)


def test_the_style_sheet_and_the_script_are_served_locally(client):
    assert client.get("/static/css/style.css").status_code == 200
    script = client.get("/static/js/status.js")
    assert script.status_code == 200
    assert b"/api/" not in script.data  # the URL comes from the page, not hard-coded
