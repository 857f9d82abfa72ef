"""The statistics page of a contest, for its organizers: the figures, the daily chart, the tables,
and the exports (CSV, JSON, wikitext). Also the upload of previously pictured site IDs.

Thin views: ``wle.statistics`` computes everything in a few aggregate queries; these parse,
call and render.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import format_date, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select

from ..contests import get_contest
from ..eligibility import load_settings
from ..models import Contest
from ..models.statistics import PreviouslyPicturedSite
from ..statistics import (
    SHARES, PicturedListError, Statistics, as_json, clear_previously_pictured, contest_statistics, csv_tables,
    figure_label, figures, parse_site_ids, replace_previously_pictured, to_csv, wikitext,
)
from . import db
from .access import current_user, organizer_required
from .forms import ActionForm

bp = Blueprint("statistics", __name__)

# The CSV tables, in the order the page offers them.
CSV_LABELS = {
    "figures": _l("Figures"),
    "daily": _l("Uploads per day"),
    "uploaders": _l("Top uploaders"),
    "regions": _l("Sites per region"),
    "sites": _l("Most pictured sites"),
}


class PicturedListForm(FlaskForm):
    list_file = FileField(
        _l("Sites pictured in earlier years"),
        validators=[FileRequired(_l("Choose a file."))],
        description=_l("One site ID a line, or a CSV file whose first column is the ID. UTF-8. "
                       "It replaces the list uploaded before."),
    )


@bp.get("/contests/<slug>/statistics")
@organizer_required
def show(slug: str):
    session = db()
    contest = get_contest(session, slug)
    stats = contest_statistics(session, contest)
    return render_template(
        "statistics/show.html",
        contest=contest,
        stats=stats,
        figures=[(key, figure_label(key), value, key in SHARES) for key, value in figures(stats)],
        chart=chart_data(stats),
        csv_labels={name: str(label) for name, label in CSV_LABELS.items()},
        list_size=previously_pictured_count(session, contest),
        list_form=PicturedListForm(),
        clear_form=ActionForm(),
    )


def chart_data(stats: Statistics) -> dict:
    """What static/js/statistics-chart.js draws: days with a label in the reader's language."""
    return {
        "days": [
            {"date": day.date.isoformat(), "label": format_date(day.date, "d MMM"),
             "uploads": day.uploads, "joiners": day.joiners}
            for day in stats.days
        ],
        "names": {"uploads": _("Uploads"), "joiners": _("First-time uploaders")},
    }


def previously_pictured_count(session, contest: Contest) -> int:
    return session.scalar(
        select(func.count()).select_from(PreviouslyPicturedSite).where(PreviouslyPicturedSite.contest_id == contest.id)
    )


# --- Exports ----------------------------------------------------------------------------------


@bp.get("/contests/<slug>/statistics.json")
@organizer_required
def export_json(slug: str):
    session = db()
    contest = get_contest(session, slug)
    response = jsonify(as_json(contest_statistics(session, contest)))
    response.headers["Content-Disposition"] = f'attachment; filename="{contest.slug}-statistics.json"'
    return response


@bp.get("/contests/<slug>/statistics/<table>.csv")
@organizer_required
def export_csv(slug: str, table: str):
    session = db()
    contest = get_contest(session, slug)
    tables = csv_tables(contest_statistics(session, contest))
    if table not in tables:
        abort(404, _("There is no table %(name)s; the statistics page links to every one.", name=table))
    return Response(
        to_csv(*tables[table]),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{contest.slug}-{table}.csv"'},
    )


@bp.get("/contests/<slug>/statistics.wiki")
@organizer_required
def export_wikitext(slug: str):
    """Plain text to paste into a report page on Commons (shown, not downloaded, to copy it)."""
    session = db()
    contest = get_contest(session, slug)
    text = wikitext(contest_statistics(session, contest), contest.name)
    return Response(text, mimetype="text/plain")


# --- The uploaded list of previously pictured sites -------------------------------------------


@bp.post("/contests/<slug>/statistics/previously-pictured")
@organizer_required
def upload_previously_pictured(slug: str):
    session = db()
    contest = get_contest(session, slug)
    back = redirect(url_for(".show", slug=contest.slug) + "#previously-pictured")
    form = PicturedListForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return back
    try:
        ids = parse_site_ids(form.list_file.data.read(), pattern=load_settings(session, contest).site_pattern)
    except PicturedListError as error:
        flash(str(error), "error")
        return back
    replace_previously_pictured(session, contest, ids, current_user)
    session.commit()
    flash(_("The list of previously pictured sites now holds %(count)s IDs.", count=len(ids)), "success")
    return back


@bp.post("/contests/<slug>/statistics/previously-pictured/clear")
@organizer_required
def clear_previously_pictured_list(slug: str):
    session = db()
    contest = get_contest(session, slug)
    if ActionForm().validate_on_submit():
        clear_previously_pictured(session, contest, current_user)
        session.commit()
        flash(_("The list of previously pictured sites was removed."), "success")
    return redirect(url_for(".show", slug=contest.slug) + "#previously-pictured")


@bp.app_template_filter("share")
def share(value: float | None) -> str:
    """A fraction as a percentage in the reader's language; a dash when there is nothing to divide."""
    return "—" if value is None else format_percent(value, "#,##0.0%")
