"""Syncing a contest with its Commons categories: Commons → entries.

The walk is idempotent: entries are upserted by page id, so a second run changes nothing and a run
killed halfway finishes, when started again, with the same result. Entries are marked gone only
after every category was walked to its end, so a failed walk never marks anything wrongly.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .commons import CommonsClient, CommonsError, CommonsFile
from .models import Contest, Entry, SyncRun, utcnow
from .models.entry import GONE_DELETED, GONE_LEFT_CATEGORY, THUMB_PENDING
from .models.sync import DONE, FAILED, QUEUED, RUNNING

# A running sync writes a heartbeat with every batch; one silent for this long was killed.
STALE_AFTER = timedelta(minutes=15)
# A queued sync that no worker took for this long is considered lost.
QUEUE_STALE_AFTER = timedelta(hours=2)

# Entry fields copied from Commons, compared to tell whether an entry changed.
COPIED_FIELDS = (
    "title", "uploader", "uploaded_at", "reuploaded", "last_uploaded_at", "width", "height", "size",
    "mime", "sha1", "license", "license_url", "description", "date_taken", "latitude", "longitude",
    "credit", "artist", "artist_user",
)


class SyncAlreadyRunning(RuntimeError):
    def __init__(self, run: SyncRun):
        message = (_("A sync of this contest is already queued (started by %(name)s).", name=run.started_by)
                   if run.state == QUEUED else
                   _("A sync of this contest is already running (started by %(name)s).", name=run.started_by))
        super().__init__(message)
        self.run = run


@dataclass
class BatchResult:
    added: int = 0
    updated: int = 0
    returned: int = 0


def begin_sync(session: Session, contest: Contest, started_by: str) -> SyncRun:
    """Record a new sync, refusing while another one of the same contest is alive."""
    for run in session.scalars(
        select(SyncRun).where(SyncRun.contest_id == contest.id, SyncRun.state.in_((QUEUED, RUNNING)))
    ):
        if is_alive(run):
            raise SyncAlreadyRunning(run)
        _fail(run, "Interrupted: the job stopped giving signs of life.")
    run = SyncRun(contest_id=contest.id, started_by=started_by, state=QUEUED)
    session.add(run)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Another request started one between our check and our insert.
        live = session.scalar(
            select(SyncRun).where(SyncRun.contest_id == contest.id, SyncRun.state.in_((QUEUED, RUNNING)))
        )
        raise SyncAlreadyRunning(live) from None
    return run


def is_alive(run: SyncRun, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if run.state == RUNNING:
        return now - (run.heartbeat_at or run.started_at or run.created_at) < STALE_AFTER
    if run.state == QUEUED:
        return now - run.created_at < QUEUE_STALE_AFTER
    return False


def run_sync(
    session: Session,
    run_id: int,
    client: CommonsClient,
    *,
    on_batch: Callable[[SyncRun, BatchResult], None] | None = None,
) -> SyncRun:
    """Walk the contest's categories and bring its entries up to date.

    ``on_batch`` is called after each committed batch (progress bars, queueing thumbnail work).
    A Commons error ends the sync as failed with the error recorded; it is not raised again,
    since the client has already retried as much as etiquette allows.
    """
    run = session.get(SyncRun, run_id)
    if run is None:
        raise LookupError(f"No sync run {run_id}.")
    if run.finished:
        return run  # delivered twice: the work was done
    contest = run.contest
    requests_before = client.requests_made
    run.state, run.started_at, run.heartbeat_at = RUNNING, run.started_at or utcnow(), utcnow()
    run.files_seen = run.added = run.updated = run.gone = run.returned = 0
    session.commit()

    seen: set[int] = set()
    try:
        for category in contest.category_names:
            for files in _listing(client, category, run.since):
                fresh = [f for f in files if f.pageid not in seen]
                seen.update(f.pageid for f in fresh)
                result = upsert_entries(session, contest, run, fresh)
                run.files_seen = len(seen)
                run.added += result.added
                run.updated += result.updated
                run.returned += result.returned
                run.requests = client.requests_made - requests_before
                run.heartbeat_at = utcnow()
                session.commit()
                if on_batch:
                    on_batch(run, result)
        if run.since is None:  # only a walk of the whole categories can tell what is gone
            run.gone += mark_gone(session, contest, run, client)
        run.requests = client.requests_made - requests_before
        run.state, run.finished_at = DONE, utcnow()
        session.commit()
    except CommonsError as error:
        _record_failure(session, run, client.requests_made - requests_before, str(error))
    except Exception as error:
        # A bug or a database failure: record it for the organizers, then let the job runner see it.
        _record_failure(session, run, client.requests_made - requests_before, f"Internal error: {error!r}")
        raise
    return run


def _listing(client: CommonsClient, category: str, since: datetime | None) -> Iterable[list[CommonsFile]]:
    """The whole category, or for a sync of the changes only, the files added to it since then."""
    if since is None:
        return client.category_files(category)
    return client.category_files_added_since(category, since)


def _record_failure(session: Session, run: SyncRun, requests: int, message: str) -> None:
    session.rollback()  # the batch in progress is dropped whole; committed batches stay
    run.requests = requests
    run.errors += 1
    _fail(run, message)
    session.commit()


def fail_sync(session: Session, run_id: int, message: str) -> None:
    """Record that a sync could not even start (e.g. no operator contact configured)."""
    run = session.get(SyncRun, run_id)
    if run is not None and not run.finished:
        run.errors += 1
        _fail(run, message)
        session.commit()


def _fail(run: SyncRun, message: str) -> None:
    run.state, run.error, run.finished_at = FAILED, message, utcnow()


def upsert_entries(session: Session, contest: Contest, run: SyncRun, files: Iterable[CommonsFile]) -> BatchResult:
    """Insert new files and update changed ones; a changed image needs its thumbnails again."""
    files = list(files)
    result = BatchResult()
    if not files:
        return result
    existing = {
        e.pageid: e
        for e in session.scalars(
            select(Entry).where(Entry.contest_id == contest.id, Entry.pageid.in_([f.pageid for f in files]))
        )
    }
    now = utcnow()
    for file in files:
        entry = existing.get(file.pageid)
        if entry is None:
            entry = Entry(contest_id=contest.id, pageid=file.pageid, thumb_key=secrets.token_hex(16), first_seen_at=now)
            _copy(file, entry)
            session.add(entry)
            result.added += 1
        else:
            if entry.gone_at is not None:
                entry.gone_at = entry.gone_reason = None
                result.returned += 1
            changed_image = entry.sha1 != file.sha1 or entry.thumb_source_url != file.thumb_url
            if _copy(file, entry):
                result.updated += 1
            if changed_image:
                entry.thumb_state, entry.thumb_error = THUMB_PENDING, None
        entry.last_seen_at, entry.last_seen_sync_id = now, run.id
    session.flush()
    return result


def _copy(file: CommonsFile, entry: Entry) -> bool:
    """Copy Commons' data onto the entry; return whether anything changed."""
    changed = False
    values = {name: getattr(file, name) for name in COPIED_FIELDS}
    values.update(
        categories=list(file.categories),
        file_url=file.url,
        page_url=file.page_url,
        thumb_source_url=file.thumb_url,
    )
    for name, value in values.items():
        if getattr(entry, name) != value:
            setattr(entry, name, value)
            changed = True
    return changed


def mark_gone(session: Session, contest: Contest, run: SyncRun, client: CommonsClient) -> int:
    """Mark entries not seen in this walk as gone: deleted on Commons, or out of the categories."""
    missing = session.scalars(
        select(Entry).where(
            Entry.contest_id == contest.id,
            Entry.gone_at.is_(None),
            (Entry.last_seen_sync_id != run.id) | Entry.last_seen_sync_id.is_(None),
        )
    ).all()
    if not missing:
        return 0
    titles = client.page_titles(e.pageid for e in missing)
    now = utcnow()
    for entry in missing:
        title = titles.get(entry.pageid)
        entry.gone_at = now
        entry.gone_reason = GONE_DELETED if title is None else GONE_LEFT_CATEGORY
        if title:
            entry.title = title  # it may have been renamed as well
    session.flush()
    return len(missing)


