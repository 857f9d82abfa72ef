"""Entries (one Commons file in one contest) and the uploaders behind them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

# Thumbnail states.
THUMB_PENDING = "pending"
THUMB_DONE = "done"
THUMB_FAILED = "failed"
THUMB_STATES = (THUMB_PENDING, THUMB_DONE, THUMB_FAILED)

# Why an entry is gone.
GONE_DELETED = "deleted"
GONE_LEFT_CATEGORY = "left_category"


class Entry(Base):
    """One Commons file in one contest, keyed by the page id, which survives renames.

    Files that leave the categories or are deleted are marked gone, never dropped: votes and
    statistics may already point at them.
    """

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("contest_id", "pageid"),
        Index("ix_entries_contest_uploaded", "contest_id", "uploaded_at", "id"),
        Index("ix_entries_contest_gone", "contest_id", "gone_at"),
        Index("ix_entries_contest_thumb", "contest_id", "thumb_state"),
        Index("ix_entries_contest_uploader", "contest_id", "uploader"),
        Index("ix_entries_contest_sha1", "contest_id", "sha1"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    pageid: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(512))

    # The entrant is the original uploader: the oldest revision, not a later re-upload.
    uploader: Mapped[str | None] = mapped_column(String(255))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reuploaded: Mapped[bool] = mapped_column(Boolean, default=False)
    last_uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(127))
    sha1: Mapped[str] = mapped_column(String(40))

    license: Mapped[str | None] = mapped_column(String(255))
    license_url: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    date_taken: Mapped[str | None] = mapped_column(String(64))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    credit: Mapped[str | None] = mapped_column(Text)
    artist: Mapped[str | None] = mapped_column(Text)
    artist_user: Mapped[str | None] = mapped_column(String(255))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)

    file_url: Mapped[str] = mapped_column(Text)
    page_url: Mapped[str] = mapped_column(Text)
    thumb_source_url: Mapped[str | None] = mapped_column(Text)

    # Local thumbnails: an opaque key names the files, so that nothing served reveals the author.
    thumb_key: Mapped[str] = mapped_column(String(32))
    thumb_state: Mapped[str] = mapped_column(String(16), default=THUMB_PENDING)
    thumb_error: Mapped[str | None] = mapped_column(Text)
    # Set while a job works on the thumbnails, so that each file is downloaded once; a claim
    # older than the job timeout belongs to a job that died and may be taken over.
    thumb_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which job holds the claim (its RQ job id): the same job, retried after its worker died,
    # takes its own claims back at once instead of waiting for them to expire.
    thumb_claimed_by: Mapped[str | None] = mapped_column(String(64))

    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_sync_id: Mapped[int | None] = mapped_column(Integer)
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gone_reason: Mapped[str | None] = mapped_column(String(16))

    @property
    def file_name(self) -> str:
        """The title without its "File:" namespace, as people name a file."""
        return self.title.split(":", 1)[1] if ":" in self.title else self.title

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1_000_000

    @property
    def gone(self) -> bool:
        return self.gone_at is not None

    def __repr__(self) -> str:
        return f"<Entry {self.pageid} {self.title!r}>"


class Uploader(Base):
    """A Commons account that uploaded entries, with what the statistics need to know of it."""

    __tablename__ = "uploaders"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    edit_count: Mapped[int | None] = mapped_column(Integer)
    missing: Mapped[bool] = mapped_column(Boolean, default=False)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
