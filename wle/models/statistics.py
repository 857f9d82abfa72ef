"""What the statistics need beyond the entries: how often each file is used on the wikis, and the
site IDs a contest's organizers say were pictured before the platform knew of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow
from .entry import Entry

# Every column the statistics read of an entry, in the order they filter it: their queries are
# answered from this index alone, never visiting the wide entry rows (a 100,000-entry contest in
# tens of milliseconds rather than a second on SQLite). ``id`` is there for PostgreSQL's
# index-only scans; SQLite has it in every index anyway.
Index(
    "ix_entries_statistics",
    Entry.contest_id, Entry.uploaded_at, Entry.gone_at, Entry.uploader, Entry.width, Entry.height, Entry.id,
)


class EntryUsage(Base):
    """How many pages, on any Wikimedia wiki (Commons included), use an entry's file.

    Kept beside the entry rather than on it: it comes from another API module (``globalusage``),
    on another schedule (a job after each sync, refreshed daily), and an entry never checked is
    different from one used nowhere.
    """

    __tablename__ = "entry_usage"

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    usage_count: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PreviouslyPicturedSite(Base):
    """A site ID an organizer's uploaded list says was pictured in an earlier year.

    Earlier contests run on this platform count by themselves; this list covers the years before.
    """

    __tablename__ = "previously_pictured_sites"

    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(100), primary_key=True)  # as long as Site.site_id
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
