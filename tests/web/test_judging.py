"""The jurors' pages and their JSON API: voting, changing a vote, double votes, skipping, going back,
progress, rankings, who may do what, clear errors, and blindness of every answer a juror gets."""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from wle import rounds
from wle.models import Entry, User
from wle.models.jury import RANKING, RATING, YESNO, Round, Task
from wle.rounds import RoundForm

from tests.factories import make_contest
from tests.web.conftest import log_in

API = "/api/v1/jury/rounds"
UPLOADERS = ("Zhanna Qasymova", "Yerlan Bekov", "Secret Photographer")


def add_entries(session, contest, count, start=1) -> list[Entry]:
    """Entries whose every identifying value is distinctive, so that a leak is easy to spot."""
    entries = []
    for i in range(start, start + count):
        moment = datetime(2025, 6, 20, 10, 0, tzinfo=timezone.utc) + timedelta(minutes=i)
        pageid = 7_340_000 + i
        entries.append(Entry(
            contest_id=contest.id, pageid=pageid, title=f"File:Hidden lake by {UPLOADERS[i % 3]} {i}.jpg",
            uploader=UPLOADERS[i % 3], uploaded_at=moment, last_uploaded_at=moment, width=4000, height=3000,
            size=2_000_000, mime="image/jpeg", sha1=secrets.token_hex(20),
            description=f"Confidential description number {i}", categories=["Lakes of Kazakhstan"],
            file_url=f"https://upload.wikimedia.org/wikipedia/commons/a/ab/Hidden_lake_{i}.jpg",
            page_url=f"https://commons.wikimedia.org/wiki/File:Hidden_lake_{i}.jpg",
            thumb_key=secrets.token_hex(16), thumb_state="done",
            license="CC BY-SA 4.0", credit="Own work",  # eligible under the default rules
        ))
    session.add_all(entries)
    session.flush()
    return entries


def forbidden_values(entries) -> list[str]:
    """What a juror must never receive: anything that names the file or its author."""
    values = ["commons.wikimedia.org", "upload.wikimedia.org", "Hidden lake", "Hidden_lake", "Confidential"]
    for entry in entries:
        name = entry.title.split(":", 1)[1]
        values += [entry.title, name, name.replace(" ", "_"), entry.uploader, entry.description, entry.sha1,
                   str(entry.pageid), entry.file_url, entry.page_url]
    return values


def open_round(session, contest, kind=RATING, jurors=("Alice", "Bob"), quorum=1, rank_top=None) -> Round:
    organizer = rounds.user_by_name(session, "Organizer")
    round_ = rounds.create_round(session, contest, organizer, RoundForm(kind=kind, quorum=quorum, rank_top=rank_top))
    rounds.set_jurors(session, round_, organizer, jurors)
    rounds.open_round(session, round_, organizer)
    session.commit()
    return round_


def user(session, name) -> User:
    return session.scalar(select(User).where(User.username == name)) or rounds.user_by_name(session, name)


