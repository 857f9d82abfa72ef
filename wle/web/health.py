"""Health checks for load balancers and orchestrators: no login, no session cookie, no CSRF.

- ``/healthz``: the process answers (liveness). It touches nothing else, so that a database
  outage does not get every web process restarted.
- ``/readyz``: the database answers a query and, when jobs go through Redis, Redis answers a
  ping (readiness). 200 when all is well, 503 with what is down. The answer names the failing
  service but never the error's text, which may hold host and user names; the log has it.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from flask import Blueprint, current_app, jsonify
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..db import engine_for
from . import settings

bp = Blueprint("health", __name__)


@bp.get("/favicon.ico")
def favicon():
    """Browsers and feed readers ask for /favicon.ico whatever the page says: the same icon, not a 404."""
    return current_app.send_static_file("favicon.svg")
log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3  # seconds: a health check that hangs is no use to the one asking
OK, DOWN, NOT_USED = "ok", "down", "not used"


@bp.get("/healthz")
def healthz():
    return _answer({"status": OK})


@bp.get("/readyz")
def readyz():
    checks = {"database": _database(), "redis": _redis() if settings().redis_url else NOT_USED}
    down = [name for name, state in checks.items() if state == DOWN]
    body = {"status": OK if not down else "unavailable", "checks": checks}
    if down:
        body["down"] = down
    return _answer(body, 503 if down else 200)


def _database() -> str:
    try:
        with engine_for(settings().database_url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("readyz: the database is unreachable: %s", error)
        return DOWN
    return OK


def _redis() -> str:
    try:
        _redis_client(settings().redis_url).ping()
    except RedisError as error:
        log.warning("readyz: Redis is unreachable: %s", error)
        return DOWN
    return OK


@lru_cache(maxsize=None)
def _redis_client(url: str) -> Redis:
    # Its own client with short timeouts: the jobs' client waits as long as a job may need.
    return Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT)


def _answer(body: dict, status: int = 200):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
