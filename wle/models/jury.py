"""The jury's data: rounds, their jurors and entries, the tasks that become votes, and the winners.

One table holds the work: a row of ``tasks`` is a task (one juror, one entry, one round) until
the juror votes, then it is the vote. A juror's progress is a COUNT over their rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .contest import Contest
from .entry import Entry
from .people import User

# Kinds of round, and what a vote's value means in each.
YESNO = "yesno"      # 1 = yes, 0 = no
RATING = "rating"    # 1 … 5 stars
RANKING = "ranking"  # the place in the juror's order, 1 … N; UNRANKED outside a top-N ballot
KINDS = (YESNO, RATING, RANKING)
UNRANKED = 0

# A round's life: prepared, then jurors vote, then it is closed for good.
DRAFT = "draft"
OPEN = "open"
CLOSED = "closed"
ROUND_STATES = (DRAFT, OPEN, CLOSED)


class Round(Base):
    """One round of a contest's jury. Rounds are numbered 1, 2, 3 … and run one after another."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("contest_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    # Distinct jurors per entry.
    quorum: Mapped[int] = mapped_column(Integer)
    # Ranking rounds only: each juror orders only their best N (None: their whole share).
    rank_top: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=DRAFT)
    # How the entries were chosen, kept for the record: {"source": "eligible"} for a first round,
    # {"source": "round", "round": 2, "rule": "min_average", "value": 3.5, "kept": 57} later.
    selection: Mapped[dict] = mapped_column(JSON, default=dict)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contest: Mapped[Contest] = relationship()

    def __repr__(self) -> str:
        return f"<Round {self.contest_id}/{self.number} {self.kind} {self.state}>"


class RoundJuror(Base):
    """A juror of a round. A removed juror keeps the row (and their finished votes count)."""

    __tablename__ = "round_jurors"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        return self.removed_at is None


class RoundEntry(Base):
    """An entry in a round, and the round it was selected from (None: the contest's eligible entries)."""

    __tablename__ = "round_entries"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True, index=True)
    source_round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Task(Base):
    """A juror's task for one entry of a round, and then their vote on it (``value`` is set).

    Open tasks come in the order (skipped_seq, fewer votes on the entry first, order_key):
    a skip gives the task the juror's next skip number, so it comes back after everything else.
    """

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("round_id", "user_id", "entry_id"),
        # A juror's queue and progress; an entry's votes (the tally) — both covering.
        Index("ix_tasks_round_user_value", "round_id", "user_id", "value"),
        Index("ix_tasks_round_entry_value", "round_id", "entry_id", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    value: Mapped[int | None] = mapped_column(Integer)
    # When the task first became a vote (the order of "back"), and when the vote last changed.
    voted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    skipped_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Random but fixed per juror and entry, so two jurors do not walk the entries in the same order.
    order_key: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[Entry] = relationship()

    @property
    def done(self) -> bool:
        return self.value is not None


class Winner(Base):
    """A place in a contest's final list, set by its organizers."""

    __tablename__ = "winners"
    __table_args__ = (UniqueConstraint("contest_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    place: Mapped[int] = mapped_column(Integer)
    # Shown next to the place, e.g. "Special prize: protected areas".
    note: Mapped[str] = mapped_column(Text, default="")

    entry: Mapped[Entry] = relationship()


class WinnersPage(Base):
    """Whether a contest's public winners page is published, and since when."""

    __tablename__ = "winners_pages"

    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def published(self) -> bool:
        return self.published_at is not None
