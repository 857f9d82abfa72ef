"""The periodic sync: which contests are due and which kind of sync, the scheduler that starts
them (in-process, against a fake Commons over HTTP), and ``wle scheduler``."""

from __future__ import annotations

import dataclasses
import logging
import socket
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jobs.runner import JobRunner, wait_for_local_jobs
from jobs.scheduler import start_due_syncs
from tests.factories import make_contest, utc
from tests.fake_commons import CATEGORY, FakeCommons, make_files
from wle.cli import main
from wle.contests import ContestForm, create_contest
from wle.models import Entry, SyncRun, utcnow
from wle.models.sync import DONE, FAILED, QUEUED, RUNNING
from wle.schedule import (
    FULL_SYNC_EVERY,
    OVERLAP,
    STARTED_BY,
    ScheduleError,
    check_interval,
    due_syncs,
    grace_period,
    next_sync_at,
)

GRACE = timedelta(days=14)
NOW = utc(2025, 6, 20, 12, 0)  # inside the window of make_contest (15 June – 16 July 2025)


def add_run(session, contest, *, state=DONE, created=NOW - timedelta(hours=2), since=None, started_by="someone",
            heartbeat=None):
    run = SyncRun(contest_id=contest.id, started_by=started_by, state=state, created_at=created,
                  started_at=created + timedelta(seconds=5), since=since)
    if state in (DONE, FAILED):
        run.finished_at = created + timedelta(minutes=3)
    if state == RUNNING:
        run.heartbeat_at = heartbeat or created + timedelta(minutes=1)
    session.add(run)
    session.commit()
    return run


def test_a_contest_never_synced_gets_a_full_sync_in_its_window(session):
    contest = make_contest(session)
    [due] = due_syncs(session, NOW, GRACE)
    assert (due.contest_id, due.slug, due.since, due.kind) == (contest.id, contest.slug, None, "full")


@pytest.mark.parametrize("moment, expected", [
    (utc(2025, 6, 14, 18, 59), False),  # the window opens at midnight in Almaty (UTC+5)
    (utc(2025, 6, 14, 19, 0), True),
    (utc(2025, 7, 20, 0, 0), True),  # after the window, inside the grace period
    (utc(2025, 7, 15, 19, 0) + GRACE, True),
    (utc(2025, 7, 15, 19, 1) + GRACE, False),
])
def test_only_during_the_window_and_its_grace_period(session, moment, expected):
    make_contest(session)
    assert bool(due_syncs(session, moment, GRACE)) is expected


def test_an_interval_of_zero_switches_it_off(session):
    contest = make_contest(session)
    contest.sync_interval_minutes = 0
    session.commit()
    assert due_syncs(session, NOW, GRACE) == []
    assert next_sync_at(session, contest, NOW, GRACE) is None


def test_not_before_the_interval_has_passed_since_the_last_sync_of_any_kind(session):
    contest = make_contest(session)
    add_run(session, contest, created=NOW - timedelta(minutes=40), started_by="Organizer")
    assert due_syncs(session, NOW, GRACE) == []
    assert next_sync_at(session, contest, NOW, GRACE) == NOW + timedelta(minutes=20)
    contest.sync_interval_minutes = 30
    session.commit()
    assert [d.contest_id for d in due_syncs(session, NOW, GRACE)] == [contest.id]


def test_a_sync_due_within_half_a_minute_starts_now_so_that_hourly_stays_hourly(session):
    contest = make_contest(session)
    add_run(session, contest, created=NOW - timedelta(minutes=59, seconds=40))
    assert len(due_syncs(session, NOW, GRACE)) == 1
    add_run(session, contest, created=NOW - timedelta(minutes=59))
    assert due_syncs(session, NOW, GRACE) == []


@pytest.mark.parametrize("state", [QUEUED, RUNNING])
def test_never_while_a_sync_is_alive(session, state):
    contest = make_contest(session)
    add_run(session, contest, state=state, created=NOW - timedelta(minutes=3), heartbeat=NOW + timedelta(minutes=19))
    contest.sync_interval_minutes = 15
    session.commit()
    assert due_syncs(session, NOW + timedelta(minutes=20), GRACE) == []


def test_a_sync_whose_heartbeat_stopped_does_not_hold_the_schedule_up(session):
    contest = make_contest(session)
    add_run(session, contest, state=RUNNING, created=NOW - timedelta(hours=3))  # killed long ago
    [due] = due_syncs(session, NOW, GRACE)
    assert due.contest_id == contest.id


def test_after_a_full_sync_today_only_the_changes_since_the_last_success(session):
    contest = make_contest(session)
    full = add_run(session, contest, created=NOW - timedelta(hours=5))
    changes = add_run(session, contest, created=NOW - timedelta(hours=2), since=full.started_at - OVERLAP)
    add_run(session, contest, state=FAILED, created=NOW - timedelta(hours=1), since=changes.started_at - OVERLAP)
    [due] = due_syncs(session, NOW, GRACE)
    assert due.since == changes.started_at - OVERLAP and due.kind == "changes"


