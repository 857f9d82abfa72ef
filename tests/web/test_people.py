"""The people pages: admins name organizers, organizers read their contest's audit log, the site
admins' page; and the audit lines the contest pages write."""

from __future__ import annotations

from sqlalchemy import select

from wle.auth import add_organizer
from jobs.runner import wait_for_local_jobs
from wle.models import AuditLog, Contest, SyncRun, User

from tests.web.conftest import csrf_token, log_in


def log_of(session, contest_id=None) -> list[tuple[str, str]]:
    session.rollback()
    return [(line.actor_name, line.action) for line in
            session.scalars(select(AuditLog).where(AuditLog.contest_id.is_(contest_id)
                                                   if contest_id is None else AuditLog.contest_id == contest_id)
                            .order_by(AuditLog.id))]


def test_an_admin_names_an_organizer_who_then_runs_the_contest(app, client, session, contest):
    url = f"/contests/{contest.slug}/people"

    response = client.post(url, data={"csrf_token": csrf_token(client, url), "username": "new_organizer"},
                           follow_redirects=True)

    assert "New organizer is an organizer of this contest." in response.get_data(as_text=True)
    assert log_of(session, contest.id) == [("Site Admin", "organizer.add")]
    organizer = session.scalar(select(User).where(User.username == "New organizer"))
    assert organizer.wiki_sub is None  # added by name, before they ever logged in
    as_organizer = log_in(app.test_client(), organizer)
    assert as_organizer.get(f"/contests/{contest.slug}").status_code == 200
    page = as_organizer.get(url).get_data(as_text=True)
    assert "New organizer" in page and "Add an organizer" not in page  # organizers do not name organizers


def test_an_admin_removes_an_organizer(client, session, contest, admin):
    add_organizer(session, contest, "Org", actor=admin)
    session.commit()
    url = f"/contests/{contest.slug}/people"

    client.post(f"{url}/remove", data={"csrf_token": csrf_token(client, url), "username": "Org"})

    assert log_of(session, contest.id) == [("Site Admin", "organizer.add"), ("Site Admin", "organizer.remove")]
    assert "No organizers yet." in client.get(url).get_data(as_text=True)


def test_a_bad_username_is_said_and_nothing_is_added(client, session, contest):
    url = f"/contests/{contest.slug}/people"

    response = client.post(url, data={"csrf_token": csrf_token(client, url), "username": "x]]"})

    assert response.status_code == 400
    assert "cannot be a Wikimedia username" in response.get_data(as_text=True)
    assert log_of(session, contest.id) == []


def test_organizers_read_their_contests_log_with_who_what_when(app, client, session, admin):
    url = "/contests/new"
    client.post(url, data={
        "csrf_token": csrf_token(client, url), "slug": "wle-web", "name": "Made on the web",
        "categories": "Images from WLE", "starts_on": "2025-06-01", "ends_on": "2025-06-30",
        "timezone": "Asia/Almaty", "min_megapixels": "2",
    })
    contest = session.scalar(select(Contest).where(Contest.slug == "wle-web"))
    add_organizer(session, contest, "Org", actor=admin)
    session.commit()
    organizer = log_in(app.test_client(), session.scalar(select(User).where(User.username == "Org")))

    html = organizer.get("/contests/wle-web/log").get_data(as_text=True)

    assert log_of(session, contest.id) == [("Site Admin", "contest.create"), ("Site Admin", "organizer.add")]
    assert "Created the contest “Made on the web”." in html and "Made Org an organizer of the contest." in html
    assert "Site Admin" in html and "Commons categories:</span> Images from WLE" in html
    assert "contest.create" not in html and "user_id" not in html  # words, not codes


def test_starting_a_sync_is_logged_with_the_user(client, session, contest, monkeypatch):
    monkeypatch.setattr("wle.commons.BACKOFF_BASE", 0.0)  # the dead API fails at once
    url = f"/contests/{contest.slug}"

    client.post(f"{url}/sync", data={"csrf_token": csrf_token(client, url)})
    wait_for_local_jobs(timeout=60)

    assert ("Site Admin", "sync.start") in log_of(session, contest.id)
    assert session.scalar(select(SyncRun.started_by)) == "Site Admin"


def test_the_site_admins_page(client, session):
    response = client.post("/admin", data={"csrf_token": csrf_token(client, "/admin"), "username": "Second"},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Second is a site admin." in html and "Site Admin" in html

    client.post("/admin/remove", data={"csrf_token": csrf_token(client, "/admin"), "username": "Second"})

    assert log_of(session) == [("Site Admin", "admin.add"), ("Site Admin", "admin.remove")]
    html = client.get("/admin").get_data(as_text=True)
    assert "Removed Second from the site admins." in html  # the site's own log, in words


def test_the_audit_log_reads_as_sentences_with_readable_details(app, session, contest, admin):
    from wle.audit import record
    from wle.audit_text import describe_lines
    from tests.web.conftest import make_entry

    first, second = make_entry(session, contest), make_entry(session, contest)
    record(session, admin, "winners.set", contest_id=contest.id, before=[], after=[[1, first.id], [2, second.id]])
    record(session, admin, "round.update", contest_id=contest.id, round=1,
           before={"kind": "rating", "quorum": 2, "name": "Round 1", "rank_top": None},
           after={"kind": "rating", "quorum": 3, "name": "Round 1", "rank_top": None})
    record(session, admin, "entry.disqualify", contest_id=contest.id, pageid=first.pageid, title=first.title,
           note="A city park", reasons=[], decision_before=None, eligible=False)
    record(session, admin, "something.new", contest_id=contest.id, count=3)
    session.commit()

    with app.test_request_context():
        lines = {d.line.action: d for d in describe_lines(session, session.scalars(select(AuditLog)).all())}

    chosen = lines["winners.set"]
    assert chosen.sentence == "Saved the winners list."
    assert chosen.details == [("Before", "—"), ("After", f"1. {first.file_name}; 2. {second.file_name}")]
    assert lines["round.update"].sentence == "Changed the settings of round 1."
    assert lines["round.update"].details == [("Quorum", "2 → 3")]  # only what changed, no "None"
    disqualified = lines["entry.disqualify"]
    assert disqualified.sentence == f"Disqualified “{first.file_name}” by hand."
    assert ("Note", "A city park") in disqualified.details and ("Eligible now", "no") in disqualified.details
    assert all("None" not in value and "[" not in value for _label, value in disqualified.details)
    assert lines["something.new"].sentence == "something.new" and lines["something.new"].details == [("count", "3")]
