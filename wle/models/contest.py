"""A contest: its Commons categories, its upload window and its people."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .people import ContestRole


class Contest(Base):
    __tablename__ = "contests"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    # The upload window, stored in UTC; shown and judged in the contest's own time zone.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    min_megapixels: Mapped[float] = mapped_column(Float, default=2.0)
    # The language of what the contest publishes (its winners' wikitext): a code of wle.contests.LANGUAGES.
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    # Minutes between the automatic syncs during the upload window (wle.schedule); 0: none.
    sync_interval_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    categories: Mapped[list[ContestCategory]] = relationship(
        back_populates="contest", cascade="all, delete-orphan", order_by="ContestCategory.id"
    )
    roles: Mapped[list[ContestRole]] = relationship(back_populates="contest", cascade="all, delete-orphan")

    @property
    def category_names(self) -> list[str]:
        return [c.name for c in self.categories]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def __repr__(self) -> str:
        return f"<Contest {self.slug}>"


class ContestCategory(Base):
    """One Commons category a contest takes its entries from (name without the namespace)."""

    __tablename__ = "contest_categories"
    __table_args__ = (UniqueConstraint("contest_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))

    contest: Mapped[Contest] = relationship(back_populates="categories")
