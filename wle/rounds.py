"""Running a contest's jury, round after round: create, staff, open, rebalance, watch, close, advance.

A round is a draft while the organizers prepare it, open while jurors vote, closed for good.
Every organizer action takes `actor` and writes an audit line in the same transaction. Nothing
here commits: the caller (a web request, a command) does, so that a change and its audit line
stand or fall together, and an error leaves the database as it was.

Jurors are named by their Wikimedia username, also before they ever log in: the user row is
created by name, and login later finds it.

Which entries a round takes:
- the first round: the contest's eligible entries (`eligible_entries_query`, the one place that
  says what eligible means);
- a later round: the entries of the previous, closed round that a selection rule keeps (see
  `wle.tally.SelectionRule`), as long as they are still eligible. Each round entry records the
  round it came from; the round records the rule, its value and how many it kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from flask_babel import gettext as _
from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from . import audit
from .assignment import AssignmentError, Moves, assign, entry_label, juror_label, rebalance
from .auth import PeopleError, add_person, canonical_username
from .eligibility import check_contest, check_state, eligible_entries_query
from .models import Contest, Entry, User, utcnow
from .models.jury import CLOSED, DRAFT, KINDS, OPEN, RANKING, Round, RoundEntry, RoundJuror, Task
from .tally import SelectionPreview, SelectionRule, preview, results, select_entries

MAX_QUORUM = 100


class RoundError(ValueError):
    """The organizer's request cannot be done; the message says why, for the person who asked."""


class RoundNotFound(LookupError):
    def __init__(self, contest: Contest, number: int):
        super().__init__(f"The contest {contest.slug!r} has no round {number}.")


class CloseNeedsConfirmation(RoundError):
    """Closing would leave tasks without a vote: the organizer must confirm, having seen `summary`."""

    def __init__(self, summary: CloseSummary):
        self.summary = summary
        super().__init__(
            _("%(tasks)s tasks have no vote yet (%(jurors)s jurors are not done; %(entries)s entries have "
              "fewer votes than the quorum). Close anyway only if you mean to: their entries are judged on the "
              "votes cast.", tasks=summary.open_tasks, jurors=len(summary.jurors_behind),
              entries=summary.entries_below_quorum)
        )


@dataclass(frozen=True)
class RoundForm:
    """What an organizer sets for a round; checked by `validate_form` before anything is written."""

    kind: str
    quorum: int
    name: str = ""
    rank_top: int | None = None


@dataclass(frozen=True)
class JurorProgress:
    user_id: int
    username: str
    active: bool
    done: int
    total: int
    skipped: int
    last_voted_at: datetime | None

    @property
    def finished(self) -> bool:
        """Done means every one of their tasks has a vote (and they have some)."""
        return self.total > 0 and self.done == self.total


@dataclass(frozen=True)
class CloseSummary:
    """What closing now would leave unvoted."""

    open_tasks: int
    jurors_behind: list[tuple[str, int]]  # (username, tasks without a vote)
    entries_below_quorum: int
    entries_without_votes: int


# -- what a round takes ------------------------------------------------------------------------

def validate_form(form: RoundForm) -> RoundForm:
    """Return the form with normalized values, or raise RoundError naming every problem."""
    problems = []
    if form.kind not in KINDS:
        problems.append(_("The kind of round must be one of %(kinds)s.", kinds=', '.join(KINDS)))
    if not isinstance(form.quorum, int) or not 1 <= form.quorum <= MAX_QUORUM:
        problems.append(_("The quorum (jurors per entry) must be a whole number from 1 to %(max)s.", max=MAX_QUORUM))
    name = (form.name or "").strip()
    if len(name) > 255:
        problems.append(_("The name must be at most 255 characters."))
    rank_top = form.rank_top
    if rank_top is not None:
        if form.kind != RANKING:
            problems.append(_("Only ranking rounds have a top N."))
        elif not isinstance(rank_top, int) or rank_top < 1:
            problems.append(_("The top N of a ranking round must be a whole number of at least 1."))
    if problems:
        raise RoundError(" ".join(problems))
    return RoundForm(form.kind, form.quorum, name, rank_top)


