"""A contest's winners: the final list, its exports, and the public page.

The list is prefilled from the last closed round's ranking (`suggest_winners`); the organizers
set the list and its order (`set_winners`). Exports: CSV (UTF-8 with a byte order mark, so
spreadsheet programs read Cyrillic and other scripts right), JSON, and wikitext for the
winners page on Commons. The public page (`public_winners`) credits the authors — the
uploaders — and names no juror: nothing here ever reads who voted.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Sequence
from urllib.parse import quote

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from . import audit
from .models import Contest, Entry, utcnow
from .models.jury import CLOSED, Round, RoundEntry, Winner, WinnersPage
from .tally import results

MAX_WINNERS = 1000
THUMBNAIL_WIDTH = 330  # one of the widths Wikimedia's thumbnail servers make
MAX_NOTE = 500


class WinnersError(ValueError):
    """The winners list cannot be accepted or published; the message says why."""


@dataclass(frozen=True)
class WinnerChoice:
    """One line of the list an organizer sets."""

    entry_id: int
    place: int
    note: str = ""


@dataclass(frozen=True)
class Suggestion:
    """A prefilled line: the entry's position in the last round, and its shared place if tied."""

    entry_id: int
    place: int
    shared_place: str  # "3–5" when tied in the round, else the same as place
    score: float | None
    votes: int
    round_number: int


@dataclass(frozen=True)
class WinnerRow:
    """A winner as every export and the public page show it."""

    place: int
    entry_id: int
    title: str
    author: str | None
    author_url: str | None
    commons_url: str
    score: float | None
    note: str
    thumb_key: str

    @property
    def file_name(self) -> str:
        return self.title.split(":", 1)[1] if ":" in self.title else self.title

    @property
    def thumbnail_url(self) -> str | None:
        """An absolute thumbnail on the file's own wiki, for exports read outside this site.

        Special:FilePath answers with the file's thumbnail at that standard width (or the file itself
        when it is narrower), so it needs no guess of the upload server's layout.
        """
        if "/wiki/" not in self.commons_url:
            return None
        wiki = self.commons_url.split("/wiki/", 1)[0]
        return f"{wiki}/wiki/Special:FilePath/{quote(self.file_name.replace(' ', '_'))}?width={THUMBNAIL_WIDTH}"


# -- choosing -----------------------------------------------------------------------------------

def last_closed_round(session: Session, contest: Contest) -> Round | None:
    return session.scalar(select(Round).where(Round.contest_id == contest.id, Round.state == CLOSED)
                          .order_by(Round.number.desc()).limit(1))


def suggest_winners(session: Session, contest: Contest, limit: int = 10) -> list[Suggestion]:
    """The best `limit` entries of the last closed round, in its strict order (ties broken by the
    documented rule and marked with their shared place, so the organizer sees them)."""
    last = last_closed_round(session, contest)
    if last is None:
        raise WinnersError(_("No round is closed yet: the winners come from the last closed round."))
    standings = [s for s in results(session, last) if s.score is not None][:max(0, limit)]
    return [Suggestion(s.entry_id, s.position, s.place, s.score, s.votes, last.number) for s in standings]


def set_winners(session: Session, contest: Contest, actor, choices: Sequence[WinnerChoice]) -> list[Winner]:
    """Replace the contest's winners list with `choices`, in that order."""
    choices = _validate(session, contest, choices)
    before = [(w.place, w.entry_id) for w in _winners_query(session, contest)]
    session.execute(delete(Winner).where(Winner.contest_id == contest.id))
    rows = [Winner(contest_id=contest.id, entry_id=c.entry_id, place=c.place, note=c.note) for c in choices]
    session.add_all(rows)
    _page(session, contest).updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "winners.set", contest_id=contest.id, before=before,
                 after=[(c.place, c.entry_id) for c in choices])
    return rows


