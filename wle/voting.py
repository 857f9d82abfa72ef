"""A juror's side of a round: the next entries, voting, skipping, going back, progress, rankings.

Every function takes the juror's user id, and the permission is inside the query: `_mine`
only ever returns that juror's own tasks in rounds where they are an active juror, so a task
id of someone else's is simply not found (the same error as an id that does not exist).

What a juror sees is blind: `juror_view` builds every dict the juror's page and JSON send,
with no uploader, title, file name, description, Commons address or checksum — only the task's
id, the picture's dimensions and the local thumbnails, named by a random key.

Queue order: a skipped task gets the juror's next skip number and comes back after everything
not skipped (and after earlier skips); among the rest, entries with fewer votes so far come
first, then the juror's own fixed shuffle (`Task.order_key`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from .models import utcnow
from .models.entry import THUMB_DONE
from .models.jury import OPEN, RANKING, RATING, UNRANKED, YESNO, Round, RoundJuror, Task
from .thumbnails import SIZES

VALID_VALUES = {YESNO: (0, 1), RATING: (1, 2, 3, 4, 5)}
MAX_PREFETCH = 50


class VotingError(Exception):
    """A juror's request that cannot be done; the message says why, for the juror."""


class NotYourTask(VotingError, LookupError):
    def __init__(self):
        super().__init__(_("There is no such entry among yours to judge."))


class NotAJuror(VotingError, LookupError):
    def __init__(self):
        super().__init__(_("You are not a juror of this round."))


class RoundNotOpen(VotingError):
    def __init__(self, round_: Round):
        super().__init__(_("This round has not opened yet: votes cannot be cast or changed.")
                         if round_.state == "draft" else
                         _("This round is closed: votes cannot be cast or changed."))


class InvalidVote(VotingError, ValueError):
    pass


class InvalidRanking(VotingError, ValueError):
    pass


@dataclass(frozen=True)
class Progress:
    """A juror's progress in a round, and their own statistics."""

    done: int
    total: int
    skipped: int
    values: dict[int, int] = field(default_factory=dict)  # their votes by value

    @property
    def finished(self) -> bool:
        """Done only when every one of their tasks has a vote."""
        return self.total > 0 and self.done == self.total

    def as_dict(self) -> dict:
        return {"done": self.done, "total": self.total, "skipped": self.skipped, "finished": self.finished,
                "values": {str(v): n for v, n in sorted(self.values.items())}}


# -- the permission, in every query -----------------------------------------------------------

def _mine(user_id: int) -> Select:
    """The juror's own tasks, only in rounds where they are an active juror."""
    return (
        select(Task)
        .join(RoundJuror, and_(RoundJuror.round_id == Task.round_id, RoundJuror.user_id == Task.user_id))
        .where(Task.user_id == user_id, RoundJuror.removed_at.is_(None))
    )


def _my_task(session: Session, user_id: int, task_id: int, round_id: int | None = None) -> tuple[Task, Round]:
    """The juror's task (in `round_id`, when given: a task of another round is not found)."""
    query = _mine(user_id).add_columns(Round).join(Round, Round.id == Task.round_id).where(Task.id == task_id)
    if round_id is not None:
        query = query.where(Task.round_id == round_id)
    row = session.execute(query).first()
    if row is None:
        raise NotYourTask()
    return row[0], row[1]


def _my_round(session: Session, user_id: int, round_id: int) -> Round:
    round_ = session.scalar(
        select(Round).join(RoundJuror, RoundJuror.round_id == Round.id)
        .where(Round.id == round_id, RoundJuror.user_id == user_id, RoundJuror.removed_at.is_(None))
    )
    if round_ is None:
        raise NotAJuror()
    return round_


def _require_open(round_: Round) -> None:
    if round_.state != OPEN:
        raise RoundNotOpen(round_)


# -- judging one entry at a time ----------------------------------------------------------------

