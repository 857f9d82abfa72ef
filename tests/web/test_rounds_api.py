"""The jury's JSON API for organizers: rounds (list, create, show with progress, settings, open,
close, jurors, quorum, preview, results) and winners (suggestions, set, publish). Every action
once; bad input gets a clear 400 and changes nothing; another contest's rounds are out of reach;
pressing "open" or "close" twice is harmless."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from wle import rounds
from wle.auth import add_organizer
from wle.models import User
from wle.models.jury import CLOSED, OPEN, RATING, YESNO, Round, Winner
from wle.rounds import RoundForm
from wle.web.api import openapi_document

from tests.factories import make_contest
from tests.web.conftest import log_in
from tests.web.test_rounds_pages import (  # noqa: F401  (organizer, org: fixtures)
    audit_actions, judged_round, make_entries, open_round, org, organizer, tasks_of, token, vote,
)

API = "/api/v1/contests/{slug}/rounds"


def call(client, method: str, url: str, body=None, **kwargs):
    """What static JS does: JSON, with the page's CSRF token in the X-CSRFToken header."""
    return client.open(url, method=method, json=body, headers={"X-CSRFToken": token(client)}, **kwargs)


def rounds_url(contest, suffix: str = "") -> str:
    return API.format(slug=contest.slug) + suffix


def error(response) -> str:
    data = response.get_json()
    assert data["status"] == response.status_code, data
    return data["message"]


def round_count(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Round))


# --- Creating and reading ---------------------------------------------------------------------------


def test_create_list_and_show_a_round(org, session, contest):
    make_entries(session, contest, 3)
    session.commit()
    assert org.get(rounds_url(contest)).get_json() == []

    created = call(org, "POST", rounds_url(contest), {"kind": "rating", "quorum": 2, "name": "Stars"})

    assert created.status_code == 200
    data = created.get_json()
    assert {k: data[k] for k in ("number", "name", "kind", "quorum", "state", "entries", "rank_top")} == {
        "number": 1, "name": "Stars", "kind": "rating", "quorum": 2, "state": "draft", "entries": 3, "rank_top": None}
    assert data["selection"] == {"source": "eligible", "kept": 3}
    assert [r["number"] for r in org.get(rounds_url(contest)).get_json()] == [1]
    shown = org.get(rounds_url(contest, "/1")).get_json()
    assert shown["jurors"] == [] and shown["close_summary"] is None and shown["id"] == data["id"]
    assert audit_actions(session, contest)[-1] == "round.create"


@pytest.mark.parametrize("body, message", [
    (None, "Send a JSON object"),
    ([1, 2], "Send a JSON object"),
    ({"kind": "rating", "quorum": 2, "quorom": 3}, "Unknown fields: quorom"),
    ({"kind": "stars", "quorum": 2}, "“kind” must be one of"),
    ({"quorum": 2}, "Give “kind”"),
    ({"kind": "rating"}, "Give “quorum”"),
    ({"kind": "rating", "quorum": "2"}, "“quorum” must be a whole number"),
    ({"kind": "rating", "quorum": True}, "“quorum” must be a whole number"),
    ({"kind": "rating", "quorum": 2.5}, "“quorum” must be a whole number"),
    ({"kind": "rating", "quorum": 0}, "from 1 to 100"),
    ({"kind": "rating", "quorum": 2, "rank_top": 5}, "Only ranking rounds have a top N"),
    ({"kind": "rating", "quorum": 2, "name": "x" * 256}, "at most 255 characters"),
    ({"kind": "rating", "quorum": 2, "name": "a\x00b"}, "plain text"),
    ({"kind": "rating", "quorum": 2, "rule": "top", "value": 3}, "selection rule applies from round 2"),
])
def test_bad_round_input_is_a_clear_400_and_creates_nothing(org, session, contest, body, message):
    make_entries(session, contest, 2)
    session.commit()
    response = call(org, "POST", rounds_url(contest), body) if body is not None else \
        org.post(rounds_url(contest), data="kind=rating", headers={"X-CSRFToken": token(org)})
    assert response.status_code == 400 and response.mimetype == "application/json"
    assert message in error(response)
    assert round_count(session) == 0


