"""The organizers' jury pages: a contest's rounds, a round's jurors and their progress, opening
and closing it, creating the next round from the last one's best (with a preview of how many
each threshold keeps), and each round's results — and the same as JSON under
``/api/v1/contests/<slug>/rounds``.

Rounds are addressed by their number in the contest (``/contests/wle-2025-kz/rounds/2``): a
round of another contest cannot even be named under this contest's address, so the organizer
check on the slug is the whole check.

Thin views: parse, call ``wle.rounds`` / ``wle.tally``, render. The domain functions write the
audit lines; the views commit, so that a change and its audit line stand or fall together, and
an error leaves everything as it was.

Pressing "Open" or "Close" twice (a double click, a re-posted form, two organizers at once) is
harmless: a round already in the state asked for is left alone, and the answer is the same.
"""

from __future__ import annotations

import math
from datetime import datetime

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import FloatField, IntegerField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .. import rounds as jury
from ..auth import canonical_username
from ..contests import get_contest
from ..models import Contest, Entry
from ..models.jury import CLOSED, DRAFT, KINDS, OPEN, RANKING, RATING, YESNO, Round, RoundEntry
from ..rounds import CloseNeedsConfirmation, CloseSummary, RoundError, RoundForm, RoundNotFound
from ..tally import (
    CHOSEN_BY, CHOSEN_RULE, MIN_AVERAGE, RULES, SCORE_RULES, SELECTION_RULES, TIE_BREAK_RULE, TOP, SelectionRule,
    Standing, results, results_table,
)
from ..statistics import to_csv
from ..winners import last_closed_round
from . import db
from .access import current_user, organizer_required
from .api import documented
from .forms import CONTROL_CHARACTERS, ActionForm, no_control_characters

bp = Blueprint("rounds", __name__)

RESULTS_PAGE = 100
API_RESULTS_LIMIT = 500
API_RESULTS_MAX = 5000

KIND_LABELS = {YESNO: _l("Yes/no"), RATING: _l("Rating, 1–5 stars"), RANKING: _l("Ranking")}
ROUND_STATE_LABELS = {DRAFT: _l("draft"), OPEN: _l("open"), CLOSED: _l("closed")}
RULE_LABELS = {
    MIN_AVERAGE: _l("A minimum score"),
    TOP: _l("The best N places"),
    CHOSEN_BY: _l("Chosen by at least k jurors"),
}
# What a score means in each kind of round, to pick a minimum score.
SCORE_SCALES = {
    YESNO: _l("The score is the share of jurors who said yes, from 0 to 1 (0.5: half of them)."),
    RATING: _l("The score is the mean of the stars, from 1 to 5."),
    RANKING: _l("The score is the mean Borda points; see the results page of the round for the scores."),
}


def actor():
    """The logged-in user as the domain functions record them (the object, not the proxy)."""
    return current_user._get_current_object()


# --- Forms -------------------------------------------------------------------------------------


def _kind_choices() -> list[SelectChoice]:
    return [SelectChoice(kind, KIND_LABELS[kind]) for kind in KINDS]


class RoundSettingsForm(FlaskForm):
    """What an organizer sets for a round: the kind, the quorum, the name, a ranking's top N."""

    name = StringField(_l("Name"), validators=[Length(max=255), no_control_characters],
                       description=_l("Optional: “Round N” if left empty."))
    kind = SelectField(_l("Kind of round"), choices=_kind_choices(), validate_choice=True)
    quorum = IntegerField(
        _l("Jurors per entry (quorum)"), default=2,
        validators=[InputRequired(_l("Give the number of jurors per entry.")),
                    NumberRange(1, jury.MAX_QUORUM, _l("The quorum is a whole number from 1 to %(max)d.",
                                                       max=jury.MAX_QUORUM))],
        invalid_value_message=_l("The quorum is a whole number, e.g. 3."),
        description=_l("Each entry is judged by this many different jurors; no juror ever gets their own photo."),
    )
    rank_top = IntegerField(
        _l("Ranking rounds: each juror orders only their best"),
        validators=[Optional(), NumberRange(min=1, message=_l("Give a whole number of at least 1, or nothing."))],
        invalid_value_message=_l("Give a whole number of at least 1, or nothing."),
        description=_l("Leave empty to have each juror order all of their entries."),
    )

    def round_form(self) -> RoundForm:
        # The top N belongs to ranking rounds only: the page hides it for the other kinds, so a
        # number left in the hidden field is not a mistake of the organizer's.
        rank_top = self.rank_top.data if self.kind.data == RANKING else None
        return RoundForm(kind=self.kind.data, quorum=self.quorum.data, name=self.name.data or "", rank_top=rank_top)


