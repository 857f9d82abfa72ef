"""The jurors' side: their rounds, the judging page, the ranking page, and the JSON API behind them.

Pages: ``/jury`` lists the rounds a person judges, with their progress; ``/jury/rounds/<id>`` is
the judging page of one round (one entry at a time, or the ranking grid). The pages' scripts
(``static/js/juror.js``, ``static/js/ranking.js``) talk to ``/api/v1/jury/rounds/<id>/…``.

Everything a juror receives is blind: entries are shown only through ``wle.voting.juror_view``
(a task id, the picture's size and its local thumbnails under a random key), never by title,
uploader, description or Commons address. Permission lives in ``wle.voting``'s queries, and
``juror_required`` checks the round first; a task id that is not the juror's own, in this round,
is "not found".
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import voting
from ..models.jury import CLOSED, DRAFT, OPEN, RANKING, RATING, YESNO, Round
from ..voting import InvalidRanking, InvalidVote, NotAJuror, NotYourTask, RoundNotOpen, VotingError
from . import db
from .access import current_user, juror_required, login_required
from .api import documented
from .errors import TITLES, respond

bp = Blueprint("judging", __name__)

API = "/api/v1/jury/rounds"
PREFETCH = 6  # entries sent ahead, so the next pictures are already loaded when the juror moves on

KIND_LABELS = {YESNO: _l("yes / no"), RATING: _l("rating 1–5"), RANKING: _l("ranking")}
STATE_LABELS = {DRAFT: _l("not open yet"), OPEN: _l("open"), CLOSED: _l("closed")}


class BadRequest(VotingError):
    """The request's body or arguments are not what the API expects."""


# Machine-readable reasons in error answers (``code``): the page's script drops a vote the server
# refused for one of these (sending it again could never work) and keeps retrying anything else.
ERROR_CODES = {
    NotYourTask: (404, "not_your_task"),
    NotAJuror: (403, "not_a_juror"),
    RoundNotOpen: (409, "round_not_open"),
    InvalidVote: (400, "invalid_vote"),
    InvalidRanking: (400, "invalid_ranking"),
    BadRequest: (400, "invalid_request"),
}


@bp.errorhandler(VotingError)
def voting_error(error: VotingError):
    db().rollback()
    status, code = ERROR_CODES.get(type(error), (400, "invalid_request"))
    if not request.path.startswith("/api/"):
        return respond(status, str(error))
    return api_error(status, code, str(error))


def api_error(status: int, code: str, message: str):
    title = TITLES.get(status) or (_("Conflict") if status == 409 else TITLES[400])
    return jsonify({"status": status, "error": str(title), "code": code, "message": message}), status


# --- Pages ------------------------------------------------------------------------------------


@bp.get("/jury")
@login_required
def index():
    rounds = voting.juror_rounds(db(), current_user.id)
    return render_template("judging/index.html", rounds=rounds, kinds=KIND_LABELS, states=STATE_LABELS)


@bp.get("/jury/rounds/<int:round_id>")
@juror_required
def round_page(round_id: int):
    session = db()
    round_ = session.get(Round, round_id)
    progress = voting.progress(session, current_user.id, round_id)
    if round_.state != OPEN:
        return render_template("judging/not_open.html", round_=round_, progress=progress, kinds=KIND_LABELS)
    if round_.kind == RANKING:
        return ranking_page(round_, progress)
    tasks = voting.next_tasks(session, current_user.id, round_id, limit=PREFETCH)
    data = {
        "round": round_.id,
        "user": current_user.id,
        "kind": round_.kind,
        "api": f"{API}/{round_.id}",
        "prefetch": PREFETCH,
        "tasks": [voting.juror_view(t) for t in tasks],
        "progress": progress.as_dict(),
        "strings": juror_strings(),
    }
    return render_template("judging/judge.html", round_=round_, progress=progress, data=data,
                           kinds=KIND_LABELS, finished=progress.finished and not tasks)


def ranking_page(round_: Round, progress: voting.Progress):
    tasks = voting.ranking_tasks(db(), current_user.id, round_.id)
    ballot = voting.ballot_length(round_, len(tasks))
    data = {
        "round": round_.id,
        "user": current_user.id,
        "api": f"{API}/{round_.id}",
        "ballot": ballot,
        "total": len(tasks),
        "saved": progress.finished,
        "strings": ranking_strings(),
    }
    return render_template("judging/ranking.html", round_=round_, progress=progress, data=data, ballot=ballot,
                           tasks=[voting.juror_view(t) for t in tasks], kinds=KIND_LABELS)


