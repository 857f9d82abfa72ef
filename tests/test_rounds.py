"""Rounds in the database: creating, staffing, opening, rebalancing while open, closing, advancing.

The helpers at the top (no `test_` prefix) are shared with the other jury tests.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from wle import rounds, voting
from wle.models import AuditLog, Entry, User
from wle.models.jury import CLOSED, DRAFT, OPEN, RANKING, RATING, YESNO, Round, RoundEntry, Task
from wle.rounds import CloseNeedsConfirmation, RoundError, RoundForm
from wle.tally import CHOSEN_BY, MIN_AVERAGE, TOP, SelectionRule

from tests.factories import make_contest, utc

JURORS = ("Alice", "Bob", "Carol")


def add_entries(session, contest, count, uploader=lambda i: f"Photographer {i % 7}", start=1):
    """`count` entries inserted directly, uploaded one minute apart."""
    entries = []
    for i in range(start, start + count):
        moment = utc(2025, 6, 20, 10, 0) + timedelta(minutes=i)
        entries.append(Entry(
            contest_id=contest.id, pageid=1000 + i, title=f"File:Шарын {i}.jpg", uploader=uploader(i),
            uploaded_at=moment, reuploaded=False, last_uploaded_at=moment, width=4000, height=3000,
            size=2_000_000, mime="image/jpeg", sha1=f"{i:040x}", description=f"Canyon number {i}",
            file_url=f"https://upload.example/{i}.jpg", page_url=f"https://commons.example/wiki/File:Шарын_{i}.jpg",
            thumb_key=secrets.token_hex(16), thumb_state="done", categories=[],
            license="CC BY-SA 4.0", credit="Own work",  # eligible under the default rules
        ))
    session.add_all(entries)
    session.flush()
    return entries


def organizer(session):
    return rounds.user_by_name(session, "Organizer")


def open_first_round(session, contest, kind=RATING, quorum=2, jurors=JURORS, rank_top=None):
    actor = organizer(session)
    round_ = rounds.create_round(session, contest, actor, RoundForm(kind=kind, quorum=quorum, rank_top=rank_top))
    rounds.set_jurors(session, round_, actor, jurors)
    rounds.open_round(session, round_, actor)
    return round_


def user_id(session, name):
    return session.scalar(select(User.id).where(User.username == name))


def tasks_of(session, round_, **where):
    query = select(Task).where(Task.round_id == round_.id)
    for key, value in where.items():
        query = query.where(getattr(Task, key) == value)
    return list(session.scalars(query))


def vote_all(session, round_, name, value=lambda task: 3):
    uid = user_id(session, name)
    for task in tasks_of(session, round_, user_id=uid):
        voting.vote(session, uid, task.id, value(task))


def audit_actions(session, contest):
    return [a for (a,) in session.execute(select(AuditLog.action).where(AuditLog.contest_id == contest.id)
                                          .order_by(AuditLog.id))]


def check_round_rules(session, round_):
    """Quorum per entry, no own uploads among open tasks, loads of active jurors within one."""
    entries = session.execute(select(RoundEntry.entry_id, Entry.uploader).join(Entry)
                              .where(RoundEntry.round_id == round_.id)).all()
    active = {rj.user_id: rj.user.username for rj in rounds.jurors_of(session, round_)}
    tasks = tasks_of(session, round_)
    for entry_id, uploader in entries:
        mine = [t for t in tasks if t.entry_id == entry_id]
        assert len({t.user_id for t in mine}) == len(mine) == max(round_.quorum, sum(t.done for t in mine))
        assert all(active.get(t.user_id) != uploader for t in mine if not t.done)
    return tasks


# -- creating -------------------------------------------------------------------------------------

def test_first_round_takes_the_eligible_entries(session):
    contest = make_contest(session)
    entries = add_entries(session, contest, 6)
    entries[0].gone_at = utc(2025, 7, 1)
    entries[5].license = None  # fails the licence rule: checked when the round is created
    round_ = rounds.create_round(session, contest, organizer(session), RoundForm(kind=YESNO, quorum=1))
    assert round_.number == 1 and round_.state == DRAFT and round_.name == "Round 1"
    assert round_.selection == {"source": "eligible", "kept": 4}
    taken = set(session.scalars(select(RoundEntry.entry_id).where(RoundEntry.round_id == round_.id)))
    assert taken == {e.id for e in entries[1:5]}
    assert audit_actions(session, contest) == ["round.create"]


@pytest.mark.parametrize("form, message", [
    (RoundForm(kind="stars", quorum=1), "kind"),
    (RoundForm(kind=RATING, quorum=0), "quorum"),
    (RoundForm(kind=RATING, quorum=2, rank_top=5), "Only ranking"),
    (RoundForm(kind=RANKING, quorum=2, rank_top=0), "top N"),
    (RoundForm(kind=RATING, quorum=1, name="x" * 300), "name"),
])
def test_bad_round_settings_are_refused(session, form, message):
    contest = make_contest(session)
    add_entries(session, contest, 2)
    with pytest.raises(RoundError, match=message):
        rounds.create_round(session, contest, organizer(session), form)


def test_a_round_with_no_entries_is_refused(session):
    contest = make_contest(session)
    with pytest.raises(RoundError, match="no entries"):
        rounds.create_round(session, contest, organizer(session), RoundForm(kind=YESNO, quorum=1))


def test_next_round_needs_the_previous_closed_and_a_rule(session):
    contest = make_contest(session)
    add_entries(session, contest, 4)
    first = open_first_round(session, contest, kind=YESNO, quorum=1)
    actor = organizer(session)
    with pytest.raises(RoundError, match="close it"):
        rounds.create_round(session, contest, actor, RoundForm(kind=RATING, quorum=1), SelectionRule(TOP, 2))
    rounds.close_round(session, first, actor, confirm=True)
    with pytest.raises(RoundError, match="Choose which entries"):
        rounds.create_round(session, contest, actor, RoundForm(kind=RATING, quorum=1))


def test_jurors_are_added_by_username_before_they_ever_log_in(session):
    contest = make_contest(session)
    add_entries(session, contest, 3)
    actor = organizer(session)
    round_ = rounds.create_round(session, contest, actor, RoundForm(kind=RATING, quorum=1))
    rounds.set_jurors(session, round_, actor, ["user:alice_smith", "Bob", "  bob "])
    names = [rj.user.username for rj in rounds.jurors_of(session, round_)]
    assert names == ["Alice smith", "Bob"]
    assert session.scalar(select(User).where(User.username == "Alice smith")).wiki_sub is None
    with pytest.raises(RoundError, match="cannot be a Wikimedia username"):
        rounds.add_juror(session, round_, actor, "Bad|Name")
    with pytest.raises(RoundError, match="already"):
        rounds.add_juror(session, round_, actor, "bob")
    rounds.set_jurors(session, round_, actor, ["Bob"])
    assert [rj.user.username for rj in rounds.jurors_of(session, round_)] == ["Bob"]


# -- opening --------------------------------------------------------------------------------------

def test_opening_creates_every_task_and_never_a_jurors_own_upload(session):
    contest = make_contest(session)
    add_entries(session, contest, 30, uploader=lambda i: "Alice" if i % 3 == 0 else f"Photographer {i}")
    round_ = open_first_round(session, contest, quorum=2)
    assert round_.state == OPEN and round_.opened_at is not None
    tasks = check_round_rules(session, round_)
    assert len(tasks) == 60
    alice = user_id(session, "Alice")
    own = {e.id for e in session.scalars(select(Entry).where(Entry.uploader == "Alice"))}
    assert own and not any(t.entry_id in own for t in tasks if t.user_id == alice)
    loads = [n for (n,) in session.execute(select(func.count()).where(Task.round_id == round_.id).group_by(Task.user_id))]
    assert sorted(loads) == [20, 20, 20]
    assert audit_actions(session, contest)[-1] == "round.open"


def test_opening_explains_what_blocks_it(session):
    contest = make_contest(session)
    add_entries(session, contest, 3, uploader=lambda i: "Alice" if i == 2 else "Someone")
    actor = organizer(session)
    round_ = rounds.create_round(session, contest, actor, RoundForm(kind=RATING, quorum=3))
    with pytest.raises(RoundError, match="Add jurors"):
        rounds.open_round(session, round_, actor)
    rounds.set_jurors(session, round_, actor, ["Alice", "Bob"])
    with pytest.raises(RoundError, match="quorum is 3 .* 2 jurors"):
        rounds.open_round(session, round_, actor)
    rounds.add_juror(session, round_, actor, "Carol")
    with pytest.raises(RoundError, match=r"Шарын 2\.jpg: 2"):
        rounds.open_round(session, round_, actor)
    assert round_.state == DRAFT and not tasks_of(session, round_)


def test_an_error_leaves_nothing_behind(session, settings):
    from wle.db import session_factory

    contest = make_contest(session)
    add_entries(session, contest, 3)
    session.commit()
    round_ = rounds.create_round(session, contest, organizer(session), RoundForm(kind=RATING, quorum=1))
    session.rollback()  # the caller's transaction failed: the round and its audit line go together
    with session_factory(settings.database_url)() as other:
        assert other.scalar(select(func.count()).select_from(Round)) == 0
        assert other.scalar(select(func.count()).select_from(AuditLog)) == 0
    assert round_ not in session


# -- while open -----------------------------------------------------------------------------------

def test_adding_a_juror_while_open_gives_them_open_tasks_and_keeps_votes(session):
    contest = make_contest(session)
    add_entries(session, contest, 24)
    round_ = open_first_round(session, contest, quorum=1)
    vote_all(session, round_, "Alice")
    alice_votes = {(t.entry_id, t.value) for t in tasks_of(session, round_, user_id=user_id(session, "Alice"))}
    rounds.add_juror(session, round_, organizer(session), "Dave")
    check_round_rules(session, round_)
    assert {(t.entry_id, t.value) for t in tasks_of(session, round_, user_id=user_id(session, "Alice"))} == alice_votes
    progress = {p.username: (p.done, p.total) for p in rounds.jurors_progress(session, round_)}
    # Alice's 8 votes stay; the 16 open tasks are shared among Bob, Carol and Dave: 6, 5, 5.
    assert progress["Alice"] == (8, 8)
    assert sorted(progress[n][1] for n in ("Bob", "Carol", "Dave")) == [5, 5, 6]
    line = session.scalar(select(AuditLog).where(AuditLog.action == "round.juror_add"))
    assert line.details["juror"] == "Dave" and line.details["tasks_created"] == 5


def test_removing_a_juror_while_open_moves_their_open_tasks(session):
    contest = make_contest(session)
    add_entries(session, contest, 12)
    round_ = open_first_round(session, contest, quorum=2)
    carol = user_id(session, "Carol")
    first = tasks_of(session, round_, user_id=carol)[0]
    voting.vote(session, carol, first.id, 5)
    rounds.remove_juror(session, round_, organizer(session), "carol")
    tasks = check_round_rules(session, round_)
    assert [t.id for t in tasks if t.user_id == carol] == [first.id]  # the vote stays and counts
    with pytest.raises(voting.NotYourTask):
        voting.vote(session, carol, first.id, 4)  # but she can no longer change it
    with pytest.raises(RoundError, match="not a juror"):
        rounds.remove_juror(session, round_, organizer(session), "Carol")
    progress = rounds.jurors_progress(session, round_)
    assert [(p.username, p.active) for p in progress if p.username == "Carol"] == [("Carol", False)]


def test_raising_the_quorum_while_open_adds_tasks(session):
    contest = make_contest(session)
    add_entries(session, contest, 9)
    round_ = open_first_round(session, contest, quorum=1)
    vote_all(session, round_, "Bob")
    rounds.change_quorum(session, round_, organizer(session), 2)
    tasks = check_round_rules(session, round_)
    assert len(tasks) == 18
    with pytest.raises(RoundError, match="cannot get 4 distinct jurors"):
        rounds.change_quorum(session, round_, organizer(session), 4)


def test_a_vote_cast_during_a_rebalance_is_never_lost(session, monkeypatch):
    contest = make_contest(session)
    add_entries(session, contest, 6)
    round_ = open_first_round(session, contest, quorum=1)
    real = rounds.rebalance

    def vote_meanwhile(*args, **kwargs):
        moves = real(*args, **kwargs)
        juror, entry = sorted(moves.delete)[0]
        task = session.scalar(select(Task).where(Task.user_id == juror, Task.entry_id == entry))
        session.execute(Task.__table__.update().where(Task.__table__.c.id == task.id).values(value=4))
        return moves

    monkeypatch.setattr(rounds, "rebalance", vote_meanwhile)
    with pytest.raises(RoundError, match="voted while the tasks were being moved"):
        rounds.add_juror(session, round_, organizer(session), "Dave")


# -- closing --------------------------------------------------------------------------------------

def test_closing_early_needs_confirmation_and_says_what_is_left(session):
    contest = make_contest(session)
    add_entries(session, contest, 6)
    round_ = open_first_round(session, contest, quorum=2)
    vote_all(session, round_, "Alice")
    actor = organizer(session)
    with pytest.raises(CloseNeedsConfirmation) as refused:
        rounds.close_round(session, round_, actor)
    summary = refused.value.summary
    assert summary.open_tasks == 8 and sorted(n for n, _ in summary.jurors_behind) == ["Bob", "Carol"]
    assert summary.entries_below_quorum == 6 and summary.entries_without_votes == 2
    assert round_.state == OPEN
    rounds.close_round(session, round_, actor, confirm=True)
    assert round_.state == CLOSED and round_.closed_at is not None
    with pytest.raises(voting.RoundNotOpen):
        alice = user_id(session, "Alice")
        voting.vote(session, alice, tasks_of(session, round_, user_id=alice)[0].id, 2)
    with pytest.raises(RoundError, match="closed"):
        rounds.add_juror(session, round_, actor, "Dave")
    assert audit_actions(session, contest)[-1] == "round.close"


def test_a_fully_voted_round_closes_without_confirmation(session):
    contest = make_contest(session)
    add_entries(session, contest, 3)
    round_ = open_first_round(session, contest, quorum=1)
    for name in JURORS:
        vote_all(session, round_, name)
    assert all(p.finished for p in rounds.jurors_progress(session, round_))
    assert rounds.close_round(session, round_, organizer(session)).open_tasks == 0


# -- advancing ------------------------------------------------------------------------------------

def rated_round(session, contest, count=10):
    """A closed rating round where entry i (1-based) got (i % 5) + 1 stars from each of 2 jurors."""
    entries = add_entries(session, contest, count)
    round_ = open_first_round(session, contest, quorum=2)
    stars = {e.id: (i % 5) + 1 for i, e in enumerate(entries, start=1)}
    for name in JURORS:
        vote_all(session, round_, name, value=lambda task: stars[task.entry_id])
    rounds.close_round(session, round_, organizer(session))
    return round_, entries, stars


@pytest.mark.parametrize("rule", [SelectionRule(MIN_AVERAGE, 4), SelectionRule(TOP, 3), SelectionRule(CHOSEN_BY, 2)])
def test_advancing_keeps_what_the_preview_promised(session, rule):
    contest = make_contest(session)
    first, entries, stars = rated_round(session, contest)
    promised = rounds.preview_selection(session, first).kept(rule)
    second = rounds.create_round(session, contest, organizer(session), RoundForm(kind=RANKING, quorum=3), rule)
    kept = set(session.scalars(select(RoundEntry.entry_id).where(RoundEntry.round_id == second.id)))
    assert len(kept) == promised == second.selection["kept"]
    # Stars 4 and 5 (entries 3, 4, 8, 9) meet each rule here: top 3 keeps the tie at place 3–4.
    assert kept == {e.id for e in entries if stars[e.id] >= 4}
    assert second.selection["round"] == 1 and second.selection["rule"] == rule.rule
    sources = set(session.scalars(select(RoundEntry.source_round_id).where(RoundEntry.round_id == second.id)))
    assert sources == {first.id}


def test_an_entry_gone_since_is_not_carried_on(session):
    contest = make_contest(session)
    first, entries, stars = rated_round(session, contest)
    best = [e for e in entries if stars[e.id] == 5]
    best[0].gone_at = utc(2025, 8, 1)
    second = rounds.create_round(session, contest, organizer(session), RoundForm(kind=RATING, quorum=1),
                                 SelectionRule(MIN_AVERAGE, 5))
    assert second.selection["kept"] == len(best) - 1


def test_a_rule_that_keeps_nothing_is_refused(session):
    contest = make_contest(session)
    rated_round(session, contest)
    with pytest.raises(RoundError, match="keeps no entries"):
        rounds.create_round(session, contest, organizer(session), RoundForm(kind=RATING, quorum=1),
                            SelectionRule(MIN_AVERAGE, 5.5))


def test_four_rounds_including_advancing_from_a_ranking_round(session):
    contest = make_contest(session)
    first, entries, stars = rated_round(session, contest, count=20)
    actor = organizer(session)
    second = rounds.create_round(session, contest, actor, RoundForm(kind=RANKING, quorum=3, rank_top=3),
                                 SelectionRule(MIN_AVERAGE, 4))
    rounds.set_jurors(session, second, actor, JURORS)
    rounds.open_round(session, second, actor)
    for name in JURORS:
        uid = user_id(session, name)
        order = [t.id for t in voting.ranking_tasks(session, uid, second.id)][:3]
        voting.save_ranking(session, uid, second.id, order)
    rounds.close_round(session, second, actor)
    preview = rounds.preview_selection(session, second)
    third = rounds.create_round(session, contest, actor, RoundForm(kind=YESNO, quorum=1), SelectionRule(CHOSEN_BY, 1))
    assert third.selection["kept"] == preview.kept(SelectionRule(CHOSEN_BY, 1)) > 0
    rounds.set_jurors(session, third, actor, ["Dave"])
    rounds.open_round(session, third, actor)
    vote_all(session, third, "Dave", value=lambda task: 1)
    rounds.close_round(session, third, actor)
    fourth = rounds.create_round(session, contest, actor, RoundForm(kind=RATING, quorum=1), SelectionRule(TOP, 1))
    assert fourth.number == 4 and [r.number for r in rounds.rounds_of(session, contest)] == [1, 2, 3, 4]