class NewRoundForm(RoundSettingsForm):
    """A new round; from round 2 on, with the rule choosing which of the last round's entries go on."""

    rule = RadioField(_l("Which entries go on"), choices=[SelectChoice(rule, RULE_LABELS[rule]) for rule in RULES],
                      default=TOP, validate_choice=True)
    value = FloatField(_l("Threshold"), validators=[Optional()],
                       invalid_value_message=_l("The threshold is a number, e.g. 3.5 or 20."))
    preview = SubmitField(_l("Preview"))
    create = SubmitField(_l("Create the round"))

    def selection_rule(self) -> SelectionRule | None:
        """The rule as typed, or None with the problem added to the value's errors."""
        if self.value.data is None:
            self.value.errors = [*self.value.errors, _("Give a threshold for the rule.")]
            return None
        try:
            return selection_rule(self.rule.data, self.value.data)
        except ValueError as error:
            self.value.errors = [*self.value.errors, str(error)]
            return None


class UsernameForm(FlaskForm):
    username = StringField(_l("Wikimedia username"),
                           validators=[InputRequired(_l("Type a username.")), Length(max=255), no_control_characters],
                           description=_l("They need not have logged in yet."))


class QuorumForm(FlaskForm):
    quorum = IntegerField(
        _l("Jurors per entry (quorum)"),
        validators=[InputRequired(_l("Give the number of jurors per entry.")),
                    NumberRange(1, jury.MAX_QUORUM, _l("The quorum is a whole number from 1 to %(max)d.",
                                                       max=jury.MAX_QUORUM))],
        invalid_value_message=_l("The quorum is a whole number, e.g. 3."),
    )


def selection_rule(rule: str, value: float) -> SelectionRule:
    """A SelectionRule, or ValueError with a message for the organizer."""
    if rule not in RULES:
        raise ValueError(_("Choose one of the rules: %(rules)s.", rules=", ".join(RULES)))
    if not math.isfinite(value):
        raise ValueError(_("The threshold must be a number."))
    if rule in (TOP, CHOSEN_BY) and (value != int(value) or value < 1):
        raise ValueError(_("For this rule give a whole number of at least 1."))
    return SelectionRule(rule, value)


# --- Looking things up -------------------------------------------------------------------------


def round_or_404(session: Session, contest: Contest, number: int) -> Round:
    try:
        return jury.get_round(session, contest, number)
    except RoundNotFound:
        abort(404, _("This contest has no round %(number)d.", number=number))


def entry_counts(session: Session, round_ids: list[int]) -> dict[int, int]:
    if not round_ids:
        return {}
    rows = session.execute(select(RoundEntry.round_id, func.count()).where(RoundEntry.round_id.in_(round_ids))
                           .group_by(RoundEntry.round_id))
    return dict(rows.all())


def last_round(session: Session, contest: Contest) -> Round | None:
    return session.scalar(select(Round).where(Round.contest_id == contest.id).order_by(Round.number.desc()).limit(1))


def selection_text(selection: dict) -> str:
    """Where a round's entries came from, in words."""
    kept = selection.get("kept", 0)
    if selection.get("source") != "round":
        return ngettext("All eligible entries of the contest: %(num)s entry.",
                        "All eligible entries of the contest: %(num)s entries.", kept)
    rule, value = selection.get("rule"), selection.get("value")
    if rule == MIN_AVERAGE:
        how = _("a score of at least %(value)s", value=value)
    elif rule == TOP:
        how = ngettext("the best place", "the best %(num)s places", value)
    else:
        how = ngettext("chosen by at least %(num)s juror", "chosen by at least %(num)s jurors", value)
    return ngettext("From round %(round)s, %(how)s: %(num)s entry.", "From round %(round)s, %(how)s: %(num)s entries.",
                    kept, round=selection.get("round"), how=how)


# --- Pages: the rounds -------------------------------------------------------------------------


@bp.get("/contests/<slug>/rounds")
@organizer_required
def index(slug: str):
    session = db()
    contest = get_contest(session, slug)
    all_rounds = jury.rounds_of(session, contest)
    last = all_rounds[-1] if all_rounds else None
    return render_template(
        "rounds/index.html", contest=contest, rounds=all_rounds,
        counts=entry_counts(session, [r.id for r in all_rounds]),
        can_create=last is None or last.state == CLOSED, last=last,
    )


@bp.route("/contests/<slug>/rounds/new", methods=["GET", "POST"])
@organizer_required
def new(slug: str):
    session = db()
    contest = get_contest(session, slug)
    previous = last_round(session, contest)
    form = NewRoundForm()
    if request.method == "GET":
        form.kind.data = YESNO if previous is None else RATING  # a first round sorts out; later ones rate
        return render_new(contest, form, previous)
    waiting = previous is not None and previous.state != CLOSED  # the page says so, and offers no form
    if waiting or not form.validate_on_submit():
        return render_new(contest, form, previous, status=400)
    rule = form.selection_rule() if previous is not None else None
    if previous is not None and rule is None:
        return render_new(contest, form, previous, status=400)
    if form.preview.data:
        return render_new(contest, form, previous, rule=rule)
    try:
        round_ = jury.create_round(session, contest, actor(), form.round_form(), rule)
    except RoundError as error:
        session.rollback()
        return render_new(contest, form, previous, rule=rule, problem=str(error), status=400)
    session.commit()
    flash(_("“%(name)s” was created with %(kept)s entries. Add its jurors, then open it.",
            name=round_.name, kept=round_.selection.get("kept", 0)), "success")
    return redirect(url_for(".show", slug=contest.slug, number=round_.number))