def rounds_of(session: Session, contest: Contest) -> list[Round]:
    return list(session.scalars(select(Round).where(Round.contest_id == contest.id).order_by(Round.number)))


def get_round(session: Session, contest: Contest, number: int) -> Round:
    round_ = session.scalar(select(Round).where(Round.contest_id == contest.id, Round.number == number))
    if round_ is None:
        raise RoundNotFound(contest, number)
    return round_


def create_round(session: Session, contest: Contest, actor, form: RoundForm,
                 rule: SelectionRule | None = None) -> Round:
    """Create the contest's next round as a draft, with its entries.

    The first round takes the eligible entries (give no rule); a later round needs the previous
    round closed and a rule choosing which of its entries go on.
    """
    form = validate_form(form)
    last = session.scalar(select(Round).where(Round.contest_id == contest.id).order_by(Round.number.desc()).limit(1))
    number = last.number + 1 if last else 1
    if last is None:
        if rule is not None:
            raise RoundError(_("The first round takes all eligible entries; a selection rule applies from round 2."))
        if check_state(session, contest).unchecked:
            check_contest(session, contest)  # entries synced since the last check must be judged by the rules too
        entry_ids = list(session.scalars(eligible_entries_query(contest).with_only_columns(Entry.id).order_by(Entry.id)))
        selection = {"source": "eligible", "kept": len(entry_ids)}
        source = None
    else:
        if last.state != CLOSED:
            raise RoundError(
                _("“%(name)s” is a draft: close it before creating the next round.", name=last.name)
                if last.state == DRAFT else
                _("“%(name)s” is open: close it before creating the next round.", name=last.name))
        if rule is None:
            raise RoundError(_("Choose which entries of “%(name)s” go on to the next round.", name=last.name))
        entry_ids = _still_eligible(session, contest, select_entries(results(session, last), rule))
        selection = {"source": "round", "round": last.number, **rule.as_record(), "kept": len(entry_ids)}
        source = last.id
    if not entry_ids:
        raise RoundError(_("This round would have no entries.") if last is None else
                         _("The rule keeps no entries of “%(name)s”; choose a lower threshold.", name=last.name))
    name = form.name or _("Round %(number)s", number=number)  # a default in the organizer's language
    round_ = Round(contest_id=contest.id, number=number, name=name, kind=form.kind,
                   quorum=form.quorum, rank_top=form.rank_top, state=DRAFT, selection=selection)
    session.add(round_)
    session.flush()
    now = utcnow()
    session.execute(insert(RoundEntry), [
        {"round_id": round_.id, "entry_id": e, "source_round_id": source, "added_at": now} for e in entry_ids
    ])
    audit.record(session, actor, "round.create", contest_id=contest.id, round=number, kind=form.kind,
                 quorum=form.quorum, rank_top=form.rank_top, selection=selection)
    return round_


def _still_eligible(session: Session, contest: Contest, entry_ids: list[int]) -> list[int]:
    eligible = set()
    for chunk in _chunks(entry_ids):
        eligible.update(session.scalars(
            eligible_entries_query(contest).with_only_columns(Entry.id).where(Entry.id.in_(chunk))
        ))
    return [e for e in entry_ids if e in eligible]


def preview_selection(session: Session, round_: Round) -> SelectionPreview:
    """How many entries of this round each threshold would send on, without writing anything."""
    return preview(results(session, round_))


def update_round(session: Session, round_: Round, actor, form: RoundForm) -> Round:
    """Change a draft round's kind, quorum, name or top N."""
    _lock(session, round_)
    if round_.state != DRAFT:
        raise RoundError(_("Only a draft round can change its kind or name; an open round can change its quorum."))
    form = validate_form(form)
    before = {"kind": round_.kind, "quorum": round_.quorum, "name": round_.name, "rank_top": round_.rank_top}
    round_.kind, round_.quorum, round_.rank_top = form.kind, form.quorum, form.rank_top
    round_.name = form.name or round_.name
    audit.record(session, actor, "round.update", contest_id=round_.contest_id, round=round_.number, before=before,
                 after={"kind": round_.kind, "quorum": round_.quorum, "name": round_.name, "rank_top": round_.rank_top})
    return round_


