"""The juror's side: queue order, voting, skipping, going back, progress, rankings, and blindness."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from wle import rounds, voting
from wle.models import Entry
from wle.models.jury import RANKING, RATING, UNRANKED, YESNO
from wle.voting import InvalidRanking, InvalidVote, NotAJuror, NotYourTask, RoundNotOpen

from tests.factories import make_contest
from tests.test_rounds import add_entries, open_first_round, organizer, tasks_of, user_id


@pytest.fixture
def rating_round(session):
    contest = make_contest(session)
    add_entries(session, contest, 9)
    return open_first_round(session, contest, kind=RATING, quorum=1)


def queue(session, uid, round_):
    return [t.id for t in voting.next_tasks(session, uid, round_.id, limit=50)]


# -- voting ---------------------------------------------------------------------------------------

def test_a_double_press_records_one_vote_and_a_vote_can_change(session, rating_round):
    alice = user_id(session, "Alice")
    task = voting.next_tasks(session, alice, rating_round.id)[0]
    voting.vote(session, alice, task.id, 4)
    first_time = task.voted_at
    voting.vote(session, alice, task.id, 4)
    assert task.voted_at == first_time and task.changed_at is None
    voting.vote(session, alice, task.id, 2)
    assert task.value == 2 and task.voted_at == first_time and task.changed_at is not None
    assert len(tasks_of(session, rating_round, user_id=alice, entry_id=task.entry_id)) == 1
    assert voting.progress(session, alice, rating_round.id).done == 1


@pytest.mark.parametrize("value", [0, 6, -1, True, "3", None, 2.5])
def test_a_rating_outside_one_to_five_is_refused(session, rating_round, value):
    alice = user_id(session, "Alice")
    task = voting.next_tasks(session, alice, rating_round.id)[0]
    with pytest.raises(InvalidVote, match="one of 1, 2, 3, 4, 5"):
        voting.vote(session, alice, task.id, value)
    assert task.value is None


def test_yes_no_takes_one_or_zero(session):
    contest = make_contest(session)
    add_entries(session, contest, 3)
    round_ = open_first_round(session, contest, kind=YESNO, quorum=1)
    alice = user_id(session, "Alice")
    task = voting.next_tasks(session, alice, round_.id)[0]
    voting.vote(session, alice, task.id, 0)
    assert task.value == 0 and task.done
    with pytest.raises(InvalidVote):
        voting.vote(session, alice, task.id, 3)


def test_nobody_can_touch_someone_elses_task(session, rating_round):
    alice, bob = user_id(session, "Alice"), user_id(session, "Bob")
    bobs = voting.next_tasks(session, bob, rating_round.id)[0]
    for attempt in (lambda: voting.vote(session, alice, bobs.id, 5), lambda: voting.skip(session, alice, bobs.id),
                    lambda: voting.previous_task(session, alice, rating_round.id, bobs.id)):
        with pytest.raises(NotYourTask):
            attempt()
    with pytest.raises(NotYourTask):
        voting.vote(session, alice, 10 ** 9, 5)
    assert bobs.value is None
    stranger = rounds.user_by_name(session, "Mallory").id
    with pytest.raises(NotAJuror):
        voting.next_tasks(session, stranger, rating_round.id)
    with pytest.raises(NotAJuror):
        voting.progress(session, stranger, rating_round.id)


def test_a_draft_round_takes_no_votes(session):
    contest = make_contest(session)
    add_entries(session, contest, 2)
    actor = organizer(session)
    round_ = rounds.create_round(session, contest, actor, rounds.RoundForm(kind=RATING, quorum=1))
    rounds.set_jurors(session, round_, actor, ["Alice"])
    with pytest.raises(RoundNotOpen, match="not opened yet"):
        voting.next_tasks(session, user_id(session, "Alice"), round_.id)


# -- the queue ------------------------------------------------------------------------------------

def test_skip_sends_an_entry_to_the_end_and_it_comes_back(session, rating_round):
    alice = user_id(session, "Alice")
    order = queue(session, alice, rating_round)
    assert len(order) == 3
    voting.skip(session, alice, order[0])
    voting.skip(session, alice, order[1])
    assert queue(session, alice, rating_round) == [order[2], order[0], order[1]]
    voting.skip(session, alice, order[0])  # skipped again: behind the other skip
    assert queue(session, alice, rating_round) == [order[2], order[1], order[0]]
    assert voting.progress(session, alice, rating_round.id).skipped == 2
    for task_id in queue(session, alice, rating_round):
        voting.vote(session, alice, task_id, 3)
    assert queue(session, alice, rating_round) == []
    with pytest.raises(InvalidVote, match="voted on this entry already"):
        voting.skip(session, alice, order[0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.tuples(st.sampled_from(["vote", "skip"]), st.integers(0, 50)), max_size=25))
def test_the_queue_is_every_open_task_once_with_skips_last_in_skip_order(session, rating_round, actions):
    """A model of the queue: unskipped first, then skipped ones in the order they were skipped."""
    alice = user_id(session, "Alice")
    for task in tasks_of(session, rating_round, user_id=alice):
        task.value, task.voted_at, task.skipped_seq = None, None, 0
    session.flush()
    skipped_order: list[int] = []
    for action, pick in actions:
        current = queue(session, alice, rating_round)
        if not current:
            break
        task_id = current[pick % len(current)]
        if action == "vote":
            voting.vote(session, alice, task_id, 1 + pick % 5)
            if task_id in skipped_order:
                skipped_order.remove(task_id)
        else:
            voting.skip(session, alice, task_id)
            if task_id in skipped_order:
                skipped_order.remove(task_id)
            skipped_order.append(task_id)
        now = queue(session, alice, rating_round)
        open_ids = {t.id for t in tasks_of(session, rating_round, user_id=alice) if t.value is None}
        assert sorted(now) == sorted(open_ids)
        assert now[len(now) - len(skipped_order):] == skipped_order
        progress = voting.progress(session, alice, rating_round.id)
        assert progress.finished == (not open_ids) and progress.total == 3
        assert progress.done == 3 - len(open_ids)


def test_entries_with_fewer_votes_come_first(session):
    contest = make_contest(session)
    add_entries(session, contest, 4)
    round_ = open_first_round(session, contest, kind=RATING, quorum=3)
    alice, bob = user_id(session, "Alice"), user_id(session, "Bob")
    bobs_first = voting.next_tasks(session, bob, round_.id)[0]
    voting.vote(session, bob, bobs_first.id, 5)
    alices = voting.next_tasks(session, alice, round_.id, limit=4)
    assert alices[-1].entry_id == bobs_first.entry_id


def test_next_k_prefetches_in_queue_order(session, rating_round):
    alice = user_id(session, "Alice")
    three = voting.next_tasks(session, alice, rating_round.id, limit=3)
    assert [t.id for t in three] == queue(session, alice, rating_round)
    voting.vote(session, alice, three[0].id, 5)
    assert [t.id for t in voting.next_tasks(session, alice, rating_round.id, limit=2)] == [t.id for t in three[1:]]


def test_back_walks_through_previous_votes(session, rating_round):
    alice = user_id(session, "Alice")
    order = queue(session, alice, rating_round)
    assert voting.previous_task(session, alice, rating_round.id) is None
    for value, task_id in enumerate(order, start=2):
        voting.vote(session, alice, task_id, value)
    last = voting.previous_task(session, alice, rating_round.id)
    assert (last.id, last.value) == (order[2], 4)
    before = voting.previous_task(session, alice, rating_round.id, last.id)
    assert (before.id, before.value) == (order[1], 3)
    voting.vote(session, alice, before.id, 1)  # changing a vote keeps its place in the history
    assert voting.previous_task(session, alice, rating_round.id, before.id).id == order[0]
    assert voting.previous_task(session, alice, rating_round.id, order[0]) is None


def test_progress_counts_the_jurors_own_votes_by_value(session, rating_round):
    alice = user_id(session, "Alice")
    for task_id, value in zip(queue(session, alice, rating_round), (5, 5, 2)):
        voting.vote(session, alice, task_id, value)
    progress = voting.progress(session, alice, rating_round.id)
    assert progress.as_dict() == {"done": 3, "total": 3, "skipped": 0, "finished": True, "values": {"2": 1, "5": 2}}
    [(round_, mine)] = voting.juror_rounds(session, alice)
    assert round_.id == rating_round.id and mine == progress


# -- ranking --------------------------------------------------------------------------------------

def ranking_round(session, count=6, rank_top=None, quorum=2):
    contest = make_contest(session)
    add_entries(session, contest, count)
    return open_first_round(session, contest, kind=RANKING, quorum=quorum, rank_top=rank_top)


def test_a_full_ranking_is_saved_at_once_and_can_be_reordered(session):
    round_ = ranking_round(session, count=6, quorum=3)
    alice = user_id(session, "Alice")
    ids = [t.id for t in voting.ranking_tasks(session, alice, round_.id)]
    assert len(ids) == 6
    voting.save_ranking(session, alice, round_.id, ids[::-1])
    assert [t.id for t in voting.ranking_tasks(session, alice, round_.id)] == ids[::-1]
    assert voting.progress(session, alice, round_.id).finished
    voting.save_ranking(session, alice, round_.id, ids)
    assert [t.value for t in voting.ranking_tasks(session, alice, round_.id)] == [1, 2, 3, 4, 5, 6]
    with pytest.raises(InvalidVote, match="whole order"):
        voting.vote(session, alice, ids[0], 1)


def test_a_top_n_ranking_leaves_the_rest_unranked(session):
    round_ = ranking_round(session, count=6, rank_top=2, quorum=3)
    alice = user_id(session, "Alice")
    ids = [t.id for t in voting.ranking_tasks(session, alice, round_.id)]
    voting.save_ranking(session, alice, round_.id, [ids[3], ids[1]])
    values = {t.id: t.value for t in tasks_of(session, round_, user_id=alice)}
    assert values[ids[3]] == 1 and values[ids[1]] == 2
    assert [v for k, v in values.items() if k not in (ids[1], ids[3])] == [UNRANKED] * 4
    assert voting.progress(session, alice, round_.id).finished


def test_five_hundred_entries_can_be_ranked(session):
    round_ = ranking_round(session, count=500, quorum=3)
    alice = user_id(session, "Alice")
    ids = [t.id for t in voting.ranking_tasks(session, alice, round_.id)]
    voting.save_ranking(session, alice, round_.id, ids[::-1])
    assert voting.progress(session, alice, round_.id).done == 500


def test_bad_rankings_are_refused_and_change_nothing(session):
    round_ = ranking_round(session, count=6, rank_top=3, quorum=2)
    alice, bob = user_id(session, "Alice"), user_id(session, "Bob")
    mine = [t.id for t in voting.ranking_tasks(session, alice, round_.id)]
    bobs = [t.id for t in voting.ranking_tasks(session, bob, round_.id)]
    stranger = next(i for i in bobs if i not in mine)
    for bad, message in [
        ([mine[0], mine[0], mine[1]], "twice"),
        ([mine[0], mine[1], stranger], "not entries of yours"),
        (mine[:2], "exactly 3"),
        (mine[:4], "exactly 3"),
        ([mine[0], "x", mine[1]], "list of task ids"),
    ]:
        with pytest.raises(InvalidRanking, match=message):
            voting.save_ranking(session, alice, round_.id, bad)
    assert all(t.value is None for t in tasks_of(session, round_, user_id=alice))


# -- blind ----------------------------------------------------------------------------------------

FORBIDDEN_KEYS = {"uploader", "author", "artist", "title", "description", "url_commons", "commons_url", "page_url",
                  "file_url", "sha1", "file_name", "filename", "name", "pageid", "entry", "entry_id", "credit"}


def walk(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + "." + str(key), key, None
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from walk(item, f"{path}[{i}]")
    else:
        yield path, None, value


@pytest.mark.parametrize("kind", [RATING, RANKING])
def test_what_a_juror_sees_names_neither_file_nor_author(session, kind):
    contest = make_contest(session)
    add_entries(session, contest, 4, uploader=lambda i: f"Photographer {i}")
    round_ = open_first_round(session, contest, kind=kind, quorum=1)
    alice = user_id(session, "Alice")
    tasks = (voting.next_tasks(session, alice, round_.id, limit=10) if kind == RATING
             else voting.ranking_tasks(session, alice, round_.id))
    views = [voting.juror_view(t) for t in tasks]
    assert views and json.loads(json.dumps(views)) == views
    for task, view in zip(tasks, views):
        entry = session.get(Entry, task.entry_id)
        secrets = [entry.uploader, entry.title, entry.title.split(":", 1)[1], entry.sha1, entry.description,
                   entry.file_url, entry.page_url, "Шарын", "commons", "upload.example", str(entry.pageid)]
        for path, key, value in walk(view):
            assert key not in FORBIDDEN_KEYS, f"forbidden field {path}"
            if isinstance(value, str):
                assert not any(s.lower() in value.lower() for s in secrets), f"{path} reveals {value!r}"
        assert view["images"]["view"]["url"] == f"/media/{entry.thumb_key}/view.webp"
        assert view["srcset"] == f"/media/{entry.thumb_key}/grid.webp 400w, /media/{entry.thumb_key}/view.webp 1280w"
        assert view["images"]["grid"]["height"] == 300 and view["task"] == task.id


def test_a_small_picture_is_never_upscaled_in_the_srcset(session, rating_round):
    alice = user_id(session, "Alice")
    task = voting.next_tasks(session, alice, rating_round.id)[0]
    task.entry.width, task.entry.height = 300, 200
    view = voting.juror_view(task)
    assert view["images"]["view"]["width"] == 300
    assert view["srcset"] == f"/media/{task.entry.thumb_key}/grid.webp 300w"
