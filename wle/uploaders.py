"""Uploaders' registration data (for newcomer statistics), fetched 50 names a request."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .commons import CommonsClient
from .models import Entry, Uploader, utcnow

# Registration never changes; edit counts do, slowly. Refresh what is older than this.
REFRESH_AFTER = timedelta(days=7)


def names_to_fetch(session: Session, contest_id: int) -> list[str]:
    """Uploaders of the contest's entries never fetched, or fetched long ago."""
    known = {
        u.name: u.fetched_at
        for u in session.scalars(
            select(Uploader).where(
                Uploader.name.in_(select(Entry.uploader).where(Entry.contest_id == contest_id).distinct())
            )
        )
    }
    cutoff = utcnow() - REFRESH_AFTER
    names = session.scalars(
        select(Entry.uploader).where(Entry.contest_id == contest_id, Entry.uploader.is_not(None)).distinct()
    )
    return sorted(n for n in names if known.get(n) is None or known[n] < cutoff)


def fetch_uploaders(session: Session, client: CommonsClient, names: list[str], batch: int = 50) -> int:
    """Fetch and store the given uploaders, committing batch by batch; return how many were stored."""
    stored = 0
    for start in range(0, len(names), batch):
        chunk = names[start:start + batch]
        existing = {u.name: u for u in session.scalars(select(Uploader).where(Uploader.name.in_(chunk)))}
        now = utcnow()
        for user in client.users(chunk):
            uploader = existing.get(user.name) or Uploader(name=user.name)
            uploader.registered_at = user.registered_at
            uploader.edit_count = user.edit_count
            uploader.missing = user.missing
            uploader.fetched_at = now
            session.add(uploader)
            stored += 1
        session.commit()
    return stored
