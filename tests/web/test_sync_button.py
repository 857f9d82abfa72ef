"""The "Sync now" button, the status JSON the page polls, and the failed jobs shown to organizers."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from jobs.runner import wait_for_local_jobs
from wle.models import SyncRun, utcnow
from wle.models.entry import THUMB_DONE, THUMB_PENDING
from wle.models.sync import FAILED, RUNNING

from tests.web.conftest import csrf_token, log_in, make_entries

DEAD_REDIS = "redis://127.0.0.1:9/0"  # nothing listens on the discard port


def runs(session, contest) -> list[SyncRun]:
    session.rollback()  # see what the app and the jobs committed
    return session.scalars(select(SyncRun).where(SyncRun.contest_id == contest.id).order_by(SyncRun.id)).all()


def press_sync(client, contest):
    token = csrf_token(client, f"/contests/{contest.slug}")
    return client.post(f"/contests/{contest.slug}/sync", data={"csrf_token": token}, follow_redirects=True)


def test_without_an_operator_contact_nothing_is_started(make_app, admin, session, contest):
    client = log_in(make_app(contact="").test_client(), admin)

    response = press_sync(client, contest)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "the operator must set WLE_CONTACT" in html
    assert runs(session, contest) == []


def test_a_sync_runs_in_process_and_its_failure_is_recorded_and_shown(client, session, contest, monkeypatch):
    # The settings point at a dead local port: the client gives up at once instead of backing off.
    monkeypatch.setattr("wle.commons.BACKOFF_BASE", 0.0)

    response = press_sync(client, contest)
    assert "The sync was queued" in response.get_data(as_text=True)
    wait_for_local_jobs(timeout=60)

    [run] = runs(session, contest)
    assert run.state == FAILED
    assert run.started_by == "Site Admin"
    assert run.job_id and run.job_id.startswith("local-")
    assert run.error.startswith("Commons is unavailable")
    assert "could not connect" in run.error
    page = client.get(f"/contests/{contest.slug}").get_data(as_text=True)
    assert "Commons is unavailable" in page
    assert "state-failed" in page


def test_a_second_sync_is_refused_while_one_runs(client, session, contest):
    session.add(SyncRun(contest_id=contest.id, started_by="Alice", state=RUNNING, started_at=utcnow(), heartbeat_at=utcnow()))
    session.commit()

    response = press_sync(client, contest)

    assert "already running (started by Alice)" in response.get_data(as_text=True)
    assert len(runs(session, contest)) == 1


def test_an_unreachable_queue_is_said_and_the_run_is_not_left_queued(make_app, admin, session, contest):
    client = log_in(make_app(redis_url=DEAD_REDIS).test_client(), admin)

    response = press_sync(client, contest)

    html = response.get_data(as_text=True)
    assert "The sync could not be queued: the job queue (Redis) is unreachable" in html
    [run] = runs(session, contest)
    assert run.state == FAILED
    assert run.error.startswith("The job queue (Redis) is unreachable")
    # The contest page still renders, and says the failed jobs cannot be listed.
    assert "The job queue (Redis) is unreachable" in client.get(f"/contests/{contest.slug}").get_data(as_text=True)


def test_the_sync_button_needs_its_csrf_token(client, session, contest):
    response = client.post(f"/contests/{contest.slug}/sync")
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert runs(session, contest) == []


def test_the_sync_button_only_accepts_post(client, contest):
    assert client.get(f"/contests/{contest.slug}/sync").status_code == 405


# --- The status JSON ------------------------------------------------------------------------


def test_the_status_says_what_the_page_needs(client, session, contest):
    make_entries(session, contest, 3, thumb_state=THUMB_DONE)
    make_entries(session, contest, 2, thumb_state=THUMB_PENDING, thumb_claimed_at=utcnow())
    session.add(SyncRun(contest_id=contest.id, started_by="Alice", state=RUNNING, started_at=utcnow(),
                        heartbeat_at=utcnow(), files_seen=5, added=5, requests=2))
    session.commit()

    response = client.get(f"/api/v1/contests/{contest.slug}/status")

    assert response.status_code == 200
    status = response.get_json()
    assert status["slug"] == contest.slug
    assert status["entries"] == 5
    assert status["thumbnails"] == {"pending": 2, "done": 3, "failed": 0}
    assert status["running"] is True
    assert status["thumbnails_working"] is True
    assert status["last_sync"]["state"] == "running"
    assert status["last_sync"]["files_seen"] == 5
    assert status["last_sync"]["requests"] == 2
    assert {"categories", "start", "end", "timezone", "entries_gone", "uploaders"} <= status.keys()


def test_the_status_of_an_idle_contest(client, contest):
    status = client.get(f"/api/v1/contests/{contest.slug}/status").get_json()
    assert status["running"] is False
    assert status["thumbnails_working"] is False
    assert status["last_sync"] is None


def test_a_sync_that_stopped_giving_signs_of_life_is_not_running(client, session, contest):
    long_ago = utcnow().replace(year=2020)
    session.add(SyncRun(contest_id=contest.id, started_by="Alice", state=RUNNING, started_at=long_ago, heartbeat_at=long_ago))
    session.commit()
    assert client.get(f"/api/v1/contests/{contest.slug}/status").get_json()["running"] is False


def test_the_status_of_an_unknown_contest_is_a_json_404(client):
    response = client.get("/api/v1/contests/nope/status")
    assert response.status_code == 404
    assert response.get_json() == {"status": 404, "error": "Not found", "message": "There is no such contest. It may have been mistyped."}


# --- Failed jobs (needs a real Redis) -------------------------------------------------------


@pytest.mark.redis
def test_failed_jobs_of_the_contest_are_shown_to_organizers(make_app, admin, session, contest):
    redis_url = os.environ.get("WLE_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("set WLE_TEST_REDIS_URL to run the Redis tests")
    from redis import Redis
    from rq import Queue
    from rq.registry import FailedJobRegistry
    from rq.results import Result

    from jobs.runner import QUEUE_NAME

    run = SyncRun(contest_id=contest.id, started_by="Alice", state=FAILED)
    session.add(run)
    session.commit()
    queue = Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))
    registry = FailedJobRegistry(queue=queue)
    ours = queue.create_job("jobs.sync.sync_contest", args=(run.id,))
    others = queue.create_job("jobs.thumbnails.make_entry_thumbnails", args=(contest.id + 1000, [1]))
    try:
        for job, problem in ((ours, "LookupError: No sync run 42."), (others, "ValueError: not ours")):
            job.save()
            registry.add(job, exc_string=f"Traceback (most recent call last):\n{problem}")
            Result.create_failure(job, ttl=60, exc_string=f"Traceback (most recent call last):\n{problem}")

        client = log_in(make_app(redis_url=redis_url).test_client(), admin)
        html = client.get(f"/contests/{contest.slug}").get_data(as_text=True)

        assert "Failed background jobs" in html
        assert "jobs.sync.sync_contest" in html and "LookupError: No sync run 42." in html
        assert "not ours" not in html
    finally:
        for job in (ours, others):
            registry.remove(job, delete_job=True)