class Juror:
    """A logged-in test client of one person, with the CSRF token their pages carry."""

    def __init__(self, app, session, name, round_id=None):
        self.user = user(session, name)
        session.commit()
        self.client = log_in(app.test_client(), self.user)
        self.answers = []  # every answer this person got, for the blindness check
        page = self.get(f"/jury/rounds/{round_id}" if round_id else "/jury")
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
        self.token = match.group(1) if match else ""

    def get(self, url):
        response = self.client.get(url)
        self.answers.append((url, response))
        return response

    def post(self, url, body=None, *, raw=None, token=True):
        headers = {"X-CSRFToken": self.token} if token else {}
        if raw is not None:
            response = self.client.post(url, data=raw, headers=headers, content_type="application/json")
        else:
            response = self.client.post(url, json=body if body is not None else {}, headers=headers)
        self.answers.append((url, response))
        return response

    def put(self, url, body):
        response = self.client.put(url, json=body, headers={"X-CSRFToken": self.token})
        self.answers.append((url, response))
        return response

    def next(self, round_, limit=1) -> list[dict]:
        response = self.get(f"{API}/{round_.id}/next?limit={limit}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["tasks"]

    def vote(self, round_, task_id, value):
        return self.post(f"{API}/{round_.id}/tasks/{task_id}/vote", {"value": value})

    def skip(self, round_, task_id):
        return self.post(f"{API}/{round_.id}/tasks/{task_id}/skip")

    def previous(self, round_, before=None):
        response = self.get(f"{API}/{round_.id}/previous" + (f"?before={before}" if before else ""))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["task"]


@pytest.fixture
def contest(session):
    return make_contest(session)


@pytest.fixture
def entries(session, contest):
    return add_entries(session, contest, 8)


@pytest.fixture
def rating_round(session, contest, entries):
    return open_round(session, contest)


@pytest.fixture
def alice(app, session, rating_round):
    return Juror(app, session, "Alice", rating_round.id)


def stored_values(session, round_, user_id) -> dict[int, int | None]:
    session.expire_all()
    return dict(session.execute(select(Task.id, Task.value).where(Task.round_id == round_.id, Task.user_id == user_id)).all())


# --- Voting ----------------------------------------------------------------------------------------


def test_a_vote_is_saved_and_counted(session, rating_round, alice):
    task = alice.next(rating_round)[0]

    response = alice.vote(rating_round, task["task"], 4)

    assert response.status_code == 200
    body = response.get_json()
    assert body["task"]["vote"] == 4 and body["task"]["task"] == task["task"]
    assert body["progress"]["done"] == 1 and body["progress"]["total"] == 4 and not body["progress"]["finished"]
    assert stored_values(session, rating_round, alice.user.id)[task["task"]] == 4


def test_a_vote_can_be_changed_and_a_double_vote_is_one_vote(session, rating_round, alice):
    task = alice.next(rating_round)[0]["task"]

    assert alice.vote(rating_round, task, 4).status_code == 200
    assert alice.vote(rating_round, task, 4).status_code == 200  # a double key press
    first = session.get(Task, task)
    voted_at = first.voted_at
    assert first.changed_at is None
    changed = alice.vote(rating_round, task, 2)

    assert changed.get_json()["progress"]["done"] == 1
    assert changed.get_json()["progress"]["values"] == {"2": 1}
    session.expire_all()
    again = session.get(Task, task)
    assert again.value == 2 and again.voted_at == voted_at and again.changed_at is not None
    # One row, so one vote: the next entry is another one.
    assert alice.next(rating_round)[0]["task"] != task


def test_a_skipped_entry_comes_back_at_the_end(rating_round, alice):
    before = [t["task"] for t in alice.next(rating_round, limit=50)]

    skipped = alice.skip(rating_round, before[0])

    assert skipped.status_code == 200 and skipped.get_json()["task"]["skipped"] is True
    assert skipped.get_json()["progress"]["skipped"] == 1
    after = [t["task"] for t in alice.next(rating_round, limit=50)]
    assert after == before[1:] + before[:1]


def test_a_voted_entry_cannot_be_skipped(rating_round, alice):
    task = alice.next(rating_round)[0]["task"]
    alice.vote(rating_round, task, 3)

    response = alice.skip(rating_round, task)

    assert response.status_code == 400 and response.get_json()["code"] == "invalid_vote"
    assert "voted on this entry already" in response.get_json()["message"]


def test_back_goes_to_the_previous_votes_with_their_values(rating_round, alice):
    first, second, third = (t["task"] for t in alice.next(rating_round, limit=3))
    alice.vote(rating_round, first, 5)
    alice.vote(rating_round, second, 1)

    last = alice.previous(rating_round)
    assert (last["task"], last["vote"]) == (second, 1)
    assert alice.previous(rating_round, before=third)["task"] == second  # from the entry on screen
    earlier = alice.previous(rating_round, before=second)
    assert (earlier["task"], earlier["vote"]) == (first, 5)
    assert alice.previous(rating_round, before=first) is None
    # Changed after going back: still in its place in the order.
    alice.vote(rating_round, first, 2)
    assert alice.previous(rating_round, before=second)["vote"] == 2


def test_progress_counts_until_done(rating_round, alice):
    tasks = alice.next(rating_round, limit=50)
    assert alice.get(f"{API}/{rating_round.id}/progress").get_json() == \
        {"done": 0, "total": 4, "skipped": 0, "finished": False, "values": {}}

    for value, task in zip((5, 4, 4, 1), tasks):
        alice.vote(rating_round, task["task"], value)

    assert alice.get(f"{API}/{rating_round.id}/progress").get_json() == \
        {"done": 4, "total": 4, "skipped": 0, "finished": True, "values": {"1": 1, "4": 2, "5": 1}}
    assert alice.next(rating_round, limit=5) == []
    page = alice.get(f"/jury/rounds/{rating_round.id}").get_data(as_text=True)
    assert 'data-state="done"' in page
    assert re.search(r'id="judge-done"(?! hidden)', page)


def test_yes_no_rounds_take_one_or_zero(app, session, contest, entries):
    round_ = open_round(session, contest, kind=YESNO)
    alice = Juror(app, session, "Alice", round_.id)
    first, second = (t["task"] for t in alice.next(round_, limit=2))

    assert alice.vote(round_, first, 1).status_code == 200
    assert alice.vote(round_, second, 0).status_code == 200
    refused = alice.vote(round_, second, 5)

    assert refused.status_code == 400 and refused.get_json()["message"] == "A vote in this round is one of 0, 1, not 5."
    assert alice.get(f"{API}/{round_.id}/progress").get_json()["values"] == {"0": 1, "1": 1}


# --- Refusals, each with a clear answer ---------------------------------------------------------


@pytest.mark.parametrize("body, message", [
    ({"value": 0}, "one of 1, 2, 3, 4, 5, not 0"),
    ({"value": 6}, "one of 1, 2, 3, 4, 5, not 6"),
    ({"value": "3"}, "not '3'"),
    ({"value": 2.5}, "not 2.5"),
    ({"value": True}, "not True"),
    ({"value": None}, "not None"),
    ({}, 'Send the vote as {"value": …}'),
    ([4], "Send a JSON object"),
])
def test_a_bad_vote_gets_a_clear_400_and_changes_nothing(session, rating_round, alice, body, message):
    task = alice.next(rating_round)[0]["task"]

    response = alice.post(f"{API}/{rating_round.id}/tasks/{task}/vote", body)

    assert response.status_code == 400
    answer = response.get_json()
    assert answer["status"] == 400 and answer["code"] in ("invalid_vote", "invalid_request")
    assert message in answer["message"]
    assert stored_values(session, rating_round, alice.user.id)[task] is None


def test_a_body_that_is_not_json_gets_a_clear_400(rating_round, alice):
    task = alice.next(rating_round)[0]["task"]

    response = alice.post(f"{API}/{rating_round.id}/tasks/{task}/vote", raw="value=4")

    assert response.status_code == 400 and "Send a JSON object" in response.get_json()["message"]


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=-3"])
def test_a_bad_limit_gets_a_clear_400(rating_round, alice, query):
    response = alice.get(f"{API}/{rating_round.id}/next?{query}")

    assert response.status_code == 400
    assert "limit must be a whole number of at least 1" in response.get_json()["message"]


def test_a_vote_without_the_csrf_token_is_refused(session, rating_round, alice):
    task = alice.next(rating_round)[0]["task"]

    response = alice.post(f"{API}/{rating_round.id}/tasks/{task}/vote", {"value": 4}, token=False)

    assert response.status_code == 400
    assert stored_values(session, rating_round, alice.user.id)[task] is None


def test_another_jurors_task_is_not_found(app, session, rating_round, alice):
    bob = Juror(app, session, "Bob", rating_round.id)
    bobs = bob.next(rating_round)[0]["task"]

    for response in (alice.vote(rating_round, bobs, 5), alice.skip(rating_round, bobs),
                     alice.get(f"{API}/{rating_round.id}/previous?before={bobs}"),
                     alice.vote(rating_round, 10 ** 9, 5)):
        assert response.status_code == 404
        assert response.get_json()["code"] == "not_your_task"
        assert response.get_json()["message"] == "There is no such entry among yours to judge."
    assert stored_values(session, rating_round, bob.user.id)[bobs] is None


def test_a_task_of_another_round_is_not_found_under_this_rounds_address(app, session, contest, rating_round, alice):
    other_contest = make_contest(session, slug="wle-other")
    add_entries(session, other_contest, 2, start=50)
    other = open_round(session, other_contest, jurors=("Alice",))
    elsewhere = alice.next(other)[0]["task"]

    response = alice.vote(rating_round, elsewhere, 5)

    assert response.status_code == 404 and response.get_json()["code"] == "not_your_task"
    assert stored_values(session, other, alice.user.id)[elsewhere] is None


def test_a_closed_round_takes_no_votes(session, rating_round, alice):
    task = alice.next(rating_round)[0]["task"]
    rounds.close_round(session, session.get(Round, rating_round.id), rounds.user_by_name(session, "Organizer"), confirm=True)
    session.commit()

    vote = alice.vote(rating_round, task, 4)
    skip = alice.skip(rating_round, task)
    next_ = alice.get(f"{API}/{rating_round.id}/next")

    for response in (vote, skip, next_):
        assert response.status_code == 409
        assert response.get_json()["code"] == "round_not_open"
        assert response.get_json()["message"] == "This round is closed: votes cannot be cast or changed."
    assert stored_values(session, rating_round, alice.user.id)[task] is None
    page = alice.get(f"/jury/rounds/{rating_round.id}")
    assert page.status_code == 200 and "This round is closed" in page.get_data(as_text=True)
    assert alice.get(f"{API}/{rating_round.id}/progress").status_code == 200  # their progress stays readable


@pytest.mark.parametrize("name", ["Mallory", "Organizer", "Site Admin"])
def test_only_the_rounds_jurors_get_in(app, session, rating_round, name):
    person = user(session, name)
    person.is_admin = name == "Site Admin"
    session.commit()
    client = log_in(app.test_client(), person)
    task = session.scalar(select(Task.id).where(Task.round_id == rating_round.id).limit(1))

    assert client.get(f"/jury/rounds/{rating_round.id}").status_code == 403
    for url in ("next", "progress", "previous", "ranking"):
        assert client.get(f"{API}/{rating_round.id}/{url}").status_code == 403
    app.config["WTF_CSRF_ENABLED"] = False  # so that the refusal is for the role alone
    assert client.post(f"{API}/{rating_round.id}/tasks/{task}/vote", json={"value": 3}).status_code == 403
    assert client.post(f"{API}/{rating_round.id}/tasks/{task}/skip").status_code == 403
    assert client.put(f"{API}/{rating_round.id}/ranking", json={"order": []}).status_code == 403
    assert session.get(Task, task).value is None


def test_a_removed_juror_is_refused(app, session, rating_round, alice):
    rounds.remove_juror(session, session.get(Round, rating_round.id), rounds.user_by_name(session, "Organizer"), "Alice")
    session.commit()

    assert alice.get(f"{API}/{rating_round.id}/next").status_code == 403
    assert alice.get(f"/jury/rounds/{rating_round.id}").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(anonymous_client, rating_round):
    api = anonymous_client.get(f"{API}/{rating_round.id}/next")
    page = anonymous_client.get(f"/jury/rounds/{rating_round.id}")

    assert api.status_code == 401 and api.get_json()["status"] == 401
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/jury/rounds/")


# --- Pages ---------------------------------------------------------------------------------------------


def test_the_jury_page_lists_the_jurors_rounds_with_progress(app, session, rating_round, alice):
    alice.vote(rating_round, alice.next(rating_round)[0]["task"], 3)

    html = alice.get("/jury").get_data(as_text=True)

    assert f'href="/jury/rounds/{rating_round.id}"' in html and "Continue" in html
    assert '<progress max="4" value="1">' in html
    rounds_json = alice.get(API).get_json()
    assert rounds_json == [{"round": rating_round.id, "contest": "Wiki Loves Earth 2025 in Kazakhstan",
                            "name": "Round 1", "kind": "rating", "state": "open",
                            "progress": {"done": 1, "total": 4, "skipped": 0, "finished": False, "values": {"3": 1}},
                            "page": f"/jury/rounds/{rating_round.id}"}]


def test_someone_without_rounds_is_told_so(app, session, rating_round):
    mallory = Juror(app, session, "Mallory")

    assert "You are not a juror of any round yet" in mallory.answers[0][1].get_data(as_text=True)
    assert mallory.get(API).get_json() == []


def test_the_judging_page_comes_with_its_first_entries_and_no_inline_script(rating_round, alice):
    html = alice.answers[0][1].get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="judge-data">(.*?)</script>', html, re.S).group(1))

    assert [t["task"] for t in data["tasks"]] == [t["task"] for t in alice.next(rating_round, limit=50)]
    assert data["kind"] == "rating" and data["progress"]["total"] == 4
    assert data["api"] == f"{API}/{rating_round.id}"
    assert data["strings"]["saved"] == "All votes saved"
    assert_no_inline_code(html)
    assert 'src="/static/js/juror.js"' in html


def assert_no_inline_code(html: str) -> None:
    """No executable inline script, no inline style, no on* handler (the site's CSP forbids them)."""
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert 'type="application/json"' in tag or "src=" in tag, tag
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html, re.I)


