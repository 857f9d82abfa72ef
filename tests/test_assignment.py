"""Assignment and rebalancing: the rules of wle.assignment, proved over random rounds.

Small rounds are checked against an exhaustive search of every valid placement (the fairest
sum of squared loads, and whether loads within one are possible at all); larger ones against
the rules directly, through random partial voting and random added, removed jurors and raised
quorums.
"""

from __future__ import annotations

import random
from itertools import combinations

import pytest
from hypothesis import assume, given, settings, strategies as st

from wle.assignment import AssignmentError, Moves, assign, loads_of, rebalance


# -- checks ---------------------------------------------------------------------------------------

def holders(tasks, entry):
    return {j for j, e in tasks if e == entry}


def check_rules(entries, jurors, quorum, done, open_):
    """Rules 1 and 2, and fairness (b) for direct moves."""
    assert not done & open_, "a task is both finished and open"
    tasks = done | open_
    for entry in entries:
        finished = len(holders(done, entry))
        assert len(holders(tasks, entry)) == max(quorum, finished), f"entry {entry} has the wrong number of jurors"
    for juror, entry in open_:
        assert juror in jurors, f"open task of a juror who is not active: {juror}"
        assert juror not in entries[entry], f"juror {juror} got their own upload {entry}"
    loads = loads_of(jurors, tasks)
    for giver, entry in open_:
        for taker in jurors:
            if taker not in holders(tasks, entry) and taker not in entries[entry]:
                assert loads[giver] <= loads[taker] + 1, (
                    f"entry {entry} could move from juror {giver} ({loads[giver]}) to {taker} ({loads[taker]})")


def apply(open_, moves: Moves, done=frozenset()):
    assert not moves.delete & done, "a finished vote was deleted"
    assert moves.delete <= open_, "deleted a task that was not open"
    assert not moves.create & moves.delete, "a task was deleted and created again"
    return (open_ - moves.delete) | moves.create


def fairest(entries, jurors, quorum, done):
    """Exhaustive search over every valid placement of the open work: (the smallest sum of squared
    loads, whether some placement has loads within one), or None when no placement exists."""
    states = {tuple(loads_of(jurors, done)[j] for j in jurors)}
    for entry, excluded in entries.items():
        finished = holders(done, entry)
        need = max(quorum, len(finished)) - len(finished)
        candidates = [i for i, j in enumerate(jurors) if j not in finished and j not in excluded]
        if len(candidates) < need:
            return None
        states = {tuple(load + (i in chosen) for i, load in enumerate(state))
                  for state in states for chosen in combinations(candidates, need)}
    best = min(sum(x * x for x in s) for s in states)
    even = any(max(s) - min(s) <= 1 for s in states) if jurors else True
    return best, even


def sum_of_squares(jurors, tasks):
    return sum(x * x for x in loads_of(jurors, tasks).values())


# -- random rounds --------------------------------------------------------------------------------

@st.composite
def rounds(draw, max_entries=30, max_jurors=8, own_uploads=0.3):
    jurors = list(range(1, draw(st.integers(1, max_jurors)) + 1))
    count = draw(st.integers(0, max_entries))
    entries = {}
    for entry in range(100, 100 + count):
        own = draw(st.booleans()) if own_uploads else False
        # Some entries were uploaded by a juror, the rest by outsiders (no exclusion).
        entries[entry] = {draw(st.sampled_from(jurors))} if own and draw(st.floats(0, 1)) < own_uploads * 2 else set()
    quorum = draw(st.integers(1, len(jurors)))
    return entries, jurors, quorum, draw(st.integers(0, 2 ** 16))


# -- assign ----------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(rounds())
def test_assign_keeps_every_rule_or_says_why(round_):
    entries, jurors, quorum, seed = round_
    try:
        tasks = assign(entries, jurors, quorum, seed)
    except AssignmentError as error:
        if error.short:
            for entry, available in error.short.items():
                assert len(set(jurors) - entries[entry]) == available < quorum
        else:
            assert max(error.loads.values()) - min(error.loads.values()) >= 2
        return
    check_rules(entries, jurors, quorum, set(), tasks)
    loads = loads_of(jurors, tasks).values()
    assert max(loads) - min(loads) <= 1


