"""Who may see and do what: the login manager, the role checks, and the decorators every view wears.

Every check runs on the server, for each request, against the database: a role taken away
takes effect on the very next request. Three kinds of people have rights:

- site admins (``User.is_admin``) create contests and name their organizers; they may do anything;
- organizers of a contest (a ``ContestRole`` with role ``organizer``) run that contest;
- jurors of a round vote in that round (the jury's own models).

A person who is not logged in is sent to the login page, or gets a 401 JSON answer under
``/api/``; a logged-in person without the right role gets 403.
"""

from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, LoginManager, current_user  # noqa: F401  (re-exported)
from sqlalchemy import exists, select

from ..models import Contest, ContestRole, User
from ..models.jury import Round, RoundJuror
from ..models.people import JUROR, ORGANIZER
from . import db

__all__ = [
    "login_manager", "current_user", "login_required", "admin_required", "organizer_required",
    "juror_required", "is_admin", "is_organizer", "is_organizer_of_slug", "is_juror", "roles_of",
    "contest_ids_of", "unauthorized", "is_api_request", "safe_next",
]

login_manager = LoginManager()
login_manager.login_view = "auth.login"
# Our own session renewal on login (see wle.web.auth) does the work; "basic" also marks a
# session restored from a remember cookie as not fresh, which we never set anyway.
login_manager.session_protection = "basic"


class Anonymous(AnonymousUserMixin):
    """The visitor who has not logged in: no id, no name, no roles."""

    is_admin = False
    username = None
    id = None


login_manager.anonymous_user = Anonymous


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The logged-in user, read fresh from the request's session on every request."""
    try:
        return db().get(User, int(user_id))
    except ValueError:
        return None  # a session cookie from something else: treat as logged out


@login_manager.unauthorized_handler
def unauthorized():
    """Not logged in: a 401 JSON answer for API clients, the login page (and back) for people."""
    if is_api_request():
        return jsonify({"status": 401, "error": "Unauthorized", "message": _("Log in first.")}), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def safe_next(target: str | None) -> str | None:
    """A place to go back to after login, only if it is a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ch in target for ch in "\r\n\\") or any(ord(ch) < 32 for ch in target):
        return None
    return target


# --- The questions ---------------------------------------------------------------------------


def is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_admin)


def is_organizer(user, contest: Contest) -> bool:
    """Whether the user may run this contest: a site admin, or one of its organizers."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_admin:
        return True
    return db().scalar(
        select(
            exists().where(
                ContestRole.contest_id == contest.id,
                ContestRole.user_id == user.id,
                ContestRole.role == ORGANIZER,
            )
        )
    )


def is_organizer_of_slug(user, slug: str) -> bool:
    """Like ``is_organizer``, by the contest's slug; an unknown slug is no one's (admins pass,
    and the view then answers 404)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_admin:
        return True
    return db().scalar(
        select(
            exists()
            .where(ContestRole.contest_id == Contest.id, Contest.slug == slug)
            .where(ContestRole.user_id == user.id, ContestRole.role == ORGANIZER)
        )
    )


def is_juror(user, round_id: int) -> bool:
    """Whether the user is a juror of the round now (a juror removed from it is not).

    Site admins are not jurors by their rank: judging is personal work, given to named people."""
    if not getattr(user, "is_authenticated", False):
        return False
    return db().scalar(
        select(
            exists().where(
                RoundJuror.round_id == round_id,
                RoundJuror.user_id == user.id,
                RoundJuror.removed_at.is_(None),
            )
        )
    )


def contest_ids_of(user, role: str | None = None) -> set[int] | None:
    """The ids of the contests in which the user holds ``role`` (any role if None);
    None means all of them (a site admin)."""
    if is_admin(user):
        return None
    if not getattr(user, "is_authenticated", False):
        return set()
    query = select(ContestRole.contest_id).where(ContestRole.user_id == user.id)
    if role is not None:
        query = query.where(ContestRole.role == role)
    return set(db().scalars(query))


def roles_of(user) -> dict:
    """The user's roles, as ``GET /api/v1/me`` shows them: ``{"admin": bool, "organizer":
    [contest slugs], "juror": [{"contest": slug, "round": round id}, ...]}`` (rounds they judge now)."""
    if not getattr(user, "is_authenticated", False):
        return {"admin": False, ORGANIZER: [], JUROR: []}
    session = db()
    organizes = session.scalars(
        select(Contest.slug)
        .join(ContestRole, ContestRole.contest_id == Contest.id)
        .where(ContestRole.user_id == user.id, ContestRole.role == ORGANIZER)
        .order_by(Contest.slug)
    )
    judges = session.execute(
        select(Contest.slug, Round.id)
        .join(Round, Round.contest_id == Contest.id)
        .join(RoundJuror, RoundJuror.round_id == Round.id)
        .where(RoundJuror.user_id == user.id, RoundJuror.removed_at.is_(None))
        .order_by(Contest.slug, Round.number)
    )
    return {
        "admin": bool(user.is_admin),
        ORGANIZER: list(organizes),
        JUROR: [{"contest": slug, "round": round_id} for slug, round_id in judges],
    }


# --- The decorators --------------------------------------------------------------------------


def login_required(view: Callable) -> Callable:
    """Any logged-in user."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return unauthorized()
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable) -> Callable:
    """Site admins only."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return unauthorized()
        if not current_user.is_admin:
            abort(403, _("Only site admins may do this."))
        return view(*args, **kwargs)

    return wrapped


def organizer_required(view: Callable) -> Callable:
    """For views of one contest (a ``slug`` argument): its organizers and site admins."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return unauthorized()
        if not is_organizer_of_slug(current_user, kwargs["slug"]):
            abort(403, _("Only this contest's organizers may see or do this."))
        return view(*args, **kwargs)

    return wrapped


def juror_required(view: Callable) -> Callable:
    """For a juror's views of one round (a ``round_id`` argument): its jurors, and no one else —
    not even admins, who see a round's progress and results through the organizers' pages."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return unauthorized()
        if not is_juror(current_user, kwargs["round_id"]):
            abort(403, _("Only the jurors of this round may see or do this."))
        return view(*args, **kwargs)

    return wrapped