# --- Ranking rounds --------------------------------------------------------------------------------------


@pytest.fixture
def ranking_round(session, contest, entries):
    return open_round(session, contest, kind=RANKING, jurors=("Alice", "Bob"), quorum=2, rank_top=3)


def test_a_ranking_is_read_and_saved_whole(app, session, ranking_round):
    alice = Juror(app, session, "Alice", ranking_round.id)
    html = alice.answers[0][1].get_data(as_text=True)
    url = f"{API}/{ranking_round.id}/ranking"

    ranking = alice.get(url).get_json()
    assert ranking["ballot"] == 3 and ranking["total"] == 8 and ranking["saved"] is False
    ids = [t["task"] for t in ranking["tasks"]]
    assert html.count('class="rank-tile') == 8 and html.count('loading="lazy"') == 8
    assert html.count("rank-tile unplaced") == 5  # only the top 3 are placed
    assert_no_inline_code(html)

    saved = alice.put(url, {"order": ids[::-1][:3]})

    assert saved.status_code == 200 and saved.get_json()["progress"]["finished"] is True
    again = alice.get(url).get_json()
    assert again["saved"] is True and [t["task"] for t in again["tasks"]][:3] == ids[::-1][:3]
    assert [t["vote"] for t in again["tasks"]] == [1, 2, 3, 0, 0, 0, 0, 0]


