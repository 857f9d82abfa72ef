"""The rules' data: each contest's rule settings, its list of protected sites, and for each entry
what the rules found (its reasons, an organizer's decision), its file page's site IDs and the
perceptual hash of its thumbnail.

Kept beside the entries, in tables of their own, keyed by the entry: a sync never has to know
about them, and dropping an entry drops them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

# An organizer's decision about one entry, which overrides what the rules say.
DISQUALIFIED = "disqualified"
QUALIFIED = "qualified"
DECISIONS = (DISQUALIFIED, QUALIFIED)


class ContestRules(Base):
    """Which rules a contest applies and their settings (``wle.rules.RuleSettings.to_json``).

    The minimum size is not here: it is the contest's ``min_megapixels``.
    """

    __tablename__ = "contest_rules"

    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last check of all entries


class Site(Base):
    """A protected site of the contest's national list, imported from CSV."""

    __tablename__ = "sites"
    __table_args__ = (
        UniqueConstraint("contest_id", "site_id"),
        Index("ix_sites_contest_region", "contest_id", "region"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    site_id: Mapped[str] = mapped_column(String(100))  # the ID as the file pages' template gives it
    name: Mapped[str] = mapped_column(String(500))
    region: Mapped[str] = mapped_column(String(255), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    wikidata: Mapped[str | None] = mapped_column(String(32))  # "Q123"


class EntryCheck(Base):
    """What the rules found for one entry, and an organizer's decision, which wins but keeps the
    reasons visible. ``eligible`` is the outcome of both, stored so rounds can filter on it."""

    __tablename__ = "entry_checks"
    __table_args__ = (Index("ix_entry_checks_contest_eligible", "contest_id", "eligible"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    rules_eligible: Mapped[bool] = mapped_column(Boolean)
    eligible: Mapped[bool] = mapped_column(Boolean)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision: Mapped[str | None] = mapped_column(String(16))  # DISQUALIFIED, QUALIFIED or None
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EntryReason(Base):
    """One rule an entry breaks: a code of ``wle.rules.REASON_CODES`` and its facts."""

    __tablename__ = "entry_reasons"
    __table_args__ = (Index("ix_entry_reasons_contest_code", "contest_id", "code", "entry_id"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class EntryWikitext(Base):
    """The wikitext of an entry's file page, and what it says about sites, read with the
    template and pattern in ``read_with`` (read again from ``wikitext`` when they change)."""

    __tablename__ = "entry_wikitext"
    __table_args__ = (Index("ix_entry_wikitext_contest", "contest_id"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    revid: Mapped[int] = mapped_column(Integer)
    wikitext: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_with: Mapped[str | None] = mapped_column(String(512))
    template_found: Mapped[bool] = mapped_column(Boolean, default=False)
    # Values of the template that are no ID; NULL (not []) when there are none, the common case,
    # so that a check of 100,000 entries decodes no JSON for them.
    malformed: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))


class EntrySite(Base):
    """A well-formed site ID found on an entry's file page (known to the list or not)."""

    __tablename__ = "entry_sites"
    __table_args__ = (Index("ix_entry_sites_contest_site", "contest_id", "site_id"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))


class EntryFingerprint(Base):
    """The perceptual hash (``wle.perceptual_hash``, 16 hex digits) of an entry's grid thumbnail."""

    __tablename__ = "entry_fingerprints"
    __table_args__ = (Index("ix_entry_fingerprints_contest", "contest_id"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    perceptual_hash: Mapped[str] = mapped_column(String(16))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