# -- jurors --------------------------------------------------------------------------------------

def user_by_name(session: Session, username: str) -> User:
    """The user with this Wikimedia username, created if they never logged in."""
    try:
        return add_person(session, username)
    except PeopleError as error:
        raise RoundError(str(error)) from None


def jurors_of(session: Session, round_: Round, active_only: bool = True) -> list[RoundJuror]:
    query = select(RoundJuror).join(User).where(RoundJuror.round_id == round_.id).order_by(User.username)
    if active_only:
        query = query.where(RoundJuror.removed_at.is_(None))
    return list(session.scalars(query))


def set_jurors(session: Session, round_: Round, actor, usernames: Iterable[str]) -> list[User]:
    """Make these users the round's jurors (adding and removing as needed), in a draft or an open round."""
    _lock(session, round_)
    _refuse_closed(round_)
    wanted = {u.id: u for u in (user_by_name(session, name) for name in usernames)}
    current = {rj.user_id: rj for rj in jurors_of(session, round_, active_only=False)}
    added = [u for uid, u in wanted.items() if uid not in current or not current[uid].active]
    removed = [rj for uid, rj in current.items() if rj.active and uid not in wanted]
    removed_names = [rj.user.username for rj in removed]
    for user in added:
        _activate(session, round_, user, current.get(user.id))
    for rj in removed:
        _deactivate(session, round_, rj)
    moves = _rebalance(session, round_) if round_.state == OPEN else None
    audit.record(session, actor, "round.jurors", contest_id=round_.contest_id, round=round_.number,
                 added=[u.username for u in added], removed=removed_names, **_moves_record(moves))
    return sorted(wanted.values(), key=lambda u: u.username)


def add_juror(session: Session, round_: Round, actor, username: str) -> User:
    """Add a juror; in an open round they get their share of the open tasks at once."""
    _lock(session, round_)
    _refuse_closed(round_)
    user = user_by_name(session, username)
    existing = session.get(RoundJuror, (round_.id, user.id))
    if existing is not None and existing.active:
        raise RoundError(_("%(name)s is a juror of this round already.", name=user.username))
    _activate(session, round_, user, existing)
    moves = _rebalance(session, round_) if round_.state == OPEN else None
    audit.record(session, actor, "round.juror_add", contest_id=round_.contest_id, round=round_.number,
                 juror=user.username, **_moves_record(moves))
    return user


def remove_juror(session: Session, round_: Round, actor, username: str) -> None:
    """Remove a juror; in an open round their open tasks go to the others and their votes are kept."""
    _lock(session, round_)
    _refuse_closed(round_)
    name = canonical_username(username)
    juror = session.scalar(select(RoundJuror).join(User).where(
        RoundJuror.round_id == round_.id, User.username == name, RoundJuror.removed_at.is_(None)))
    if juror is None:
        raise RoundError(_("%(name)s is not a juror of this round.", name=name))
    _deactivate(session, round_, juror)
    moves = _rebalance(session, round_) if round_.state == OPEN else None
    audit.record(session, actor, "round.juror_remove", contest_id=round_.contest_id, round=round_.number,
                 juror=name, **_moves_record(moves))


def change_quorum(session: Session, round_: Round, actor, quorum: int) -> None:
    """Set the jurors per entry; in an open round, tasks are added (or open ones dropped) to match."""
    _lock(session, round_)
    _refuse_closed(round_)
    if not isinstance(quorum, int) or not 1 <= quorum <= MAX_QUORUM:
        raise RoundError(_("The quorum (jurors per entry) must be a whole number from 1 to %(max)s.", max=MAX_QUORUM))
    before = round_.quorum
    round_.quorum = quorum
    moves = _rebalance(session, round_) if round_.state == OPEN else None
    audit.record(session, actor, "round.quorum", contest_id=round_.contest_id, round=round_.number,
                 before=before, after=quorum, **_moves_record(moves))


def _activate(session: Session, round_: Round, user: User, existing: RoundJuror | None) -> None:
    if existing is None:
        session.add(RoundJuror(round_id=round_.id, user_id=user.id))
    else:
        existing.removed_at = None
    session.flush()


