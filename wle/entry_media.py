"""Making each entry's local thumbnails: download once, render the sizes, record the state.

Each entry is claimed before its download, so that two jobs never fetch the same file; a claim
left by a job that died expires and the entry is taken up again. A claim names the job that holds
it, so that the same job, retried after its worker was killed, takes its claims back at once.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Iterable

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from .commons import CommonsClient, CommonsError, CommonsUnavailable
from .download_slots import DownloadSlots
from .eligibility import remember_perceptual_hash
from .models import Entry, utcnow
from .models.entry import THUMB_DONE, THUMB_FAILED, THUMB_PENDING
from .thumbnails import ThumbnailError, thumbnail_path, write_thumbnails

CLAIM_EXPIRES = timedelta(minutes=20)
# Standard thumbnails at 1920 px are a few MB; anything much larger is not what we asked for.
MAX_DOWNLOAD_BYTES = 40 * 1024 * 1024


def claim(session: Session, entry_id: int, holder: str | None = None) -> bool:
    """Take the entry for this job, atomically; False if it is done or another job has it.

    ``holder`` names the job (its RQ job id); a claim held under the same name is taken back.
    """
    now = utcnow()
    taken = session.execute(
        update(Entry)
        .where(
            Entry.id == entry_id,
            Entry.thumb_state == THUMB_PENDING,
            or_(
                Entry.thumb_claimed_at.is_(None),
                Entry.thumb_claimed_at < now - CLAIM_EXPIRES,
                and_(Entry.thumb_claimed_by.is_not(None), Entry.thumb_claimed_by == holder),
            ),
        )
        .values(thumb_claimed_at=now, thumb_claimed_by=holder)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return taken == 1


def make_thumbnails(
    session: Session,
    entry_ids: Iterable[int],
    client: CommonsClient,
    media_dir: str | Path,
    slots: DownloadSlots,
    holder: str | None = None,
) -> dict[str, int]:
    """Make the thumbnails of the given entries; return how many were done, failed or skipped.

    A bad file fails only its own entry, with the reason. Commons being unavailable stops the
    batch (the entry is released, the error raised) so that the job runner can retry later.
    """
    counts = {THUMB_DONE: 0, THUMB_FAILED: 0, "skipped": 0}
    for entry_id in entry_ids:
        if not claim(session, entry_id, holder):
            counts["skipped"] += 1
            continue
        entry = session.get(Entry, entry_id, populate_existing=True)
        try:
            state, error = _make_one(entry, client, media_dir, slots)
        except CommonsUnavailable:
            entry.thumb_claimed_at = entry.thumb_claimed_by = None
            session.commit()
            raise
        entry.thumb_state, entry.thumb_error = state, error
        entry.thumb_claimed_at = entry.thumb_claimed_by = None
        if state == THUMB_DONE:  # for the near-duplicate rule (wle.eligibility)
            remember_perceptual_hash(session, entry, thumbnail_path(media_dir, entry.thumb_key, "grid"))
        session.commit()
        counts[state] += 1
    return counts


def _make_one(entry: Entry, client: CommonsClient, media_dir, slots: DownloadSlots) -> tuple[str, str | None]:
    if not entry.thumb_source_url:
        return THUMB_FAILED, "Commons gave no thumbnail URL for this file (not an image?)."
    try:
        with slots.acquire():
            data = client.download(entry.thumb_source_url, max_bytes=MAX_DOWNLOAD_BYTES)
        write_thumbnails(media_dir, entry.thumb_key, data)
    except CommonsUnavailable:
        raise
    except (CommonsError, ThumbnailError) as error:
        return THUMB_FAILED, str(error)
    return THUMB_DONE, None


def pending_entry_ids(session: Session, contest_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Entry.id)
            .where(Entry.contest_id == contest_id, Entry.gone_at.is_(None), Entry.thumb_state == THUMB_PENDING)
            .order_by(Entry.id)
        )
    )