def test_the_next_round_takes_a_rule(org, session, contest):
    judged_round(session, contest, [1, 1, 0])
    no_rule = call(org, "POST", rounds_url(contest), {"kind": "rating", "quorum": 1})
    bad_rule = call(org, "POST", rounds_url(contest), {"kind": "rating", "quorum": 1, "rule": "top", "value": 0})
    no_value = call(org, "POST", rounds_url(contest), {"kind": "rating", "quorum": 1, "rule": "top"})
    created = call(org, "POST", rounds_url(contest), {"kind": "rating", "quorum": 1, "rule": "min_average",
                                                      "value": 0.75})

    assert "Choose which entries of “Round 1” go on" in error(no_rule)
    assert "whole number of at least 1" in error(bad_rule)
    assert "Give “value”, a number" in error(no_value)
    assert created.status_code == 200
    assert created.get_json()["selection"] == {"source": "round", "round": 1, "rule": "min_average", "value": 0.75,
                                               "kept": 2}


def test_a_draft_changes_its_settings(org, session, contest):
    make_entries(session, contest, 2)
    rounds.create_round(session, contest, "test", RoundForm(kind=YESNO, quorum=1))
    session.commit()

    changed = call(org, "POST", rounds_url(contest, "/1/settings"),
                   {"kind": "ranking", "quorum": 2, "name": "Final", "rank_top": 1})
    refused = call(org, "POST", rounds_url(contest, "/1/settings"), {"kind": "ranking", "quorum": -1})

    assert changed.status_code == 200
    assert {k: changed.get_json()[k] for k in ("kind", "quorum", "name", "rank_top")} == {
        "kind": "ranking", "quorum": 2, "name": "Final", "rank_top": 1}
    assert refused.status_code == 400 and "from 1 to 100" in error(refused)


# --- Jurors, opening, progress, quorum ------------------------------------------------------------


@pytest.fixture
def draft(session, contest):
    make_entries(session, contest, 4)
    round_ = rounds.create_round(session, contest, "test", RoundForm(kind=YESNO, quorum=2))
    session.commit()
    return round_


def test_jurors_are_added_set_and_removed(org, session, contest, draft):
    added = call(org, "POST", rounds_url(contest, "/1/jurors"), {"username": "alice"})
    again = call(org, "POST", rounds_url(contest, "/1/jurors"), {"username": "Alice"})
    wrong = call(org, "POST", rounds_url(contest, "/1/jurors"), {"username": "[[Bad]]"})
    empty = call(org, "POST", rounds_url(contest, "/1/jurors"), {"username": "  "})
    set_ = call(org, "PUT", rounds_url(contest, "/1/jurors"), {"usernames": ["Bob", "Carol", "Alice"]})
    bad_set = call(org, "PUT", rounds_url(contest, "/1/jurors"), {"usernames": "Bob"})
    removed = call(org, "POST", rounds_url(contest, "/1/jurors/remove"), {"username": "Carol"})
    not_one = call(org, "POST", rounds_url(contest, "/1/jurors/remove"), {"username": "Carol"})

    assert [j["username"] for j in added.get_json()["jurors"]] == ["Alice"]
    assert "is a juror of this round already" in error(again)
    assert "cannot be a Wikimedia username" in error(wrong)
    assert "Give “username”" in error(empty)
    assert [j["username"] for j in set_.get_json()["jurors"]] == ["Alice", "Bob", "Carol"]
    assert "a list of at most 1000 usernames" in error(bad_set)
    assert [j["username"] for j in removed.get_json()["jurors"]] == ["Alice", "Bob"]
    assert "Carol is not a juror of this round." in error(not_one)
    assert [j.user.username for j in rounds.jurors_of(session, draft)] == ["Alice", "Bob"]


