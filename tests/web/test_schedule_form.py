"""The contest page's automatic-sync setting: shown, changed with an audit line, bad values refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.web.conftest import csrf_token
from wle.models import AuditLog, Contest


def post_interval(client, contest, value, token=True):
    data = {"interval": value}
    if token:
        data["csrf_token"] = csrf_token(client, f"/contests/{contest.slug}")
    return client.post(f"/contests/{contest.slug}/schedule", data=data, follow_redirects=True)


def stored(session, contest) -> tuple[int, list[AuditLog]]:
    session.rollback()
    interval = session.get(Contest, contest.id, populate_existing=True).sync_interval_minutes
    lines = session.scalars(select(AuditLog).where(AuditLog.action == "contest.sync_interval")).all()
    return interval, lines


def test_the_page_shows_the_interval_and_the_grace_period(client, contest):
    html = client.get(f"/contests/{contest.slug}").get_data(as_text=True)
    assert "Automatic sync" in html
    assert '<option selected value="60">Every hour</option>' in html
    assert "The grace period after the upload window is 14 days." in html


def test_an_organizer_changes_it_and_the_change_is_audited(client, session, contest):
    response = post_interval(client, contest, "15")
    assert response.status_code == 200
    assert "Automatic sync: Every 15 minutes." in response.get_data(as_text=True)
    interval, [line] = stored(session, contest)
    assert interval == 15
    assert (line.actor_name, line.contest_id, line.details) == ("Site Admin", contest.id, {"before": 60, "after": 15})

    post_interval(client, contest, "15")  # the same again: nothing changed, nothing logged
    assert len(stored(session, contest)[1]) == 1


def test_switching_it_off_says_no_sync_is_planned(client, session, contest):
    html = post_interval(client, contest, "0").get_data(as_text=True)
    assert "No automatic sync is planned." in html
    assert stored(session, contest)[0] == 0


@pytest.mark.parametrize("value", ["7", "-60", "abc", "", "60; DROP TABLE contests"])
def test_a_value_not_offered_is_refused_and_changes_nothing(client, session, contest, value):
    response = post_interval(client, contest, value)
    assert response.status_code == 400
    assert "Choose one of the offered sync intervals." in response.get_data(as_text=True)
    assert stored(session, contest) == (60, [])


def test_without_the_csrf_token_it_is_refused(client, session, contest):
    response = post_interval(client, contest, "15", token=False)
    assert response.status_code == 400
    assert stored(session, contest) == (60, [])
