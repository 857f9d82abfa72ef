"""The organizers' round pages: the list, a new round (with the selection preview), a round's
jurors and progress, opening, closing after a warning, and the results with their ties.

The helpers at the top (no ``test_`` prefix) are shared with the winners and API tests.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from wle import rounds, voting
from wle.auth import add_organizer
from wle.models import AuditLog, User
from wle.models.jury import CLOSED, DRAFT, OPEN, RANKING, RATING, YESNO, Round, RoundEntry, RoundJuror, Task
from wle.rounds import RoundForm

from tests.factories import make_contest
from tests.web.conftest import log_in
from tests.web.conftest import make_entries as make_any_entries

JURORS = ("Alice", "Bob")


# --- Shared helpers ------------------------------------------------------------------------------


@pytest.fixture
def organizer(session, contest) -> User:
    user = User(username="Our Organizer", wiki_sub="500")
    session.add(user)
    session.flush()
    add_organizer(session, contest, user.username, actor="test")
    session.commit()
    return user


@pytest.fixture
def org(app, organizer):
    """A browser logged in as the contest's organizer."""
    return log_in(app.test_client(), organizer)


def token(client) -> str:
    """The CSRF token every page gives its forms and scripts (read once per browser: reading a page
    shows, and so uses up, the messages waiting for the next page)."""
    if not hasattr(client, "csrf_token"):
        html = client.get("/").get_data(as_text=True)
        client.csrf_token = re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)
    return client.csrf_token


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": token(client), **data})


def text(response) -> str:
    return response.get_data(as_text=True)


def audit_actions(session, contest) -> list[str]:
    session.rollback()  # see what the app committed
    return list(session.scalars(select(AuditLog.action).where(AuditLog.contest_id == contest.id)
                                .order_by(AuditLog.id)))


def user_id(session, name: str) -> int:
    return session.scalar(select(User.id).where(User.username == name))


def tasks_of(session, round_, **where) -> list[Task]:
    query = select(Task).where(Task.round_id == round_.id)
    for key, value in where.items():
        query = query.where(getattr(Task, key) == value)
    return list(session.scalars(query.order_by(Task.id)))


def open_round(session, contest, entries: int = 4, kind=YESNO, jurors=JURORS, quorum=None, **entry_values):
    """An open first round over `entries` new entries, with these jurors; committed."""
    made = make_entries(session, contest, entries, **entry_values)
    round_ = rounds.create_round(session, contest, "test", RoundForm(kind=kind, quorum=quorum or len(jurors)))
    rounds.set_jurors(session, round_, "test", jurors)
    rounds.open_round(session, round_, "test")
    session.commit()
    return round_, made


def vote(session, round_, values: dict[int, int], jurors=JURORS) -> None:
    """Each juror votes values[entry id] on each of their tasks for those entries; committed."""
    session.expire_all()  # the app may have changed the round since this session read it
    for name in jurors:
        uid = user_id(session, name)
        for task in tasks_of(session, round_, user_id=uid):
            if task.entry_id in values:
                voting.vote(session, uid, task.id, values[task.entry_id])
    session.commit()


def judged_round(session, contest, values: list[int], kind=YESNO, close=True, **entry_values):
    """A round whose entries (uploaded in this order) got these votes from every juror."""
    round_, entries = open_round(session, contest, len(values), kind=kind, **entry_values)
    vote(session, round_, {e.id: v for e, v in zip(entries, values)})
    if close:
        rounds.close_round(session, round_, "test")
        session.commit()
    return round_, entries


def make_entries(session, contest, n: int, **values):
    """Entries that pass the contest's rules (own work, say their credits), so that rounds take them."""
    return make_any_entries(session, contest, n, **{"credit": "Own work", "thumb_state": "done", **values})


def round_url(contest, number: int = 1, suffix: str = "") -> str:
    return f"/contests/{contest.slug}/rounds/{number}{suffix}"


# --- Links and the list --------------------------------------------------------------------------


def test_the_contest_page_links_to_rounds_and_winners(org, contest):
    html = text(org.get(f"/contests/{contest.slug}"))
    assert f'href="/contests/{contest.slug}/rounds"' in html
    assert f'href="/contests/{contest.slug}/winners"' in html


