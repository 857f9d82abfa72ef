"""The record of each sync: the database, not Redis, is the source of truth for its progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .contest import Contest

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
SYNC_STATES = (QUEUED, RUNNING, DONE, FAILED)


class SyncRun(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_contest_created", "contest_id", "created_at"),
        # At most one live sync per contest, even when "Sync now" is pressed twice at once.
        Index("uq_sync_runs_one_live", "contest_id", unique=True,
              sqlite_where=text("state IN ('queued', 'running')"),
              postgresql_where=text("state IN ('queued', 'running')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    started_by: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    job_id: Mapped[str | None] = mapped_column(String(64))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Updated with every batch; a running sync whose heartbeat stopped was killed.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requests: Mapped[int] = mapped_column(Integer, default=0)
    files_seen: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    gone: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)  # gone before, back in the category now
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)  # the error that stopped it, for people
    # Set for a sync of the changes only: files added to the categories since this moment are
    # listed and nothing is marked gone (wle.schedule). None: the whole categories are walked.
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contest: Mapped[Contest] = relationship()

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)
