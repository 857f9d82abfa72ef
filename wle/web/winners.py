"""The organizers' winners page: the final list, prefilled from the last closed round, its
exports (CSV, JSON, wikitext), and publishing the public page — and the same as JSON under
``/api/v1/contests/<slug>/winners``.

The page lists candidates: the saved winners, then the best of the last closed round. Each has
a place field; the entries with a place are the list, in the order of their places (equal
places are shared). A script (``static/js/rounds.js``) adds moving rows by dragging or with
Alt+↑/↓, and numbers the places to match; without it the place numbers do the same job.
Until a list is saved, the last round's best ten are filled in, and the page says so.
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import winners as final
from ..contests import get_contest
from ..models import Contest, Entry
from ..models.jury import WinnersPage
from ..tally import results
from ..winners import MAX_NOTE, WinnerChoice, WinnersError
from . import db
from .access import current_user, organizer_required
from .api import documented
from .forms import CONTROL_CHARACTERS, ActionForm
from .rounds import entries_by_id, json_object

bp = Blueprint("winners", __name__)

SUGGESTED = 10  # places prefilled from the last round
CANDIDATES = 50  # entries of the last round offered on the page
MAX_CANDIDATES = 1000
EXPORTS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "wikitext": ("text/plain; charset=utf-8", "txt"),
}


def actor():
    return current_user._get_current_object()


# --- The page ----------------------------------------------------------------------------------


@bp.get("/contests/<slug>/winners")
@organizer_required
def page(slug: str):
    session = db()
    return render_winners(session, get_contest(session, slug))


def render_winners(session: Session, contest: Contest, typed: dict[int, tuple[str, str]] | None = None,
                   problem: str | None = None, added: str = "", status: int = 200):
    """The page; `typed` is what the organizer sent (entry id → place, note), shown back after an error."""
    saved = final.winners(session, contest)
    last = final.last_closed_round(session, contest)
    wanted = min(max(request.args.get("candidates", CANDIDATES, type=int), 1), MAX_CANDIDATES)
    standings = [s for s in results(session, last) if s.score is not None][:wanted] if last else []
    by_entry = {s.entry_id: s for s in standings}
    prefilled = not saved and typed is None and bool(standings)
    if typed is not None:
        values = typed
    elif saved:
        values = {w.entry_id: (str(w.place), w.note) for w in saved}
    else:
        values = {s.entry_id: (str(s.place), "") for s in final.suggest_winners(session, contest, SUGGESTED)} \
            if last else {}
    order = [w.entry_id for w in saved] + [e for e in typed or {} if e not in by_entry]
    order += [s.entry_id for s in standings]
    order = list(dict.fromkeys(order))
    entries = entries_by_id(session, contest, order)
    rows = [{"entry": entries[e], "standing": by_entry.get(e), "place": values.get(e, ("", ""))[0],
             "note": values.get(e, ("", ""))[1]} for e in order if e in entries]
    chosen = sorted((r for r in rows if r["place"]), key=lambda r: _place_key(r["place"]))
    others = [r for r in rows if not r["place"]]
    published = session.get(WinnersPage, contest.id)
    return render_template(
        "rounds/winners.html", contest=contest, chosen=chosen, others=others, saved=saved, last=last,
        prefilled=prefilled, page=published, action_form=ActionForm(), problem=problem, added=added,
        max_note=MAX_NOTE, more=wanted + CANDIDATES if len(standings) == wanted and wanted < MAX_CANDIDATES else None,
    ), status


def _place_key(place: str) -> tuple[int, float]:
    try:
        return 0, float(place)
    except ValueError:
        return 1, 0.0  # what cannot be read as a number comes last, shown with its error


@bp.post("/contests/<slug>/winners")
@organizer_required
def save(slug: str):
    session = db()
    contest = get_contest(session, slug)
    if not ActionForm().validate_on_submit():
        abort(400, _("This form could not be accepted; reload the page and try again."))
    typed, problems = read_rows(session, contest)
    added = request.form.get("add", "").strip()
    if added:
        entry = find_entry(session, contest, added)
        if entry is None:
            problems.append(_("This contest has no entry “%(name)s”: give its page id or its file title.",
                              name=added[:200]))
        elif entry.id not in typed or not typed[entry.id][0]:
            places = [int(place) for place, _note in typed.values() if place.isdigit()]
            typed[entry.id] = (str(max(places, default=0) + 1), typed.get(entry.id, ("", ""))[1])
            added = ""
    if problems:
        return render_winners(session, contest, typed, " ".join(problems), added=added, status=400)
    choices = [WinnerChoice(entry_id, int(place), note) for entry_id, (place, note) in typed.items() if place]
    choices.sort(key=lambda c: c.place)  # stable: equal places keep the order they were listed in
    try:
        final.set_winners(session, contest, actor(), choices)
    except WinnersError as error:
        session.rollback()
        return render_winners(session, contest, typed, str(error), added=added, status=400)
    session.commit()
    flash(_("The winners list was saved (%(count)s entries).", count=len(choices)), "success")
    return redirect(url_for(".page", slug=contest.slug))


def read_rows(session: Session, contest: Contest) -> tuple[dict[int, tuple[str, str]], list[str]]:
    """The rows sent: entry id → (place, note) as typed, and the problems found in them."""
    typed: dict[int, tuple[str, str]] = {}
    problems: list[str] = []
    for raw in request.form.getlist("entry")[:MAX_CANDIDATES + final.MAX_WINNERS]:
        if not raw.isdigit():
            problems.append(_("The form was changed: an entry is not a number. Reload the page."))
            continue
        entry_id = int(raw)
        place = request.form.get(f"place-{entry_id}", "").strip()
        note = request.form.get(f"note-{entry_id}", "").strip()
        if place and (not place.isdigit() or int(place) < 1 or len(place) > 6):
            problems.append(_("A place is a whole number from 1 (or empty: not a winner), not “%(place)s”.",
                              place=place[:20]))
        if len(note) > MAX_NOTE or CONTROL_CHARACTERS.search(note):
            problems.append(_("A note is plain text of at most %(max)d characters.", max=MAX_NOTE))
        typed[entry_id] = (place, note)
    return typed, problems


def find_entry(session: Session, contest: Contest, text: str) -> Entry | None:
    """An entry of the contest by its Commons page id or file title (with or without “File:”)."""
    query = select(Entry).where(Entry.contest_id == contest.id, Entry.gone_at.is_(None))
    if text.isdigit():
        return session.scalar(query.where(Entry.pageid == int(text)))
    name = re.sub(r"[\s_]+", " ", re.sub(r"^\s*(file|image)\s*:\s*", "", text, flags=re.IGNORECASE)).strip()
    if not name:
        return None
    return session.scalar(query.where(Entry.title == f"File:{name[:1].upper()}{name[1:]}"))


@bp.post("/contests/<slug>/winners/publish")
@organizer_required
def publish(slug: str):
    session = db()
    contest = get_contest(session, slug)
    if not ActionForm().validate_on_submit():
        abort(400, _("This form could not be accepted; reload the page and try again."))
    try:
        publish_page(session, contest)
    except WinnersError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".page", slug=contest.slug))
    session.commit()
    flash(_("The winners are published."), "success")
    return redirect(url_for(".page", slug=contest.slug))


@bp.post("/contests/<slug>/winners/unpublish")
@organizer_required
def unpublish(slug: str):
    session = db()
    contest = get_contest(session, slug)
    if not ActionForm().validate_on_submit():
        abort(400, _("This form could not be accepted; reload the page and try again."))
    unpublish_page(session, contest)
    session.commit()
    flash(_("The public winners page is taken down."), "success")
    return redirect(url_for(".page", slug=contest.slug))


def publish_page(session: Session, contest: Contest) -> None:
    """Publish; a page published already stays as it is (a second press changes nothing)."""
    page = session.get(WinnersPage, contest.id)
    if page is None or not page.published:
        final.publish(session, contest, actor())


def unpublish_page(session: Session, contest: Contest) -> None:
    page = session.get(WinnersPage, contest.id)
    if page is not None and page.published:
        final.unpublish(session, contest, actor())


@bp.get("/contests/<slug>/winners/export")
@organizer_required
def export(slug: str):
    """The saved list as a download: ?format=csv (UTF-8 with BOM), json or wikitext.

    The wikitext is in the contest's language, or in English with ?language=en.
    """
    session = db()
    contest = get_contest(session, slug)
    kind = request.args.get("format", "")
    if kind not in EXPORTS:
        abort(400, _("Choose the format: csv, json or wikitext."))
    rows = final.winners(session, contest)
    if kind == "csv":
        body = final.to_csv(rows)
    elif kind == "json":
        data = final.to_json(contest, rows, session.get(WinnersPage, contest.id))
        body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")  # readable in any editor
    else:
        language = "en" if request.args.get("language") == "en" else contest.language
        body = final.to_wikitext(rows, language).encode("utf-8")
    mimetype, extension = EXPORTS[kind]
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{contest.slug}-winners.{extension}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- The JSON API ---------------------------------------------------------------------------------

ORGANIZERS = "organizers of the contest and site admins"
WINNER_SCHEMA = {"type": "object", "properties": {
    "entry_id": {"type": "integer"}, "place": {"type": "integer"}, "place_label": {"type": "string"},
    "title": {"type": "string"}, "author": {"type": "string", "nullable": True},
    "author_url": {"type": "string", "nullable": True}, "commons_url": {"type": "string"},
    "score": {"type": "number", "nullable": True, "description": "In the last closed round the entry was in."},
    "note": {"type": "string"},
    "thumbnail": {"type": "string", "nullable": True,
                  "description": "An absolute URL of a 330 px thumbnail on Commons (Special:FilePath)."},
}}
WINNERS_SCHEMA = {"type": "object", "properties": {
    "contest": {"type": "object"}, "published": {"type": "boolean"},
    "published_at": {"type": "string", "format": "date-time", "nullable": True},
    "public_url": {"type": "string"}, "winners": {"type": "array", "items": WINNER_SCHEMA},
}}


def winners_json(session: Session, contest: Contest) -> dict:
    rows = final.winners(session, contest)
    page = session.get(WinnersPage, contest.id)
    data = final.to_json(contest, rows, page)
    for row, line in zip(rows, data["winners"]):
        line["entry_id"] = row.entry_id
    data["published"] = page is not None and page.published
    data["public_url"] = url_for("public.winners", slug=contest.slug)
    return data


@bp.get("/api/v1/contests/<slug>/winners")
@documented("The contest's winners list, and whether its public page is published", access=ORGANIZERS,
            responses=("401", "403", "404"), schema=WINNERS_SCHEMA)
@organizer_required
def api_winners(slug: str):
    session = db()
    return jsonify(winners_json(session, get_contest(session, slug)))


@bp.put("/api/v1/contests/<slug>/winners")
@documented(
    "Replace the contest's winners list", access=ORGANIZERS, responses=("400", "401", "403", "404"),
    schema=WINNERS_SCHEMA,
    description="Body: {\"winners\": [{\"entry_id\": 12, \"place\": 1, \"note\": \"…\"}, …]}, best first "
                "(equal places are shared). The entry ids are those of the round results and suggestions.",
)
@organizer_required
def api_set_winners(slug: str):
    session = db()
    contest = get_contest(session, slug)
    lines = json_object({"winners"}).get("winners")
    if not isinstance(lines, list):
        abort(400, _("“winners” must be a list of {\"entry_id\", \"place\", \"note\"} objects."))
    choices = []
    for line in lines:
        if not isinstance(line, dict) or set(line) - {"entry_id", "place", "note"}:
            abort(400, _("Each winner is an object with “entry_id”, “place” and an optional “note”."))
        entry_id, place, note = line.get("entry_id"), line.get("place"), line.get("note", "")
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (entry_id, place)):
            abort(400, _("“entry_id” and “place” are whole numbers."))
        if not isinstance(note, str) or CONTROL_CHARACTERS.search(note):
            abort(400, _("A note is plain text."))
        choices.append(WinnerChoice(entry_id, place, note))
    try:
        final.set_winners(session, contest, actor(), choices)
    except WinnersError as error:
        session.rollback()
        abort(400, str(error))
    session.commit()
    return jsonify(winners_json(session, contest))


@bp.get("/api/v1/contests/<slug>/winners/suggestions")
@documented(
    "The best entries of the last closed round, to start the winners list from", access=ORGANIZERS,
    responses=("400", "401", "403", "404"),
    description="Query: limit (10, at most 1000). In the round's strict order; \"shared_place\" shows a tie "
                "(\"2–3\"). 400 while no round is closed.",
    schema={"type": "array", "items": {"type": "object", "properties": {
        "entry_id": {"type": "integer"}, "place": {"type": "integer"}, "shared_place": {"type": "string"},
        "score": {"type": "number"}, "votes": {"type": "integer"}, "round": {"type": "integer"},
        "title": {"type": "string"}, "author": {"type": "string", "nullable": True}, "thumbnail": {"type": "string"},
    }}},
)
@organizer_required
def api_suggestions(slug: str):
    session = db()
    contest = get_contest(session, slug)
    limit = request.args.get("limit", SUGGESTED, type=int)
    if not 1 <= limit <= MAX_CANDIDATES:
        abort(400, _("“limit” must be from 1 to %(max)d.", max=MAX_CANDIDATES))
    try:
        suggested = final.suggest_winners(session, contest, limit)
    except WinnersError as error:
        abort(400, str(error))
    entries = entries_by_id(session, contest, [s.entry_id for s in suggested])
    return jsonify([
        {"entry_id": s.entry_id, "place": s.place, "shared_place": s.shared_place, "score": s.score,
         "votes": s.votes, "round": s.round_number, "title": entries[s.entry_id].title,
         "author": entries[s.entry_id].uploader,
         "thumbnail": url_for("media.thumbnail", key=entries[s.entry_id].thumb_key, size="grid")}
        for s in suggested
    ])


@bp.post("/api/v1/contests/<slug>/winners/publish")
@documented("Publish the public winners page (no login needed to read it)", access=ORGANIZERS,
            responses=("400", "401", "403", "404"), schema=WINNERS_SCHEMA,
            description="400 while the list is empty. Publishing a published page changes nothing.")
@organizer_required
def api_publish(slug: str):
    session = db()
    contest = get_contest(session, slug)
    try:
        publish_page(session, contest)
    except WinnersError as error:
        session.rollback()
        abort(400, str(error))
    session.commit()
    return jsonify(winners_json(session, contest))


@bp.post("/api/v1/contests/<slug>/winners/unpublish")
@documented("Take the public winners page down", access=ORGANIZERS, responses=("401", "403", "404"),
            schema=WINNERS_SCHEMA)
@organizer_required
def api_unpublish(slug: str):
    session = db()
    contest = get_contest(session, slug)
    unpublish_page(session, contest)
    session.commit()
    return jsonify(winners_json(session, contest))