def _validate(session: Session, contest: Contest, choices: Sequence[WinnerChoice]) -> list[WinnerChoice]:
    problems = []
    cleaned = [WinnerChoice(c.entry_id, c.place, (c.note or "").strip()) for c in choices]
    if len(cleaned) > MAX_WINNERS:
        problems.append(_("A winners list has at most %(max)s entries.", max=MAX_WINNERS))
    ids = [c.entry_id for c in cleaned]
    if len(set(ids)) != len(ids):
        problems.append(_("An entry appears twice in the list."))
    places = [c.place for c in cleaned]
    if any(isinstance(p, bool) or not isinstance(p, int) or p < 1 for p in places):
        problems.append(_("Places are whole numbers from 1."))
    elif places != sorted(places):
        problems.append(_("List the winners by place: 1st first."))
    if any(len(c.note) > MAX_NOTE for c in cleaned):
        problems.append(_("A note has at most %(max)s characters.", max=MAX_NOTE))
    present = set(session.scalars(
        select(Entry.id).where(Entry.contest_id == contest.id, Entry.gone_at.is_(None), Entry.id.in_(ids))
    )) if ids else set()
    missing = [i for i in ids if i not in present]
    if missing:
        problems.append(_("%(count)s of the chosen entries are not in this contest or are gone from Commons.",
                           count=len(missing)))
    if problems:
        raise WinnersError(" ".join(problems))
    return cleaned


def _winners_query(session: Session, contest: Contest) -> list[Winner]:
    return list(session.scalars(select(Winner).where(Winner.contest_id == contest.id)
                                .order_by(Winner.place, Winner.id)))


def winners(session: Session, contest: Contest) -> list[WinnerRow]:
    """The winners list with what the exports show, best first."""
    chosen = _winners_query(session, contest)
    scores = _latest_scores(session, contest, [w.entry_id for w in chosen])
    rows = []
    for w in chosen:
        e = w.entry
        rows.append(WinnerRow(place=w.place, entry_id=e.id, title=e.title, author=e.uploader,
                              author_url=_user_url(e.page_url, e.uploader), commons_url=e.page_url,
                              score=scores.get(e.id), note=w.note, thumb_key=e.thumb_key))
    return rows


def _latest_scores(session: Session, contest: Contest, entry_ids: list[int]) -> dict[int, float | None]:
    """Each entry's score in the latest closed round it was in."""
    if not entry_ids:
        return {}
    latest = session.execute(
        select(RoundEntry.entry_id, func.max(Round.number)).join(Round, Round.id == RoundEntry.round_id)
        .where(Round.contest_id == contest.id, Round.state == CLOSED, RoundEntry.entry_id.in_(entry_ids))
        .group_by(RoundEntry.entry_id)
    ).all()
    scores = {}
    for number in {n for _entry, n in latest}:
        round_ = session.scalar(select(Round).where(Round.contest_id == contest.id, Round.number == number))
        wanted = {e for e, n in latest if n == number}
        scores.update({s.entry_id: s.score for s in results(session, round_) if s.entry_id in wanted})
    return scores


def _user_url(page_url: str, name: str | None) -> str | None:
    """The uploader's user page on the wiki the file lives on."""
    if not name or "/wiki/" not in page_url:
        return None
    return page_url.split("/wiki/", 1)[0] + "/wiki/User:" + quote(name.replace(" ", "_"))


# -- publishing ----------------------------------------------------------------------------------

def _page(session: Session, contest: Contest) -> WinnersPage:
    page = session.get(WinnersPage, contest.id)
    if page is None:
        page = WinnersPage(contest_id=contest.id)
        session.add(page)
        session.flush()
    return page


def publish(session: Session, contest: Contest, actor) -> WinnersPage:
    """Show the winners on the contest's public page (no login needed)."""
    if not _winners_query(session, contest):
        raise WinnersError(_("Set the winners before publishing them."))
    page = _page(session, contest)
    page.published_at = utcnow()
    audit.record(session, actor, "winners.publish", contest_id=contest.id)
    return page


