"""The organizers' pages: the contest list, creating a contest, a contest, its sync, its entries.

Views are thin: parse the request, call ``wle``, render. Each view wears its access check
(``wle.web.access``): creating contests is for site admins, a contest's pages for its organizers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from urllib.parse import urlsplit

from babel.units import format_unit
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from sqlalchemy import ColumnElement, and_, exists, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from jobs.runner import FailedJob, JobRunner, QueueUnavailable
from jobs.sync import queue_sync

from ..audit import record
from ..contests import ContestError, create_contest, get_contest, summary, thumbnail_counts
from ..entry_media import CLAIM_EXPIRES
from ..models import Contest, Entry, SyncRun, utcnow
from ..models.entry import GONE_DELETED, GONE_LEFT_CATEGORY, THUMB_DONE, THUMB_FAILED, THUMB_PENDING
from ..models.people import ORGANIZER
from ..models.sync import DONE, FAILED, QUEUED, RUNNING
from ..schedule import grace_period, next_sync_at
from ..sync import SyncAlreadyRunning, begin_sync, fail_sync, is_alive
from . import db, settings
from .access import admin_required, contest_ids_of, current_user, login_required, organizer_required
from .api import documented
from .forms import INTERVAL_LABELS, ActionForm, NewContestForm, SyncScheduleForm

bp = Blueprint("contests", __name__)

PAGE_SIZE = 60
HISTORY_LENGTH = 10

STATE_LABELS = {
    QUEUED: _l("queued"),
    RUNNING: _l("running"),
    DONE: _l("done"),
    FAILED: _l("failed"),
}
THUMB_LABELS = {
    THUMB_PENDING: _l("thumbnail pending"),
    THUMB_DONE: _l("thumbnail ready"),
    THUMB_FAILED: _l("thumbnail failed"),
}
GONE_LABELS = {
    GONE_DELETED: _l("deleted on Commons"),
    GONE_LEFT_CATEGORY: _l("no longer in the contest's categories"),
}

# The filters of the entries grid: their label and which entries each shows.
PRESENT = Entry.gone_at.is_(None)
FILTERS = {
    "present": (_l("All present"), PRESENT),
    "failed": (_l("Thumbnail failed"), and_(PRESENT, Entry.thumb_state == THUMB_FAILED)),
    "pending": (_l("Thumbnail pending"), and_(PRESENT, Entry.thumb_state == THUMB_PENDING)),
    "gone": (_l("Gone"), Entry.gone_at.is_not(None)),
}


def current_actor() -> str:
    """Who is acting, by name, for the sync history."""
    return current_user.username


# --- Contests -------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    """The contests the user organizes (a site admin: all of them)."""
    session = db()
    query = select(Contest).options(selectinload(Contest.categories)).order_by(Contest.starts_at.desc(), Contest.id)
    mine = contest_ids_of(current_user, ORGANIZER)
    if mine is not None:
        query = query.where(Contest.id.in_(mine))
    contests = session.scalars(query).all()
    return render_template(
        "contests/index.html",
        contests=contests,
        entry_counts=present_entry_counts(session),
        last_syncs=last_sync_by_contest(session),
    )


def present_entry_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Entry.contest_id, func.count()).where(PRESENT).group_by(Entry.contest_id)
    )
    return {contest_id: n for contest_id, n in rows}


def last_sync_by_contest(session: Session) -> dict[int, SyncRun]:
    newest = select(func.max(SyncRun.id)).group_by(SyncRun.contest_id)
    return {run.contest_id: run for run in session.scalars(select(SyncRun).where(SyncRun.id.in_(newest)))}


@bp.route("/contests/new", methods=["GET", "POST"])
@admin_required
def new():
    form = NewContestForm()
    problem = None
    if form.validate_on_submit():
        session = db()
        try:
            contest = create_contest(session, form.contest_form())
            record(session, current_user, "contest.create", contest_id=contest.id, slug=contest.slug,
                   name=contest.name, categories=contest.category_names)
            session.commit()
        except ContestError as error:
            session.rollback()
            problem = str(error)
        except IntegrityError:
            # Another request created the same slug between our check and our insert.
            session.rollback()
            problem = _("A contest with the slug %(slug)s exists already.", slug=form.slug.data)
        else:
            flash(_("The contest “%(name)s” was created.", name=contest.name), "success")
            return redirect(url_for(".show", slug=contest.slug))
    status = 400 if request.method == "POST" else 200
    return render_template("contests/new.html", form=form, problem=problem, this_year=date.today().year), status


@bp.get("/contests/<slug>")
@organizer_required
def show(slug: str):
    session = db()
    contest = get_contest(session, slug)
    runs = session.scalars(
        select(SyncRun).where(SyncRun.contest_id == contest.id).order_by(SyncRun.id.desc()).limit(HISTORY_LENGTH)
    ).all()
    failed_jobs, queue_problem = failed_jobs_of(session, contest)
    return render_template(
        "contests/show.html",
        contest=contest,
        status=contest_status(session, contest),
        runs=runs,
        failed_jobs=failed_jobs,
        queue_problem=queue_problem,
        uses_queue=bool(settings().redis_url),
        contact_missing=not settings().contact.strip(),
        action_form=ActionForm(),
        schedule_form=SyncScheduleForm(interval=contest.sync_interval_minutes),
        next_sync=next_sync_at(session, contest, grace=grace_period(settings().sync_grace_days)),
        grace_days=settings().sync_grace_days,
    )


@bp.get("/api/v1/contests/<slug>/status")
@documented(
    "A contest's entries, thumbnails and sync: what its page polls",
    access="organizers of the contest and site admins",
    responses=("401", "403", "404"),
)
@organizer_required
def status(slug: str):
    session = db()
    return jsonify(contest_status(session, get_contest(session, slug)))


def contest_status(session: Session, contest: Contest) -> dict:
    """``summary()`` plus what tells the page whether to keep polling."""
    state = summary(session, contest)
    last = session.get(SyncRun, state["last_sync"]["id"]) if state["last_sync"] else None
    state["running"] = last is not None and is_alive(last)
    state["thumbnails_working"] = thumbnails_being_made(session, contest)
    return state


def thumbnails_being_made(session: Session, contest: Contest) -> bool:
    """Whether a thumbnail job holds a live claim on one of the contest's entries right now."""
    return session.scalar(
        select(
            exists().where(
                Entry.contest_id == contest.id,
                Entry.thumb_state == THUMB_PENDING,
                Entry.thumb_claimed_at > utcnow() - CLAIM_EXPIRES,
            )
        )
    )


