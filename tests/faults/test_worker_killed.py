"""Workers killed (SIGKILL, as when their machine or container dies) in the middle of a sync and of
a thumbnail batch: RQ notices the jobs were abandoned, retries them on another worker, and the end
state equals that of an uninterrupted run.

Real ``wle worker`` processes, a real Redis, a slow fake Commons over HTTP (1,500 files, 30
listing requests of 0.4 s; downloads of a second) so that the kill lands midway. It takes about two minutes, most of it waiting as RQ does: a job's heartbeat runs out 70 s
after the last one (``wle worker`` beats every 10 s), and a retry waits 30 s (``jobs.runner``).
"""

from __future__ import annotations

import dataclasses

import pytest
from redis import Redis
from rq import Queue
from rq.registry import StartedJobRegistry
from rq.scheduler import SCHEDULER_LOCKING_KEY_TEMPLATE
from sqlalchemy import select

from jobs.runner import QUEUE_NAME, JobRunner
from jobs.sync import SYNC_TIMEOUT
from jobs.sync import sync_contest
from jobs.thumbnails import make_entry_thumbnails
from tests.conftest import DATABASES, REDIS_URL
from tests.factories import make_contest
from tests.fake_commons import CATEGORY, FakeCommons, make_files, thumbnail_jpeg
from tests.faults.support import (
    THUMBNAIL_PROGRESS,
    entry_state,
    kill_hard,
    start_wle,
    stop,
    wait_until,
)
from wle.commons import CommonsClient
from wle.entry_media import pending_entry_ids
from wle.models import Entry, SyncRun
from wle.models.entry import THUMB_DONE
from wle.models.sync import DONE, RUNNING
from wle.sync import begin_sync, run_sync
from wle.thumbnails import SIZES, thumbnail_path, write_thumbnails

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="set WLE_TEST_REDIS_URL to run the fault tests with RQ (.ci/run does)"),
    # One database, not each: the test waits for RQ for two minutes. PostgreSQL when there is one.
    pytest.mark.parametrize("database_url", DATABASES[-1:], indirect=True),
]
FILES, THUMBNAILS = 1500, 25


@pytest.fixture
def redis():
    connection = Redis.from_url(REDIS_URL)
    connection.flushdb()  # the tests' own database: no queue, registry, lock or worker of earlier runs
    yield connection
    connection.flushdb()


@pytest.fixture
def processes():
    started = []
    yield started
    for process in started:
        stop(process)


def sync_to_the_end(session, contest, url: str):
    run = begin_sync(session, contest, "test")
    session.commit()
    assert run_sync(session, run.id, CommonsClient(url, "wle-tests@example.org")).state == DONE


def test_jobs_of_killed_workers_are_retried_and_end_as_if_uninterrupted(settings, session, redis, processes,
                                                                       tmp_path):
    slow = FakeCommons(make_files(FILES))
    photos = FakeCommons(make_files(THUMBNAILS, first_pageid=90_000), download_delay=1.0)
    with slow, photos:
        settings = dataclasses.replace(settings, redis_url=REDIS_URL, commons_api_url=slow.url)
        runner = JobRunner(settings)
        reference = make_contest(session, slug="reference", categories=(CATEGORY,))
        sync_to_the_end(session, reference, slow.url)
        slow.delay = 0.4
        album = make_contest(session, slug="album", categories=(CATEGORY,))
        sync_to_the_end(session, album, photos.url)  # entries whose thumbnails come from `photos`

        # A thumbnail batch and a sync, each taken by a worker of its own.
        thumbnail_job = runner.enqueue(make_entry_thumbnails, album.id, pending_entry_ids(session, album.id),
                                       timeout=1800)
        contest = make_contest(session, slug="killed", categories=(CATEGORY,))
        run = begin_sync(session, contest, "test")
        session.commit()
        sync_job = runner.enqueue(sync_contest, run.id, timeout=SYNC_TIMEOUT)
        for number in (1, 2):
            processes.append(start_wle(settings, "worker", log=tmp_path / f"worker-{number}.log"))
        wait_until(lambda: sync_run(session, run.id).files_seen >= 500 and done(session, album) >= 3, 30,
                   "the first 500 files listed and the first thumbnails made")

        for process in processes:
            kill_hard(process)

        killed, made = sync_run(session, run.id), done(session, album)
        assert killed.state == RUNNING and 500 <= killed.files_seen < FILES, (killed.state, killed.files_seen)
        assert 3 <= made < THUMBNAILS, f"{made} thumbnails made when the workers were killed"
        slow.delay = photos.download_delay = 0  # slow only to land the kill midway

        # A worker restarted after the crash cleans RQ's registries as it starts, and every minute.
        # Start the replacements once the dead workers' heartbeats and scheduler lock ran out, so
        # that the test waits no longer than RQ itself needs.
        queue = Queue(QUEUE_NAME, connection=redis)
        started = StartedJobRegistry(queue=queue)
        wait_until(lambda: {sync_job, thumbnail_job} <= set(started.get_expired_job_ids()), 90,
                   "the killed jobs' heartbeats to run out")
        wait_until(lambda: not redis.exists(SCHEDULER_LOCKING_KEY_TEMPLATE % QUEUE_NAME), 70,
                   "the killed scheduler's lock to run out")
        for number in (3, 4):
            processes.append(start_wle(settings, "worker", log=tmp_path / f"worker-{number}.log"))

        wait_until(lambda: sync_run(session, run.id).state == DONE and done(session, album) == THUMBNAILS, 90,
                   "the retried sync and thumbnail batch to finish")

    # The same sync run, walked to its end by the retried job: the entries of an uninterrupted run.
    assert [r.id for r in session.scalars(select(SyncRun).where(SyncRun.contest_id == contest.id))] == [run.id]
    # (The thumbnails the retried sync queued may be in the making: their progress is left out.)
    assert (entry_state(session, contest.id, leave_out=THUMBNAIL_PROGRESS)
            == entry_state(session, reference.id, leave_out=THUMBNAIL_PROGRESS))
    # Every thumbnail made once, as an uninterrupted batch makes it; no claim left behind.
    entries = session.scalars(select(Entry).where(Entry.contest_id == album.id)).all()
    assert all(e.thumb_state == THUMB_DONE and e.thumb_claimed_at is None and e.thumb_claimed_by is None
               for e in entries)
    expected = write_thumbnails(tmp_path / "reference-media", "0" * 32, thumbnail_jpeg())
    for entry in entries:
        for size in SIZES:
            made = thumbnail_path(settings.media_dir, entry.thumb_key, size).read_bytes()
            assert made == expected[size].read_bytes()
    # Only the download the kill cut short was made twice.
    assert THUMBNAILS <= photos.served["download"] <= THUMBNAILS + 1


def done(session, contest) -> int:
    session.expire_all()
    return len(session.scalars(
        select(Entry.id).where(Entry.contest_id == contest.id, Entry.thumb_state == THUMB_DONE)).all())


def sync_run(session, run_id: int) -> SyncRun:
    session.expire_all()
    return session.get(SyncRun, run_id)