def juror_strings() -> dict[str, str]:
    """What juror.js says, in the juror's language (``%(n)s`` is filled in by the script)."""
    return {
        "saved": _("All votes saved"),
        "saving": _("Saving…"),
        "waiting": _("%(n)s not saved yet; trying again in %(s)s s"),
        "offline": _("Offline: %(n)s not saved yet; they are kept in this browser and sent when the connection is back"),
        "logged_out": _("Not saved: you are logged out. Log in again (in another tab); your votes are kept in this browser."),
        "reload": _("Not saved: the page is out of date. Reload it; your votes are kept in this browser."),
        "rejected": _("A vote was refused: %(message)s"),
        "closed": _("This round has been closed: votes can no longer be cast or changed."),
        "loading": _("Loading the next entry…"),
        "flushing": _("Saving your last votes…"),
        "not_ready": _("This picture is not ready yet. Skip it: it comes back at the end."),
        "no_previous": _("There is no earlier vote to go back to."),
        "entry": _("Entry to judge"),
        "your_vote": _("Your vote: %(vote)s"),
        "yes": _("Yes"),
        "no": _("No"),
    }


def ranking_strings() -> dict[str, str]:
    return {
        "saved": _("Ranking saved"),
        "saving": _("Saving…"),
        "unsaved": _("Not saved yet: move an entry, or save the order as it is."),
        "waiting": _("Not saved yet; trying again in %(s)s s"),
        "logged_out": _("Not saved: you are logged out. Log in again (in another tab); your order is kept in this browser."),
        "reload": _("Not saved: the page is out of date. Reload it; your order is kept in this browser."),
        "rejected": _("The ranking was refused: %(message)s"),
        "moved": _("Moved to place %(place)s of %(total)s."),
        "grabbed": _("Picked up, place %(place)s. Move it with the arrow keys; Enter puts it down."),
        "dropped": _("Put down at place %(place)s."),
        "place": _("Place %(place)s"),
        "unplaced": _("not placed"),
    }


# --- The JSON API -------------------------------------------------------------------------------

JUROR_ACCESS = "the jurors of the round (not admins: judging is personal work)"
ERRORS = {"$ref": "#/components/schemas/Error"}
PROGRESS = {
    "type": "object",
    "properties": {
        "done": {"type": "integer"}, "total": {"type": "integer"}, "skipped": {"type": "integer"},
        "finished": {"type": "boolean", "description": "Every one of the juror's tasks has a vote."},
        "values": {"type": "object", "description": "The juror's votes by value.",
                   "additionalProperties": {"type": "integer"}},
    },
}
IMAGE = {"type": "object", "properties": {
    "url": {"type": "string"}, "width": {"type": "integer"}, "height": {"type": "integer"}}}
TASK = {
    "type": "object",
    "description": "An entry to judge, blind: no title, author, description or Commons address.",
    "properties": {
        "task": {"type": "integer"}, "round": {"type": "integer"},
        "width": {"type": "integer"}, "height": {"type": "integer"},
        "ready": {"type": "boolean", "description": "Whether its thumbnails exist yet."},
        "images": {"type": "object", "description": "Local thumbnails by size (grid, view).",
                   "additionalProperties": IMAGE},
        "srcset": {"type": "string"},
        "vote": {"type": "integer", "nullable": True},
        "skipped": {"type": "boolean"},
    },
}
TASK_AND_PROGRESS = {"type": "object", "properties": {"task": TASK, "progress": PROGRESS}}
ROUND = {"type": "object", "properties": {
    "round": {"type": "integer"}, "contest": {"type": "string"}, "name": {"type": "string"},
    "kind": {"type": "string", "enum": [YESNO, RATING, RANKING]},
    "state": {"type": "string", "enum": [DRAFT, OPEN, CLOSED]},
    "progress": PROGRESS, "page": {"type": "string"},
}}
JUROR_ERRORS = ("401", "403")


@bp.get(API)
@documented("The rounds the logged-in user judges, with their progress", access="logged in",
            responses=("401",), schema={"type": "array", "items": ROUND})
@login_required
def api_rounds():
    return jsonify([
        {"round": r.id, "contest": r.contest.name, "name": r.name, "kind": r.kind, "state": r.state,
         "progress": p.as_dict(), "page": url_for("judging.round_page", round_id=r.id)}
        for r, p in voting.juror_rounds(db(), current_user.id)
    ])


@bp.get(f"{API}/<int:round_id>/next")
@documented(
    "The juror's next entries to judge, in their queue's order",
    description="`limit` (1–50, default 1): how many, to prefetch the next pictures. Skipped entries "
                "come after everything else. An empty list: nothing left to judge.",
    access=JUROR_ACCESS, responses=JUROR_ERRORS,
    schema={"type": "object", "properties": {"tasks": {"type": "array", "items": TASK}, "progress": PROGRESS}},
)
@juror_required
def api_next(round_id: int):
    limit = whole_number_argument("limit", default=1)
    session = db()
    tasks = voting.next_tasks(session, current_user.id, round_id, limit=limit)
    return jsonify({"tasks": [voting.juror_view(t) for t in tasks],
                    "progress": voting.progress(session, current_user.id, round_id).as_dict()})


