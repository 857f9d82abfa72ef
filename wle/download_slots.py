"""A limit on simultaneous downloads from upload.wikimedia.org, shared by every worker.

Wikimedia's robot policy asks for at most 2 concurrent downloads per client. Jobs run in
several RQ worker processes (possibly on several hosts), so the count lives in Redis: a
sorted set of holder tokens, each scored by the moment its lease runs out. A worker that
crashes mid-download never releases its slot; its lease simply expires and the slot is
reclaimed by the next acquirer. Without Redis, jobs run inside the web process, and a
process-local semaphore does the same job.

Keep `lease_seconds` well above the longest download (the HTTP timeout): a lease that runs
out while its download is still going lets one extra download start.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05

# Atomically: forget expired holders, then take a slot if one is free. Redis' own clock is
# used so that workers on hosts with skewed clocks agree on when a lease ends.
_ACQUIRE = """
local key, token = KEYS[1], ARGV[1]
local limit, lease_ms = tonumber(ARGV[2]), tonumber(ARGV[3])
local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now_ms)
if redis.call('ZCARD', key) >= limit then
    return 0
end
redis.call('ZADD', key, now_ms + lease_ms, token)
-- the newest lease ends last, so the whole key can go when it does
redis.call('PEXPIRE', key, lease_ms)
return 1
"""


class SlotTimeout(Exception):
    """No download slot became free in time."""


class DownloadSlots:
    """At most `limit` holders at a time of the slots called `name`, across all processes.

    >>> slots = DownloadSlots(redis_client)
    >>> with slots.acquire(timeout=60):
    ...     download()
    """

    def __init__(
        self,
        redis=None,
        limit: int = 2,
        name: str = "wle:download-slots",
        lease_seconds: float = 300,
    ):
        if limit < 1:
            raise ValueError(f"the download limit must be at least 1, not {limit}")
        if lease_seconds <= 0:
            raise ValueError(f"the lease must last a positive number of seconds, not {lease_seconds}")
        self.redis = redis
        self.limit = limit
        self.name = name
        self.lease_seconds = lease_seconds
        if redis is None:
            self._local = _local_semaphore(name, limit)
        else:
            self._acquire_script = redis.register_script(_ACQUIRE)

    @contextmanager
    def acquire(self, timeout: float | None = None) -> Iterator[None]:
        """Hold one slot for the duration of the block; wait for one if all are taken.

        Raises SlotTimeout if none is free within `timeout` seconds (None: wait forever).
        """
        if self.redis is None:
            if not self._local.acquire(timeout=timeout):  # a Semaphore waits forever on None
                raise self._timeout(timeout)
            try:
                yield
            finally:
                self._local.release()
            return

        token = self._take_redis_slot(timeout)
        try:
            yield
        finally:
            self._release_redis_slot(token)

    def _take_redis_slot(self, timeout: float | None) -> str:
        # The token names its holder, so `ZRANGE <name> 0 -1 WITHSCORES` shows who has the slots.
        token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        deadline = None if timeout is None else time.monotonic() + timeout
        lease_ms = max(1, round(self.lease_seconds * 1000))
        while not self._acquire_script(keys=[self.name], args=[token, self.limit, lease_ms]):
            if deadline is not None and time.monotonic() >= deadline:
                raise self._timeout(timeout)
            time.sleep(POLL_SECONDS)
        return token

    def _release_redis_slot(self, token: str) -> None:
        if not self.redis.zrem(self.name, token):
            log.warning(
                "download slot lease of %s ran out before the download ended; "
                "more than %d downloads may have run at once (raise lease_seconds)",
                token,
                self.limit,
            )

    def _timeout(self, timeout: float | None) -> SlotTimeout:
        return SlotTimeout(
            f"no download slot free after {timeout:g} s (at most {self.limit} downloads at a time)"
        )


_local_semaphores: dict[str, tuple[int, threading.BoundedSemaphore]] = {}
_local_semaphores_lock = threading.Lock()


def _local_semaphore(name: str, limit: int) -> threading.BoundedSemaphore:
    """One semaphore per name in this process, so every DownloadSlots of a name shares it."""
    with _local_semaphores_lock:
        if name not in _local_semaphores:
            _local_semaphores[name] = (limit, threading.BoundedSemaphore(limit))
        existing_limit, semaphore = _local_semaphores[name]
    if existing_limit != limit:
        raise ValueError(
            f"download slots {name!r} already exist in this process with limit {existing_limit}, not {limit}"
        )
    return semaphore
