"""Creating contests and summing up their state: plain functions over a database session."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import Contest, ContestCategory, Entry, SyncRun, Uploader
from .models.entry import THUMB_STATES

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
CATEGORY_PREFIX = re.compile(r"^\s*category\s*:\s*", re.IGNORECASE)
# The languages a contest can publish in (its winners' wikitext): the interface's catalogs and English.
LANGUAGES = ("en", "kk", "kk@latin", "ru")


class ContestError(ValueError):
    """The contest's data cannot be accepted; the message says why, for the person who typed it."""


class ContestNotFound(LookupError):
    def __init__(self, slug: str):
        super().__init__(f"No contest with the slug {slug!r}.")


@dataclass(frozen=True)
class ContestForm:
    """What it takes to create a contest, checked before anything is written."""

    slug: str
    name: str
    categories: list[str]
    starts_at: datetime
    ends_at: datetime
    timezone: str = "UTC"
    min_megapixels: float = 2.0
    language: str = "en"


def normalize_category(name: str) -> str:
    """``Category:Foo_bar`` and ``Foo bar`` are the same category; store ``Foo bar``."""
    name = CATEGORY_PREFIX.sub("", name).replace("_", " ").strip()
    name = re.sub(r"\s+", " ", name)
    return name[:1].upper() + name[1:]


def validate(form: ContestForm) -> ContestForm:
    """Return the form with normalized values, or raise ContestError naming every problem."""
    problems = []
    if not SLUG.match(form.slug or ""):
        problems.append(_("The slug must be 1–64 lower-case letters, digits or dashes, "
                          "starting with a letter or digit."))
    name = (form.name or "").strip()
    if not name or len(name) > 255:
        problems.append(_("The name must be 1–255 characters."))
    categories = list(dict.fromkeys(normalize_category(c) for c in form.categories if c and c.strip()))
    if not categories:
        problems.append(_("Give at least one Commons category."))
    if any(len(c) > 255 or any(ch in c for ch in "#<>[]|{}") for c in categories):
        problems.append(_("A category name is too long or has a character Commons does not allow (# < > [ ] | { })."))
    try:
        zone = ZoneInfo(form.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name
        problems.append(_("Unknown time zone %(zone)s; use a name such as Asia/Almaty.", zone=repr(form.timezone)))
        zone = None
    starts_at, ends_at = form.starts_at, form.ends_at
    if zone is not None:
        starts_at, ends_at = (_in_zone(d, zone) for d in (starts_at, ends_at))
        if starts_at >= ends_at:
            problems.append(_("The upload window must end after it starts."))
    if not 0 <= form.min_megapixels <= 1000:
        problems.append(_("The minimum megapixels must be between 0 and 1000."))
    if form.language not in LANGUAGES:
        problems.append(_("Unknown language %(language)s; use one of %(languages)s.",
                          language=repr(form.language), languages=", ".join(LANGUAGES)))
    if problems:
        raise ContestError(" ".join(problems))
    return ContestForm(form.slug, name, categories, starts_at, ends_at, form.timezone, float(form.min_megapixels),
                       form.language)


def _in_zone(moment: datetime, zone: ZoneInfo) -> datetime:
    """A date-time without an offset is read in the contest's time zone."""
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def create_contest(session: Session, form: ContestForm) -> Contest:
    form = validate(form)
    if session.scalar(select(Contest.id).where(Contest.slug == form.slug)) is not None:
        raise ContestError(_("A contest with the slug %(slug)s exists already.", slug=repr(form.slug)))
    contest = Contest(
        slug=form.slug,
        name=form.name,
        starts_at=form.starts_at,
        ends_at=form.ends_at,
        timezone=form.timezone,
        min_megapixels=form.min_megapixels,
        language=form.language,
        categories=[ContestCategory(name=c) for c in form.categories],
    )
    session.add(contest)
    session.flush()
    return contest


def get_contest(session: Session, slug: str) -> Contest:
    contest = session.scalar(select(Contest).where(Contest.slug == slug))
    if contest is None:
        raise ContestNotFound(slug)
    return contest


def thumbnail_counts(session: Session, contest_id: int) -> dict[str, int]:
    """Thumbnail states of the entries now in the categories."""
    rows = session.execute(
        select(Entry.thumb_state, func.count())
        .where(Entry.contest_id == contest_id, Entry.gone_at.is_(None))
        .group_by(Entry.thumb_state)
    )
    counts = dict.fromkeys(THUMB_STATES, 0)
    counts.update({state: n for state, n in rows})
    return counts


def summary(session: Session, contest: Contest) -> dict:
    """The contest's state in plain data: what ``wle contest show --json`` prints."""
    present = Entry.contest_id == contest.id
    entries = session.scalar(select(func.count()).where(present, Entry.gone_at.is_(None)))
    gone = session.scalar(select(func.count()).where(present, Entry.gone_at.is_not(None)))
    uploaders = session.scalar(
        select(func.count(func.distinct(Entry.uploader))).where(present, Entry.gone_at.is_(None))
    )
    uploaders_known = session.scalar(
        select(func.count(func.distinct(Uploader.name)))
        .join(Entry, Entry.uploader == Uploader.name)
        .where(present, Entry.gone_at.is_(None), Uploader.fetched_at.is_not(None))
    )
    last = last_sync(session, contest.id)
    return {
        "slug": contest.slug,
        "name": contest.name,
        "categories": contest.category_names,
        "start": contest.starts_at.astimezone(contest.zone).isoformat(),
        "end": contest.ends_at.astimezone(contest.zone).isoformat(),
        "timezone": contest.timezone,
        "min_megapixels": contest.min_megapixels,
        "language": contest.language,
        "entries": entries,
        "entries_gone": gone,
        "thumbnails": thumbnail_counts(session, contest.id),
        "uploaders": uploaders,
        "uploaders_fetched": uploaders_known,
        "last_sync": sync_record(last) if last else None,
    }


def last_sync(session: Session, contest_id: int) -> SyncRun | None:
    return session.scalar(
        select(SyncRun).where(SyncRun.contest_id == contest_id).order_by(SyncRun.id.desc()).limit(1)
    )


def sync_record(run: SyncRun) -> dict:
    def when(moment):
        return moment.isoformat() if moment else None

    return {
        "id": run.id,
        "state": run.state,
        "started_by": run.started_by,
        "created_at": when(run.created_at),
        "started_at": when(run.started_at),
        "finished_at": when(run.finished_at),
        "requests": run.requests,
        "files_seen": run.files_seen,
        "added": run.added,
        "updated": run.updated,
        "gone": run.gone,
        "returned": run.returned,
        "errors": run.errors,
        "error": run.error,
    }
