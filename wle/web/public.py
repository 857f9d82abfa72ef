"""The public winners page of a contest, for anyone, without login: ``/winners/<slug>``.

It exists only while the organizers have it published (404 otherwise, the same answer as for a
contest that does not exist, so an unpublished contest is not told apart). It credits the
authors (the uploaders) and names no juror: its data is ``wle.winners.winners``, which never
reads who voted.

The site's thumbnails are for logged-in users (``wle.web.media``); this page's pictures are served
by its own route, which hands out a thumbnail only if it belongs to a published winner of the
contest named in the address.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, send_file
from flask_babel import gettext as _
from sqlalchemy import exists, select

from .. import winners as final
from ..contests import ContestNotFound, get_contest
from ..models import Contest, Entry
from ..models.jury import Winner, WinnersPage
from ..thumbnails import SIZES, thumbnail_path
from . import db, settings
from .media import KEY

bp = Blueprint("public", __name__)

MAX_AGE = 600  # seconds: a page taken down stops showing its pictures soon after


def published_contest(slug: str) -> tuple[Contest, WinnersPage]:
    """The contest and its winners page, or 404 unless the page is published."""
    session = db()
    try:
        contest = get_contest(session, slug)
    except ContestNotFound:
        contest = None
    page = session.get(WinnersPage, contest.id) if contest is not None else None
    if page is None or not page.published:
        abort(404, _("No winners are published at this address."))
    return contest, page


@bp.get("/winners/<slug>")
def winners(slug: str):
    contest, page = published_contest(slug)
    return render_template("public/winners.html", contest=contest, page=page,
                           winners=final.winners(db(), contest))


@bp.get("/winners/<slug>/<key>/<size>.webp")
def thumbnail(slug: str, key: str, size: str):
    """A published winner's thumbnail; 404 for any other key, and for every key once unpublished."""
    if not KEY.fullmatch(key) or size not in SIZES:
        abort(404)
    contest, _page = published_contest(slug)
    is_winner = db().scalar(select(exists().where(
        Winner.contest_id == contest.id, Winner.entry_id == Entry.id, Entry.thumb_key == key,
    )))
    path = thumbnail_path(settings().media_dir, key, size)
    if not is_winner or not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/webp", max_age=MAX_AGE, conditional=True, etag=True)
    response.cache_control.public = True
    return response