def test_the_list_without_rounds_offers_the_first(org, contest):
    html = text(org.get(f"/contests/{contest.slug}/rounds"))
    assert "No rounds yet" in html
    assert f'href="/contests/{contest.slug}/rounds/new"' in html


def test_the_list_shows_each_round_and_its_state(org, session, contest):
    judged_round(session, contest, [1, 0])
    html = text(org.get(f"/contests/{contest.slug}/rounds"))
    assert "Round 1" in html and "closed" in html
    assert f'href="/contests/{contest.slug}/rounds/1/results"' in html


# --- Creating a round ----------------------------------------------------------------------------


def test_the_first_round_takes_the_eligible_entries(org, session, contest):
    make_entries(session, contest, 3)
    session.commit()

    response = post(org, f"/contests/{contest.slug}/rounds/new", kind=RATING, quorum="2", name=" Stars ",
                    create="Create the round")

    assert response.status_code == 302 and response.headers["Location"] == round_url(contest)
    round_ = session.scalar(select(Round).where(Round.contest_id == contest.id))
    assert (round_.name, round_.kind, round_.quorum, round_.state) == ("Stars", RATING, 2, DRAFT)
    assert session.scalar(select(func.count()).select_from(RoundEntry).where(RoundEntry.round_id == round_.id)) == 3
    assert audit_actions(session, contest)[-1:] == ["round.create"]
    assert "3 entries" in text(org.get(response.headers["Location"]))


def test_the_new_round_form_offers_only_the_kinds_and_explains(org, session, contest):
    html = text(org.get(f"/contests/{contest.slug}/rounds/new"))
    assert "every eligible entry" in html
    assert 'name="rule"' not in html  # no selection rule for the first round
    assert "js/rounds.js" in html


@pytest.mark.parametrize("fields, message", [
    ({"kind": RATING, "quorum": "abc"}, "The quorum is a whole number"),
    ({"kind": RATING, "quorum": "0"}, "from 1 to 100"),
    ({"kind": RATING, "quorum": ""}, "Give the number of jurors per entry"),
    ({"kind": "stars", "quorum": "2"}, "Not a valid choice"),
    ({"kind": RANKING, "quorum": "2", "rank_top": "-3"}, "at least 1"),
    ({"kind": RATING, "quorum": "2", "name": "x" * 300}, "255"),
])
def test_bad_round_settings_get_a_clear_400_and_change_nothing(org, session, contest, fields, message):
    make_entries(session, contest, 2)
    session.commit()

    response = post(org, f"/contests/{contest.slug}/rounds/new", create="Create", **fields)

    assert response.status_code == 400
    assert message in text(response)
    assert session.scalar(select(func.count()).select_from(Round)) == 0
    if fields.get("name"):
        assert "x" * 300 in text(response)  # what was typed is shown back, not lost


def test_a_top_n_is_ignored_for_kinds_other_than_ranking(org, session, contest):
    """The page hides the field for those kinds, so a number left in it is not the organizer's doing."""
    make_entries(session, contest, 2)
    session.commit()
    post(org, f"/contests/{contest.slug}/rounds/new", kind=YESNO, quorum="1", rank_top="5", create="Create")
    assert session.scalar(select(Round.rank_top)) is None


def test_a_round_with_no_entries_is_refused_with_the_reason(org, session, contest):
    response = post(org, f"/contests/{contest.slug}/rounds/new", kind=YESNO, quorum="1", create="Create")
    assert response.status_code == 400 and "no entries" in text(response)


def test_no_next_round_while_the_last_is_open(org, session, contest):
    open_round(session, contest)

    page = org.get(f"/contests/{contest.slug}/rounds/new")
    refused = post(org, f"/contests/{contest.slug}/rounds/new", kind=RATING, quorum="1", rule="top", value="1",
                   create="Create")

    assert "close it first" in text(page) and 'name="quorum"' not in text(page)
    assert refused.status_code == 400
    assert session.scalar(select(func.count()).select_from(Round)) == 1