def _deactivate(session: Session, round_: Round, juror: RoundJuror) -> None:
    if round_.state == DRAFT:
        session.delete(juror)  # nothing to keep: no task exists yet
    else:
        juror.removed_at = utcnow()
    session.flush()


def _moves_record(moves: Moves | None) -> dict:
    return {} if moves is None else {"tasks_created": len(moves.create), "tasks_deleted": len(moves.delete)}


# -- opening, and keeping the rules while open ------------------------------------------------

def open_round(session: Session, round_: Round, actor) -> int:
    """Open a draft round: create every task up front. Return how many tasks were created."""
    _lock(session, round_)
    if round_.state != DRAFT:
        raise RoundError(
            _("“%(name)s” is open; only a draft round can be opened.", name=round_.name)
            if round_.state == OPEN else
            _("“%(name)s” is closed; only a draft round can be opened.", name=round_.name))
    jurors = [rj.user_id for rj in jurors_of(session, round_)]
    if not jurors:
        raise RoundError(_("Add jurors before opening the round."))
    if round_.quorum > len(jurors):
        raise RoundError(_("The quorum is %(quorum)s jurors per entry, but the round has %(jurors)s jurors.",
                           quorum=round_.quorum, jurors=len(jurors)))
    entries = _entries_with_exclusions(session, round_, jurors)
    try:
        tasks = assign(entries, jurors, round_.quorum, seed=round_.id)
    except AssignmentError as error:
        raise RoundError(_describe(session, error)) from error
    _insert_tasks(session, round_, tasks)
    round_.state = OPEN
    round_.opened_at = utcnow()
    audit.record(session, actor, "round.open", contest_id=round_.contest_id, round=round_.number,
                 jurors=len(jurors), entries=len(entries), tasks=len(tasks))
    return len(tasks)


def _rebalance(session: Session, round_: Round) -> Moves:
    """Re-place the open tasks after a change of jurors or quorum (see wle.assignment)."""
    jurors = [rj.user_id for rj in jurors_of(session, round_)]
    entries = _entries_with_exclusions(session, round_, jurors)
    rows = session.execute(select(Task.id, Task.user_id, Task.entry_id, Task.value).where(Task.round_id == round_.id)).all()
    done = [(u, e) for _, u, e, value in rows if value is not None]
    open_ids = {(u, e): task_id for task_id, u, e, value in rows if value is None}
    try:
        moves = rebalance(entries, jurors, round_.quorum, done, open_ids, seed=round_.id)
    except AssignmentError as error:
        raise RoundError(_describe(session, error)) from error
    doomed = [open_ids[pair] for pair in moves.delete]
    for chunk in _chunks(doomed):
        deleted = session.execute(delete(Task).where(Task.id.in_(chunk), Task.value.is_(None))).rowcount
        if deleted != len(chunk):
            # A juror voted on one of these tasks since we read them: their vote must stay.
            raise RoundError(_("A juror voted while the tasks were being moved; nothing was changed. Try again."))
    _insert_tasks(session, round_, moves.create)
    return moves


def _entries_with_exclusions(session: Session, round_: Round, jurors: Sequence[int]) -> dict[int, set[int]]:
    """Each entry of the round, with the jurors who may not judge it: its uploader, if a juror."""
    names = dict(session.execute(select(User.username, User.id).where(User.id.in_(jurors))).all()) if jurors else {}
    by_name = {canonical_username(name): user_id for name, user_id in names.items()}
    rows = session.execute(select(RoundEntry.entry_id, Entry.uploader).join(Entry, Entry.id == RoundEntry.entry_id)
                           .where(RoundEntry.round_id == round_.id))
    entries = {}
    for entry_id, uploader in rows:
        uploader_id = by_name.get(canonical_username(uploader or ""))
        entries[entry_id] = {uploader_id} if uploader_id is not None else set()
    return entries


def _insert_tasks(session: Session, round_: Round, tasks: Iterable[tuple[int, int]]) -> None:
    now = utcnow()
    rows = [{"round_id": round_.id, "user_id": u, "entry_id": e, "order_key": order_key(round_.id, u, e),
             "skipped_seq": 0, "created_at": now} for u, e in sorted(tasks)]
    for start in range(0, len(rows), 5000):
        session.execute(insert(Task), rows[start:start + 5000])