@pytest.mark.parametrize("order, message", [
    (None, 'Send the ranking as {"order": [task ids, best first]}'),
    ("1,2,3", 'Send the ranking as {"order"'),
    ([1], "Place exactly 3 entries, not 1"),
    (["a", "b", "c"], "A ranking is a list of task ids"),
])
def test_a_bad_ranking_gets_a_clear_400(app, session, ranking_round, order, message):
    alice = Juror(app, session, "Alice", ranking_round.id)
    ids = [t["task"] for t in alice.get(f"{API}/{ranking_round.id}/ranking").get_json()["tasks"]]
    if order == [1]:
        order = ids[:1]

    response = alice.put(f"{API}/{ranking_round.id}/ranking", {"order": order} if order is not None else {})

    assert response.status_code == 400 and message in response.get_json()["message"]
    assert response.get_json()["code"] in ("invalid_ranking", "invalid_request")


def test_someone_elses_entries_cannot_be_ranked(app, session, contest, entries):
    round_ = open_round(session, contest, kind=RANKING, jurors=("Alice", "Bob"), quorum=1)
    alice, bob = Juror(app, session, "Alice", round_.id), Juror(app, session, "Bob", round_.id)
    bobs = [t["task"] for t in bob.get(f"{API}/{round_.id}/ranking").get_json()["tasks"]]

    response = alice.put(f"{API}/{round_.id}/ranking", {"order": bobs})

    assert response.status_code == 400 and "not entries of yours" in response.get_json()["message"]