def test_the_next_round_previews_and_takes_the_best(org, session, contest):
    # Yes/no, two jurors each: scores 1, 1, 0.5, 0 — entries 0 and 1 tie for the first place.
    first, entries = open_round(session, contest, entries=4)
    vote(session, first, {e.id: v for e, v in zip(entries, [1, 1, 1, 0])}, jurors=("Alice",))
    vote(session, first, {e.id: v for e, v in zip(entries, [1, 1, 0, 0])}, jurors=("Bob",))
    rounds.close_round(session, first, "test")
    session.commit()
    url = f"/contests/{contest.slug}/rounds/new"

    form = text(org.get(url))
    preview = post(org, url, kind=RATING, quorum="2", rule="top", value="1", preview="Preview")
    assert session.scalar(select(func.count()).select_from(Round)) == 1  # a preview writes nothing
    created = post(org, url, kind=RATING, quorum="2", rule="top", value="1", create="Create")

    assert f'data-preview-url="/api/v1/contests/{contest.slug}/rounds/1/preview"' in form
    assert "Tied places:" in form and "1–2" in form
    assert preview.status_code == 200 and "2 of 4 entries would go on" in text(preview)
    assert created.status_code == 302 and created.headers["Location"] == round_url(contest, 2)
    second = session.scalar(select(Round).where(Round.number == 2))
    assert second.selection == {"source": "round", "round": 1, "rule": "top", "value": 1, "kept": 2}
    taken = set(session.scalars(select(RoundEntry.entry_id).where(RoundEntry.round_id == second.id)))
    assert taken == {entries[0].id, entries[1].id}
    assert "From round 1, the best place: 2 entries." in text(org.get(round_url(contest, 2)))


@pytest.mark.parametrize("rule, value, message", [
    ("top", "2.5", "whole number of at least 1"),
    ("chosen_by", "0", "whole number of at least 1"),
    ("top", "", "Give a threshold"),
    ("min_average", "lots", "The threshold is a number"),
    ("best", "1", "Not a valid choice"),
])
def test_a_bad_selection_rule_gets_a_clear_400(org, session, contest, rule, value, message):
    judged_round(session, contest, [1, 0])
    response = post(org, f"/contests/{contest.slug}/rounds/new", kind=RATING, quorum="2", rule=rule, value=value,
                    create="Create")
    assert response.status_code == 400 and message in text(response)
    assert session.scalar(select(func.count()).select_from(Round)) == 1


def test_a_rule_keeping_nothing_is_refused(org, session, contest):
    judged_round(session, contest, [0, 0])
    response = post(org, f"/contests/{contest.slug}/rounds/new", kind=RATING, quorum="2", rule="min_average",
                    value="0.5", create="Create")
    assert response.status_code == 400 and "keeps no entries" in text(response)


# --- A round: settings, jurors, quorum -----------------------------------------------------------


@pytest.fixture
def draft(session, contest):
    make_entries(session, contest, 4)
    round_ = rounds.create_round(session, contest, "test", RoundForm(kind=YESNO, quorum=2))
    session.commit()
    return round_


def test_the_draft_page_offers_settings_jurors_and_opening(org, contest, draft):
    html = text(org.get(round_url(contest)))
    assert "No jurors yet" in html
    assert f'action="{round_url(contest, 1, "/open")}"' in html
    assert f'action="{round_url(contest, 1, "/settings")}"' in html


def test_a_draft_changes_its_settings(org, session, contest, draft):
    response = post(org, round_url(contest, 1, "/settings"), kind=RANKING, quorum="3", name="Final", rank_top="10")
    assert response.status_code == 302
    session.refresh(draft)
    assert (draft.kind, draft.quorum, draft.name, draft.rank_top) == (RANKING, 3, "Final", 10)
    assert audit_actions(session, contest)[-1] == "round.update"


def test_bad_settings_of_a_draft_are_refused_and_shown_back(org, session, contest, draft):
    response = post(org, round_url(contest, 1, "/settings"), kind=RATING, quorum="0", name="Keep me")
    assert response.status_code == 400
    assert "from 1 to 100" in text(response) and 'value="Keep me"' in text(response)
    session.refresh(draft)
    assert draft.quorum == 2


def test_jurors_are_added_by_username_before_they_ever_log_in(org, session, contest, draft):
    response = post(org, round_url(contest, 1, "/jurors"), username="user:new_juror")
    assert response.status_code == 302
    html = text(org.get(round_url(contest)))
    assert "New juror is a juror of this round." in html and "New juror" in html
    assert audit_actions(session, contest)[-1] == "round.juror_add"