@bp.post("/contests/<slug>/sync")
@organizer_required
def sync(slug: str):
    """Queue a sync of the contest with Commons (the CSRF token is checked before we get here)."""
    session = db()
    contest = get_contest(session, slug)
    back = redirect(url_for(".show", slug=contest.slug))
    if not settings().contact.strip():
        flash(
            _(
                "Syncing is switched off: the operator must set WLE_CONTACT (an e-mail address or a Commons "
                "user page). Wikimedia blocks tools that do not say who runs them."
            ),
            "error",
        )
        return back
    try:
        run = begin_sync(session, contest, started_by=current_actor())
    except SyncAlreadyRunning as running:
        flash(
            _(
                "A sync of this contest is already %(state)s (started by %(who)s); wait for it to finish.",
                state=STATE_LABELS[running.run.state],
                who=running.run.started_by,
            ),
            "error",
        )
        return back
    record(session, current_user, "sync.start", contest_id=contest.id, sync_run_id=run.id)
    session.commit()  # the job reads the run through its own session
    try:
        job_id = queue_sync(JobRunner(settings()), run.id)
    except QueueUnavailable as error:
        fail_sync(session, run.id, str(error))  # so that nothing stays "queued" forever
        flash(
            _("The sync could not be queued: the job queue (Redis) is unreachable; tell the operator. (%(error)s)",
              error=str(error)),
            "error",
        )
        return back
    run.job_id = job_id
    session.commit()
    flash(_("The sync was queued. Its progress shows below."), "success")
    return back


@bp.post("/contests/<slug>/schedule")
@organizer_required
def schedule(slug: str):
    """Set how often the contest is synced on its own during its upload window."""
    session = db()
    contest = get_contest(session, slug)
    form = SyncScheduleForm()
    if not form.validate_on_submit():
        abort(400, _("Choose one of the offered sync intervals."))
    before, after = contest.sync_interval_minutes, form.interval.data
    if after != before:
        contest.sync_interval_minutes = after
        record(session, current_user, "contest.sync_interval", contest_id=contest.id, before=before, after=after)
        session.commit()
    flash(_("Automatic sync: %(interval)s.", interval=INTERVAL_LABELS[after]), "success")
    return redirect(url_for(".show", slug=contest.slug))


def failed_jobs_of(session: Session, contest: Contest) -> tuple[list[FailedJob], str | None]:
    """The contest's failed background jobs, and a problem reaching the queue if there is one.

    The sync job takes a sync run's id; the thumbnail and uploader jobs take the contest's id.
    """
    if not settings().redis_url:
        return [], None  # in-process jobs only log their failures
    try:
        failed = JobRunner(settings()).failed_jobs()
    except RedisError as error:
        return [], _("The job queue (Redis) is unreachable: %(error)s", error=str(error))
    run_ids = set(session.scalars(select(SyncRun.id).where(SyncRun.contest_id == contest.id)))

    def concerns_contest(job: FailedJob) -> bool:
        if not job.args:
            return False
        if job.name.endswith(".sync_contest"):
            return job.args[0] in run_ids
        return job.args[0] == contest.id

    return [job for job in failed if concerns_contest(job)], None


# --- Entries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryPage:
    """One page of the grid. ``newer``/``older`` are the cursors (entry ids) of the next pages."""

    entries: list[Entry]
    newer: int | None
    older: int | None