def test_open_twice_is_harmless_and_the_round_shows_progress(org, session, contest, draft):
    rounds.set_jurors(session, draft, "test", ["Alice", "Bob"])
    session.commit()

    first = call(org, "POST", rounds_url(contest, "/1/open"))
    second = call(org, "POST", rounds_url(contest, "/1/open"))

    assert first.status_code == second.status_code == 200
    assert first.get_json()["state"] == second.get_json()["state"] == OPEN
    assert audit_actions(session, contest).count("round.open") == 1
    assert len(tasks_of(session, draft)) == 8
    vote(session, draft, {e: 1 for e in {t.entry_id for t in tasks_of(session, draft)}}, jurors=("Alice",))
    shown = org.get(rounds_url(contest, "/1")).get_json()
    assert [(j["username"], j["done"], j["total"], j["finished"]) for j in shown["jurors"]] == [
        ("Alice", 4, 4, True), ("Bob", 0, 4, False)]
    assert shown["close_summary"] == {"open_tasks": 4, "jurors_behind": [{"username": "Bob", "open_tasks": 4}],
                                      "entries_below_quorum": 4, "entries_without_votes": 0}


def test_opening_refused_with_the_reason(org, session, contest, draft):
    response = call(org, "POST", rounds_url(contest, "/1/open"))
    assert response.status_code == 400 and "Add jurors before opening" in error(response)
    assert session.scalar(select(Round.state)) == "draft"


def test_the_quorum_changes_while_open(org, session, contest):
    round_, _entries = open_round(session, contest, entries=3, jurors=("Alice", "Bob", "Carol"), quorum=1)

    raised = call(org, "POST", rounds_url(contest, "/1/quorum"), {"quorum": 3})
    too_many = call(org, "POST", rounds_url(contest, "/1/quorum"), {"quorum": 4})
    not_number = call(org, "POST", rounds_url(contest, "/1/quorum"), {"quorum": "4"})

    assert raised.status_code == 200 and raised.get_json()["quorum"] == 3
    assert "cannot get 4 distinct jurors" in error(too_many)
    assert "“quorum” must be a whole number" in error(not_number)
    session.expire_all()
    assert len(tasks_of(session, round_)) == 9 and session.get(Round, round_.id).quorum == 3


# --- Closing ----------------------------------------------------------------------------------------


def test_closing_needs_the_confirmation_and_twice_is_harmless(org, session, contest):
    round_, entries = open_round(session, contest, entries=2)
    vote(session, round_, {entries[0].id: 1}, jurors=("Alice",))

    unconfirmed = call(org, "POST", rounds_url(contest, "/1/close"))
    bad = call(org, "POST", rounds_url(contest, "/1/close"), {"confirm": "yes"})
    unknown = call(org, "POST", rounds_url(contest, "/1/close"), {"force": True})
    assert session.get(Round, round_.id).state == OPEN

    closed = call(org, "POST", rounds_url(contest, "/1/close"), {"confirm": True})
    again = call(org, "POST", rounds_url(contest, "/1/close"), {"confirm": True})
    bare_again = call(org, "POST", rounds_url(contest, "/1/close"))

    assert unconfirmed.status_code == 409
    assert unconfirmed.get_json()["summary"]["open_tasks"] == 3
    assert "Send {\"confirm\": true}" in unconfirmed.get_json()["message"]
    assert bad.status_code == 400 and "“confirm” must be true or false" in error(bad)
    assert unknown.status_code == 400
    assert closed.status_code == again.status_code == bare_again.status_code == 200
    assert closed.get_json()["state"] == again.get_json()["state"] == CLOSED
    assert audit_actions(session, contest).count("round.close") == 1


def test_a_draft_is_not_closed(org, session, contest, draft):
    response = call(org, "POST", rounds_url(contest, "/1/close"), {"confirm": True})
    assert response.status_code == 400 and "only an open round can be closed" in error(response)


def test_nothing_changes_once_closed(org, session, contest):
    judged_round(session, contest, [1, 0])
    for url, body in (("/1/jurors", {"username": "Zed"}), ("/1/quorum", {"quorum": 1}), ("/1/open", None)):
        response = call(org, "POST", rounds_url(contest, url), body)
        assert response.status_code == 400, url
    assert "is closed" in error(call(org, "POST", rounds_url(contest, "/1/quorum"), {"quorum": 1}))


