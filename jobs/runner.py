"""Queueing jobs: through RQ when Redis is configured, in a thread pool of this process otherwise."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from flask_babel import gettext as _
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.registry import FailedJobRegistry

from wle.config import Settings

from .context import redis_connection

QUEUE_NAME = "wle"
RETRY_INTERVALS = [10, 120, 600]  # seconds before the 1st, 2nd, 3rd retry of a failed job
log = logging.getLogger(__name__)


class QueueUnavailable(RuntimeError):
    """The job queue (Redis) cannot be reached; nothing was queued."""


@dataclass(frozen=True)
class FailedJob:
    id: str
    name: str
    args: tuple
    error: str
    ended_at: datetime | None


class JobRunner:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.queue = Queue(QUEUE_NAME, connection=redis_connection(settings)) if settings.redis_url else None

    @property
    def in_process(self) -> bool:
        return self.queue is None

    def enqueue(self, func: Callable, *args, timeout: int = 3600, retries: int = 3) -> str:
        """Queue ``func(*args)``; return the job's id."""
        if self.queue is None:
            future = _executor().submit(_run_logged, func, *args, settings=self.settings)
            _pending.append(future)
            return f"local-{id(future):x}"
        try:
            job = self.queue.enqueue(
                func, *args, job_timeout=timeout, failure_ttl=7 * 24 * 3600,
                retry=Retry(max=retries, interval=RETRY_INTERVALS[:retries]) if retries else None,
            )
        except RedisError as error:
            raise QueueUnavailable(_("The job queue (Redis) is unreachable: %(error)s", error=error)) from error
        return job.id

    def failed_jobs(self, limit: int = 50) -> list[FailedJob]:
        """The failed-job registry, newest first (in-process jobs only log their failures)."""
        if self.queue is None:
            return []
        registry = FailedJobRegistry(queue=self.queue)
        ids = registry.get_job_ids(0, -1)[-limit:]
        jobs = [job for job in self.queue.job_class.fetch_many(ids, connection=self.queue.connection) if job]
        never = datetime.min.replace(tzinfo=timezone.utc)  # RQ 2's times are aware; some jobs have none
        return sorted((_failed(job) for job in jobs), key=lambda j: j.ended_at or never, reverse=True)


def _failed(job) -> FailedJob:
    exc = (job.latest_result().exc_string if job.latest_result() else None) or ""
    last_line = exc.strip().splitlines()[-1] if exc.strip() else "unknown error"
    return FailedJob(job.id, job.func_name, tuple(job.args or ()), last_line, job.ended_at)


# In-process jobs: a small pool shared by the whole process (the sync and two thumbnail workers).
_pool: ThreadPoolExecutor | None = None
_pending: list[Future] = []


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="wle-job")
    return _pool


def _run_logged(func: Callable, *args, settings: Settings):
    try:
        return func(*args, settings=settings)
    except Exception:
        log.exception("in-process job %s%r failed", func.__name__, args)
        raise


def wait_for_local_jobs(timeout: float | None = None) -> None:
    """Block until every in-process job queued so far (and those they queue) has finished."""
    while _pending:
        batch = list(_pending)
        wait(batch, timeout=timeout)
        for future in batch:
            _pending.remove(future)
