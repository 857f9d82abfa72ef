"""People and their rights, as plain functions over a database session (no Flask).

A person is a Wikimedia account. The platform knows them by the ``sub`` of their OAuth identity
(the central user id, which never changes), and keeps their username up to date at each login.
Anyone can be added by username before they ever log in: that makes a user without a ``sub``,
which their first login claims.

Every change made by an admin or organizer writes an audit line in the caller's transaction;
the caller commits.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .audit import record
from .models import Base, Contest, ContestRole, User
from .models.people import ORGANIZER

MAX_USERNAME = 255
# Characters MediaWiki never allows in a username (plus control characters).
FORBIDDEN = re.compile(r"[#<>\[\]|{}/\x00-\x1f\x7f]")


class PeopleError(ValueError):
    """A change to people or roles cannot be made; the message says why, for the person who asked."""


class LoginRefused(PeopleError):
    """The identity cannot log in (blocked, or not usable); the message says why."""


def canonical_username(name: str) -> str:
    """A username as MediaWiki writes it: spaces not underscores, the first letter in capitals.

    No checks: for matching names (an uploader to a juror); ``normalize_username`` also validates.
    """
    cleaned = re.sub(r"\s+", " ", (name or "").replace("_", " ")).strip()
    if cleaned.lower().startswith("user:"):
        cleaned = cleaned[5:].strip()
    return cleaned[:1].upper() + cleaned[1:]


def normalize_username(name: str) -> str:
    """The canonical form of a username; PeopleError for what can never be a Wikimedia username."""
    cleaned = canonical_username(name)
    if not cleaned:
        raise PeopleError(_("Give a Wikimedia username."))
    if FORBIDDEN.search(cleaned):
        raise PeopleError(_("“%(name)s” cannot be a Wikimedia username: it contains # < > [ ] | { } / "
                            "or a control character.", name=cleaned))
    if len(cleaned) > MAX_USERNAME:
        raise PeopleError(_("A Wikimedia username has at most %(max)s characters.", max=MAX_USERNAME))
    return cleaned


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalize_username(username)))


def add_person(session: Session, username: str) -> User:
    """The user with this Wikimedia username, added (without a ``sub``) if the platform does not know them."""
    name = normalize_username(username)
    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        user = User(username=name)
        session.add(user)
        session.flush()
    return user


# --- Login -------------------------------------------------------------------------------------


def user_from_identity(session: Session, identity: dict) -> User:
    """Find or create the user an OAuth identity (Special:OAuth/identify) describes, and bring their
    username up to date. Raises LoginRefused for a blocked account or an identity without a sub or name.

    - a known ``sub``: that user; renamed if the wiki renamed them;
    - an unknown ``sub`` whose username was added beforehand: that user claims the row;
    - otherwise a new user.
    """
    sub = str(identity.get("sub") or "").strip()
    if not sub:
        raise LoginRefused(_("Wikimedia did not say who you are (the identity has no user id)."))
    try:
        name = normalize_username(str(identity.get("username") or ""))
    except PeopleError:
        raise LoginRefused(_("Wikimedia did not give a usable username for your account.")) from None
    if identity.get("blocked"):
        raise LoginRefused(_(
            "The account %(name)s is blocked on Wikimedia, so it cannot log in here. "
            "If you think this is a mistake, ask the wiki's administrators.", name=name
        ))
    user = session.scalar(select(User).where(User.wiki_sub == sub))
    holder = session.scalar(select(User).where(User.username == name))
    if user is None:
        if holder is not None and holder.wiki_sub is None:
            holder.wiki_sub = sub  # added by name beforehand: this login claims the account
            session.flush()
            return holder
        if holder is not None:
            _move_aside(session, holder)  # the name's former owner was renamed on the wiki
        user = User(username=name, wiki_sub=sub)
        session.add(user)
        session.flush()
        return user
    if holder is not None and holder.id != user.id:
        if holder.wiki_sub is None:
            _merge_into(session, placeholder=holder, user=user)  # added under the new name meanwhile
        else:
            _move_aside(session, holder)
    user.username = name
    session.flush()
    return user


def _move_aside(session: Session, stale: User) -> None:
    """Free a username held by another account (renamed on the wiki since it last logged in here).
    Its next login puts its new name back."""
    stale.username = f"{stale.username[:MAX_USERNAME - 24]} (renamed, #{stale.id})"
    session.flush()


def _merge_into(session: Session, *, placeholder: User, user: User) -> None:
    """A user added by name (no ``sub``) turns out to be ``user`` under a new name: give ``user``
    everything that pointed at the placeholder, then drop the placeholder.

    If that cannot be done (both hold the same place somewhere, e.g. juror of the same round),
    the placeholder is only moved aside: nothing is lost, an organizer can re-add what is missing.
    """
    try:
        with session.begin_nested():
            user.is_admin = user.is_admin or placeholder.is_admin
            _drop_duplicate_roles(session, placeholder, user)
            for column in _columns_referring_to_users():
                session.execute(update(column.table).where(column == placeholder.id).values({column.name: user.id}))
            session.expire_all()  # the rows now point elsewhere; reload what is used next
            session.delete(session.get(User, placeholder.id))
    except IntegrityError:
        _move_aside(session, session.get(User, placeholder.id))


def _drop_duplicate_roles(session: Session, placeholder: User, user: User) -> None:
    held = set(session.execute(select(ContestRole.contest_id, ContestRole.role).where(ContestRole.user_id == user.id)))
    for role in session.scalars(select(ContestRole).where(ContestRole.user_id == placeholder.id)):
        if (role.contest_id, role.role) in held:
            session.delete(role)
    session.flush()


def _columns_referring_to_users():
    """Every column of every table that points at a user (roles, audit lines, the jury's tables)."""
    users = Base.metadata.tables["users"]
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is users:
                yield fk.parent


# --- Site admins -------------------------------------------------------------------------------


def admins(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.is_admin.is_(True)).order_by(User.username)))