# --- Preview and results ------------------------------------------------------------------------------


def test_the_preview_says_what_each_threshold_keeps(org, session, contest):
    judged_round(session, contest, [1, 1, 0, 1])

    whole = org.get(rounds_url(contest, "/1/preview")).get_json()
    top = org.get(rounds_url(contest, "/1/preview?rule=top&value=2")).get_json()
    chosen = org.get(rounds_url(contest, "/1/preview?rule=chosen_by&value=2")).get_json()

    assert whole["entries"] == 4 and whole["scored"] == 4 and whole["kept"] is None
    assert whole["min_average"] == [[1.0, 3], [0.0, 4]] and whole["ties"] == [[1, 3]]
    assert top["kept"] == 3  # a top 2 ending inside a tie of three keeps the tie
    assert chosen["kept"] == 3


@pytest.mark.parametrize("query, message", [
    ("?rule=best&value=2", "Choose one of the rules"),
    ("?rule=top&value=two", "Give the threshold “value”"),
    ("?rule=top", "Give the threshold “value”"),
    ("?rule=top&value=nan", "must be a number"),
    ("?rule=chosen_by&value=1.5", "whole number of at least 1"),
])
def test_a_bad_preview_question_is_a_clear_400(org, session, contest, query, message):
    judged_round(session, contest, [1, 0])
    response = org.get(rounds_url(contest, "/1/preview" + query))
    assert response.status_code == 400 and message in error(response)


def test_results_with_ties_votes_and_authors(org, session, contest):
    _round, entries = judged_round(session, contest, [5, 3, 5], kind=RATING, uploader="Автор")

    data = org.get(rounds_url(contest, "/1/results")).get_json()
    page = org.get(rounds_url(contest, "/1/results?offset=1&limit=1")).get_json()

    assert data["total"] == 3 and "earlier upload" in data["tie_break_rule"]
    assert [(r["place"], r["position"], r["entry_id"], r["tied"]) for r in data["results"]] == [
        ("1–2", 1, entries[0].id, True), ("1–2", 2, entries[2].id, True), ("3", 3, entries[1].id, False)]
    first = data["results"][0]
    assert first["score"] == 5.0 and first["votes"] == 2 and first["author"] == "Автор"
    assert first["behind"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 2}
    assert first["thumbnail"] == f"/media/{entries[0].thumb_key}/grid.webp"
    assert [r["position"] for r in page["results"]] == [2]


@pytest.mark.parametrize("query", ["?offset=-1", "?limit=0", "?limit=100000"])
def test_bad_result_paging_is_a_clear_400(org, session, contest, query):
    judged_round(session, contest, [1])
    response = org.get(rounds_url(contest, "/1/results" + query))
    assert response.status_code == 400 and "“limit” from 1 to" in error(response)


# --- Winners ----------------------------------------------------------------------------------------


def winners_url(contest, suffix: str = "") -> str:
    return f"/api/v1/contests/{contest.slug}/winners{suffix}"


def test_winners_suggested_set_published_and_taken_down(org, session, contest):
    before = org.get(winners_url(contest, "/suggestions"))
    _round, entries = judged_round(session, contest, [1, 0, 1], uploader="Автор")

    suggested = org.get(winners_url(contest, "/suggestions?limit=2")).get_json()
    empty_publish = call(org, "POST", winners_url(contest, "/publish"))
    set_ = call(org, "PUT", winners_url(contest), {"winners": [
        {"entry_id": suggested[1]["entry_id"], "place": 1, "note": "Grand prix"},
        {"entry_id": suggested[0]["entry_id"], "place": 2},
    ]})
    published = call(org, "POST", winners_url(contest, "/publish"))
    republished = call(org, "POST", winners_url(contest, "/publish"))
    public = org.application.test_client().get(f"/winners/{contest.slug}")
    unpublished = call(org, "POST", winners_url(contest, "/unpublish"))

    assert before.status_code == 400 and "No round is closed yet" in error(before)
    assert [(s["entry_id"], s["shared_place"]) for s in suggested] == [(entries[0].id, "1–2"), (entries[2].id, "1–2")]
    assert "Set the winners before publishing" in error(empty_publish)
    assert set_.status_code == 200
    assert [(w["entry_id"], w["place"], w["note"], w["author"]) for w in set_.get_json()["winners"]] == [
        (entries[2].id, 1, "Grand prix", "Автор"), (entries[0].id, 2, "", "Автор")]
    assert published.get_json()["published"] is True and published.get_json()["published_at"]
    assert republished.get_json()["published_at"] == published.get_json()["published_at"]
    assert public.status_code == 200
    assert unpublished.get_json()["published"] is False
    assert org.application.test_client().get(f"/winners/{contest.slug}").status_code == 404
    assert org.get(winners_url(contest)).get_json()["public_url"] == f"/winners/{contest.slug}"
    assert audit_actions(session, contest).count("winners.publish") == 1