def test_a_full_sync_at_least_once_a_day(session):
    contest = make_contest(session)
    full = add_run(session, contest, created=NOW - FULL_SYNC_EVERY - timedelta(minutes=1))
    add_run(session, contest, created=NOW - timedelta(hours=2), since=full.started_at - OVERLAP)
    [due] = due_syncs(session, NOW, GRACE)
    assert due.since is None


def test_a_failed_full_sync_does_not_count_as_one(session):
    contest = make_contest(session)
    add_run(session, contest, state=FAILED, created=NOW - timedelta(hours=2))
    [due] = due_syncs(session, NOW, GRACE)
    assert due.since is None


def test_next_sync_before_the_window_is_its_start(session):
    contest = make_contest(session)
    assert next_sync_at(session, contest, utc(2025, 6, 1), GRACE) == contest.starts_at
    assert next_sync_at(session, contest, NOW, GRACE) == NOW  # never synced: at once
    assert next_sync_at(session, contest, utc(2025, 8, 31), GRACE) is None


def test_settings_are_checked():
    assert check_interval(60) == 60
    with pytest.raises(ScheduleError, match="one of 0, 15, 30, 60"):
        check_interval(7)
    with pytest.raises(ScheduleError, match="WLE_SYNC_GRACE_DAYS"):
        grace_period(-1)


# --- The scheduler: in-process jobs against a fake Commons over real HTTP ---


@pytest.fixture
def commons():
    with FakeCommons(make_files(12)) as fake:
        yield fake


@pytest.fixture
def live_contest(session):
    """A contest whose upload window is now."""
    now = utcnow()
    contest = create_contest(session, ContestForm(
        slug="wle-live", name="WLE live", categories=[CATEGORY],
        starts_at=now - timedelta(days=3), ends_at=now + timedelta(days=10)))
    session.commit()
    return contest


def entries(session, contest) -> set[int]:
    session.expire_all()
    return set(session.scalars(select(Entry.pageid).where(Entry.contest_id == contest.id, Entry.gone_at.is_(None))))


def test_the_scheduler_walks_the_categories_then_lists_only_what_was_added(settings, session, commons, live_contest):
    settings = dataclasses.replace(settings, commons_api_url=commons.url)
    runner = JobRunner(settings)
    assert runner.in_process

    [first] = start_due_syncs(settings, runner)
    wait_for_local_jobs(timeout=60)
    run = session.get(SyncRun, first)
    session.refresh(run)
    assert (run.state, run.since, run.started_by, run.added) == (DONE, None, STARTED_BY, 12)
    assert start_due_syncs(settings, runner) == []  # not due again before the hour is over

    later = utcnow() + timedelta(minutes=61)
    new_files = make_files(3, first_pageid=5000, start=later - timedelta(minutes=30))
    commons.add_files(new_files)
    commons.remove({1000})  # deleted: only a walk of the whole category notices it
    listed_before = len(commons.api.requests)
    [second] = start_due_syncs(settings, runner, now=later)
    wait_for_local_jobs(timeout=60)

    run = session.get(SyncRun, second)
    session.refresh(run)
    assert run.state == DONE, run.error
    assert run.since == session.get(SyncRun, first).started_at - OVERLAP
    assert (run.added, run.files_seen, run.gone) == (3, 3, 0)
    listing = [r.params for r in commons.api.requests[listed_before:] if r.params.get("generator")]
    assert len(listing) == 1
    assert listing[0]["gcmsort"] == "timestamp" and listing[0]["gcmdir"] == "newer"
    assert listing[0]["gcmstart"] == run.since.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert listing[0]["gcmnamespace"] == "6" and "gcmtype" not in listing[0]
    assert entries(session, live_contest) == {f.pageid for f in make_files(12)} | {f.pageid for f in new_files}


def test_with_the_queue_unreachable_it_starts_nothing_and_says_so(settings, session, live_contest, caplog):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = dataclasses.replace(settings, redis_url=f"redis://:secret@127.0.0.1:{port}/0")
    with caplog.at_level(logging.ERROR, logger="jobs.scheduler"):
        assert start_due_syncs(settings) == []
    assert f"The job queue (Redis at redis://127.0.0.1:{port}/0) is unreachable" in caplog.text
    assert "trying again in a minute" in caplog.text and "secret" not in caplog.text
    assert session.scalars(select(SyncRun)).all() == []


def test_wle_scheduler_once(settings, session, commons, live_contest):
    env = {"WLE_DATABASE_URL": settings.database_url, "WLE_MEDIA_DIR": settings.media_dir,
           "WLE_INSTANCE_DIR": settings.instance_dir, "WLE_COMMONS_API_URL": commons.url,
           "WLE_CONTACT": settings.contact, "WLE_REDIS_URL": ""}
    result = CliRunner().invoke(main, ["scheduler", "--once"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Syncs started: 1." in result.output
    assert len(entries(session, live_contest)) == 12

    refused = CliRunner().invoke(main, ["scheduler", "--once"], env={**env, "WLE_CONTACT": ""})
    assert refused.exit_code != 0 and "Set WLE_CONTACT" in refused.output
    refused = CliRunner().invoke(main, ["scheduler"], env={**env, "WLE_SYNC_GRACE_DAYS": "-3"})
    assert refused.exit_code != 0 and "WLE_SYNC_GRACE_DAYS must be 0 or more" in refused.output