def next_tasks(session: Session, user_id: int, round_id: int, limit: int = 1) -> list[Task]:
    """The juror's next `limit` open tasks, in queue order (enough to prefetch the next images)."""
    _require_open(_my_round(session, user_id, round_id))
    other = aliased(Task)
    votes_on_entry = (
        select(func.count()).select_from(other)
        .where(other.round_id == Task.round_id, other.entry_id == Task.entry_id, other.value.is_not(None))
        .scalar_subquery()
    )
    query = (
        _mine(user_id).where(Task.round_id == round_id, Task.value.is_(None))
        .order_by(Task.skipped_seq, votes_on_entry, Task.order_key, Task.id)
        .limit(max(1, min(limit, MAX_PREFETCH)))
        # A second query loads the entries of the few tasks kept: a join would touch every open task.
        .options(selectinload(Task.entry))
    )
    return list(session.scalars(query))


def vote(session: Session, user_id: int, task_id: int, value: int, round_id: int | None = None) -> Task:
    """Record the juror's vote, or change it while the round is open. Voting the same value again
    changes nothing, so a double key press records one vote. With `round_id`, the task must be of
    that round (the address the juror's page used)."""
    task, round_ = _my_task(session, user_id, task_id, round_id)
    _require_open(round_)
    if round_.kind == RANKING:
        raise InvalidVote(_("In a ranking round the whole order is saved at once, not one vote at a time."))
    allowed = VALID_VALUES[round_.kind]
    if isinstance(value, bool) or value not in allowed:
        raise InvalidVote(_("A vote in this round is one of %(allowed)s, not %(value)s.",
                             allowed=', '.join(map(str, allowed)), value=repr(value)))
    _set_value(task, value, utcnow())
    session.flush()
    return task


def _set_value(task: Task, value: int, now) -> None:
    if task.value == value:
        return
    if task.value is None:
        task.voted_at = now
    else:
        task.changed_at = now
    task.value = value


def skip(session: Session, user_id: int, task_id: int, round_id: int | None = None) -> Task:
    """Put an entry the juror has not voted on at the end of their queue."""
    task, round_ = _my_task(session, user_id, task_id, round_id)
    _require_open(round_)
    if task.value is not None:
        raise InvalidVote(_("You have voted on this entry already; only entries without your vote can be skipped."))
    last = session.scalar(
        select(func.max(Task.skipped_seq)).where(Task.round_id == task.round_id, Task.user_id == user_id)
    )
    task.skipped_seq = (last or 0) + 1
    session.flush()
    return task


def previous_task(session: Session, user_id: int, round_id: int, before_task_id: int | None = None) -> Task | None:
    """The entry the juror voted on before `before_task_id` (or their last vote), with the vote;
    None when there is nothing further back."""
    _my_round(session, user_id, round_id)
    query = _mine(user_id).where(Task.round_id == round_id, Task.value.is_not(None))
    if before_task_id is not None:
        current, _round = _my_task(session, user_id, before_task_id, round_id)
        if current.voted_at is not None:
            query = query.where(or_(Task.voted_at < current.voted_at,
                                    and_(Task.voted_at == current.voted_at, Task.id < current.id)))
    query = query.order_by(Task.voted_at.desc(), Task.id.desc()).limit(1).options(joinedload(Task.entry))
    return session.scalar(query)


def progress(session: Session, user_id: int, round_id: int) -> Progress:
    """The juror's done / total, skipped, and their votes by value."""
    _my_round(session, user_id, round_id)
    rows = session.execute(
        select(Task.value, func.count(), func.count(case((Task.skipped_seq > 0, 1))))
        .where(Task.round_id == round_id, Task.user_id == user_id)
        .group_by(Task.value)
    ).all()
    total = sum(n for _, n, _ in rows)
    skipped = sum(s for value, _, s in rows if value is None)
    values = {value: n for value, n, _ in rows if value is not None}
    return Progress(done=sum(values.values()), total=total, skipped=skipped, values=values)