def render_new(contest: Contest, form: NewRoundForm, previous: Round | None, *, rule: SelectionRule | None = None,
               problem: str | None = None, status: int = 200):
    session = db()
    source_ready = previous is not None and previous.state == CLOSED
    preview = jury.preview_selection(session, previous) if source_ready else None
    return render_template(
        "rounds/new.html", contest=contest, form=form, previous=previous, source_ready=source_ready,
        preview=preview, kept=preview.kept(rule) if preview is not None and rule is not None else None,
        rule_texts={name: str(text) for name, text in SELECTION_RULES.items()},
        chosen_rule=str(CHOSEN_RULE[previous.kind]) if previous is not None else None,
        score_scale=str(SCORE_SCALES[previous.kind]) if previous is not None else None,
        problem=problem,
    ), status


@bp.get("/contests/<slug>/rounds/<int:number>")
@organizer_required
def show(slug: str, number: int):
    session = db()
    contest = get_contest(session, slug)
    return render_show(contest, round_or_404(session, contest, number))


def render_show(contest: Contest, round_: Round, *, juror_form: UsernameForm | None = None,
                quorum_form: QuorumForm | None = None, settings_form: RoundSettingsForm | None = None,
                problem: str | None = None, status: int = 200):
    session = db()
    progress = jury.jurors_progress(session, round_)
    if settings_form is None:
        settings_form = RoundSettingsForm(formdata=None, name=round_.name, kind=round_.kind, quorum=round_.quorum,
                                          rank_top=round_.rank_top)
    return render_template(
        "rounds/show.html", contest=contest, round=round_, progress=progress,
        totals={"done": sum(p.done for p in progress), "total": sum(p.total for p in progress)},
        entries=entry_counts(session, [round_.id]).get(round_.id, 0),
        is_last=last_round(session, contest).id == round_.id,
        juror_form=juror_form or UsernameForm(formdata=None),
        quorum_form=quorum_form or QuorumForm(formdata=None, quorum=round_.quorum),
        settings_form=settings_form, action_form=ActionForm(), problem=problem,
    ), status


def back_to(round_: Round, contest: Contest):
    return redirect(url_for(".show", slug=contest.slug, number=round_.number))


@bp.post("/contests/<slug>/rounds/<int:number>/settings")
@organizer_required
def update(slug: str, number: int):
    session = db()
    contest = get_contest(session, slug)
    round_ = round_or_404(session, contest, number)
    form = RoundSettingsForm()
    if not form.validate_on_submit():
        return render_show(contest, round_, settings_form=form, status=400)
    try:
        jury.update_round(session, round_, actor(), form.round_form())
    except RoundError as error:
        session.rollback()
        return render_show(contest, round_, settings_form=form, problem=str(error), status=400)
    session.commit()
    flash(_("The round's settings were saved."), "success")
    return back_to(round_, contest)


@bp.post("/contests/<slug>/rounds/<int:number>/jurors")
@organizer_required
def add_juror(slug: str, number: int):
    session = db()
    contest = get_contest(session, slug)
    round_ = round_or_404(session, contest, number)
    form = UsernameForm()
    if not form.validate_on_submit():
        return render_show(contest, round_, juror_form=form, status=400)
    try:
        user = jury.add_juror(session, round_, actor(), form.username.data)
    except RoundError as error:
        session.rollback()
        form.username.errors = [*form.username.errors, str(error)]
        return render_show(contest, round_, juror_form=form, status=400)
    session.commit()
    flash(_("%(name)s is a juror of this round.", name=user.username), "success")
    return back_to(round_, contest)


@bp.post("/contests/<slug>/rounds/<int:number>/jurors/remove")
@organizer_required
def remove_juror(slug: str, number: int):
    session = db()
    contest = get_contest(session, slug)
    round_ = round_or_404(session, contest, number)
    if not ActionForm().validate_on_submit():
        abort(400, _("This form could not be accepted; reload the page and try again."))
    username = request.form.get("username", "")
    try:
        jury.remove_juror(session, round_, actor(), username)
    except RoundError as error:
        session.rollback()
        flash(str(error), "error")
        return back_to(round_, contest)
    session.commit()
    flash(_("%(name)s is no longer a juror of this round; their votes are kept.",
            name=canonical_username(username)), "success")
    return back_to(round_, contest)