@settings(max_examples=300, deadline=None)
@given(rounds(max_entries=5, max_jurors=4, own_uploads=0.5))
def test_assign_fails_exactly_when_exhaustive_search_finds_no_fair_placement(round_):
    entries, jurors, quorum, seed = round_
    best = fairest(entries, jurors, quorum, set())
    try:
        tasks = assign(entries, jurors, quorum, seed)
    except AssignmentError as error:
        assert best is None or not best[1], "assign gave up, but a fair placement exists"
        assert bool(error.short) == (best is None)
        return
    assert best is not None and best[1]
    assert sum_of_squares(jurors, tasks) == best[0]


def test_an_own_upload_goes_to_another_juror_and_stays_in_the_round():
    entries = {1: {10}, 2: set(), 3: {11}, 4: set()}
    tasks = assign(entries, [10, 11], quorum=1)
    assert (11, 1) in tasks and (10, 3) in tasks
    assert {e for _, e in tasks} == {1, 2, 3, 4}


def test_too_few_jurors_for_an_entry_names_it():
    with pytest.raises(AssignmentError, match=r"1 entries cannot get 3 distinct jurors.*entry 7: 2") as error:
        assign({7: {1}, 8: set()}, [1, 2, 3], quorum=3)
    assert error.value.short == {7: 2}
    message = error.value.describe(entry_name=lambda e: f"File:Photo {e}.jpg")
    assert "File:Photo 7.jpg: 2" in message


def test_a_juror_who_uploaded_most_entries_cannot_get_a_fair_share():
    entries = {e: ({1} if e < 6 else set()) for e in range(10)}
    with pytest.raises(AssignmentError, match="cannot be shared out evenly") as error:
        assign(entries, [1, 2], quorum=1)
    assert error.value.loads == {1: 4, 2: 6}
    assert "juror 1 would get 4 (may judge 4)" in str(error.value)


def test_same_arguments_same_tasks_and_the_seed_mixes_the_pairs():
    entries = {e: set() for e in range(40)}
    assert assign(entries, [1, 2, 3, 4], 2, seed=1) == assign(entries, [1, 2, 3, 4], 2, seed=1)
    pairs = {frozenset(holders(assign(entries, [1, 2, 3, 4], 2, seed=1), e)) for e in entries}
    assert len(pairs) > 2, "the same jurors always judge together"


def test_bad_quorum_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        rebalance({1: set()}, [1], 0, (), ())


# -- rebalance -------------------------------------------------------------------------------------

@st.composite
def running_rounds(draw, max_entries=30, max_jurors=8):
    """A round opened by assign, partly voted, then a random series of changes."""
    entries, jurors, quorum, seed = draw(rounds(max_entries, max_jurors))
    changes = draw(st.lists(st.tuples(st.sampled_from(["add", "remove", "raise", "vote"]), st.integers(0, 10 ** 6)),
                            max_size=6))
    return entries, jurors, quorum, seed, draw(st.floats(0, 1)), changes


def vote_some(open_, share, rng):
    return {t for t in sorted(open_) if rng.random() < share}


@settings(max_examples=300, deadline=None)
@given(running_rounds())
def test_rebalance_keeps_every_rule_through_random_changes(case):
    entries, jurors, quorum, seed, share, changes = case
    try:
        open_ = assign(entries, jurors, quorum, seed)
    except AssignmentError:
        assume(False)
    rng = random.Random(seed)
    done = vote_some(open_, share, rng)
    open_ -= done
    next_juror = max(jurors) + 1
    for change, pick in changes:
        new_jurors, new_quorum = list(jurors), quorum
        if change == "add":
            new_jurors.append(next_juror)
            next_juror += 1
        elif change == "remove" and len(jurors) > 1:
            new_jurors.remove(jurors[pick % len(jurors)])
        elif change == "raise":
            new_quorum = min(len(new_jurors), quorum + 1 + pick % 2)
        elif change == "vote":
            voted = vote_some(open_, 0.5, rng)
            done, open_ = done | voted, open_ - voted
            continue
        try:
            moves = rebalance(entries, new_jurors, new_quorum, done, open_, seed)
        except AssignmentError as error:
            # Only ever because some entry cannot get enough distinct jurors; nothing changed.
            assert error.short
            for entry, available in error.short.items():
                assert available < max(new_quorum, len(holders(done, entry)))
            continue
        open_ = apply(open_, moves, done)
        jurors, quorum = new_jurors, new_quorum
        check_rules(entries, jurors, quorum, done, open_)
        assert not rebalance(entries, jurors, quorum, done, open_, seed), "a second rebalance still moved tasks"


