"""Every route × every role: only what each role may see or do.

The matrix is built from the app's URL map: a route without a row in ``EXPECTED`` fails the
test, so a new page cannot be forgotten. Add a row for each new route (and a value in ``ARGUMENTS``
for each new kind of URL argument).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from wle.app import create_app
from wle.auth import add_organizer
from wle.models import Contest, User
from wle import rounds
from wle.models.jury import Round, RoundJuror, Task
from wle.thumbnails import thumbnail_path

from tests.factories import make_contest
from tests.web.conftest import log_in, make_entry

# Who may use a route.
ANYONE = "anyone"
LOGGED_IN = "logged in"  # any logged-in user
ORGANIZER = "organizer"  # organizers of the route's contest, and site admins
ADMIN = "admin"  # site admins only
JUROR = "juror"  # the active jurors of the route's round (not admins: judging is personal work)

EXPECTED: dict[tuple[str, str], str] = {
    ("static", "GET"): ANYONE,
    ("health.healthz", "GET"): ANYONE,  # for the load balancer and the container's health check
    ("health.readyz", "GET"): ANYONE,
    ("health.favicon", "GET"): ANYONE,  # the site's icon, asked for by browsers on every page
    ("auth.login", "GET"): ANYONE,
    ("auth.login", "POST"): ANYONE,
    ("auth.oauth_callback", "GET"): ANYONE,
    ("auth.logout", "POST"): ANYONE,
    ("api_docs.api_docs", "GET"): ANYONE,
    ("api.openapi", "GET"): ANYONE,
    ("api.me", "GET"): LOGGED_IN,
    ("api.contest_organizers", "GET"): ORGANIZER,
    ("api.contest_audit_log", "GET"): ORGANIZER,
    ("contests.index", "GET"): LOGGED_IN,
    ("contests.new", "GET"): ADMIN,
    ("contests.new", "POST"): ADMIN,
    ("contests.show", "GET"): ORGANIZER,
    ("contests.status", "GET"): ORGANIZER,
    ("contests.sync", "POST"): ORGANIZER,
    ("contests.schedule", "POST"): ORGANIZER,
    ("contests.entries", "GET"): ORGANIZER,
    ("contests.entry", "GET"): ORGANIZER,
    ("media.thumbnail", "GET"): LOGGED_IN,
    ("people.contest_people", "GET"): ORGANIZER,
    ("people.add_contest_organizer", "POST"): ADMIN,
    ("people.remove_contest_organizer", "POST"): ADMIN,
    ("people.contest_log_page", "GET"): ORGANIZER,
    ("people.admins_page", "GET"): ADMIN,
    ("people.add_site_admin", "POST"): ADMIN,
    ("people.remove_site_admin", "POST"): ADMIN,
    ("review.index", "GET"): ORGANIZER,
    ("review.decision", "POST"): ORGANIZER,
    ("review.check", "POST"): ORGANIZER,
    ("review.file_pages", "POST"): ORGANIZER,
    ("review.rule_settings", "GET"): ORGANIZER,
    ("review.rule_settings", "POST"): ORGANIZER,
    ("review.sites", "GET"): ORGANIZER,
    ("review.sites", "POST"): ORGANIZER,
    ("statistics.show", "GET"): ORGANIZER,
    ("statistics.export_json", "GET"): ORGANIZER,
    ("statistics.export_csv", "GET"): ORGANIZER,
    ("statistics.export_wikitext", "GET"): ORGANIZER,
    ("statistics.upload_previously_pictured", "POST"): ORGANIZER,
    ("statistics.clear_previously_pictured_list", "POST"): ORGANIZER,
    # The jury, as the organizers run it (wle.web.rounds, wle.web.winners), and the public winners page.
    ("rounds.index", "GET"): ORGANIZER,
    ("rounds.new", "GET"): ORGANIZER,
    ("rounds.new", "POST"): ORGANIZER,
    ("rounds.show", "GET"): ORGANIZER,
    ("rounds.update", "POST"): ORGANIZER,
    ("rounds.add_juror", "POST"): ORGANIZER,
    ("rounds.remove_juror", "POST"): ORGANIZER,
    ("rounds.quorum", "POST"): ORGANIZER,
    ("rounds.open", "POST"): ORGANIZER,
    ("rounds.close_page", "GET"): ORGANIZER,
    ("rounds.close", "POST"): ORGANIZER,
    ("rounds.results_page", "GET"): ORGANIZER,
    ("rounds.results_csv", "GET"): ORGANIZER,
    ("rounds.api_list", "GET"): ORGANIZER,
    ("rounds.api_create", "POST"): ORGANIZER,
    ("rounds.api_show", "GET"): ORGANIZER,
    ("rounds.api_update", "POST"): ORGANIZER,
    ("rounds.api_open", "POST"): ORGANIZER,
    ("rounds.api_close", "POST"): ORGANIZER,
    ("rounds.api_add_juror", "POST"): ORGANIZER,
    ("rounds.api_set_jurors", "PUT"): ORGANIZER,
    ("rounds.api_remove_juror", "POST"): ORGANIZER,
    ("rounds.api_quorum", "POST"): ORGANIZER,
    ("rounds.api_preview", "GET"): ORGANIZER,
    ("rounds.api_results", "GET"): ORGANIZER,
    ("winners.page", "GET"): ORGANIZER,
    ("winners.save", "POST"): ORGANIZER,
    ("winners.publish", "POST"): ORGANIZER,
    ("winners.unpublish", "POST"): ORGANIZER,
    ("winners.export", "GET"): ORGANIZER,
    ("winners.api_winners", "GET"): ORGANIZER,
    ("winners.api_set_winners", "PUT"): ORGANIZER,
    ("winners.api_suggestions", "GET"): ORGANIZER,
    ("winners.api_publish", "POST"): ORGANIZER,
    ("winners.api_unpublish", "POST"): ORGANIZER,
    ("public.winners", "GET"): ANYONE,  # 404 until published
    ("public.thumbnail", "GET"): ANYONE,  # only a published winner's
    # The jurors' pages and API (wle.web.judging).
    ("judging.index", "GET"): LOGGED_IN,  # the rounds one judges: none for most people
    ("language.choose", "POST"): ANYONE,  # the header's language switcher
    ("judging.api_rounds", "GET"): LOGGED_IN,
    ("judging.round_page", "GET"): JUROR,
    ("judging.api_next", "GET"): JUROR,
    ("judging.api_vote", "POST"): JUROR,
    ("judging.api_skip", "POST"): JUROR,
    ("judging.api_previous", "GET"): JUROR,
    ("judging.api_progress", "GET"): JUROR,
    ("judging.api_ranking", "GET"): JUROR,
    ("judging.api_save_ranking", "PUT"): JUROR,
}

# The roles, and which kinds of route each may use (for the matrix's contest, "ours").
ROLES = {
    "anonymous": {ANYONE},
    "no role": {ANYONE, LOGGED_IN},
    "organizer of another contest": {ANYONE, LOGGED_IN},
    "organizer": {ANYONE, LOGGED_IN, ORGANIZER},
    "admin": {ANYONE, LOGGED_IN, ORGANIZER, ADMIN},
    "juror of another round": {ANYONE, LOGGED_IN},
    "juror": {ANYONE, LOGGED_IN, JUROR},
}


@dataclass
class World:
    """Two contests and one person in each role; ``ours`` is the contest the routes are asked about."""

    ours: Contest
    theirs: Contest
    people: dict[str, User | None]
    pageid: int
    thumb_key: str
    round_id: int = 0  # the jurors' routes: a round of a third contest, and one task of its juror
    task_id: int = 0


@pytest.fixture
def world(session, settings) -> World:
    ours = make_contest(session, "wle-ours")
    theirs = make_contest(session, "wle-theirs")
    entry = make_entry(session, ours)
    people = {
        "anonymous": None,
        "no role": User(username="Nobody", wiki_sub="1"),
        "organizer of another contest": User(username="Their Organizer", wiki_sub="2"),
        "organizer": User(username="Our Organizer", wiki_sub="3"),
        "admin": User(username="Admin", wiki_sub="4", is_admin=True),
        "juror of another round": User(username="Their Juror", wiki_sub="5"),
        "juror": User(username="Our Juror", wiki_sub="6"),
    }
    session.add_all(user for user in people.values() if user)
    session.flush()
    add_organizer(session, theirs, "Their Organizer", actor="test")
    add_organizer(session, ours, "Our Organizer", actor="test")
    session.commit()
    path = thumbnail_path(settings.media_dir, entry.thumb_key, "grid")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF....WEBP")
    judged = make_contest(session, "wle-judged")
    judged_round = open_round_of(session, judged, "Our Juror")
    open_round_of(session, theirs, "Their Juror")
    session.commit()
    task_id = session.scalar(select(Task.id).where(Task.round_id == judged_round.id))
    return World(ours, theirs, people, entry.pageid, entry.thumb_key, judged_round.id, task_id)


def open_round_of(session, contest: Contest, juror: str) -> Round:
    """An open rating round of one entry, judged by ``juror``."""
    make_entry(session, contest, credit="Own work")
    round_ = rounds.create_round(session, contest, "test", rounds.RoundForm(kind="rating", quorum=1))
    rounds.set_jurors(session, round_, "test", [juror])
    rounds.open_round(session, round_, "test")
    return round_


# A value for each URL argument, given the world.
ARGUMENTS = {
    "slug": lambda world: world.ours.slug,
    "pageid": lambda world: world.pageid,
    "key": lambda world: world.thumb_key,
    "size": lambda world: "grid",
    "filename": lambda world: "css/style.css",
    "table": lambda world: "daily",
    "number": lambda world: 1,  # a round's number in the contest
    "round_id": lambda world: world.round_id,
    "task_id": lambda world: world.task_id,
}


@pytest.fixture
def matrix_app(settings):
    # No CSRF here, so that a refused request is refused for its role alone; no contact, so that
    # an allowed "sync" changes nothing (it says syncing is off).
    app = create_app(dataclasses.replace(settings, contact=""))
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


def routes(app) -> list[tuple[str, str, object]]:
    return sorted(
        (rule.endpoint, method, rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def test_every_route_has_an_expected_access(matrix_app):
    present = {(endpoint, method) for endpoint, method, _rule in routes(matrix_app)}

    missing = sorted(present - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - present)

    assert not missing, f"routes with no row in EXPECTED (who may use them?): {missing}"
    assert not stale, f"rows in EXPECTED for routes that no longer exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_what_it_may(matrix_app, world, role):
    client = matrix_app.test_client()
    wrong = []
    for endpoint, method, rule in routes(matrix_app):
        if (endpoint, method) not in EXPECTED:
            continue  # test_every_route_has_an_expected_access names it
        if world.people[role] is not None:
            log_in(client, world.people[role])  # again each time: one of the routes logs out
        url = url_of(rule, world)
        response = client.open(url, method=method)
        access = EXPECTED[endpoint, method]
        allowed = access in ROLES[role]
        outcome = judge(response, url, is_anonymous=world.people[role] is None)
        if access == ANYONE:
            ok = outcome != "crashed" and response.status_code not in (401, 403)  # logout goes to the login
        else:
            ok = outcome == ("let through" if allowed else "refused")
        if not ok:
            wrong.append(f"{method} {url} ({access}): {response.status_code} {outcome}")
    assert not wrong, f"{role} got the wrong answer from:\n" + "\n".join(wrong)


def url_of(rule, world: World) -> str:
    unknown = set(rule.arguments) - ARGUMENTS.keys()
    assert not unknown, f"add a value for {unknown} to ARGUMENTS in {__name__}"
    return rule.build({name: ARGUMENTS[name](world) for name in rule.arguments})[1]


def judge(response, url: str, *, is_anonymous: bool) -> str:
    """How the app answered: "refused" the right way for who asked, "let through", or something off."""
    to_login = response.status_code == 302 and response.headers["Location"].startswith("/login")
    if is_anonymous:
        if url.startswith("/api/"):
            refused = response.status_code == 401 and response.get_json()["status"] == 401
        else:
            refused = to_login
    else:
        refused = response.status_code == 403
    if refused:
        return "refused"
    if response.status_code in (401, 403) or to_login:
        return "refused the wrong way"
    if response.status_code >= 500:
        return "crashed"
    return "let through"


# --- What each role sees ---------------------------------------------------------------------------


def contest_list(client) -> str:
    return client.get("/").get_data(as_text=True)


def test_the_contest_list_shows_only_ones_own_contests(app, world):
    def sees(role) -> set[str]:
        html = contest_list(log_in(app.test_client(), world.people[role]))
        return {slug for slug in ("wle-ours", "wle-theirs") if f"/contests/{slug}" in html}

    assert sees("no role") == set()
    assert sees("organizer") == {"wle-ours"}
    assert sees("organizer of another contest") == {"wle-theirs"}
    assert sees("admin") == {"wle-ours", "wle-theirs"}


def test_only_admins_see_the_admins_links_in_the_menu(app, world):
    def menu(role) -> str:
        html = contest_list(log_in(app.test_client(), world.people[role]))
        return html[html.index("<nav"):html.index("</nav>")]

    assert "/contests/new" not in menu("organizer") and "/admin" not in menu("organizer")
    assert "/contests/new" in menu("admin") and "/admin" in menu("admin")


def test_an_unknown_contest_is_404_for_admins_and_403_for_others(app, world):
    admin = log_in(app.test_client(), world.people["admin"])
    organizer = log_in(app.test_client(), world.people["organizer"])

    assert admin.get("/contests/no-such-contest").status_code == 404
    assert organizer.get("/contests/no-such-contest").status_code == 403  # existence is not told


def test_me_tells_the_roles(app, world, session):
    def me(role):
        return log_in(app.test_client(), world.people[role]).get("/api/v1/me").get_json()

    assert me("organizer") == {"username": "Our Organizer",
                               "roles": {"admin": False, "organizer": ["wle-ours"], "juror": []}}
    assert me("admin")["roles"]["admin"] is True
    assert me("no role")["roles"] == {"admin": False, "organizer": [], "juror": []}

    round_ = Round(contest_id=world.ours.id, number=1, name="First", kind="rating", quorum=1)
    session.add(round_)
    session.flush()
    session.add(RoundJuror(round_id=round_.id, user_id=world.people["no role"].id))
    session.commit()
    assert me("no role")["roles"]["juror"] == [{"contest": "wle-ours", "round": round_.id}]


def test_a_role_taken_away_stops_at_the_next_request(app, world, session):
    client = log_in(app.test_client(), world.people["organizer"])
    assert client.get("/contests/wle-ours").status_code == 200

    from wle.auth import remove_organizer

    remove_organizer(session, world.ours, "Our Organizer", actor="test")
    session.commit()

    assert client.get("/contests/wle-ours").status_code == 403


def test_a_deleted_user_is_logged_out(app, world, session):
    client = log_in(app.test_client(), world.people["no role"])
    session.delete(session.scalar(select(User).where(User.username == "Nobody")))
    session.commit()

    assert client.get("/api/v1/me").status_code == 401


def test_thumbnails_are_not_cached_by_shared_caches(app, world):
    client = log_in(app.test_client(), world.people["no role"])

    response = client.get(f"/media/{world.thumb_key}/grid.webp")

    assert response.status_code == 200
    assert "private" in response.headers["Cache-Control"] and "public" not in response.headers["Cache-Control"]