@bp.post("/contests/<slug>/rounds/<int:number>/quorum")
@organizer_required
def quorum(slug: str, number: int):
    session = db()
    contest = get_contest(session, slug)
    round_ = round_or_404(session, contest, number)
    form = QuorumForm()
    if not form.validate_on_submit():
        return render_show(contest, round_, quorum_form=form, status=400)
    try:
        jury.change_quorum(session, round_, actor(), form.quorum.data)
    except RoundError as error:
        session.rollback()
        form.quorum.errors = [*form.quorum.errors, str(error)]
        return render_show(contest, round_, quorum_form=form, status=400)
    session.commit()
    flash(_("The quorum is now %(quorum)d jurors per entry.", quorum=form.quorum.data), "success")
    return back_to(round_, contest)


@bp.post("/contests/<slug>/rounds/<int:number>/open", endpoint="open")
@organizer_required
def open_view(slug: str, number: int):
    session = db()
    contest = get_contest(session, slug)
    round_ = round_or_404(session, contest, number)
    if not ActionForm().validate_on_submit():
        abort(400, _("This form could not be accepted; reload the page and try again."))
    try:
        tasks = open_round(session, round_)
    except RoundError as error:
        session.rollback()
        flash(str(error), "error")
        return back_to(round_, contest)
    session.commit()
    if tasks is None:
        flash(_("“%(name)s” is open already.", name=round_.name), "success")
    else:
        flash(_("“%(name)s” is open: %(tasks)s tasks were given to its jurors.", name=round_.name,
                tasks=tasks), "success")
    return back_to(round_, contest)


@bp.get("/contests/<slug>/rounds/<int:number>/close")
@organizer_required
def close_page(slug: str, number: int):
    session = db()
    contest = get_contest(session, slug)
    round_ = round_or_404(session, contest, number)
    if round_.state != OPEN:
        flash(_("“%(name)s” is not open (its state: %(state)s); only an open round can be closed.",
                name=round_.name, state=ROUND_STATE_LABELS[round_.state]), "error")
        return back_to(round_, contest)
    return render_close(contest, round_, jury.close_summary(session, round_))


def render_close(contest: Contest, round_: Round, summary: CloseSummary, status: int = 200):
    return render_template("rounds/close.html", contest=contest, round=round_, summary=summary,
                           action_form=ActionForm()), status


@bp.post("/contests/<slug>/rounds/<int:number>/close")
@organizer_required
def close(slug: str, number: int):
    session = db()
    contest = get_contest(session, slug)
    round_ = round_or_404(session, contest, number)
    if not ActionForm().validate_on_submit():
        abort(400, _("This form could not be accepted; reload the page and try again."))
    try:
        summary = close_round(session, round_, confirm=confirmed(session, round_))
    except CloseNeedsConfirmation as needs:
        session.rollback()
        return render_close(contest, round_, needs.summary, status=409)
    except RoundError as error:
        session.rollback()
        flash(str(error), "error")
        return back_to(round_, contest)
    session.commit()
    if summary is None:
        flash(_("“%(name)s” is closed already.", name=round_.name), "success")
    else:
        flash(_("“%(name)s” is closed. Its results are below; the next round starts from them.",
                name=round_.name), "success")
    return redirect(url_for(".results_page", slug=contest.slug, number=round_.number))


def confirmed(session: Session, round_: Round) -> bool:
    """Whether the organizer confirmed closing with as many unvoted tasks as there are now.

    The close page sends the number it showed; if more tasks lack a vote by now (a juror was
    added, the quorum raised), they are shown the new numbers and asked again."""
    seen = request.form.get("confirm", "")
    if not seen.isdigit() or round_.state != OPEN:
        return False
    return jury.close_summary(session, round_).open_tasks <= int(seen)


def open_round(session: Session, round_: Round) -> int | None:
    """Open the round; None if it is open already (a second press of the button)."""
    if round_.state == OPEN:
        return None
    try:
        return jury.open_round(session, round_, actor())
    except RoundError:
        if _now_in_state(session, round_, OPEN):
            return None  # another request opened it while we waited for the lock
        raise


def close_round(session: Session, round_: Round, confirm: bool) -> CloseSummary | None:
    """Close the round; None if it is closed already (a second press of the button)."""
    if round_.state == CLOSED:
        return None
    try:
        return jury.close_round(session, round_, actor(), confirm=confirm)
    except CloseNeedsConfirmation:
        raise
    except RoundError:
        if _now_in_state(session, round_, CLOSED):
            return None
        raise


def _now_in_state(session: Session, round_: Round, state: str) -> bool:
    session.rollback()
    session.refresh(round_)
    return round_.state == state


# --- Pages: results ------------------------------------------------------------------------------