def test_the_ranking_of_a_rating_round_is_not_found_and_a_ranking_round_takes_no_single_votes(
        app, session, rating_round, alice, contest):
    assert alice.get(f"{API}/{rating_round.id}/ranking").status_code == 404
    assert alice.put(f"{API}/{rating_round.id}/ranking", {"order": []}).get_json()["message"] == \
        "This is not a ranking round."


def test_a_ranking_round_refuses_single_votes(app, session, ranking_round):
    alice = Juror(app, session, "Alice", ranking_round.id)
    task = alice.get(f"{API}/{ranking_round.id}/ranking").get_json()["tasks"][0]["task"]

    response = alice.vote(ranking_round, task, 1)

    assert response.status_code == 400 and "whole order is saved at once" in response.get_json()["message"]


def test_five_hundred_entries_can_be_ranked(app, session, contest):
    add_entries(session, contest, 500)
    round_ = open_round(session, contest, kind=RANKING, jurors=("Alice",), quorum=1)
    alice = Juror(app, session, "Alice", round_.id)
    html = alice.answers[0][1].get_data(as_text=True)
    ids = [t["task"] for t in alice.get(f"{API}/{round_.id}/ranking").get_json()["tasks"]]

    assert html.count('loading="lazy"') == 500
    response = alice.put(f"{API}/{round_.id}/ranking", {"order": ids[::-1]})

    assert response.status_code == 200 and response.get_json()["saved"] == 500