@pytest.mark.parametrize("body, message", [
    (lambda a, b, theirs: {"winners": "all"}, "must be a list"),
    (lambda a, b, theirs: {"winners": [{"entry_id": a}]}, "whole numbers"),
    (lambda a, b, theirs: {"winners": [{"entry_id": a, "place": 1, "prize": "x"}]}, "optional “note”"),
    (lambda a, b, theirs: {"winners": [{"entry_id": str(a), "place": 1}]}, "whole numbers"),
    (lambda a, b, theirs: {"winners": [{"entry_id": a, "place": True}]}, "whole numbers"),
    (lambda a, b, theirs: {"winners": [{"entry_id": a, "place": 0}]}, "Places are whole numbers from 1"),
    (lambda a, b, theirs: {"winners": [{"entry_id": a, "place": 1}, {"entry_id": a, "place": 2}]}, "appears twice"),
    (lambda a, b, theirs: {"winners": [{"entry_id": a, "place": 2}, {"entry_id": b, "place": 1}]}, "by place"),
    (lambda a, b, theirs: {"winners": [{"entry_id": a, "place": 1, "note": "x" * 501}]}, "at most 500"),
    (lambda a, b, theirs: {"winners": [{"entry_id": a, "place": 1, "note": 5}]}, "plain text"),
    (lambda a, b, theirs: {"winners": [{"entry_id": theirs, "place": 1}]}, "not in this contest"),
    (lambda a, b, theirs: {"winners": [{"entry_id": 987654, "place": 1}]}, "not in this contest"),
    (lambda a, b, theirs: {"extra": []}, "Unknown fields: extra"),
])
def test_a_bad_winners_list_is_a_clear_400_and_the_old_one_stays(org, session, contest, body, message):
    _round, entries = judged_round(session, contest, [1, 0])
    theirs = make_entries(session, make_contest(session, "wle-theirs"), 1)[0]
    session.add(Winner(contest_id=contest.id, entry_id=entries[1].id, place=1))
    session.commit()

    response = call(org, "PUT", winners_url(contest), body(entries[0].id, entries[1].id, theirs.id))

    assert response.status_code == 400 and message in error(response)
    session.rollback()
    assert [(w.entry_id, w.place) for w in session.scalars(select(Winner))] == [(entries[1].id, 1)]


# --- Who may, and another contest's rounds ----------------------------------------------------------


def test_another_contests_organizer_gets_403_and_changes_nothing(app, session, contest):
    round_, _entries = open_round(session, contest)
    theirs = make_contest(session, "wle-theirs")
    add_organizer(session, theirs, "Their Organizer", actor="test")
    session.commit()
    stranger = log_in(app.test_client(), session.scalar(select(User).where(User.username == "Their Organizer")))

    for method, suffix, body in (("GET", "", None), ("GET", "/1", None), ("GET", "/1/results", None),
                                 ("GET", "/1/preview", None), ("POST", "", {"kind": "yesno", "quorum": 1}),
                                 ("POST", "/1/close", {"confirm": True}), ("POST", "/1/jurors", {"username": "M"}),
                                 ("PUT", "/1/jurors", {"usernames": []}), ("POST", "/1/quorum", {"quorum": 1})):
        response = call(stranger, method, rounds_url(contest, suffix), body)
        assert response.status_code == 403, (method, suffix)
    for method, suffix in (("GET", ""), ("PUT", ""), ("POST", "/publish"), ("GET", "/suggestions")):
        assert call(stranger, method, winners_url(contest, suffix), {"winners": []}).status_code == 403
    session.expire_all()
    assert session.get(Round, round_.id).state == OPEN and len(rounds.jurors_of(session, round_)) == 2