@bp.get("/contests/<slug>/rounds/<int:number>/results")
@organizer_required
def results_page(slug: str, number: int):
    session = db()
    contest = get_contest(session, slug)
    round_ = round_or_404(session, contest, number)
    standings = results(session, round_)
    pages = max(1, math.ceil(len(standings) / RESULTS_PAGE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    shown = standings[(page - 1) * RESULTS_PAGE:page * RESULTS_PAGE]
    return render_template(
        "rounds/results.html", contest=contest, round=round_, standings=shown,
        entries=entries_by_id(session, contest, [s.entry_id for s in shown]),
        total=len(standings), scored=sum(1 for s in standings if s.score is not None), page=page, pages=pages,
        score_rule=str(SCORE_RULES[round_.kind]), tie_break_rule=str(TIE_BREAK_RULE),
        chosen_rule=str(CHOSEN_RULE[round_.kind]),
        winners_come_from_here=last_closed_round(session, contest) is round_,
    )


@bp.get("/contests/<slug>/rounds/<int:number>/results.csv")
@organizer_required
def results_csv(slug: str, number: int):
    """Every result of the round as CSV (UTF-8 with a byte order mark, for spreadsheets)."""
    session = db()
    contest = get_contest(session, slug)
    round_ = round_or_404(session, contest, number)
    standings = results(session, round_)
    entries = entries_by_id(session, contest, [s.entry_id for s in standings])
    return Response(
        to_csv(*results_table(standings, entries)), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{contest.slug}-round-{round_.number}-results.csv"'},
    )


def entries_by_id(session: Session, contest: Contest, ids: list[int]) -> dict[int, Entry]:
    """The contest's entries with these ids (an id of another contest's entry finds nothing)."""
    found: dict[int, Entry] = {}
    for start in range(0, len(ids), 500):
        found.update((e.id, e) for e in session.scalars(
            select(Entry).where(Entry.contest_id == contest.id, Entry.id.in_(ids[start:start + 500]))))
    return found


@bp.app_template_filter("behind")
def behind_text(standing: Standing, kind: str) -> str:
    """The votes behind a score, in words: "3 yes, 1 no"; "5★ ×2, 4★ ×1"; "places 1, 4, —"."""
    behind = standing.behind
    if kind == YESNO:
        return _("%(yes)s yes, %(no)s no", yes=behind["yes"], no=behind["no"])
    if kind == RATING:
        counts = [f"{stars}★ ×{behind[str(stars)]}" for stars in range(5, 0, -1) if behind[str(stars)]]
        return ", ".join(counts) or _("no votes")
    places = ["—" if place is None else str(place) for place in behind["places"]]
    return _("places: %(places)s", places=", ".join(places)) if places else _("no votes")


@bp.app_context_processor
def jury_labels() -> dict:
    return {
        "round_state_labels": {key: str(label) for key, label in ROUND_STATE_LABELS.items()},
        "kind_labels": {key: str(label) for key, label in KIND_LABELS.items()},
        "selection_text": selection_text,
    }


# --- The JSON API ---------------------------------------------------------------------------------

ROUND_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer", "description": "The round's id, as GET /api/v1/me names a juror's rounds."},
    "number": {"type": "integer"}, "name": {"type": "string"},
    "kind": {"type": "string", "enum": list(KINDS)}, "quorum": {"type": "integer"},
    "rank_top": {"type": "integer", "nullable": True}, "state": {"type": "string", "enum": [DRAFT, OPEN, CLOSED]},
    "selection": {"type": "object",
                  "description": "Where the entries came from: the rule, its value, how many it kept."},
    "entries": {"type": "integer"},
    "created_at": {"type": "string", "format": "date-time"},
    "opened_at": {"type": "string", "format": "date-time", "nullable": True},
    "closed_at": {"type": "string", "format": "date-time", "nullable": True},
}}
PROGRESS_SCHEMA = {"type": "object", "properties": {
    "username": {"type": "string"}, "active": {"type": "boolean", "description": "False: removed, votes kept."},
    "done": {"type": "integer"}, "total": {"type": "integer"}, "skipped": {"type": "integer"},
    "finished": {"type": "boolean", "description": "Every one of their tasks has a vote."},
    "last_voted_at": {"type": "string", "format": "date-time", "nullable": True},
}}
SUMMARY_SCHEMA = {"type": "object", "properties": {
    "open_tasks": {"type": "integer"},
    "jurors_behind": {"type": "array", "items": {"type": "object", "properties": {
        "username": {"type": "string"}, "open_tasks": {"type": "integer"}}}},
    "entries_below_quorum": {"type": "integer"}, "entries_without_votes": {"type": "integer"},
}}
ROUND_DETAIL_SCHEMA = {"type": "object", "properties": {
    **ROUND_SCHEMA["properties"],
    "jurors": {"type": "array", "items": PROGRESS_SCHEMA},
    "close_summary": {**SUMMARY_SCHEMA, "nullable": True,
                      "description": "While open: what closing now leaves unvoted."},
}}
ROUND_SETTINGS_BODY = ("Body: {\"kind\": \"yesno\" | \"rating\" | \"ranking\", \"quorum\": 1…100, \"name\": \"…\" "
                       "(optional), \"rank_top\": N (optional, ranking rounds only)}.")
