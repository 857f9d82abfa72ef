"""The periodic sync: which contests are due for a sync now, and which kind of sync.

During a contest's upload window, and for a grace period after it (files uploaded in time are
often put in the contest's category days later), ``wle scheduler`` syncs the contest every
``Contest.sync_interval_minutes``. Most of these syncs list only the files put in the categories
since the last successful sync began (``CommonsClient.category_files_added_since``): a request
or two instead of a walk of 500 files a request. At least once a day the whole categories are
walked, which is what notices deleted files, files taken out of a category, new versions and
edited descriptions.

Plain functions over a session; the loop that acts on them is ``jobs.scheduler``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Contest, SyncRun, utcnow
from .models.sync import DONE
from .sync import is_alive

DEFAULT_INTERVAL = 60  # minutes
# What an organizer can choose, in minutes; 0 switches the automatic sync off.
INTERVAL_CHOICES = (0, 15, 30, 60, 120, 360, 720, 1440)
FULL_SYNC_EVERY = timedelta(days=1)
# A sync of the changes lists again from a little before the last sync began: the API's replicas
# may lag behind, and our clock and Commons' may disagree.
OVERLAP = timedelta(minutes=15)
# The scheduler wakes every minute; a sync due within half a minute is started now, so that an
# hourly sync stays hourly instead of drifting a minute later each time.
SLACK = timedelta(seconds=30)
STARTED_BY = "scheduler"  # the name the sync history shows for the syncs it starts


class ScheduleError(ValueError):
    """A schedule setting cannot be used; the message says why."""


@dataclass(frozen=True)
class DueSync:
    contest_id: int
    slug: str
    since: datetime | None  # list the files added since then; None: walk the whole categories

    @property
    def kind(self) -> str:
        return "full" if self.since is None else "changes"


def check_interval(minutes: int) -> int:
    if minutes not in INTERVAL_CHOICES:
        choices = ", ".join(map(str, INTERVAL_CHOICES))
        raise ScheduleError(_("The sync interval must be one of %(choices)s minutes (0: no automatic sync), "
                              "not %(minutes)s.", choices=choices, minutes=minutes))
    return minutes


def grace_period(days: int) -> timedelta:
    if days < 0:
        raise ScheduleError(f"WLE_SYNC_GRACE_DAYS must be 0 or more days, not {days}.")
    return timedelta(days=days)


def due_syncs(session: Session, now: datetime | None = None, grace: timedelta = timedelta(days=14)) -> list[DueSync]:
    """The contests whose periodic sync should start now, each with the kind of sync it needs."""
    now = now or utcnow()
    candidates = session.scalars(
        select(Contest)
        .where(Contest.sync_interval_minutes > 0, Contest.starts_at <= now, Contest.ends_at >= now - grace)
        .order_by(Contest.id)
    )
    due = []
    for contest in candidates:
        latest = _latest_run(session, contest)
        if latest is not None and is_alive(latest, now):
            continue  # a sync is running or queued; the database would refuse a second one anyway
        if latest is not None and now < _next_after(contest, latest) - SLACK:
            continue
        due.append(DueSync(contest.id, contest.slug, sync_since(session, contest, now)))
    return due


def sync_since(session: Session, contest: Contest, now: datetime) -> datetime | None:
    """Where a sync of the changes would start listing; None when the whole categories are due.

    They are due when no walk of the whole categories succeeded in the last day. Otherwise the
    listing starts a little before the last successful sync of any kind began: everything put in
    the categories before that moment was listed by it or by the syncs before it.
    """
    last_full = _latest_run(session, contest, SyncRun.state == DONE, SyncRun.since.is_(None))
    if last_full is None or last_full.started_at is None or last_full.started_at <= now - FULL_SYNC_EVERY:
        return None
    last_done = _latest_run(session, contest, SyncRun.state == DONE)
    return last_done.started_at - OVERLAP


def next_sync_at(session: Session, contest: Contest, now: datetime | None = None,
                 grace: timedelta = timedelta(days=14)) -> datetime | None:
    """When the scheduler will next start a sync of this contest; None if it will not."""
    now = now or utcnow()
    if contest.sync_interval_minutes <= 0 or now > contest.ends_at + grace:
        return None
    if now < contest.starts_at:
        return contest.starts_at
    latest = _latest_run(session, contest)
    if latest is None:
        return now
    return max(now, _next_after(contest, latest))


def _next_after(contest: Contest, run: SyncRun) -> datetime:
    return run.created_at + timedelta(minutes=contest.sync_interval_minutes)


def _latest_run(session: Session, contest: Contest, *conditions) -> SyncRun | None:
    return session.scalar(
        select(SyncRun).where(SyncRun.contest_id == contest.id, *conditions).order_by(SyncRun.id.desc()).limit(1)
    )
