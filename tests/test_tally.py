"""Tallying: scores, shared places, the tie-break rule, Borda with top-N ballots, previews; in SQL too."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import insert

from wle import rounds, tally, voting
from wle.models.jury import RANKING, RATING, UNRANKED, YESNO, Task
from wle.tally import (CHOSEN_BY, MIN_AVERAGE, TOP, EntryTally, SelectionRule, borda_points_doubled, preview, rank,
                       select_entries, tally_ranking)

from tests.factories import make_contest, utc
from tests.test_rounds import add_entries, open_first_round, organizer, tasks_of, user_id


def entry(entry_id, numerator, votes, upload_order=None, chosen=0):
    return EntryTally(entry_id=entry_id, votes=votes, numerator=numerator, denominator=votes or 1, chosen=chosen,
                      upload_order=entry_id if upload_order is None else upload_order)


# -- places and ties ------------------------------------------------------------------------------

def test_equal_scores_share_a_place_shown_as_a_range():
    standings = rank([entry(1, 9, 2), entry(2, 8, 2), entry(3, 8, 2), entry(4, 12, 3), entry(5, 3, 1), entry(6, 0, 0)])
    assert [(s.entry_id, s.place) for s in standings] == [(1, "1"), (4, "2–4"), (2, "2–4"), (3, "2–4"), (5, "5"), (6, "6")]
    assert [s.position for s in standings] == [1, 2, 3, 4, 5, 6]
    assert standings[-1].score is None


def test_the_tie_break_is_more_votes_then_upload_order():
    tied = [entry(1, 8, 2, upload_order=5), entry(2, 12, 3, upload_order=9), entry(3, 8, 2, upload_order=1),
            entry(4, 8, 2, upload_order=0)]
    assert [s.entry_id for s in rank(tied)] == [2, 4, 3, 1]
    assert {s.place for s in rank(tied)} == {"1–4"}
    assert "more votes first, then the earlier upload, then the lower Commons page id" in str(tally.TIE_BREAK_RULE)


def test_entries_without_votes_share_the_last_place():
    standings = rank([entry(1, 0, 0), entry(2, 5, 1), entry(3, 0, 0)])
    assert [(s.entry_id, s.place) for s in standings] == [(2, "1"), (1, "2–3"), (3, "2–3")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5), st.integers(0, 3)), max_size=40))
def test_places_are_consistent_for_any_scores(rows):
    tallies = [entry(i, votes and numerator * votes % (5 * votes + 1), votes, upload_order=order)
               for i, (numerator, votes, order) in enumerate(rows)]
    standings = rank(tallies)
    assert sorted(s.position for s in standings) == list(range(1, len(rows) + 1))
    assert [s.position for s in standings] == list(range(1, len(rows) + 1))
    exact = {t.entry_id: (Fraction(t.numerator, t.denominator) if t.votes else None) for t in tallies}
    for a, b in zip(standings, standings[1:]):
        if exact[a.entry_id] is None:
            assert exact[b.entry_id] is None
        elif exact[b.entry_id] is not None:
            assert exact[a.entry_id] >= exact[b.entry_id]
        tied = exact[a.entry_id] == exact[b.entry_id]
        assert tied == (a.place_first == b.place_first)
        if tied:
            assert (a.votes, -a.position) >= (b.votes, -b.position)
    for s in standings:
        group = [o for o in standings if exact[o.entry_id] == exact[s.entry_id]]
        assert s.place_first <= s.position <= s.place_last
        assert s.place_last - s.place_first + 1 == len(group)


# -- Borda ------------------------------------------------------------------------------------------

def test_borda_on_full_and_top_n_ballots():
    # Ballot of 4, all placed: 3, 2, 1, 0 points. Ballot of 4 with top 1 placed: 3, then (4-1-1)/2 = 1 each.
    assert [borda_points_doubled(p, 4, 4) for p in (1, 2, 3, 4)] == [6, 4, 2, 0]
    assert [borda_points_doubled(p, 4, 1) for p in (1, UNRANKED)] == [6, 2]
    with pytest.raises(ValueError):
        borda_points_doubled(3, 4, 2)
    entries = [1, 2, 3, 4]
    ballots = [(10, 1, 1), (10, 2, 2), (10, 3, 3), (10, 4, 4),            # juror 10 ranks all
               (11, 3, 1), (11, 1, UNRANKED), (11, 2, UNRANKED), (11, 4, UNRANKED)]  # juror 11: only entry 3
    tallies = {t.entry_id: t for t in tally_ranking(ballots, entries)}
    assert {e: t.score for e, t in tallies.items()} == {1: 2.0, 2: 1.5, 3: 2.0, 4: 0.5}
    assert tallies[3].behind == {"places": [1, 3]} and tallies[1].behind == {"places": [1, None]}
    assert [s.place for s in rank(tallies.values())] == ["1–2", "1–2", "3", "4"]
    # Chosen: top half of a full ballot (places 1–2), or placed on a top-N ballot.
    assert {e: t.chosen for e, t in tallies.items()} == {1: 1, 2: 1, 3: 1, 4: 0}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 12), st.integers(0, 12)), min_size=1, max_size=6))
def test_every_ballot_hands_out_the_same_points_however_much_it_places(ballots):
    """A ballot of m entries gives m(m-1)/2 points in all, placed fully or partly: being left
    out is averaged, never lost or made up."""
    lines, entries = [], []
    for juror, (size, placed) in enumerate(ballots):
        placed = min(placed, size)
        for position in range(size):
            entry_id = juror * 100 + position
            entries.append(entry_id)
            lines.append((juror, entry_id, position + 1 if position < placed else UNRANKED))
    tallies = tally_ranking(lines, entries)
    for juror, (size, _) in enumerate(ballots):
        points = sum(Fraction(t.numerator, t.denominator) for t in tallies if t.entry_id // 100 == juror)
        assert points == Fraction(size * (size - 1), 2)


# -- selection and its preview -------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 4), st.integers(0, 4)), max_size=30))
def test_the_preview_counts_exactly_what_each_rule_keeps(rows):
    tallies = [entry(i, min(numerator, 5 * votes), votes, chosen=min(chosen, votes))
               for i, (numerator, votes, chosen) in enumerate(rows)]
    standings = rank(tallies)
    view = preview(standings)
    for score, kept in view.min_average:
        assert len(select_entries(standings, SelectionRule(MIN_AVERAGE, score))) == kept
        assert view.kept(SelectionRule(MIN_AVERAGE, score - 1e-9)) >= kept
    assert view.kept(SelectionRule(MIN_AVERAGE, 99)) == 0
    for k, kept in view.chosen_by:
        assert len(select_entries(standings, SelectionRule(CHOSEN_BY, k))) == kept
    for n in range(1, len(rows) + 2):
        kept = select_entries(standings, SelectionRule(TOP, n))
        assert len(kept) == view.kept(SelectionRule(TOP, n)) >= min(n, view.scored)
        assert kept == [s.entry_id for s in standings[:len(kept)]]


@pytest.mark.parametrize("rule, value", [("best", 1), (TOP, 0), (TOP, 2.5), (CHOSEN_BY, -1)])
def test_bad_selection_rules_are_refused(rule, value):
    with pytest.raises(ValueError):
        SelectionRule(rule, value)


# -- from the database ------------------------------------------------------------------------------

def test_rating_and_yes_no_are_tallied_in_sql_with_the_votes_behind(session):
    contest = make_contest(session)
    entries = add_entries(session, contest, 3)
    round_ = open_first_round(session, contest, kind=RATING, quorum=3)
    stars = {"Alice": [5, 4, 1], "Bob": [5, 2, 1], "Carol": [3, 2, None]}
    for name, values in stars.items():
        uid = user_id(session, name)
        for e, value in zip(entries, values):
            if value is not None:
                task = tasks_of(session, round_, user_id=uid, entry_id=e.id)[0]
                voting.vote(session, uid, task.id, value)
    standings = tally.results(session, round_)
    assert [(s.entry_id, s.score, s.votes) for s in standings] == [
        (entries[0].id, 13 / 3, 3), (entries[1].id, 8 / 3, 3), (entries[2].id, 1.0, 2)]
    assert standings[0].behind == {"1": 0, "2": 0, "3": 1, "4": 0, "5": 2}
    assert standings[0].chosen == 2 and standings[2].chosen == 0


def test_yes_no_is_the_share_of_yes(session):
    other = make_contest(session, slug="wle-2025-ua")
    more = add_entries(session, other, 2, start=100)
    round2 = open_first_round(session, other, kind=YESNO, quorum=2, jurors=("Alice", "Bob"))
    for name in ("Alice", "Bob"):
        uid = user_id(session, name)
        for task in tasks_of(session, round2, user_id=uid):
            voting.vote(session, uid, task.id, 1 if task.entry_id == more[1].id else 0)
    standings = tally.results(session, round2)
    assert [(s.entry_id, s.score, s.behind) for s in standings] == [
        (more[1].id, 1.0, {"yes": 2, "no": 0}), (more[0].id, 0.0, {"yes": 0, "no": 2})]


def test_a_ranking_round_is_tallied_by_borda(session):
    contest = make_contest(session)
    entries = add_entries(session, contest, 3)
    round_ = open_first_round(session, contest, kind=RANKING, quorum=2, jurors=("Alice", "Bob"))
    by_entry = {e.id: e for e in entries}
    for name, order in (("Alice", [0, 1, 2]), ("Bob", [1, 0, 2])):
        uid = user_id(session, name)
        mine = {t.entry_id: t.id for t in voting.ranking_tasks(session, uid, round_.id)}
        voting.save_ranking(session, uid, round_.id, [mine[entries[i].id] for i in order])
    standings = tally.results(session, round_)
    # Entries 0 and 1 both get 2 + 1 points: tied at 1.5, entry 0 first (the earlier upload); entry 2 last.
    assert [(by_entry[s.entry_id].pageid, s.place, s.score) for s in standings] == [
        (entries[0].pageid, "1–2", 1.5), (entries[1].pageid, "1–2", 1.5), (entries[2].pageid, "3", 0.0)]


def test_upload_order_is_the_earlier_upload_then_the_lower_page_id(session):
    contest = make_contest(session)
    entries = add_entries(session, contest, 3)
    entries[2].uploaded_at = entries[0].uploaded_at - timedelta(days=1)
    entries[1].uploaded_at, entries[1].pageid = entries[2].uploaded_at, 1
    round_ = open_first_round(session, contest, kind=YESNO, quorum=1)
    assert [s.entry_id for s in tally.results(session, round_)] == [entries[1].id, entries[2].id, entries[0].id]
    assert all(s.place == "1–3" and s.score is None for s in tally.results(session, round_))


def test_a_big_round_is_tallied_in_sql_with_every_vote(session):
    """Correctness at size; the speed at 100,000 entries × 1,000,000 votes is measured in bench/jury.py."""
    contest = make_contest(session)
    entries = add_entries(session, contest, 2_000)
    round_ = rounds.create_round(session, contest, organizer(session), rounds.RoundForm(kind=RATING, quorum=10))
    jurors = [rounds.user_by_name(session, f"Juror {j}").id for j in range(10)]
    rows = [{"round_id": round_.id, "user_id": u, "entry_id": e.id, "value": 1 + (e.id * 7 + u) % 5,
             "order_key": 0, "skipped_seq": 0, "created_at": utc(2025, 7, 1)} for e in entries for u in jurors]
    session.execute(insert(Task), rows)
    standings = tally.results(session, round_)
    assert len(standings) == 2_000 and sum(s.votes for s in standings) == 20_000
    scores = [s.score for s in standings]
    assert scores == sorted(scores, reverse=True)