def juror_rounds(session: Session, user_id: int) -> list[tuple[Round, Progress]]:
    """Every round the user is an active juror of, with their progress: their home page."""
    rounds = list(session.scalars(
        select(Round).join(RoundJuror, RoundJuror.round_id == Round.id)
        .where(RoundJuror.user_id == user_id, RoundJuror.removed_at.is_(None))
        .order_by(Round.contest_id, Round.number)
    ))
    return [(r, progress(session, user_id, r.id)) for r in rounds]


# -- ranking rounds -------------------------------------------------------------------------------

def ballot_length(round_: Round, tasks: int) -> int:
    """How many entries a juror with `tasks` entries must place: the round's top N, or all of them."""
    return min(round_.rank_top, tasks) if round_.rank_top else tasks


def ranking_tasks(session: Session, user_id: int, round_id: int) -> list[Task]:
    """The juror's entries in their saved order: placed ones by place, then the rest in their shuffle."""
    _my_round(session, user_id, round_id)
    placed_last = Task.value.is_(None) | (Task.value == UNRANKED)
    return list(session.scalars(
        _mine(user_id).where(Task.round_id == round_id)
        .order_by(placed_last, Task.value, Task.order_key, Task.id).options(joinedload(Task.entry))
    ))


def save_ranking(session: Session, user_id: int, round_id: int, task_ids: Sequence[int]) -> None:
    """Save the juror's whole order at once: `task_ids` best first, exactly their ballot's length
    (all their entries, or the round's top N); every other entry of theirs is marked as left out."""
    round_ = _my_round(session, user_id, round_id)
    _require_open(round_)
    if round_.kind != RANKING:
        raise InvalidRanking(_("This is not a ranking round."))
    mine = {t.id: t for t in session.scalars(_mine(user_id).where(Task.round_id == round_id))}
    ids = list(task_ids)
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise InvalidRanking(_("A ranking is a list of task ids."))
    if len(set(ids)) != len(ids):
        raise InvalidRanking(_("An entry appears twice in the ranking."))
    strangers = [i for i in ids if i not in mine]
    if strangers:
        raise InvalidRanking(_("%(count)s of the ranked ids are not entries of yours in this round.",
                               count=len(strangers)))
    needed = ballot_length(round_, len(mine))
    if len(ids) != needed:
        raise InvalidRanking(_("Place exactly %(needed)s entries, not %(given)s.", needed=needed, given=len(ids)))
    now = utcnow()
    places = {task_id: place for place, task_id in enumerate(ids, start=1)}
    for task_id, task in mine.items():
        _set_value(task, places.get(task_id, UNRANKED), now)
    session.flush()


# -- what the juror's page and JSON send: blind ----------------------------------------------

def juror_view(task: Task) -> dict:
    """Everything the juror's page may show about a task: nothing that names the file or its author.

    Thumbnail addresses use the entry's random key (`/media/<key>/<size>.webp`); the sizes'
    real widths feed `srcset`, largest last.
    """
    entry = task.entry
    images = {}
    for size, edge in sorted(SIZES.items(), key=lambda item: item[1]):
        scale = min(1.0, edge / max(entry.width, entry.height, 1))
        images[size] = {"url": f"/media/{entry.thumb_key}/{size}.webp",
                        "width": max(1, round(entry.width * scale)), "height": max(1, round(entry.height * scale))}
    # One candidate per width: a small picture's sizes may all be the picture itself.
    widths = {}
    for image in images.values():
        widths.setdefault(image["width"], image["url"])
    srcset = ", ".join(f"{url} {width}w" for width, url in widths.items())
    return {
        "task": task.id,
        "round": task.round_id,
        "width": entry.width,
        "height": entry.height,
        "ready": entry.thumb_state == THUMB_DONE,
        "images": images,
        "srcset": srcset,
        "vote": task.value,
        "skipped": task.skipped_seq > 0,
    }

