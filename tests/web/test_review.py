"""The review page: flagged entries by reason, decisions by hand, rule settings with a preview, the
site list's import; only for the contest's organizers; garbage in, clear errors out."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from wle.eligibility import check_contest, load_settings
from wle.models import AuditLog, ContestRole, User
from wle.models.rules import EntryCheck, Site

from tests.web.conftest import csrf_token, log_in, make_entry


@pytest.fixture
def flagged(session, contest):
    """Three entries: one too small, one without a licence, one fine; checked."""
    small = make_entry(session, contest, width=1000, height=1000, credit="Own work")
    unlicensed = make_entry(session, contest, license=None, credit="Own work")
    fine = make_entry(session, contest, credit="Own work")
    check_contest(session, contest)
    session.commit()
    return small, unlicensed, fine


def review_url(contest, **query) -> str:
    suffix = "&".join(f"{key}={value}" for key, value in query.items())
    return f"/contests/{contest.slug}/review" + (f"?{suffix}" if suffix else "")


def text(response) -> str:
    return response.get_data(as_text=True)


# --- Who may see it ---------------------------------------------------------------------------


def test_only_organizers_and_admins_see_the_review(app, session, contest, anonymous_client):
    assert anonymous_client.get(review_url(contest)).status_code == 302  # to the login page
    someone = User(username="Someone")
    organizer = User(username="Organizer")
    session.add_all([someone, organizer])
    session.flush()
    session.add(ContestRole(contest_id=contest.id, user_id=organizer.id, role="organizer"))
    session.commit()
    assert log_in(app.test_client(), someone).get(review_url(contest)).status_code == 403
    stranger = log_in(app.test_client(), someone)
    token = csrf_token(stranger, "/")
    assert stranger.post(f"/contests/{contest.slug}/review/check", data={"csrf_token": token}).status_code == 403
    assert log_in(app.test_client(), organizer).get(review_url(contest)).status_code == 200


def test_the_contest_page_links_to_the_review(client, contest):
    assert f'href="/contests/{contest.slug}/review"' in text(client.get(f"/contests/{contest.slug}"))


# --- The flagged entries --------------------------------------------------------------------------


def test_a_size_just_below_the_minimum_is_shown_with_the_digits_that_make_it_true(client, session, contest):
    make_entry(session, contest, width=1920, height=1040, credit="Own work")
    check_contest(session, contest)
    session.commit()
    assert "1,920 × 1,040 px is 1.997 megapixels; the minimum is 2." in text(client.get(review_url(contest)))


def test_flagged_entries_are_grouped_by_reason_with_the_file_data(client, contest, flagged):
    small, unlicensed, fine = flagged
    page = text(client.get(review_url(contest)))
    assert "Too small" in page and "Licence not allowed" in page
    assert f'id="entry-{small.pageid}"' in page and f'id="entry-{unlicensed.pageid}"' in page
    assert f'id="entry-{fine.pageid}"' not in page
    assert "1,000 × 1,000 px is 1 megapixels; the minimum is 2." in page
    assert "Commons gives no licence for this file." in page
    only_small = text(client.get(review_url(contest, reason="too_small")))
    assert f'id="entry-{small.pageid}"' in only_small and f'id="entry-{unlicensed.pageid}"' not in only_small
    bad = client.get(review_url(contest, reason="nonsense"))
    assert bad.status_code == 400 and "Unknown group nonsense" in text(bad)


def test_an_organizer_disqualifies_and_requalifies_with_a_note(client, session, contest, flagged):
    small, _unlicensed, fine = flagged
    token = csrf_token(client, review_url(contest))
    response = client.post(f"/contests/{contest.slug}/review/entries/{fine.pageid}",
                           data={"csrf_token": token, "action": "disqualify", "note": "Shows a city park."})
    assert response.status_code == 303 and f"#entry-{fine.pageid}" in response.headers["Location"]
    decided = text(client.get(review_url(contest, reason="decided")))
    assert "Disqualified by Site Admin" in decided and "Shows a city park." in decided
    assert f"“{fine.title.removeprefix('File:')}” was disqualified." in decided  # named by its file
    client.post(f"/contests/{contest.slug}/review/entries/{small.pageid}",
                data={"csrf_token": token, "action": "requalify", "note": "Panorama: the original is larger."})
    session.expire_all()
    assert (session.get(EntryCheck, fine.id).eligible, session.get(EntryCheck, small.id).eligible) == (False, True)
    lines = session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(line.action, line.actor_name) for line in lines] == [
        ("entry.disqualify", "Site Admin"), ("entry.requalify", "Site Admin")]


@pytest.mark.parametrize("form, message", [
    ({"action": "explode", "note": "why"}, "Unknown action explode"),
    ({"action": "disqualify", "note": "  "}, "Write a note"),
    ({"action": "disqualify"}, "Write a note"),
    ({"action": "disqualify", "note": "x" * 2001}, "Field cannot be longer than 2000 characters."),
    ({"action": "disqualify", "note": "a\x00b"}, "control characters"),
])
def test_garbage_decisions_get_clear_errors_and_change_nothing(client, session, contest, flagged, form, message):
    fine = flagged[2]
    token = csrf_token(client, review_url(contest))
    response = client.post(f"/contests/{contest.slug}/review/entries/{fine.pageid}",
                           data={"csrf_token": token, **form})
    assert response.status_code == 400 and message in text(response)
    session.expire_all()
    assert session.get(EntryCheck, fine.id).decision is None
    assert session.scalars(select(AuditLog)).all() == []


def test_decisions_need_the_csrf_token_and_a_real_entry(client, contest, flagged):
    url = f"/contests/{contest.slug}/review/entries/{flagged[2].pageid}"
    assert client.post(url, data={"action": "disqualify", "note": "x"}).status_code == 400
    token = csrf_token(client, review_url(contest))
    missing = client.post(f"/contests/{contest.slug}/review/entries/424242",
                          data={"csrf_token": token, "action": "disqualify", "note": "x"})
    assert missing.status_code == 400 and "no entry with the page id 424242" in text(missing)


def test_check_now_reports_what_changed(client, session, contest):
    make_entry(session, contest, width=10, height=10)
    session.commit()
    token = csrf_token(client, review_url(contest))
    response = client.post(f"/contests/{contest.slug}/review/check", data={"csrf_token": token},
                           follow_redirects=True)
    assert "1 entry checked; 1 breaks a rule" in text(response)


def test_reading_file_pages_is_refused_without_an_operator_contact(make_app, admin, contest):
    client = log_in(make_app(contact="").test_client(), admin)
    token = csrf_token(client, review_url(contest))
    response = client.post(f"/contests/{contest.slug}/review/file-pages", data={"csrf_token": token},
                           follow_redirects=True)
    assert "switched off until the operator sets WLE_CONTACT" in text(response)


# --- Rule settings ----------------------------------------------------------------------------------


def rules_form(token: str, **changes) -> dict:
    form = {"csrf_token": token, "window": "y", "min_size": "y", "file_type": "y", "licence": "y",
            "own_work": "y", "duplicate": "y", "near_duplicate": "y", "min_megapixels": "2",
            "file_types": "image/jpeg\nimage/png", "licences": "CC BY-SA 4.0\nCC BY 4.0\nCC0",
            "site_template": "", "site_pattern": r"[\w./-]+", "near_duplicate_distance": "4"}
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def test_the_settings_form_shows_the_current_settings(client, contest):
    page = text(client.get(f"/contests/{contest.slug}/review/rules"))
    assert 'name="min_megapixels"' in page and 'value="2.0"' in page
    assert re.search(r'name="window"[^>]*checked|checked[^>]*name="window"', page)
    assert "CC BY-SA 4.0" in page


def test_a_preview_shows_the_effect_and_saves_nothing(client, session, contest, flagged):
    url = f"/contests/{contest.slug}/review/rules"
    token = csrf_token(client, url)
    response = client.post(url, data=rules_form(token, min_megapixels="13", preview="Preview"))
    assert response.status_code == 200
    page = text(response)
    assert "Preview: what these settings would change" in page
    assert '<dd data-report="newly_failing">1</dd>' in page  # the 12 Mpx entry; the unlicensed one fails already
    session.expire_all()
    assert load_settings(session, contest).min_megapixels == 2.0
    assert session.scalars(select(AuditLog)).all() == []


def test_saving_the_settings_checks_again_and_is_audited(client, session, contest, flagged):
    url = f"/contests/{contest.slug}/review/rules"
    token = csrf_token(client, url)
    response = client.post(url, data=rules_form(token, licence=None, save="Save"), follow_redirects=True)
    assert "The rules were saved." in text(response) and "1 newly passes" in text(response)
    session.expire_all()
    saved = load_settings(session, contest)
    assert not saved.on("licence") and saved.file_types == ("image/jpeg", "image/png")
    assert session.scalars(select(AuditLog.action)).all() == ["rules.update"]


@pytest.mark.parametrize("changes, message", [
    ({"min_megapixels": "abc"}, "The minimum size must be a number"),
    ({"min_megapixels": ""}, "Give the minimum size in megapixels"),
    ({"near_duplicate_distance": "four"}, "Give a whole number from 0 to 8."),
    ({"near_duplicate_distance": "99"}, "The near-duplicate distance must be a whole number from 0 to 8."),
    ({"site_pattern": "KZ-("}, "not a valid regular expression"),
    ({"site_id": "y", "site_template": ""}, "Name the template that holds the site ID"),
    ({"file_types": "jpeg"}, "Not a file type (such as image/jpeg): jpeg."),
    ({"licences": ""}, "Give between 1 and 100 licences"),
    ({"site_template": "a\x01b"}, "control characters"),
])
def test_garbage_settings_get_clear_errors_and_save_nothing(client, session, contest, changes, message):
    url = f"/contests/{contest.slug}/review/rules"
    token = csrf_token(client, url)
    for button in ({"preview": "Preview"}, {"save": "Save"}):
        response = client.post(url, data=rules_form(token, **changes, **button))
        assert response.status_code == 400 and message in text(response)
    session.expire_all()
    assert session.scalars(select(AuditLog)).all() == []


# --- The site list ------------------------------------------------------------------------------------


def upload(client, contest, data: bytes, name="sites.csv"):
    url = f"/contests/{contest.slug}/review/sites"
    token = csrf_token(client, url)
    return client.post(url, data={"csrf_token": token, "csv_file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_site_list_import_reports_bad_rows(client, session, contest):
    response = upload(client, contest, "ID,Name,Region,Lat,Lon\nA-1,Көл,North,43,77\nA-2,Hill,South,x,77\n"
                                        "A-1,Again,North,,\n".encode())
    assert response.status_code == 200
    page = text(response)
    assert '<dd data-report="added">1</dd>' in page and '<dd data-report="bad">2</dd>' in page
    assert "x is not a coordinate in degrees" in page and "the ID A-1 is on line 2 already" in page
    assert [site.name for site in session.scalars(select(Site))] == ["Көл"]
    assert session.scalars(select(AuditLog.action)).all() == ["sites.import"]


@pytest.mark.parametrize("data, message", [
    (b"Just,Some,Columns\n1,2,3\n", "missing: id, name, region"),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not UTF-8"),
    (b"", "empty"),
])
def test_files_that_are_no_site_list_are_refused_clearly(client, session, contest, data, message):
    response = upload(client, contest, data)
    assert response.status_code == 400 and message in text(response)
    assert session.scalars(select(Site)).all() == []


def test_the_import_form_needs_a_file(client, contest):
    url = f"/contests/{contest.slug}/review/sites"
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 400 and "Choose a CSV file." in text(response)
