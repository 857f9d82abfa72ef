"""The organizers' review of a contest's rules: the flagged entries grouped by reason, decisions by
hand, the rule settings with a preview of their effect, and the site list's CSV import.

Thin views: parse the form, call ``wle.eligibility`` / ``wle.sites``, render. Every change is
audited there, in the same transaction.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FloatField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from jobs.runner import JobRunner, QueueUnavailable
from jobs.wikitext import read_file_pages

from .. import rules
from ..contests import get_contest
from ..eligibility import (
    DecisionError, check_contest, check_state, decide, flagged_entries, load_settings, preview_settings,
    reason_counts, save_settings,
)
from ..models import Contest, Entry
from ..rules import RuleSettings, RuleSettingsError
from ..sites import SiteListError, import_sites, site_count
from . import db, settings
from .access import current_user, organizer_required
from .forms import no_control_characters

bp = Blueprint("review", __name__)

PAGE_SIZE = 30
ALL_FLAGGED = "flagged"
DECIDED = "decided"

REASON_LABELS = {
    rules.OUTSIDE_WINDOW: _l("Uploaded outside the window"),
    rules.TOO_SMALL: _l("Too small"),
    rules.FILE_TYPE: _l("File type not allowed"),
    rules.LICENCE: _l("Licence not allowed"),
    rules.NOT_OWN_WORK: _l("Not own work"),
    rules.SITE_ID_MISSING: _l("No site ID"),
    rules.SITE_ID_UNKNOWN: _l("Unknown site ID"),
    rules.DUPLICATE: _l("Duplicate"),
    rules.NEAR_DUPLICATE: _l("Near-duplicate"),
}
RULE_LABELS = {
    rules.WINDOW: _l("First upload inside the upload window"),
    rules.MIN_SIZE: _l("At least the minimum size"),
    rules.FILE_TYPES: _l("An allowed file type"),
    rules.LICENCES: _l("A licence from the list"),
    rules.OWN_WORK: _l("Own work (the credit says so, or the author is the uploader)"),
    rules.SITE_ID: _l("A known protected-site ID on the file page"),
    rules.DUPLICATES: _l("Not a copy of an earlier upload (same file)"),
    rules.NEAR_DUPLICATES: _l("Not a near-copy of an earlier upload (similar thumbnail)"),
}


def _lines(text: str | None) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Length(max=2000), no_control_characters])


class CheckForm(FlaskForm):
    """A button: check every entry again now, or read the file pages again."""


def _one_per_line(_form, field) -> None:
    if len(_lines(field.data)) > 100:
        raise ValidationError(_l("At most 100 lines."))


class RulesForm(FlaskForm):
    window = BooleanField(RULE_LABELS[rules.WINDOW])
    min_size = BooleanField(RULE_LABELS[rules.MIN_SIZE])
    file_type = BooleanField(RULE_LABELS[rules.FILE_TYPES])
    licence = BooleanField(RULE_LABELS[rules.LICENCES])
    own_work = BooleanField(RULE_LABELS[rules.OWN_WORK])
    site_id = BooleanField(RULE_LABELS[rules.SITE_ID])
    duplicate = BooleanField(RULE_LABELS[rules.DUPLICATES])
    near_duplicate = BooleanField(RULE_LABELS[rules.NEAR_DUPLICATES])
    min_megapixels = FloatField(
        _l("Minimum size in megapixels"),
        validators=[InputRequired(_l("Give the minimum size in megapixels, e.g. 2."))],
        invalid_value_message=_l("The minimum size must be a number, e.g. 2 or 1.5."),
    )
    file_types = TextAreaField(_l("Allowed file types"), validators=[Length(max=5000), _one_per_line,
                                                                     no_control_characters],
                               description=_l("One MIME type per line, e.g. image/jpeg."))
    licences = TextAreaField(_l("Allowed licences"), validators=[Length(max=10_000), _one_per_line,
                                                                 no_control_characters],
                             description=_l("One per line, as Commons names them, e.g. CC BY-SA 4.0."))
    site_template = StringField(_l("Site ID template"), validators=[Length(max=255), no_control_characters],
                                description=_l("The template on the file page whose first parameter is the "
                                               "site ID, without “Template:”."))
    site_pattern = StringField(_l("Site ID pattern"), validators=[Length(max=rules.MAX_PATTERN_LENGTH),
                                                                  no_control_characters],
                               description=_l("A regular expression the whole ID must match."))
    near_duplicate_distance = IntegerField(
        _l("Near-duplicate distance"),
        validators=[InputRequired(_l("Give a whole number from 0 to %(max)d.", max=rules.MAX_NEAR_DUPLICATE_DISTANCE))],
        invalid_value_message=_l("Give a whole number from 0 to %(max)d.", max=rules.MAX_NEAR_DUPLICATE_DISTANCE),
        description=_l("How many of the 64 bits of the thumbnails' hashes may differ; 0 finds only "
                       "identical pictures, 4 finds re-encoded and resized copies."),
    )
    preview = SubmitField(_l("Preview the effect"))
    save = SubmitField(_l("Save and check every entry"))

    def fill(self, current: RuleSettings) -> None:
        for rule in rules.RULES:
            getattr(self, rule).data = current.on(rule)
        self.min_megapixels.data = current.min_megapixels
        self.file_types.data = "\n".join(current.file_types)
        self.licences.data = "\n".join(current.licences)
        self.site_template.data = current.site_template
        self.site_pattern.data = current.site_pattern
        self.near_duplicate_distance.data = current.near_duplicate_distance

    def rule_settings(self) -> RuleSettings:
        return RuleSettings(
            enabled=frozenset(rule for rule in rules.RULES if getattr(self, rule).data),
            min_megapixels=self.min_megapixels.data,
            file_types=_lines(self.file_types.data),
            licences=_lines(self.licences.data),
            site_template=(self.site_template.data or "").strip(),
            site_pattern=(self.site_pattern.data or "").strip(),
            near_duplicate_distance=self.near_duplicate_distance.data,
        )


class SitesForm(FlaskForm):
    csv_file = FileField(_l("Site list (CSV)"), validators=[FileRequired(_l("Choose a CSV file."))],
                         description=_l("Columns: ID, name, region; optionally lat, lon, wikidata. UTF-8, "
                                        "separated by commas or semicolons."))


# --- The flagged entries -------------------------------------------------------------------


@bp.get("/contests/<slug>/review")
@organizer_required
def index(slug: str):
    return render_review(get_contest(db(), slug))


def render_review(contest: Contest, problem: str | None = None, status: int = 200):
    session = db()
    shown = request.values.get("reason", ALL_FLAGGED)
    if shown not in (ALL_FLAGGED, DECIDED, *rules.REASON_CODES):
        abort(400, _("Unknown group %(name)s; choose one of the links above the grid.", name=shown[:40]))
    after = request.values.get("after", type=int)
    page = flagged_entries(session, contest, None if shown == ALL_FLAGGED else shown, after_id=after,
                           size=PAGE_SIZE + 1)
    state = check_state(session, contest)
    current = load_settings(session, contest)
    return render_template(
        "review/index.html",
        contest=contest,
        shown=shown,
        entries=page[:PAGE_SIZE],
        next_after=page[PAGE_SIZE - 1].entry.id if len(page) > PAGE_SIZE else None,
        counts=reason_counts(session, contest),
        state=state,
        reason_labels={code: str(label) for code, label in REASON_LABELS.items()},
        settings=current,
        sites=site_count(session, contest.id),
        problem=problem,
    ), status


@bp.post("/contests/<slug>/review/entries/<int:pageid>")
@organizer_required
def decision(slug: str, pageid: int):
    session = db()
    contest = get_contest(session, slug)
    form = DecisionForm()
    if not form.validate_on_submit():
        return render_review(contest, " ".join(str(error) for errors in form.errors.values() for error in errors), 400)
    try:
        check = decide(session, contest, pageid, request.form.get("action", ""), form.note.data, current_user)
    except DecisionError as error:
        session.rollback()
        return render_review(contest, str(error), 400)
    session.commit()
    file = session.get(Entry, check.entry_id).file_name
    if check.decision is None:
        flash(_("“%(file)s”: the decision was cleared; the rules decide again.", file=file), "success")
    elif check.eligible:
        flash(_("“%(file)s” was requalified.", file=file), "success")
    else:
        flash(_("“%(file)s” was disqualified.", file=file), "success")
    back = {"reason": request.values.get("reason") or None, "after": request.values.get("after", type=int)}
    return redirect(url_for(".index", slug=slug, **{k: v for k, v in back.items() if v}) + f"#entry-{pageid}", 303)


@bp.post("/contests/<slug>/review/check")
@organizer_required
def check(slug: str):
    session = db()
    contest = get_contest(session, slug)
    if not CheckForm().validate_on_submit():
        abort(400)
    report = check_contest(session, contest)
    session.commit()
    flash(report_summary(report), "success")
    return redirect(url_for(".index", slug=slug), 303)


@bp.post("/contests/<slug>/review/file-pages")
@organizer_required
def file_pages(slug: str):
    """Queue the reading of the new and flagged file pages (someone may have added a site ID)."""
    contest = get_contest(db(), slug)
    if not CheckForm().validate_on_submit():
        abort(400)
    if not settings().contact.strip():
        flash(_("Reading file pages is switched off until the operator sets WLE_CONTACT."), "error")
        return redirect(url_for(".index", slug=slug), 303)
    try:
        JobRunner(settings()).enqueue(read_file_pages, contest.id, timeout=3600)
    except QueueUnavailable as error:
        flash(_("The job could not be queued: the job queue (Redis) is unreachable. (%(error)s)", error=str(error)),
              "error")
    else:
        flash(_("The file pages will be read in the background; the entries are checked again after."), "success")
    return redirect(url_for(".index", slug=slug), 303)


def report_summary(report) -> str:
    parts = [
        ngettext("%(num)d entry checked", "%(num)d entries checked", report.checked),
        ngettext("%(num)d breaks a rule", "%(num)d break a rule", report.failing),
        ngettext("%(num)d newly fails", "%(num)d newly fail", len(report.newly_failing)),
        ngettext("%(num)d newly passes", "%(num)d newly pass", len(report.newly_passing)),
    ]
    return "; ".join(parts) + "."


# --- The rule settings -----------------------------------------------------------------------


@bp.route("/contests/<slug>/review/rules", methods=["GET", "POST"])
@organizer_required
def rule_settings(slug: str):
    session = db()
    contest = get_contest(session, slug)
    form = RulesForm()
    if request.method == "GET":
        form.fill(load_settings(session, contest))
        return render_rules(contest, form)
    if not form.validate_on_submit():
        return render_rules(contest, form, status=400)
    proposed = form.rule_settings()
    try:
        if form.save.data:
            report = save_settings(session, contest, proposed, current_user)
            session.commit()
            flash(_("The rules were saved.") + " " + report_summary(report), "success")
            return redirect(url_for(".rule_settings", slug=slug), 303)
        report = preview_settings(session, contest, proposed)
    except RuleSettingsError as error:
        session.rollback()
        return render_rules(contest, form, problems=error.problems, status=400)
    return render_rules(contest, form, preview=report)


def render_rules(contest: Contest, form: RulesForm, *, preview=None, problems=(), status: int = 200):
    return render_template(
        "review/rules.html", contest=contest, form=form, preview=preview, problems=problems,
        rules=rules.RULES, reason_labels={code: str(label) for code, label in REASON_LABELS.items()},
    ), status


# --- The site list ---------------------------------------------------------------------------


@bp.route("/contests/<slug>/review/sites", methods=["GET", "POST"])
@organizer_required
def sites(slug: str):
    session = db()
    contest = get_contest(session, slug)
    form = SitesForm()
    if request.method == "GET":
        return render_sites(contest, form)
    if not form.validate_on_submit():
        return render_sites(contest, form, status=400)
    try:
        report = import_sites(session, contest, form.csv_file.data.read(), current_user)
    except SiteListError as error:
        session.rollback()
        return render_sites(contest, form, problem=str(error), status=400)
    check = check_contest(session, contest)
    session.commit()
    return render_sites(contest, SitesForm(formdata=None), report=report, check=check)


def render_sites(contest: Contest, form: SitesForm, *, report=None, check=None, problem=None, status: int = 200):
    return render_template(
        "review/sites.html", contest=contest, form=form, report=report, check=check, problem=problem,
        sites=site_count(db(), contest.id),
    ), status


@bp.app_context_processor
def review_helpers() -> dict:
    return {"rule_labels": {rule: str(label) for rule, label in RULE_LABELS.items()}}