def add_admin(session: Session, username: str, actor: User | str) -> User:
    """Make someone a site admin (added by name if they never logged in)."""
    user = add_person(session, username)
    if not user.is_admin:
        user.is_admin = True
        record(session, actor, "admin.add", user=user.username, user_id=user.id)
    return user


def remove_admin(session: Session, username: str, actor: User | str) -> User:
    """Take away someone's site admin rights; the last admin cannot be removed."""
    user = find_user(session, username)
    if user is None or not user.is_admin:
        raise PeopleError(_("%(name)s is not a site admin.", name=normalize_username(username)))
    if session.scalar(select(func.count()).select_from(User).where(User.is_admin.is_(True))) <= 1:
        raise PeopleError(_("%(name)s is the last site admin; add another admin first.", name=user.username))
    user.is_admin = False
    record(session, actor, "admin.remove", user=user.username, user_id=user.id)
    return user


# --- Organizers of a contest -------------------------------------------------------------------


def organizers(session: Session, contest: Contest) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(ContestRole, ContestRole.user_id == User.id)
            .where(ContestRole.contest_id == contest.id, ContestRole.role == ORGANIZER)
            .order_by(User.username)
        )
    )


def add_organizer(session: Session, contest: Contest, username: str, actor: User | str) -> User:
    """Name someone an organizer of the contest (added by name if they never logged in)."""
    user = add_person(session, username)
    if _organizer_role(session, contest, user) is None:
        session.add(ContestRole(contest_id=contest.id, user_id=user.id, role=ORGANIZER))
        record(session, actor, "organizer.add", contest_id=contest.id, user=user.username, user_id=user.id)
        session.flush()
    return user


def remove_organizer(session: Session, contest: Contest, username: str, actor: User | str) -> User:
    user = find_user(session, username)
    role = _organizer_role(session, contest, user) if user else None
    if role is None:
        raise PeopleError(_("%(name)s is not an organizer of this contest.", name=normalize_username(username)))
    session.delete(role)
    record(session, actor, "organizer.remove", contest_id=contest.id, user=user.username, user_id=user.id)
    session.flush()
    return user


def _organizer_role(session: Session, contest: Contest, user: User) -> ContestRole | None:
    return session.get(ContestRole, (contest.id, user.id, ORGANIZER))