@pytest.mark.parametrize("username, status, message", [
    ("", 400, "Type a username."),
    ("Bad|name", 400, "cannot be a Wikimedia username"),
    ("Alice", 400, "is a juror of this round already"),
])
def test_a_bad_juror_is_refused_and_the_name_kept(org, session, contest, draft, username, status, message):
    rounds.add_juror(session, draft, "test", "Alice")
    session.commit()
    response = post(org, round_url(contest, 1, "/jurors"), username=username)
    assert response.status_code == status and message in text(response)
    if username:
        assert f'value="{username}"' in text(response).replace("&#34;", '"')
    assert len(rounds.jurors_of(session, draft)) == 1


def test_opening_gives_every_entry_its_quorum_and_twice_is_harmless(org, session, contest, draft):
    rounds.set_jurors(session, draft, "test", JURORS)
    session.commit()

    first = post(org, round_url(contest, 1, "/open"))
    second = post(org, round_url(contest, 1, "/open"))

    assert first.status_code == second.status_code == 302
    assert "“Round 1” is open: 8 tasks were given" in text(org.get(round_url(contest)))  # the first's flash
    session.refresh(draft)
    assert draft.state == OPEN and len(tasks_of(session, draft)) == 8
    assert audit_actions(session, contest).count("round.open") == 1
    post(org, round_url(contest, 1, "/open"))
    assert "“Round 1” is open already" in text(org.get(round_url(contest)))  # named, not numbered


def test_opening_without_jurors_says_why(org, session, contest, draft):
    post(org, round_url(contest, 1, "/open"))
    assert "Add jurors before opening the round." in text(org.get(round_url(contest)))
    session.refresh(draft)
    assert draft.state == DRAFT


def test_the_round_page_shows_each_jurors_progress(org, session, contest):
    round_, entries = open_round(session, contest, entries=4)
    vote(session, round_, {entries[0].id: 1, entries[1].id: 0}, jurors=("Alice",))
    task = tasks_of(session, round_, user_id=user_id(session, "Bob"))[0]
    voting.skip(session, user_id(session, "Bob"), task.id)
    session.commit()

    html = text(org.get(round_url(contest)))

    alice = html[html.index("<td>Alice"):html.index("<td>Bob")]
    bob = html[html.index("<td>Bob"):]
    assert "2 / 4" in alice and "0 / 4" in bob
    assert re.search(r'<td class="num">1</td>', bob)  # one skipped
    assert "2 of 8 votes cast" in html


def test_removing_a_juror_in_an_open_round_moves_their_open_tasks(org, session, contest):
    round_, entries = open_round(session, contest, entries=4, jurors=("Alice", "Bob", "Carol"), quorum=2)
    carol = user_id(session, "Carol")
    voted = tasks_of(session, round_, user_id=carol)[0]
    voting.vote(session, carol, voted.id, 1)
    session.commit()

    response = post(org, round_url(contest, 1, "/jurors/remove"), username="Carol")

    assert response.status_code == 302
    assert "no longer a juror" in text(org.get(round_url(contest)))
    session.expire_all()
    mine = tasks_of(session, round_, user_id=carol)
    assert [t.id for t in mine] == [voted.id]  # the vote is kept, the open tasks went to the others
    assert "(removed; votes kept)" in text(org.get(round_url(contest)))


def test_removing_someone_who_is_no_juror_says_so(org, session, contest, draft):
    post(org, round_url(contest, 1, "/jurors/remove"), username="Nobody")
    assert "Nobody is not a juror of this round." in text(org.get(round_url(contest)))


def test_raising_the_quorum_while_open_adds_tasks(org, session, contest):
    round_, _entries = open_round(session, contest, entries=3, jurors=("Alice", "Bob", "Carol"), quorum=1)
    assert len(tasks_of(session, round_)) == 3

    response = post(org, round_url(contest, 1, "/quorum"), quorum="2")

    assert response.status_code == 302
    session.expire_all()
    assert len(tasks_of(session, round_)) == 6
    assert audit_actions(session, contest)[-1] == "round.quorum"


@pytest.mark.parametrize("quorum, message", [("0", "from 1 to 100"), ("x", "whole number"),
                                             ("3", "cannot get 3 distinct jurors")])
