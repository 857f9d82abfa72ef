"""The RQ path: a real Redis, a real ``wle worker`` process, a real MediaWiki."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry

from jobs import sync as sync_job
from jobs.runner import QUEUE_NAME, JobRunner
from wle.contests import ContestForm, create_contest, summary
from wle.sync import begin_sync

from tests.conftest import REDIS_URL

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="set WLE_TEST_REDIS_URL to run the RQ path (.ci/run does)"),
]
WLE = str(Path(sys.executable).with_name("wle"))


@pytest.fixture
def rq_settings(settings, mediawiki):
    redis = Redis.from_url(REDIS_URL)
    queue = Queue(QUEUE_NAME, connection=redis)
    queue.empty()
    registry = FailedJobRegistry(queue=queue)
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)
    yield dataclasses.replace(settings, redis_url=REDIS_URL, commons_api_url=mediawiki.api_url)
    queue.empty()


def run_worker(settings) -> subprocess.CompletedProcess:
    env = {**os.environ, "WLE_DATABASE_URL": settings.database_url, "WLE_MEDIA_DIR": settings.media_dir,
           "WLE_INSTANCE_DIR": settings.instance_dir, "WLE_COMMONS_API_URL": settings.commons_api_url,
           "WLE_CONTACT": settings.contact, "WLE_REDIS_URL": settings.redis_url}
    return subprocess.run([WLE, "worker", "--burst"], env=env, capture_output=True, text=True, timeout=600)


def test_a_worker_process_syncs_makes_thumbnails_and_fetches_uploaders(rq_settings, session, mediawiki,
                                                                        fresh_category):
    mediawiki.add_files(6, fresh_category)
    contest = create_contest(session, ContestForm(
        slug="rq", name="RQ", categories=[fresh_category], starts_at=datetime(2025, 1, 1),
        ends_at=datetime(2026, 12, 31)))
    run = begin_sync(session, contest, "integration test")
    session.commit()
    runner = JobRunner(rq_settings)
    assert not runner.in_process
    run.job_id = runner.enqueue(sync_job.sync_contest, run.id)
    session.commit()

    worker = run_worker(rq_settings)
    assert worker.returncode == 0, worker.stderr

    session.expire_all()
    data = summary(session, contest)
    assert data["last_sync"]["state"] == "done" and data["entries"] == 6
    assert data["thumbnails"] == {"done": 6, "failed": 0, "pending": 0}
    assert data["uploaders_fetched"] == data["uploaders"] == 1
    assert runner.failed_jobs() == []


def test_a_failing_job_shows_in_the_failed_registry(rq_settings):
    runner = JobRunner(rq_settings)
    job_id = runner.enqueue(sync_job.sync_contest, 987654, retries=0)
    run_worker(rq_settings)
    failed = runner.failed_jobs()
    assert [job.id for job in failed] == [job_id]
    assert "No sync run 987654" in failed[0].error and failed[0].name == "jobs.sync.sync_contest"
