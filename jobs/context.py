"""What a job needs, built from the settings: a database session, a Commons client, download slots."""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from redis import Redis
from sqlalchemy.orm import Session

from wle import __version__
from wle.commons import CommonsClient
from wle.config import Settings
from wle.db import session_factory
from wle.download_slots import DownloadSlots


def settings_or_env(settings: Settings | None) -> Settings:
    """In-process jobs get the app's settings; RQ workers read their own environment."""
    return settings if settings is not None else Settings.from_env()


@contextmanager
def job_session(settings: Settings) -> Iterator[Session]:
    session = session_factory(settings.database_url)()
    try:
        yield session
    finally:
        session.close()


def commons_client(settings: Settings) -> CommonsClient:
    return CommonsClient(
        settings.commons_api_url, settings.contact, version=__version__, thumb_width=settings.thumb_source_width
    )


@lru_cache(maxsize=None)
def _redis(url: str) -> Redis:
    return Redis.from_url(url)


def download_slots(settings: Settings) -> DownloadSlots:
    # One limiter per process and Redis: without Redis, the threads of this process share it.
    return _slots(settings.redis_url, settings.download_limit)


@lru_cache(maxsize=None)
def _slots(redis_url: str, limit: int) -> DownloadSlots:
    return DownloadSlots(_redis(redis_url) if redis_url else None, limit=limit)


def redis_connection(settings: Settings) -> Redis:
    return _redis(settings.redis_url)