def test_a_bad_quorum_is_refused(org, session, contest, quorum, message):
    round_, _entries = open_round(session, contest, entries=2)
    response = post(org, round_url(contest, 1, "/quorum"), quorum=quorum)
    assert response.status_code == 400 and message in text(response)
    session.refresh(round_)
    assert round_.quorum == 2 and len(tasks_of(session, round_)) == 4


# --- Closing -----------------------------------------------------------------------------------------


def test_closing_with_unvoted_tasks_warns_and_needs_the_confirmation(org, session, contest):
    round_, entries = open_round(session, contest, entries=3)
    vote(session, round_, {e.id: 1 for e in entries}, jurors=("Alice",))

    warning = org.get(round_url(contest, 1, "/close"))
    unconfirmed = post(org, round_url(contest, 1, "/close"))

    html = text(warning)
    assert warning.status_code == 200
    assert "3 tasks have no vote yet." in html and "<td>Bob</td>" in html
    assert "3 entries have fewer votes than the quorum." in html
    assert 'name="confirm" value="3"' in html
    assert unconfirmed.status_code == 409 and "3 tasks have no vote yet." in text(unconfirmed)
    session.refresh(round_)
    assert round_.state == OPEN

    closed = post(org, round_url(contest, 1, "/close"), confirm="3")
    again = post(org, round_url(contest, 1, "/close"), confirm="3")

    assert closed.status_code == again.status_code == 302
    assert closed.headers["Location"] == round_url(contest, 1, "/results")
    session.refresh(round_)
    assert round_.state == CLOSED
    assert audit_actions(session, contest).count("round.close") == 1
    assert "is closed already" in text(org.get(round_url(contest)))


def test_a_confirmation_of_fewer_unvoted_tasks_than_now_is_asked_again(org, session, contest):
    """The organizer saw every task voted; a juror added since has open tasks: ask again."""
    round_, entries = open_round(session, contest, entries=2)
    vote(session, round_, {e.id: 1 for e in entries})
    assert "Every task has a vote." in text(org.get(round_url(contest, 1, "/close")))
    rounds.change_quorum(session, round_, "test", 2)  # no change in tasks: still all voted
    rounds.add_juror(session, round_, "test", "Carol")
    rounds.change_quorum(session, round_, "test", 3)  # Carol gets open tasks now
    session.commit()

    response = post(org, round_url(contest, 1, "/close"), confirm="0")

    assert response.status_code == 409 and "2 tasks have no vote yet." in text(response)
    session.refresh(round_)
    assert round_.state == OPEN


def test_a_round_with_every_vote_closes_without_a_warning(org, session, contest):
    round_, entries = open_round(session, contest, entries=2)
    vote(session, round_, {e.id: 1 for e in entries})
    assert "Every task has a vote." in text(org.get(round_url(contest, 1, "/close")))
    assert post(org, round_url(contest, 1, "/close"), confirm="0").status_code == 302
    session.refresh(round_)
    assert round_.state == CLOSED


def test_a_draft_cannot_be_closed(org, session, contest, draft):
    page = org.get(round_url(contest, 1, "/close"))
    response = post(org, round_url(contest, 1, "/close"), confirm="0")
    assert page.status_code == response.status_code == 302
    assert "only an open round can be closed" in text(org.get(round_url(contest)))
    session.refresh(draft)
    assert draft.state == DRAFT


# --- Results ----------------------------------------------------------------------------------------


def test_results_rank_the_entries_show_ties_the_votes_and_the_rule(org, session, contest):
    round_, entries = judged_round(session, contest, [0, 1, 1, 0], uploader="Фотограф")

    html = text(org.get(round_url(contest, 1, "/results")))

    assert "Score: the share of the entry" in html
    assert "broken by: more votes first, then the earlier upload" in html  # the tie-break rule, stated
    places = re.findall(r'<td class="num place">([^<]+)', html)
    assert places == ["1–2", "1–2", "3–4", "3–4"]
    titles = re.findall(r'<span class="result-title">([^<]+)', html)
    # Within a tie, the earlier upload first (the documented rule).
    assert titles == [entries[1].title, entries[2].title, entries[0].title, entries[3].title]
    assert "2 yes, 0 no" in html and "0 yes, 2 no" in html
    assert "by Фотограф" in html  # organizers see the authors
    assert f"/media/{entries[1].thumb_key}/grid.webp" in html