# --- Blindness -----------------------------------------------------------------------------------------


def test_nothing_a_juror_receives_names_the_file_or_its_author(app, session, contest, entries):
    rating = open_round(session, contest, kind=RATING, jurors=("Alice", "Bob"))
    other = make_contest(session, slug="wle-ranking")
    ranked_entries = add_entries(session, other, 4, start=20)
    ranking = open_round(session, other, kind=RANKING, jurors=("Alice",), rank_top=2)
    alice = Juror(app, session, "Alice", rating.id)

    # Every page and every API answer a juror can get, in a rating round and a ranking round.
    alice.get("/jury")
    alice.get(API)
    first, second, third = (t["task"] for t in alice.next(rating, limit=3))
    alice.vote(rating, first, 4)
    alice.vote(rating, first, 5)
    alice.skip(rating, second)
    alice.vote(rating, third, 2)
    alice.previous(rating)
    alice.previous(rating, before=third)
    alice.get(f"{API}/{rating.id}/progress")
    alice.get(f"/jury/rounds/{rating.id}")
    alice.vote(rating, 10 ** 9, 5)  # errors too
    alice.post(f"{API}/{rating.id}/tasks/{first}/vote", {"value": 9})
    alice.get(f"/jury/rounds/{ranking.id}")
    tasks = alice.get(f"{API}/{ranking.id}/ranking").get_json()["tasks"]
    alice.put(f"{API}/{ranking.id}/ranking", {"order": [t["task"] for t in tasks[:2]]})
    alice.put(f"{API}/{ranking.id}/ranking", {"order": [t["task"] for t in tasks]})
    rounds.close_round(session, session.get(Round, rating.id), rounds.user_by_name(session, "Organizer"), confirm=True)
    session.commit()
    alice.get(f"/jury/rounds/{rating.id}")
    alice.vote(rating, first, 3)

    forbidden = forbidden_values(entries + ranked_entries)
    assert len(alice.answers) >= 20
    for url, response in alice.answers:
        assert response.status_code < 500, url
        body = response.get_data(as_text=True)
        leaks = [value for value in forbidden if value in body]
        assert not leaks, f"{url} shows {leaks}"
        for address in re.findall(r'/media/[^"\s,]+', body):
            assert re.fullmatch(r"/media/[0-9a-f]{32}/(grid|view)\.webp", address), address
        if response.is_json:
            assert_only_blind_keys(response.get_json())


BLIND_KEYS = {"task", "round", "width", "height", "ready", "images", "srcset", "vote", "skipped"}


def assert_only_blind_keys(value) -> None:
    """Every task object in a JSON answer has only the blind view's keys."""
    if isinstance(value, dict):
        if "srcset" in value:
            assert set(value) == BLIND_KEYS, set(value) - BLIND_KEYS
        for item in value.values():
            assert_only_blind_keys(item)
    elif isinstance(value, list):
        for item in value:
            assert_only_blind_keys(item)
