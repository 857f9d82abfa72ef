"""``wle scheduler``: the loop that starts each contest's periodic sync.

Every minute it asks ``wle.schedule`` which contests are due, records a sync run for each, and
queues the sync job, exactly as "Sync now" on the contest page does. RQ's own scheduler, inside
the workers, only brings back failed jobs for their retries; this one is for the periodic syncs.
Run one per installation (a second one would do no harm: the database refuses a second live
sync of a contest).

Without Redis the jobs run in threads of the scheduler's own process. With Redis down it starts
nothing, says so in its log, and tries again a minute later; a database that is down is waited
for the same way.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from wle.config import Settings
from wle.models import Contest, utcnow
from wle.schedule import STARTED_BY, DueSync, due_syncs, grace_period
from wle.sync import SyncAlreadyRunning, begin_sync, fail_sync

from .context import job_session, redis_connection
from .runner import JobRunner, QueueUnavailable
from .sync import queue_sync

TICK_SECONDS = 60
HEARTBEAT_FILE = "scheduler.alive"  # in the instance folder, touched every tick (jobs.healthcheck)
log = logging.getLogger(__name__)


def start_due_syncs(settings: Settings, runner: JobRunner | None = None, now: datetime | None = None) -> list[int]:
    """Queue the sync of every contest that is due; return the ids of the sync runs started."""
    runner = runner or JobRunner(settings)
    if not runner.in_process and not _queue_reachable(settings):
        return []
    started = []
    with job_session(settings) as session:
        for due in due_syncs(session, now or utcnow(), grace_period(settings.sync_grace_days)):
            try:
                run_id = _start(session, runner, due)
            except QueueUnavailable as error:
                log.error("contest %s: the sync could not be queued, and is recorded as failed (%s). "
                          "Trying again in a minute.", due.slug, error)
                break
            if run_id is not None:
                started.append(run_id)
    return started


def _start(session, runner: JobRunner, due: DueSync) -> int | None:
    contest = session.get(Contest, due.contest_id)
    try:
        run = begin_sync(session, contest, started_by=STARTED_BY)
    except SyncAlreadyRunning:
        session.rollback()
        return None  # someone pressed "Sync now" a moment ago
    run.since = due.since
    session.commit()  # the job reads the run through its own session
    try:
        run.job_id = queue_sync(runner, run.id)
    except QueueUnavailable as error:
        fail_sync(session, run.id, str(error))  # so that nothing stays "queued" forever
        raise
    session.commit()
    since = f" since {due.since:%Y-%m-%d %H:%M} UTC" if due.since else ""
    log.info("contest %s: sync %d queued (%s%s)", due.slug, run.id, due.kind, since)
    return run.id


def _queue_reachable(settings: Settings) -> bool:
    try:
        redis_connection(settings).ping()
    except RedisError as error:
        log.error("The job queue (Redis at %s) is unreachable: %s. No sync started; trying again in a minute.",
                  _without_password(settings.redis_url), error)
        return False
    return True


def _without_password(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}" if "@" in rest else url


def run_scheduler(settings: Settings, stop: threading.Event, tick_seconds: float = TICK_SECONDS) -> None:
    """Start the due syncs every ``tick_seconds`` until ``stop`` is set; no failure ends the loop."""
    grace_period(settings.sync_grace_days)  # refuse a bad setting at once, not a minute later
    runner = JobRunner(settings)
    log.info("Scheduler started: checking for due syncs every %g s (%s).", tick_seconds,
             "jobs run in this process" if runner.in_process else "jobs go to the queue")
    heartbeat = heartbeat_path(settings)
    while not stop.is_set():
        heartbeat.touch()
        try:
            start_due_syncs(settings, runner)
        except SQLAlchemyError as error:
            log.error("The database is unreachable: %s. Trying again in a minute.", error.__class__.__name__)
            log.debug("database error", exc_info=True)
        except Exception:
            log.exception("Starting the due syncs failed; trying again in a minute.")
        stop.wait(tick_seconds)
    log.info("Scheduler stopped.")


def heartbeat_path(settings: Settings) -> Path:
    folder = Path(settings.instance_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / HEARTBEAT_FILE