def test_results_of_rating_and_ranking_rounds_show_their_votes(org, session, contest):
    judged_round(session, contest, [5, 3], kind=RATING)
    assert "5★ ×2" in text(org.get(round_url(contest, 1, "/results")))

    other = make_contest(session, "wle-ranking")
    add_organizer(session, other, "Our Organizer", actor="test")
    round_, entries = open_round(session, other, entries=3, kind=RANKING, jurors=("Alice",), quorum=1)
    alice = user_id(session, "Alice")
    ballot = sorted(tasks_of(session, round_, user_id=alice), key=lambda t: -t.entry_id)
    voting.save_ranking(session, alice, round_.id, [t.id for t in ballot])
    session.commit()

    html = text(org.get(f"/contests/{other.slug}/rounds/1/results"))

    assert "Borda count" in html and "places: 1" in html
    assert "not closed: these results are provisional" in html


def test_results_are_paged(org, session, contest, monkeypatch):
    monkeypatch.setattr("wle.web.rounds.RESULTS_PAGE", 2)
    judged_round(session, contest, [1, 0, 1])
    first = text(org.get(round_url(contest, 1, "/results")))
    second = text(org.get(round_url(contest, 1, "/results?page=2")))
    beyond = org.get(round_url(contest, 1, "/results?page=99"))
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert len(re.findall(r'class="num place"', second)) == 1
    assert beyond.status_code == 200 and "Page 2 of 2" in text(beyond)


def test_results_as_csv_open_in_spreadsheets_and_the_last_round_leads_to_the_winners(org, session, contest):
    _round, entries = judged_round(session, contest, [0, 1, 1, 0], uploader="=Фотограф")

    html = text(org.get(round_url(contest, 1, "/results")))
    response = org.get(round_url(contest, 1, "/results.csv"))

    assert f'href="/contests/{contest.slug}/winners"' in html.split("How the entries are ranked")[0]
    assert "the winners are chosen from its results" in html
    assert f'href="/contests/{contest.slug}/rounds/1/results.csv"' in html
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # a byte order mark: spreadsheets read Cyrillic right
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines[0] == ["position", "place", "title", "author", "score", "votes", "chosen", "votes_behind",
                        "commons_url"]
    assert lines[1] == ["1", "1–2", entries[1].title, "'=Фотограф", "1.0", "2", "2", "yes=2; no=0",
                        entries[1].page_url]
    assert [line[0] for line in lines[1:]] == ["1", "2", "3", "4"]


def test_only_the_last_closed_round_leads_to_the_winners(org, session, contest):
    judged_round(session, contest, [1, 0], close=False)
    assert "the winners are chosen from its results" not in text(org.get(round_url(contest, 1, "/results")))


# --- Who may, and what is not there ---------------------------------------------------------------


def test_another_contests_organizer_is_refused_everywhere(app, session, contest):
    open_round(session, contest)
    theirs = make_contest(session, "wle-theirs")
    add_organizer(session, theirs, "Their Organizer", actor="test")
    session.commit()
    stranger = log_in(app.test_client(), session.scalar(select(User).where(User.username == "Their Organizer")))
    for url in (f"/contests/{contest.slug}/rounds", round_url(contest), round_url(contest, 1, "/results"),
                round_url(contest, 1, "/close"), f"/contests/{contest.slug}/rounds/new"):
        assert stranger.get(url).status_code == 403, url
    for url in (round_url(contest, 1, "/close"), round_url(contest, 1, "/jurors")):
        assert post(stranger, url, confirm="99", username="Mallory").status_code == 403
    assert session.scalar(select(Round.state)) == OPEN
    assert not session.scalar(select(func.count()).select_from(RoundJuror).join(User)
                              .where(User.username == "Mallory"))


def test_a_round_number_the_contest_does_not_have_is_404(org, session, contest):
    other = make_contest(session, "wle-other")
    open_round(session, other)  # round 1 of another contest: not reachable under ours
    for url in (round_url(contest), round_url(contest, 1, "/results"), round_url(contest, 7, "/close")):
        response = org.get(url)
        assert response.status_code == 404 and "This contest has no round" in text(response), url
    assert post(org, round_url(contest, 1, "/open")).status_code == 404