@settings(max_examples=400, deadline=None)
@given(rounds(max_entries=5, max_jurors=4, own_uploads=0.5), st.floats(0, 1),
       st.sampled_from(["add", "remove", "raise", "lower"]), st.integers(0, 100))
def test_rebalance_finds_the_fairest_placement(round_, share, change, pick):
    entries, jurors, quorum, seed = round_
    try:
        open_ = assign(entries, jurors, quorum, seed)
    except AssignmentError:
        assume(False)
    done = vote_some(open_, share, random.Random(pick))
    open_ -= done
    if change == "add":
        jurors = jurors + [max(jurors) + 1]
    elif change == "remove":
        assume(len(jurors) > 1)
        jurors = [j for j in jurors if j != jurors[pick % len(jurors)]]
    elif change == "raise":
        quorum = min(len(jurors), quorum + 1)
    else:
        quorum = max(1, quorum - 1)
    best = fairest(entries, jurors, quorum, done)
    try:
        moves = rebalance(entries, jurors, quorum, done, open_, seed)
    except AssignmentError:
        assert best is None
        return
    assert best is not None
    open_ = apply(open_, moves, done)
    check_rules(entries, jurors, quorum, done, open_)
    assert sum_of_squares(jurors, done | open_) == best[0]


def test_a_new_juror_takes_open_tasks_and_finished_votes_stay():
    entries = {e: set() for e in range(30)}
    tasks = assign(entries, [1, 2, 3], 1)
    done = {t for t in tasks if t[0] == 1}  # juror 1 finished; 2 and 3 have not started
    open_ = tasks - done
    moves = rebalance(entries, [1, 2, 3, 4], 1, done, open_)
    open_ = apply(open_, moves, done)
    assert {j for j, _ in moves.create} == {4}
    # Juror 1 already did 10 and gets nothing more; the 20 open tasks are shared 7, 7, 6.
    assert loads_of([1, 2, 3, 4], done | open_) == {1: 10, 2: 7, 3: 7, 4: 6}
    assert len(moves.create) == len(moves.delete) == 6


def test_a_removed_juror_keeps_their_votes_and_loses_their_open_tasks():
    entries = {e: set() for e in range(12)}
    tasks = assign(entries, [1, 2, 3], 2)
    done = {t for t in tasks if t[0] == 3 and t[1] < 6}
    open_ = tasks - done
    moves = rebalance(entries, [1, 2], 2, done, open_)
    open_ = apply(open_, moves, done)
    assert not any(j == 3 for j, _ in open_)
    check_rules(entries, [1, 2], 2, done, open_)


def test_raising_the_quorum_adds_a_juror_per_entry():
    entries = {e: set() for e in range(9)}
    tasks = assign(entries, [1, 2, 3], 1)
    moves = rebalance(entries, [1, 2, 3], 2, set(), tasks)
    assert not moves.delete and len(moves.create) == 9
    check_rules(entries, [1, 2, 3], 2, set(), tasks | moves.create)


def test_a_large_round_keeps_loads_within_one():
    rng = random.Random(3)
    jurors = list(range(1, 13))
    entries = {e: ({rng.choice(jurors)} if rng.random() < 0.05 else set()) for e in range(5_000)}
    tasks = assign(entries, jurors, 3, seed=1)
    moves = rebalance(entries, jurors + [13], 3, set(), tasks, seed=1)
    loads = loads_of(jurors + [13], (tasks - moves.delete) | moves.create).values()
    assert max(loads) - min(loads) <= 1