def unpublish(session: Session, contest: Contest, actor) -> WinnersPage:
    """Take the public winners page down."""
    page = _page(session, contest)
    page.published_at = None
    audit.record(session, actor, "winners.unpublish", contest_id=contest.id)
    return page


def public_winners(session: Session, contest: Contest) -> dict | None:
    """The public page's data, or None while it is not published."""
    page = session.get(WinnersPage, contest.id)
    if page is None or not page.published:
        return None
    return to_json(contest, winners(session, contest), page)


# -- exports --------------------------------------------------------------------------------------

def place_label(place: int) -> str:
    """1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st."""
    suffix = "th" if 10 <= place % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(place % 10, "th")
    return f"{place}{suffix}"


def _score_text(score: float | None) -> str:
    return "" if score is None else f"{score:.2f}"


def to_csv(rows: Sequence[WinnerRow]) -> bytes:
    """CSV in UTF-8 with a byte order mark: place, title, author, Commons URL, score, note.

    A cell that a spreadsheet would run as a formula (starting with = + - @) gets a leading
    apostrophe, so a user name cannot become a formula.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["place", "title", "author", "commons_url", "score", "note"])
    for r in rows:
        writer.writerow([r.place] + [_cell(v) for v in (r.title, r.author or "", r.commons_url,
                                                       _score_text(r.score), r.note)])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_json(contest: Contest, rows: Sequence[WinnerRow], page: WinnersPage | None = None) -> dict:
    """The winners as JSON-ready data: authors credited, no juror named."""
    return {
        "contest": {"slug": contest.slug, "name": contest.name},
        "published_at": page.published_at.isoformat() if page is not None and page.published_at else None,
        "winners": [{
            "place": r.place, "place_label": place_label(r.place), "title": r.title, "author": r.author,
            "author_url": r.author_url, "commons_url": r.commons_url, "score": r.score, "note": r.note,
            "thumbnail": r.thumbnail_url,
        } for r in rows],
    }


# Characters that would start markup inside a gallery caption, written as entities instead.
# Outside these, "__" (magic words) and "://" (bare links) are broken up too.
WIKITEXT_ESCAPES = {ch: f"&#{ord(ch)};" for ch in "&<>[]{}|'~="}
# A name that can safely be a link target (MediaWiki forbids these characters in titles anyway).
LINKABLE = re.compile(r"^[^#<>\[\]|{}~:\x00-\x1f]+$")


def wikitext_escape(text: str) -> str:
    """Plain text made safe inside wikitext: no link, template, table, bold, signature or magic word."""
    text = re.sub(r"\s+", " ", text).strip()
    text = "".join(WIKITEXT_ESCAPES.get(ch, ch) for ch in text)
    return text.replace("__", "&#95;&#95;").replace("://", "&#58;//")


def _credit(author: str | None) -> str:
    if not author:
        return wikitext_escape(_("unknown author"))
    shown = wikitext_escape(author)
    if LINKABLE.match(author):
        return f"[[User:{author}|{shown}]]"
    return shown


def _place_caption(place: int, language: str) -> str:
    """ "1st place" in English (its ordinals need place_label); the catalog's wording otherwise."""
    if language == "en":
        return f"{place_label(place)} place"
    # TRANSLATORS: a winner's place in the gallery for Commons, e.g. "1-орын", "1-е место".
    return _("%(place)s place", place=place)


def to_wikitext(rows: Sequence[WinnerRow], language: str = "en") -> str:
    """A <gallery> for the winners page on Commons, in ``language`` (a code of wle.contests.LANGUAGES):
    `File:X.jpg|1st place — [[User:Name|Name]]`, `File:X.jpg|1-орын — [[User:Name|Name]]`."""
    lines = ["<gallery>"]
    with force_locale(language):
        for r in rows:
            caption = f"{_place_caption(r.place, language)} — {_credit(r.author)}"
            if r.note:
                caption += f" — {wikitext_escape(r.note)}"
            lines.append(f"{r.title}|{caption}")
    lines.append("</gallery>")
    return "\n".join(lines) + "\n"
