"""A world for attacking the app: two contests full of hostile text from Commons, an organizer of
each (the one of "ours" also judges its round), a site admin who is also a juror of both
contests' open rounds, and helpers that walk every
route of the URL map (so that a page added later is attacked too).

The hostile text is what a Commons uploader controls: file titles, descriptions, licences,
authors and credits (extmetadata), user names, and the site list's CSV. Each piece carries
``<script>``, an ``onerror`` handler and a tag; pages must show it escaped.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from wle.app import create_app
from wle.auth import add_organizer
from wle.eligibility import check_contest, decide
from wle.models import Contest, Entry, User
from wle.models.jury import RATING, Round, Task
from wle.models.rules import EntrySite
from wle.rounds import RoundForm, add_juror, create_round, open_round
from wle.sites import import_sites
from wle.thumbnails import SIZES, thumbnail_path

from tests.factories import make_contest
from tests.web.conftest import log_in, make_entry  # noqa: F401  (log_in: the tests import it from here)

# Text an uploader controls. Escaped, it shows as text; unescaped, it would run or draw.
ATTACK = """<script>alert("wle")</script><img src=x onerror=alert(1)><b class="x">bold</b>"'"""
ESCAPED_MARK = "&lt;script&gt;alert("  # how a page shows the attack, escaped
HOSTILE_UPLOADER = "Eve<script>alert(2)</script>"
HOSTILE_SITE_CSV = (
    b"id,name,region\n"
    b'KZ-1,"Lake <script>alert(5)</script>",<img src=x onerror=alert(6)>\n'
)


@dataclass
class World:
    ours: Contest
    theirs: Contest
    admin: User
    organizer: User  # of "ours" only, and a juror of its round
    their_organizer: User
    entries: dict[str, Entry]  # one per contest, by slug, in its round (another is only flagged)
    rounds: dict[str, Round]  # one open round per contest, by slug
    tasks: dict[str, Task]  # the admin's task in each round, by slug

    def values(self, contest: Contest) -> dict:
        """A value for each URL argument, for the routes of ``contest``."""
        entry, round_ = self.entries[contest.slug], self.rounds[contest.slug]
        return {
            "slug": contest.slug,
            "pageid": entry.pageid,
            "entry_id": entry.id,
            "key": entry.thumb_key,
            "size": "grid",
            "filename": "css/style.css",
            "table": "daily",
            "round_id": round_.id,
            "task_id": self.tasks[contest.slug].id,
            "number": round_.number,
            "round_number": round_.number,
        }


def hostile_entry(session, contest, pageid: int) -> Entry:
    return make_entry(
        session, contest, pageid=pageid,
        title=f"File:{ATTACK} {pageid}.jpg",
        description=ATTACK,
        license=f"CC BY-SA 4.0 {ATTACK}",
        license_url="javascript:alert(3)",
        page_url="javascript:alert(4)",
        artist=ATTACK,
        credit=ATTACK,
        uploader=HOSTILE_UPLOADER,
    )


@pytest.fixture
def world(session, settings) -> World:
    ours = make_contest(session, "wle-ours")
    theirs = make_contest(session, "wle-theirs")
    boss = User(username="Site Admin", wiki_sub="1000001", is_admin=True)
    organizer = User(username="Our Organizer", wiki_sub="3")
    their_organizer = User(username="Their Organizer", wiki_sub="2")
    session.add_all([boss, organizer, their_organizer])
    session.flush()
    add_organizer(session, ours, organizer.username, actor="test")
    add_organizer(session, theirs, their_organizer.username, actor="test")
    entries, rounds = {}, {}
    for contest, pageid in ((ours, 71), (theirs, 72)):
        entries[contest.slug] = hostile_entry(session, contest, pageid)
        hostile_entry(session, contest, pageid + 10)  # stays flagged by the rules, for the review page
        import_sites(session, contest, HOSTILE_SITE_CSV, "test")
        session.add(EntrySite(entry_id=entries[contest.slug].id, site_id="KZ-1", contest_id=contest.id))  # pictured
        check_contest(session, contest)
        # Its licence and author break the rules: an organizer lets it in, so that the jury sees it.
        decide(session, contest, pageid, "requalify", f"Checked by hand {ATTACK}", "test")
        # The organizer of "ours" also judges its round; the admin judges both rounds.
        jurors = [boss] + ([organizer] if contest is ours else [])
        round_ = create_round(session, contest, "test", RoundForm(kind=RATING, quorum=len(jurors), name=f"Round {ATTACK}"))
        for juror in jurors:
            add_juror(session, round_, "test", juror.username)
        open_round(session, round_, "test")
        rounds[contest.slug] = round_
        for size in SIZES:
            path = thumbnail_path(settings.media_dir, entries[contest.slug].thumb_key, size)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"RIFF\x1a\x00\x00\x00WEBPVP8 " + bytes(14))
    session.commit()
    tasks = {slug: session.scalar(select(Task).where(Task.round_id == round_.id, Task.user_id == boss.id))
             for slug, round_ in rounds.items()}
    return World(ours, theirs, boss, organizer, their_organizer, entries, rounds, tasks)


# Tests that walk every route send many API requests at once: not what they test.
NO_API_LIMIT = "100000 per second"


@pytest.fixture
def make_app(settings):
    """The app, with some settings changed."""

    def make(**changes):
        app = create_app(dataclasses.replace(settings, **changes))
        app.config.update(TESTING=True)
        return app

    return make


@pytest.fixture
def app(make_app):
    return make_app(rate_limit_api=NO_API_LIMIT)


@pytest.fixture
def quiet_app(make_app):
    """No WLE_CONTACT: a route that would start a sync or read Commons says it is switched off."""
    return make_app(contact="", rate_limit_api=NO_API_LIMIT)


# --- Walking the URL map -----------------------------------------------------------------------

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def routes(app, methods: set[str]) -> list[tuple[str, str, object]]:
    """(endpoint, method, rule) of every route answering one of ``methods``."""
    return sorted(
        (rule.endpoint, method, rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods & methods
    )


def url_for_rule(rule, values: dict) -> str:
    unknown = set(rule.arguments) - values.keys()
    assert not unknown, f"{rule.rule}: add a value for {sorted(unknown)} to World.values in {__name__}"
    return rule.build({name: values[name] for name in rule.arguments})[1]


def csrf_from_page(client, url: str = "/") -> str:
    """The CSRF token a page gives its scripts (the meta tag every page carries)."""
    html = client.get(url, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, f"no csrf-token meta tag on {url}"
    return match.group(1)
