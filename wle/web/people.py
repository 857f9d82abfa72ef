"""People pages: a contest's organizers (named by site admins), its audit log (read by its
organizers), and the site admins' page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from ..audit import contest_log
from ..audit_text import describe_lines
from ..auth import PeopleError, add_admin, add_organizer, admins, organizers, remove_admin, remove_organizer
from ..contests import get_contest
from ..models import AuditLog
from . import db
from .access import admin_required, current_user, organizer_required
from .rounds import KIND_LABELS, selection_text

bp = Blueprint("people", __name__)


def audit_wording() -> dict:
    """The words the round pages use for a round's kind and where its entries came from."""
    return {"kind": lambda kind: str(KIND_LABELS.get(kind, kind)),
            "selection": lambda selection: selection_text(selection) if isinstance(selection, dict) else str(selection)}

LOG_PAGE = 100


class UsernameForm(FlaskForm):
    username = StringField(
        _l("Wikimedia username"),
        validators=[InputRequired(_l("Type a username.")), Length(max=255)],
        description=_l("They need not have logged in yet: their first login claims the role."),
    )


# --- A contest's organizers --------------------------------------------------------------------


@bp.get("/contests/<slug>/people")
@organizer_required
def contest_people(slug: str):
    return render_people(slug)


def render_people(slug: str, form: UsernameForm | None = None, status: int = 200):
    session = db()
    contest = get_contest(session, slug)
    return render_template(
        "people/contest.html",
        contest=contest,
        organizers=organizers(session, contest),
        form=form or UsernameForm(),
        remove_form=FlaskForm(),
    ), status


@bp.post("/contests/<slug>/people")
@admin_required
def add_contest_organizer(slug: str):
    form = UsernameForm()
    if not form.validate_on_submit():
        return render_people(slug, form, 400)
    session = db()
    contest = get_contest(session, slug)
    try:
        user = add_organizer(session, contest, form.username.data, current_user)
    except PeopleError as error:
        form.username.errors.append(str(error))
        return render_people(slug, form, 400)
    session.commit()
    flash(_("%(name)s is an organizer of this contest.", name=user.username), "success")
    return redirect(url_for(".contest_people", slug=slug))


@bp.post("/contests/<slug>/people/remove")
@admin_required
def remove_contest_organizer(slug: str):
    session = db()
    contest = get_contest(session, slug)
    if not FlaskForm().validate_on_submit():
        return render_people(slug, status=400)
    try:
        user = remove_organizer(session, contest, request.form.get("username", ""), current_user)
    except PeopleError as error:
        flash(str(error), "error")
        return redirect(url_for(".contest_people", slug=slug))
    session.commit()
    flash(_("%(name)s is no longer an organizer of this contest.", name=user.username), "success")
    return redirect(url_for(".contest_people", slug=slug))


# --- A contest's audit log ---------------------------------------------------------------------


@bp.get("/contests/<slug>/log")
@organizer_required
def contest_log_page(slug: str):
    session = db()
    contest = get_contest(session, slug)
    lines = contest_log(session, contest.id, limit=LOG_PAGE + 1, before_id=request.args.get("before", type=int))
    return render_template(
        "people/log.html",
        contest=contest,
        lines=describe_lines(session, lines[:LOG_PAGE], audit_wording()),
        older=lines[LOG_PAGE - 1].id if len(lines) > LOG_PAGE else None,
    )


# --- Site admins -------------------------------------------------------------------------------


@bp.get("/admin")
@admin_required
def admins_page():
    return render_admins()


def render_admins(form: UsernameForm | None = None, status: int = 200):
    session = db()
    site_lines = session.scalars(
        select(AuditLog).where(AuditLog.contest_id.is_(None)).order_by(AuditLog.id.desc()).limit(LOG_PAGE)
    ).all()
    return render_template(
        "people/admins.html",
        admins=admins(session),
        form=form or UsernameForm(),
        remove_form=FlaskForm(),
        lines=describe_lines(session, list(site_lines), audit_wording()),
    ), status


@bp.post("/admin")
@admin_required
def add_site_admin():
    form = UsernameForm()
    if not form.validate_on_submit():
        return render_admins(form, 400)
    session = db()
    try:
        user = add_admin(session, form.username.data, current_user)
    except PeopleError as error:
        form.username.errors.append(str(error))
        return render_admins(form, 400)
    session.commit()
    flash(_("%(name)s is a site admin.", name=user.username), "success")
    return redirect(url_for(".admins_page"))


@bp.post("/admin/remove")
@admin_required
def remove_site_admin():
    if not FlaskForm().validate_on_submit():
        return render_admins(status=400)
    session = db()
    try:
        user = remove_admin(session, request.form.get("username", ""), current_user)
    except PeopleError as error:
        flash(str(error), "error")
        return redirect(url_for(".admins_page"))
    session.commit()
    flash(_("%(name)s is no longer a site admin.", name=user.username), "success")
    return redirect(url_for(".admins_page"))
