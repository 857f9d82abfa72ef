"""People: users of the platform and their role in each contest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow

ORGANIZER = "organizer"
JUROR = "juror"
ROLES = (ORGANIZER, JUROR)


class User(Base):
    """A Wikimedia account. It may be added by name before its owner ever logs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    # The central user id from OAuth's identify (`sub`); names can change, this cannot.
    wiki_sub: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Site admins create contests and name their organizers.
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The interface language the user chose (a code of wle.web.language.LANGUAGES); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    roles: Mapped[list[ContestRole]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # What Flask-Login asks of a logged-in user (wle.web.access); plain values, no Flask here.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class ContestRole(Base):
    """A user's role in one contest; a user can hold different roles in many contests."""

    __tablename__ = "contest_roles"

    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="roles")
    contest: Mapped["Contest"] = relationship(back_populates="roles")  # noqa: F821
