"""How often each entry's file is used on the wikis (``prop=globalusage``), for the statistics.

Fetched by a job after each sync, 50 files a request, committed batch by batch so that a job that
dies keeps what it fetched. Usage grows after a contest (articles pick up its photos), so counts
older than a day are fetched again; younger ones are kept, which keeps hourly syncs cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .commons import IDS_PER_REQUEST, CommonsClient
from .models import Entry, utcnow
from .models.statistics import EntryUsage

REFRESH_AFTER = timedelta(days=1)


@dataclass
class UsageResult:
    checked: int = 0  # entries whose count was stored
    in_use: int = 0  # of those, used on at least one page
    gone: int = 0  # deleted on Commons meanwhile: left for the next sync to mark


def usage_due(session: Session, contest_id: int) -> list[tuple[int, int]]:
    """(entry id, page id) of the contest's present entries never checked or checked long ago."""
    cutoff = utcnow() - REFRESH_AFTER
    rows = session.execute(
        select(Entry.id, Entry.pageid)
        .outerjoin(EntryUsage, EntryUsage.entry_id == Entry.id)
        .where(
            Entry.contest_id == contest_id,
            Entry.gone_at.is_(None),
            or_(EntryUsage.fetched_at.is_(None), EntryUsage.fetched_at < cutoff),
        )
        .order_by(Entry.id)
    )
    return [(entry_id, pageid) for entry_id, pageid in rows]


def fetch_global_usage(
    session: Session,
    client: CommonsClient,
    due: list[tuple[int, int]],
    *,
    on_batch: Callable[[int], None] | None = None,
) -> UsageResult:
    """Fetch and store the usage of the given (entry id, page id) pairs, committing each batch.

    ``on_batch`` gets the number of entries of each finished batch (for progress bars).
    """
    result = UsageResult()
    for start in range(0, len(due), IDS_PER_REQUEST):
        batch = due[start:start + IDS_PER_REQUEST]
        counts = client.global_usage(pageid for _entry_id, pageid in batch)
        entry_ids = [entry_id for entry_id, _pageid in batch]
        stored = {u.entry_id: u for u in session.scalars(select(EntryUsage).where(EntryUsage.entry_id.in_(entry_ids)))}
        now = utcnow()
        for entry_id, pageid in batch:
            if pageid not in counts:
                result.gone += 1
                continue
            usage = stored.get(entry_id) or EntryUsage(entry_id=entry_id)
            usage.usage_count, usage.fetched_at = counts[pageid], now
            session.add(usage)
            result.checked += 1
            result.in_use += counts[pageid] > 0
        session.commit()
        if on_batch:
            on_batch(len(batch))
    return result