ORGANIZERS = "organizers of the contest and site admins"
WRITE_ERRORS = ("400", "401", "403", "404")


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def round_json(round_: Round, entries: int) -> dict:
    return {
        "id": round_.id, "number": round_.number, "name": round_.name, "kind": round_.kind, "quorum": round_.quorum,
        "rank_top": round_.rank_top, "state": round_.state, "selection": round_.selection, "entries": entries,
        "created_at": iso(round_.created_at), "opened_at": iso(round_.opened_at), "closed_at": iso(round_.closed_at),
    }


def summary_json(summary: CloseSummary) -> dict:
    return {
        "open_tasks": summary.open_tasks,
        "jurors_behind": [{"username": name, "open_tasks": n} for name, n in summary.jurors_behind],
        "entries_below_quorum": summary.entries_below_quorum,
        "entries_without_votes": summary.entries_without_votes,
    }


def round_detail_json(session: Session, round_: Round) -> dict:
    data = round_json(round_, entry_counts(session, [round_.id]).get(round_.id, 0))
    data["jurors"] = [
        {"username": p.username, "active": p.active, "done": p.done, "total": p.total, "skipped": p.skipped,
         "finished": p.finished, "last_voted_at": iso(p.last_voted_at)}
        for p in jury.jurors_progress(session, round_)
    ]
    data["close_summary"] = summary_json(jury.close_summary(session, round_)) if round_.state == OPEN else None
    return data