@bp.get("/contests/<slug>/entries")
@organizer_required
def entries(slug: str):
    session = db()
    contest = get_contest(session, slug)
    shown = request.args.get("show", "present")
    if shown not in FILTERS:
        abort(400, _("Unknown filter %(name)s; choose one of the links above the grid.", name=shown))
    page = entry_page(
        session,
        contest,
        FILTERS[shown][1],
        older_than=request.args.get("after", type=int),
        newer_than=request.args.get("before", type=int),
    )
    return render_template(
        "contests/entries.html",
        contest=contest,
        page=page,
        shown=shown,
        filters={name: str(label) for name, (label, _condition) in FILTERS.items()},
        counts=filter_counts(session, contest),
    )


def filter_counts(session: Session, contest: Contest) -> dict[str, int]:
    thumbs = thumbnail_counts(session, contest.id)
    gone = session.scalar(select(func.count()).where(Entry.contest_id == contest.id, Entry.gone_at.is_not(None)))
    return {
        "present": sum(thumbs.values()),
        "failed": thumbs[THUMB_FAILED],
        "pending": thumbs[THUMB_PENDING],
        "gone": gone,
    }


def entry_page(
    session: Session,
    contest: Contest,
    condition: ColumnElement[bool],
    *,
    older_than: int | None = None,
    newer_than: int | None = None,
    size: int = PAGE_SIZE,
) -> EntryPage:
    """Newest uploads first, paged by keyset on (uploaded_at, id), which the index
    ``ix_entries_contest_uploaded`` serves at any depth (an OFFSET would read every row before)."""
    chosen = select(Entry).where(Entry.contest_id == contest.id, condition)
    key = tuple_(Entry.uploaded_at, Entry.id)
    newest_first = (Entry.uploaded_at.desc(), Entry.id.desc())
    cursor = _cursor(session, contest, older_than or newer_than)
    if cursor is None:
        rows = session.scalars(chosen.order_by(*newest_first).limit(size)).all()
    elif older_than:
        rows = session.scalars(chosen.where(key < cursor).order_by(*newest_first).limit(size)).all()
    else:
        rows = session.scalars(chosen.where(key > cursor).order_by(Entry.uploaded_at, Entry.id).limit(size)).all()
        rows = rows[::-1]
    if not rows and cursor is not None:
        return entry_page(session, contest, condition, size=size)  # walked off an end: start again
    if not rows:
        return EntryPage([], None, None)

    def any_beyond(comparison) -> bool:
        return session.scalar(select(exists(chosen.where(comparison))))

    first, last = rows[0], rows[-1]
    newer = first.id if any_beyond(key > (first.uploaded_at, first.id)) else None
    older = last.id if any_beyond(key < (last.uploaded_at, last.id)) else None
    return EntryPage(list(rows), newer, older)


def _cursor(session: Session, contest: Contest, entry_id: int | None) -> tuple[datetime, int] | None:
    """The sort key of the entry a page starts after; None for an unknown entry (first page).

    Compared as a plain tuple, so that each value is bound with its column's type (UTC).
    """
    if not entry_id:
        return None
    row = session.execute(
        select(Entry.uploaded_at, Entry.id).where(Entry.id == entry_id, Entry.contest_id == contest.id)
    ).first()
    return tuple(row) if row else None


@bp.get("/contests/<slug>/entries/<int:pageid>")
@organizer_required
def entry(slug: str, pageid: int):
    session = db()
    contest = get_contest(session, slug)
    found = session.scalar(select(Entry).where(Entry.contest_id == contest.id, Entry.pageid == pageid))
    if found is None:
        abort(404, _("This contest has no entry with the page id %(pageid)d.", pageid=pageid))
    return render_template("contests/entry.html", contest=contest, entry=found)


# --- What the templates use -----------------------------------------------------------------


@bp.app_context_processor
def template_helpers() -> dict:
    # Labels as plain strings in the request's language: a lazy string counts as safe markup in
    # Jinja (it has __html__), and nothing but our own templates should decide what is markup.
    def translated(labels: dict) -> dict[str, str]:
        return {key: str(label) for key, label in labels.items()}

    return {
        "current_language": str(get_locale() or "en"),
        "state_labels": translated(STATE_LABELS),
        "thumb_labels": translated(THUMB_LABELS),
        "gone_labels": translated(GONE_LABELS),
    }


@bp.app_template_filter("in_zone")
def in_zone(moment: datetime | None, contest: Contest, format: str = "medium") -> str:
    """A moment as the contest's organizers read it: in the contest's time zone."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:  # RQ's times are naive UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return format_datetime(moment.astimezone(contest.zone), format, rebase=False)


@bp.app_template_filter("number")
def number(value: float | int | None, format: str | None = None) -> str:
    return "—" if value is None else format_decimal(value, format)


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    """Bytes in megabytes (or kilobytes), in the reader's language."""
    if size >= 1_000_000:
        return format_unit(size / 1_000_000, "digital-megabyte", "short", format="#,##0.0", locale=get_locale())
    return format_unit(size / 1_000, "digital-kilobyte", "short", format="#,##0.0", locale=get_locale())


@bp.app_template_filter("web_url")
def web_url(url: str | None) -> str | None:
    """The URL if it is an ordinary web address; None for anything else (``javascript:``, data...).

    Autoescaping keeps hostile text out of the markup, but not a hostile scheme out of an href.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None