def test_a_round_of_another_contest_cannot_be_named_under_ours(org, session, contest):
    """Rounds are numbered within their contest: their round 2 is not reachable as our round 2."""
    theirs = make_contest(session, "wle-theirs")
    judged_round(session, theirs, [1, 0])
    make_entries(session, theirs, 1)
    rounds.create_round(session, theirs, "test", RoundForm(kind=YESNO, quorum=1), rounds.SelectionRule("top", 1))
    open_round(session, contest)  # our round 1
    session.commit()

    for method, suffix in (("GET", "/2"), ("GET", "/2/results"), ("POST", "/2/open"), ("POST", "/2/close"),
                           ("GET", "/2/preview"), ("POST", "/2/quorum")):
        response = call(org, method, rounds_url(contest, suffix), {"quorum": 1} if "quorum" in suffix else None)
        assert response.status_code == 404 and "This contest has no round 2" in error(response), suffix
    assert call(org, "GET", API.format(slug="wle-theirs")).status_code == 403
    session.rollback()
    assert session.scalar(select(Round.state).where(Round.contest_id == theirs.id, Round.number == 2)) == "draft"


def test_anonymous_gets_401(app, contest):
    anonymous = app.test_client()
    assert anonymous.get(rounds_url(contest)).status_code == 401
    assert anonymous.get(winners_url(contest)).status_code == 401


def test_a_json_post_without_the_csrf_header_is_refused(org, session, contest, draft):
    response = org.post(rounds_url(contest, "/1/jurors"), json={"username": "Alice"})
    assert response.status_code == 400 and "security token" in error(response)
    assert rounds.jurors_of(session, draft) == []


def test_every_route_is_in_the_openapi_document(app):
    paths = openapi_document(app)["paths"]
    for path, method in (("/api/v1/contests/{slug}/rounds", "post"), ("/api/v1/contests/{slug}/rounds/{number}", "get"),
                         ("/api/v1/contests/{slug}/rounds/{number}/close", "post"),
                         ("/api/v1/contests/{slug}/rounds/{number}/jurors", "put"),
                         ("/api/v1/contests/{slug}/winners", "put"),
                         ("/api/v1/contests/{slug}/winners/publish", "post")):
        operation = paths[path][method]
        assert not operation.get("x-undocumented") and "organizers of the contest" in operation["description"]
    assert "409" in paths["/api/v1/contests/{slug}/rounds/{number}/close"]["post"]["responses"]


# --- Pressed at the same moment ---------------------------------------------------------------------


def test_open_and_close_pressed_at_once_by_several_organizers_happen_once(app, session, contest, organizer,
                                                                          settings, draft):
    """Each request locks the round (PostgreSQL); the ones that waited find it done and answer the same."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite has no row locks; the platform runs on PostgreSQL")
    rounds.set_jurors(session, draft, "test", ["Alice", "Bob"])
    session.commit()
    clients = [log_in(app.test_client(), organizer) for _ in range(6)]
    for client in clients:
        token(client)

    def press(action: str, body=None) -> list[int]:
        with ThreadPoolExecutor(len(clients)) as pool:
            return list(pool.map(lambda c: call(c, "POST", rounds_url(contest, f"/1/{action}"), body).status_code,
                                 clients))

    assert press("open") == [200] * len(clients)
    assert len(tasks_of(session, draft)) == 8
    assert press("close", {"confirm": True}) == [200] * len(clients)
    actions = audit_actions(session, contest)
    assert actions.count("round.open") == 1 and actions.count("round.close") == 1