def json_object(allowed: set[str]) -> dict:
    """The request's JSON object, refusing anything else and any field we do not know (a typo)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, _("Send a JSON object, with the header Content-Type: application/json."))
    unknown = sorted(set(data) - allowed)
    if unknown:
        abort(400, _("Unknown fields: %(unknown)s. This request takes: %(known)s.",
                     unknown=", ".join(str(name)[:40] for name in unknown[:10]), known=", ".join(sorted(allowed))))
    return data


def whole_number(data: dict, name: str, *, required: bool = True) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            abort(400, _("Give “%(name)s”, a whole number.", name=name))
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        abort(400, _("“%(name)s” must be a whole number.", name=name))
    return value


def number_value(data: dict, name: str) -> float:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        abort(400, _("Give “%(name)s”, a number.", name=name))
    return float(value)


def text_value(data: dict, name: str, *, required: bool = True, max_length: int = 255) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        abort(400, _("Give “%(name)s”, a text.", name=name))
    if len(value) > max_length or CONTROL_CHARACTERS.search(value):
        abort(400, _("“%(name)s” must be plain text of at most %(max)d characters.", name=name, max=max_length))
    return value


def round_form_from(data: dict) -> RoundForm:
    kind = text_value(data, "kind", max_length=16)
    if kind not in KINDS:
        abort(400, _("“kind” must be one of: %(kinds)s.", kinds=", ".join(KINDS)))
    return RoundForm(kind=kind, quorum=whole_number(data, "quorum"), name=text_value(data, "name", required=False),
                     rank_top=whole_number(data, "rank_top", required=False))


def rule_from(data: dict, required: bool) -> SelectionRule | None:
    if data.get("rule") is None and data.get("value") is None and not required:
        return None
    rule = text_value(data, "rule", max_length=32)
    try:
        return selection_rule(rule, number_value(data, "value"))
    except ValueError as error:
        abort(400, str(error))


def refuse(error: RoundError):
    """A request the round's rules refuse: 400 with the domain's message."""
    db().rollback()
    abort(400, str(error))


@bp.get("/api/v1/contests/<slug>/rounds")
@documented("The contest's rounds, first to last", access=ORGANIZERS, responses=("401", "403", "404"),
            schema={"type": "array", "items": ROUND_SCHEMA})
@organizer_required
def api_list(slug: str):
    session = db()
    all_rounds = jury.rounds_of(session, get_contest(session, slug))
    counts = entry_counts(session, [r.id for r in all_rounds])
    return jsonify([round_json(r, counts.get(r.id, 0)) for r in all_rounds])


@bp.post("/api/v1/contests/<slug>/rounds")
@documented(
    "Create the contest's next round, as a draft, with its entries", access=ORGANIZERS, responses=WRITE_ERRORS,
    schema=ROUND_SCHEMA,
    description=ROUND_SETTINGS_BODY[:-2] + ", and from round 2 on \"rule\": \"min_average\" | \"top\" | "
                "\"chosen_by\" with its \"value\"}. The first round takes the contest's eligible entries; a later "
                "one needs the previous round closed and takes the entries the rule keeps.",
)
@organizer_required
def api_create(slug: str):
    session = db()
    contest = get_contest(session, slug)
    data = json_object({"kind", "quorum", "name", "rank_top", "rule", "value"})
    form, rule = round_form_from(data), rule_from(data, required=False)
    try:
        round_ = jury.create_round(session, contest, actor(), form, rule)
    except RoundError as error:
        refuse(error)
    session.commit()
    return jsonify(round_json(round_, round_.selection.get("kept", 0)))


def change_round(slug: str, number: int, change) -> Response:
    """The shape of every JSON change of a round: find it, change it (a RoundError is a clear 400),
    commit, answer with the round as it is now."""
    session = db()
    round_ = round_or_404(session, get_contest(session, slug), number)
    try:
        change(session, round_)
    except RoundError as error:
        refuse(error)
    session.commit()
    return jsonify(round_detail_json(session, round_))


@bp.get("/api/v1/contests/<slug>/rounds/<int:number>")
@documented("A round, with each juror's progress", access=ORGANIZERS, responses=("401", "403", "404"),
            schema=ROUND_DETAIL_SCHEMA)
@organizer_required
def api_show(slug: str, number: int):
    session = db()
    return jsonify(round_detail_json(session, round_or_404(session, get_contest(session, slug), number)))


@bp.post("/api/v1/contests/<slug>/rounds/<int:number>/settings")
@documented("Change a draft round's kind, quorum, name or top N", access=ORGANIZERS, responses=WRITE_ERRORS,
            schema=ROUND_DETAIL_SCHEMA, description=ROUND_SETTINGS_BODY)
@organizer_required
def api_update(slug: str, number: int):
    def change(session, round_):
        form = round_form_from(json_object({"kind", "quorum", "name", "rank_top"}))
        jury.update_round(session, round_, actor(), form)

    return change_round(slug, number, change)


@bp.post("/api/v1/contests/<slug>/rounds/<int:number>/open")
@documented("Open a draft round: every task is created now", access=ORGANIZERS, responses=WRITE_ERRORS,
            schema=ROUND_DETAIL_SCHEMA,
            description="Opening a round that is open already changes nothing and answers the same.")
@organizer_required
def api_open(slug: str, number: int):
    def change(session, round_):
        open_round(session, round_)

    return change_round(slug, number, change)


@bp.post("/api/v1/contests/<slug>/rounds/<int:number>/close")
@documented(
    "Close an open round for good", access=ORGANIZERS, responses=WRITE_ERRORS + ("409",), schema=ROUND_DETAIL_SCHEMA,
    description="Body: {\"confirm\": true} to close although some tasks have no vote. Without it, such a round "
                "is not closed: the answer is 409 with \"summary\" (what would stay unvoted). Closing a round "
                "that is closed already changes nothing and answers the same.",
)
@organizer_required
def api_close(slug: str, number: int):
    session = db()
    round_ = round_or_404(session, get_contest(session, slug), number)
    data = json_object({"confirm"}) if request.get_data() else {}
    confirm = data.get("confirm", False)
    if not isinstance(confirm, bool):
        abort(400, _("“confirm” must be true or false."))
    try:
        close_round(session, round_, confirm=confirm)
    except CloseNeedsConfirmation as needs:
        session.rollback()
        return jsonify({"status": 409, "error": _("Needs confirmation"), "summary": summary_json(needs.summary),
                        "message": _("%(tasks)s tasks have no vote yet. Send {\"confirm\": true} to close the "
                                     "round anyway: their entries are judged on the votes cast.",
                                     tasks=needs.summary.open_tasks)}), 409
    except RoundError as error:
        refuse(error)
    session.commit()
    return jsonify(round_detail_json(session, round_))


@bp.post("/api/v1/contests/<slug>/rounds/<int:number>/jurors")
@documented("Add a juror by Wikimedia username", access=ORGANIZERS, responses=WRITE_ERRORS,
            schema=ROUND_DETAIL_SCHEMA,
            description="Body: {\"username\": \"…\"}. In an open round they get their share of the open tasks at once.")
@organizer_required
def api_add_juror(slug: str, number: int):
    def change(session, round_):
        username = text_value(json_object({"username"}), "username")
        jury.add_juror(session, round_, actor(), username)

    return change_round(slug, number, change)


@bp.put("/api/v1/contests/<slug>/rounds/<int:number>/jurors")
@documented("Set the round's jurors: add and remove as needed", access=ORGANIZERS, responses=WRITE_ERRORS,
            schema=ROUND_DETAIL_SCHEMA, description="Body: {\"usernames\": [\"…\", …]}.")
@organizer_required
def api_set_jurors(slug: str, number: int):
    def change(session, round_):
        names = json_object({"usernames"}).get("usernames")
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names) or len(names) > 1000:
            abort(400, _("“usernames” must be a list of at most 1000 usernames."))
        jury.set_jurors(session, round_, actor(), names)

    return change_round(slug, number, change)


@bp.post("/api/v1/contests/<slug>/rounds/<int:number>/jurors/remove")
@documented("Remove a juror; their votes are kept", access=ORGANIZERS, responses=WRITE_ERRORS,
            schema=ROUND_DETAIL_SCHEMA,
            description="Body: {\"username\": \"…\"}. In an open round their open tasks go to the other jurors.")
@organizer_required
def api_remove_juror(slug: str, number: int):
    def change(session, round_):
        username = text_value(json_object({"username"}), "username")
        jury.remove_juror(session, round_, actor(), username)

    return change_round(slug, number, change)


@bp.post("/api/v1/contests/<slug>/rounds/<int:number>/quorum")
@documented("Change the jurors per entry", access=ORGANIZERS, responses=WRITE_ERRORS, schema=ROUND_DETAIL_SCHEMA,
            description="Body: {\"quorum\": 1…100}. In an open round tasks are added or open ones dropped to match.")
@organizer_required
def api_quorum(slug: str, number: int):
    def change(session, round_):
        value = whole_number(json_object({"quorum"}), "quorum")
        jury.change_quorum(session, round_, actor(), value)

    return change_round(slug, number, change)


@bp.get("/api/v1/contests/<slug>/rounds/<int:number>/preview")
@documented(
    "How many of the round's entries each threshold would send on to a next round",
    access=ORGANIZERS, responses=WRITE_ERRORS,
    description="Query: optional rule (min_average, top, chosen_by) and value: \"kept\" is then how many that "
                "rule keeps. Nothing is written.",
    schema={"type": "object", "properties": {
        "entries": {"type": "integer"}, "scored": {"type": "integer"},
        "min_average": {"type": "array", "description": "[score, kept]: a minimum of this score keeps this many.",
                        "items": {"type": "array", "items": {"type": "number"}}},
        "chosen_by": {"type": "array", "description": "[k, kept] for k = 1 … the most jurors who chose one entry.",
                      "items": {"type": "array", "items": {"type": "integer"}}},
        "ties": {"type": "array", "description": "[first, last] places of each tie.",
                 "items": {"type": "array", "items": {"type": "integer"}}},
        "kept": {"type": "integer", "nullable": True},
    }},
)
@organizer_required
def api_preview(slug: str, number: int):
    session = db()
    round_ = round_or_404(session, get_contest(session, slug), number)
    rule = None
    if request.args.get("rule") or request.args.get("value"):
        value = request.args.get("value", type=float)
        if value is None:
            abort(400, _("Give the threshold “value”, a number."))
        try:
            rule = selection_rule(request.args.get("rule", ""), value)
        except ValueError as error:
            abort(400, str(error))
    preview = jury.preview_selection(session, round_)
    return jsonify({
        "entries": preview.entries, "scored": preview.scored,
        "min_average": [list(pair) for pair in preview.min_average],
        "chosen_by": [list(pair) for pair in preview.chosen_by],
        "ties": [list(pair) for pair in preview.ties],
        "kept": preview.kept(rule) if rule is not None else None,
    })


@bp.get("/api/v1/contests/<slug>/rounds/<int:number>/results")
@documented(
    "The round's entries ranked by its method, with the votes behind each score",
    access=ORGANIZERS, responses=WRITE_ERRORS,
    description=f"Query: offset (0) and limit ({API_RESULTS_LIMIT}, at most {API_RESULTS_MAX}). \"place\" is shared "
                "by ties (\"3–5\"); \"position\" is the one strict order, ties broken by the rule in "
                "\"tie_break_rule\".",
    schema={"type": "object", "properties": {
        "round": ROUND_SCHEMA, "total": {"type": "integer"}, "score_rule": {"type": "string"},
        "tie_break_rule": {"type": "string"},
        "results": {"type": "array", "items": {"type": "object", "properties": {
            "position": {"type": "integer"}, "place": {"type": "string"}, "tied": {"type": "boolean"},
            "entry_id": {"type": "integer"}, "pageid": {"type": "integer"}, "title": {"type": "string"},
            "author": {"type": "string", "nullable": True}, "score": {"type": "number", "nullable": True},
            "votes": {"type": "integer"}, "chosen": {"type": "integer"}, "behind": {"type": "object"},
            "thumbnail": {"type": "string"},
        }}},
    }},
)
@organizer_required
def api_results(slug: str, number: int):
    session = db()
    contest = get_contest(session, slug)
    round_ = round_or_404(session, contest, number)
    offset = request.args.get("offset", 0, type=int)
    limit = request.args.get("limit", API_RESULTS_LIMIT, type=int)
    if offset < 0 or not 1 <= limit <= API_RESULTS_MAX:
        abort(400, _("“offset” must be 0 or more and “limit” from 1 to %(max)d.", max=API_RESULTS_MAX))
    standings = results(session, round_)
    shown = standings[offset:offset + limit]
    entries = entries_by_id(session, contest, [s.entry_id for s in shown])
    return jsonify({
        "round": round_json(round_, len(standings)), "total": len(standings),
        "score_rule": str(SCORE_RULES[round_.kind]), "tie_break_rule": str(TIE_BREAK_RULE),
        "results": [
            {"position": s.position, "place": s.place, "tied": s.tied, "entry_id": s.entry_id,
             "pageid": entries[s.entry_id].pageid, "title": entries[s.entry_id].title,
             "author": entries[s.entry_id].uploader, "score": s.score, "votes": s.votes, "chosen": s.chosen,
             "behind": s.behind,
             "thumbnail": url_for("media.thumbnail", key=entries[s.entry_id].thumb_key, size="grid")}
            for s in shown
        ],
    })