def order_key(round_id: int, user_id: int, entry_id: int) -> int:
    """A juror's own shuffled order of the entries: random-looking, but the same every time."""
    digest = hashlib.blake2b(f"{round_id}:{user_id}:{entry_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


def _describe(session: Session, error: AssignmentError) -> str:
    """The assignment error, with file titles and usernames instead of ids."""
    titles = dict(session.execute(select(Entry.id, Entry.title).where(Entry.id.in_(list(error.short)[:10]))).all()) \
        if error.short else {}
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(list(error.loads)))).all()) \
        if error.loads else {}
    return error.describe(entry_name=lambda e: titles.get(e) or entry_label(e),
                          juror_name=lambda j: names.get(j) or juror_label(j))


# -- watching and closing ---------------------------------------------------------------------

def jurors_progress(session: Session, round_: Round) -> list[JurorProgress]:
    """Each juror's progress, for the organizers: done / total, skipped, last vote."""
    counts = {
        user_id: (total, done, skipped, last)
        for user_id, total, done, skipped, last in session.execute(
            select(Task.user_id, func.count(), func.count(Task.value),
                   func.count(case(((Task.skipped_seq > 0) & Task.value.is_(None), 1))), func.max(Task.voted_at))
            .where(Task.round_id == round_.id).group_by(Task.user_id)
        )
    }
    progress = []
    for rj in jurors_of(session, round_, active_only=False):
        total, done, skipped, last = counts.get(rj.user_id, (0, 0, 0, None))
        if rj.active or total:
            progress.append(JurorProgress(rj.user_id, rj.user.username, rj.active, done, total, skipped, last))
    return progress


def close_summary(session: Session, round_: Round) -> CloseSummary:
    """What closing the round now would leave without a vote."""
    behind = [(p.username, p.total - p.done) for p in jurors_progress(session, round_) if p.done < p.total]
    votes = (select(RoundEntry.entry_id, func.count(Task.value).label("votes"))
             .outerjoin(Task, (Task.round_id == RoundEntry.round_id) & (Task.entry_id == RoundEntry.entry_id))
             .where(RoundEntry.round_id == round_.id).group_by(RoundEntry.entry_id).subquery())
    below, without = session.execute(select(
        func.count(case((votes.c.votes < round_.quorum, 1))), func.count(case((votes.c.votes == 0, 1))),
    )).one()
    return CloseSummary(open_tasks=sum(n for _, n in behind), jurors_behind=behind,
                        entries_below_quorum=below, entries_without_votes=without)


def close_round(session: Session, round_: Round, actor, confirm: bool = False) -> CloseSummary:
    """Close an open round for good. With tasks still unvoted it raises CloseNeedsConfirmation
    (carrying the summary to show) unless `confirm` is given."""
    _lock(session, round_)
    if round_.state != OPEN:
        raise RoundError(
            _("“%(name)s” is a draft; only an open round can be closed.", name=round_.name)
            if round_.state == DRAFT else
            _("“%(name)s” is closed; only an open round can be closed.", name=round_.name))
    summary = close_summary(session, round_)
    if summary.open_tasks and not confirm:
        raise CloseNeedsConfirmation(summary)
    round_.state = CLOSED
    round_.closed_at = utcnow()
    audit.record(session, actor, "round.close", contest_id=round_.contest_id, round=round_.number,
                 unvoted_tasks=summary.open_tasks, entries_below_quorum=summary.entries_below_quorum)
    return summary


# -- helpers ------------------------------------------------------------------------------------

def _lock(session: Session, round_: Round) -> None:
    """Serialize organizer actions on one round (PostgreSQL row lock; SQLite locks on write)."""
    session.execute(select(Round.id).where(Round.id == round_.id).with_for_update())
    session.refresh(round_)


def _refuse_closed(round_: Round) -> None:
    if round_.state == CLOSED:
        raise RoundError(_("“%(name)s” is closed; its jurors and quorum can no longer change.", name=round_.name))


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]
