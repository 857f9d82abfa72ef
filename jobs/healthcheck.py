"""Health checks for the containers of the workers and the scheduler (the web process has /healthz).

    python -m jobs.healthcheck worker      # an RQ worker of this host is registered and alive
    python -m jobs.healthcheck scheduler   # `wle scheduler` went round its loop lately

Exit status 0 when healthy, 1 with a line on stderr saying what is wrong. Settings come from the
environment, as for the processes checked.
"""

from __future__ import annotations

import socket
import sys
import time

from redis.exceptions import RedisError
from rq import Worker

from wle.config import Settings

from .context import redis_connection
from .scheduler import TICK_SECONDS, heartbeat_path

SCHEDULER_SILENT_FOR = 3 * TICK_SECONDS  # seconds without a tick before the scheduler counts as stuck


def worker_problem(settings: Settings) -> str | None:
    """None if a worker of this host is registered: RQ drops a worker whose heartbeats stop."""
    if not settings.redis_url:
        return "WLE_REDIS_URL is not set: there is no queue to work for."
    try:
        workers = Worker.all(connection=redis_connection(settings))
    except RedisError as error:
        return f"Redis is unreachable: {error}"
    host = socket.gethostname()
    if not any(worker.hostname == host for worker in workers):
        return f"No RQ worker of host {host} is registered in Redis."
    return None


def scheduler_problem(settings: Settings) -> str | None:
    path = heartbeat_path(settings)
    if not path.exists():
        return f"The scheduler has not started its loop ({path} is missing)."
    silent = time.time() - path.stat().st_mtime
    if silent > SCHEDULER_SILENT_FOR:
        return f"The scheduler has been silent for {silent:.0f} s."
    return None


def main(argv: list[str]) -> int:
    checks = {"worker": worker_problem, "scheduler": scheduler_problem}
    if len(argv) != 1 or argv[0] not in checks:
        print(f"usage: python -m jobs.healthcheck {'|'.join(checks)}", file=sys.stderr)
        return 2
    problem = checks[argv[0]](Settings.from_env())
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