@bp.post(f"{API}/<int:round_id>/tasks/<int:task_id>/vote")
@documented(
    "Vote on an entry, or change the vote",
    description='Body: `{"value": v}` — 1 (yes) or 0 (no) in a yes/no round, 1–5 in a rating round. '
                "Voting the same value again changes nothing. Errors carry a `code`: `invalid_vote`, "
                "`invalid_request`, `not_your_task` (404), `round_not_open` (409).",
    access=JUROR_ACCESS, responses=JUROR_ERRORS + ("404",), schema=TASK_AND_PROGRESS,
)
@juror_required
def api_vote(round_id: int, task_id: int):
    body = json_body()
    if "value" not in body:
        raise BadRequest(_('Send the vote as {"value": …}.'))
    session = db()
    task = voting.vote(session, current_user.id, task_id, body["value"], round_id=round_id)
    session.commit()
    return task_answer(task)


@bp.post(f"{API}/<int:round_id>/tasks/<int:task_id>/skip")
@documented(
    "Skip an entry: it comes back after everything else",
    description="Only an entry without the juror's vote can be skipped (`invalid_vote` otherwise).",
    access=JUROR_ACCESS, responses=JUROR_ERRORS + ("404",), schema=TASK_AND_PROGRESS,
)
@juror_required
def api_skip(round_id: int, task_id: int):
    session = db()
    task = voting.skip(session, current_user.id, task_id, round_id=round_id)
    session.commit()
    return task_answer(task)


@bp.get(f"{API}/<int:round_id>/previous")
@documented(
    "The entry the juror voted on before another one, with their vote",
    description="`before`: a task id; without it, the juror's last vote. `task` is null when there is "
                "nothing further back.",
    access=JUROR_ACCESS, responses=JUROR_ERRORS + ("404",),
    schema={"type": "object", "properties": {"task": {**TASK, "nullable": True}}},
)
@juror_required
def api_previous(round_id: int):
    before = whole_number_argument("before", default=None)
    task = voting.previous_task(db(), current_user.id, round_id, before)
    return jsonify({"task": voting.juror_view(task) if task else None})


@bp.get(f"{API}/<int:round_id>/progress")
@documented("The juror's progress in the round, and their votes by value", access=JUROR_ACCESS,
            responses=JUROR_ERRORS, schema=PROGRESS)
@juror_required
def api_progress(round_id: int):
    return jsonify(voting.progress(db(), current_user.id, round_id).as_dict())


@bp.get(f"{API}/<int:round_id>/ranking")
@documented(
    "The juror's entries of a ranking round, in their saved order",
    description="`ballot`: how many entries the juror places (the round's top N, or all); `saved`: "
                "whether the juror has saved a ranking. Not a ranking round: 404.",
    access=JUROR_ACCESS, responses=JUROR_ERRORS + ("404",),
    schema={"type": "object", "properties": {
        "ballot": {"type": "integer"}, "total": {"type": "integer"}, "saved": {"type": "boolean"},
        "tasks": {"type": "array", "items": TASK}}},
)
@juror_required
def api_ranking(round_id: int):
    session = db()
    round_ = session.get(Round, round_id)
    if round_.kind != RANKING:
        return api_error(404, "not_a_ranking_round", _("This is not a ranking round."))
    tasks = voting.ranking_tasks(session, current_user.id, round_id)
    return jsonify({
        "ballot": voting.ballot_length(round_, len(tasks)),
        "total": len(tasks),
        "saved": voting.progress(session, current_user.id, round_id).finished,
        "tasks": [voting.juror_view(t) for t in tasks],
    })


@bp.put(f"{API}/<int:round_id>/ranking")
@documented(
    "Save the juror's ranking",
    description='Body: `{"order": [task ids]}`, best first, exactly `ballot` of them; the juror\'s '
                "other entries are marked as not placed. Errors carry a `code`: `invalid_ranking`, "
                "`invalid_request`, `round_not_open` (409).",
    access=JUROR_ACCESS, responses=JUROR_ERRORS,
    schema={"type": "object", "properties": {"saved": {"type": "integer"}, "progress": PROGRESS}},
)
@juror_required
def api_save_ranking(round_id: int):
    order = json_body().get("order")
    if not isinstance(order, list):
        raise BadRequest(_('Send the ranking as {"order": [task ids, best first]}.'))
    session = db()
    voting.save_ranking(session, current_user.id, round_id, order)
    session.commit()
    return jsonify({"saved": len(order), "progress": voting.progress(session, current_user.id, round_id).as_dict()})


# --- Helpers --------------------------------------------------------------------------------------


def task_answer(task):
    return jsonify({"task": voting.juror_view(task),
                    "progress": voting.progress(db(), current_user.id, task.round_id).as_dict()})


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(_("Send a JSON object (Content-Type: application/json)."))
    return body


def whole_number_argument(name: str, default):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise BadRequest(_("%(name)s must be a whole number of at least 1, not %(value)s.", name=name, value=raw))
    return value
