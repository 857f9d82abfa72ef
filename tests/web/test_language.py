"""The interface language: chosen from the user's setting, the session, the browser, or English;
changed with the switcher in every page's header; dates and numbers written the language's way."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from wle.models import User

from tests.web.conftest import csrf_token, log_in, make_entry

# The login page's heading in each language (the tests' app has no OAuth: local mode), and its <html lang>.
LOGIN_PAGE = {
    "en": ("en", "Log in (local mode)"),
    "kk": ("kk", "Кіру (жергілікті режим)"),
    "kk-Latn": ("kk-Latn", "Kıru (jergılıktı rejim)"),
    "ru": ("ru", "Вход (локальный режим)"),
}


def html_of(response) -> str:
    return response.get_data(as_text=True)


def page_language(html: str) -> str:
    return re.search(r'<html lang="([^"]+)">', html).group(1)


def choose(client, language: str, next_url: str = "/login", form_page: str = "/login"):
    """Send the header's switcher, as from ``form_page``."""
    token = csrf_token(client, form_page)
    return client.post("/language", data={"csrf_token": token, "language": language, "next": next_url})


@pytest.mark.parametrize("accept, expected", [
    ("kk", "kk"),
    ("kk-KZ,kk;q=0.9,ru;q=0.8", "kk"),  # a Kazakh browser names its country too
    ("kk-Latn", "kk-Latn"),
    ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
    ("fr-FR,de;q=0.5", "en"),  # nothing we speak: English
    ("", "en"),
])
def test_a_page_speaks_the_browsers_language(anonymous_client, accept, expected):
    html = html_of(anonymous_client.get("/login", headers={"Accept-Language": accept}))

    tag, word = LOGIN_PAGE[expected]
    assert page_language(html) == tag
    assert word in html


def test_an_anonymous_visitors_choice_stays_for_the_session(anonymous_client):
    response = choose(anonymous_client, "ru", next_url="/login?next=%2F")

    assert response.status_code == 302 and response.headers["Location"] == "/login?next=%2F"
    html = html_of(anonymous_client.get("/login", headers={"Accept-Language": "kk"}))
    assert page_language(html) == "ru" and LOGIN_PAGE["ru"][1] in html  # the choice beats the browser


def test_a_logged_in_users_choice_is_saved_in_their_profile(app, client, admin, session):
    assert choose(client, "kk", next_url="/", form_page="/").headers["Location"] == "/"

    session.expire_all()
    assert session.scalar(select(User.language).where(User.id == admin.id)) == "kk"
    # Another browser, which prefers Russian: the user's own choice wins.
    elsewhere = log_in(app.test_client(), admin)
    html = html_of(elsewhere.get("/", headers={"Accept-Language": "ru"}))
    assert page_language(html) == "kk" and "Байқаулар" in html


def test_the_users_setting_beats_the_sessions(app, admin, session):
    admin.language = "kk@latin"
    session.commit()
    visitor = log_in(app.test_client(), admin)
    with visitor.session_transaction() as browser_session:
        browser_session["language"] = "ru"  # chosen in this browser before

    html = html_of(visitor.get("/", headers={"Accept-Language": "en"}))

    assert page_language(html) == "kk-Latn" and "Baiqaular" in html


@pytest.mark.parametrize("language", ["fr", "", "kk_Latn", "../../etc"])
def test_an_unknown_language_is_refused_and_nothing_changes(anonymous_client, language):
    response = choose(anonymous_client, language)

    assert response.status_code == 400
    assert "Choose one of the languages offered." in html_of(response)
    with anonymous_client.session_transaction() as browser_session:
        assert "language" not in browser_session


def test_the_switch_needs_the_forms_csrf_token(anonymous_client):
    response = anonymous_client.post("/language", data={"language": "ru", "next": "/login"})

    assert response.status_code == 400
    with anonymous_client.session_transaction() as browser_session:
        assert "language" not in browser_session


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "/\\evil.example", ""])
def test_the_switch_goes_back_only_to_a_page_of_this_site(anonymous_client, next_url):
    response = choose(anonymous_client, "kk", next_url=next_url)

    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("url, logged_in", [("/login", False), ("/", True), ("/no/such/page", True)])
def test_every_page_has_the_switcher_with_the_current_language_selected(app, admin, url, logged_in):
    client = log_in(app.test_client(), admin) if logged_in else app.test_client()
    html = html_of(client.get(url, headers={"Accept-Language": "ru"}))

    form = re.search(r'<form method="post" action="/language".*?</form>', html, re.S).group(0)
    assert 'name="csrf_token"' in form
    options = re.findall(r'<option value="([^"]+)" lang="([^"]+)"( selected)?>([^<]+)</option>', form)
    assert [(code, tag, name) for code, tag, _selected, name in options] == [
        ("en", "en", "English"), ("kk", "kk", "Қазақша"), ("kk@latin", "kk-Latn", "Qazaqşa"), ("ru", "ru", "Русский"),
    ]
    assert [code for code, _tag, selected, _name in options if selected] == ["ru"]
    assert "onchange" not in form and "<script" not in form  # js/language.js sends it; no inline script


def test_the_switcher_brings_a_404_back_to_a_real_page(app, admin):
    html = html_of(log_in(app.test_client(), admin).get("/no/such/page"))

    assert 'name="next"' not in html  # an address that matched nothing is not echoed back


@pytest.mark.parametrize("accept, window, size", [
    ("en", "Jun 15, 2025, 12:00:00\u202fAM", "5,123,456 bytes"),
    ("ru", "15 июн. 2025\u202fг., 00:00:00", "5\xa0123\xa0456 байт"),
    ("kk", "2025\u202fж. 15 мау., 00:00:00", "5\xa0123\xa0456 байт"),
    ("kk-Latn", "2025\u202fж. 15 мау., 00:00:00", "5\xa0123\xa0456 bait"),  # CLDR has no Latin-script dates
])
def test_dates_and_numbers_are_written_the_languages_way(client, session, contest, accept, window, size):
    entry = make_entry(session, contest, size=5_123_456)
    session.commit()

    contest_page = html_of(client.get(f"/contests/{contest.slug}", headers={"Accept-Language": accept}))
    entry_page = html_of(client.get(f"/contests/{contest.slug}/entries/{entry.pageid}",
                                    headers={"Accept-Language": accept}))
    assert window in contest_page  # the upload window's start, in the contest's time zone
    assert size in entry_page


def test_an_error_page_speaks_the_browsers_language_when_the_database_is_down(make_app, admin, tmp_path):
    app = make_app(database_url=f"sqlite:///{tmp_path}/missing/dir/wle.sqlite3")  # cannot be opened
    app.config.update(PROPAGATE_EXCEPTIONS=False)
    client = log_in(app.test_client(), admin)  # the session names a user the database cannot load

    response = client.get("/", headers={"Accept-Language": "kk"})

    assert response.status_code == 500
    assert "Бірдеңе дұрыс болмады" in html_of(response)  # "Something went wrong", in Kazakh
