"""The sync: upserts by page id, idempotence, resumption, and gone marks."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from wle.models import Entry, SyncRun
from wle.models.entry import GONE_DELETED, GONE_LEFT_CATEGORY, THUMB_DONE, THUMB_PENDING
from wle.models.sync import DONE, FAILED, QUEUED, RUNNING
from wle.sync import SyncAlreadyRunning, begin_sync, run_sync

from tests.factories import ScriptedCommons, commons_file, make_contest, utc

CATEGORY = "Images from Wiki Loves Earth 2025 in Kazakhstan"


def sync(session, contest, commons):
    run = begin_sync(session, contest, started_by="tester")
    session.commit()
    return run_sync(session, run.id, commons)


def entries(session, contest):
    return {e.pageid: e for e in session.scalars(select(Entry).where(Entry.contest_id == contest.id))}


def test_first_sync_adds_every_file_with_its_metadata(session):
    contest = make_contest(session)
    commons = ScriptedCommons({CATEGORY: [commons_file(i) for i in range(1, 8)]}, batch=3)
    run = sync(session, contest, commons)
    assert (run.state, run.added, run.updated, run.gone, run.files_seen) == (DONE, 7, 0, 0, 7)
    assert run.requests == 3 and run.error is None and run.finished_at is not None
    stored = entries(session, contest)
    assert sorted(stored) == list(range(1, 8))
    entry = stored[5]
    assert entry.title == "File:Photo 5.jpg" and entry.uploader == "Uploader 2"
    assert entry.uploaded_at == utc(2025, 6, 20, 10, 0) and entry.thumb_state == THUMB_PENDING
    assert entry.categories == [CATEGORY] and len(entry.thumb_key) == 32
    assert entry.last_seen_sync_id == run.id


def test_second_sync_changes_nothing(session):
    contest = make_contest(session)
    commons = ScriptedCommons({CATEGORY: [commons_file(i) for i in range(1, 6)]})
    sync(session, contest, commons)
    first = {p: _row(e) for p, e in entries(session, contest).items()}
    run = sync(session, contest, commons)
    assert (run.added, run.updated, run.gone, run.returned) == (0, 0, 0, 0)
    assert {p: _row(e) for p, e in entries(session, contest).items()} == first


def _row(entry):
    skip = {"last_seen_at", "last_seen_sync_id"}
    return {c.name: getattr(entry, c.key) for c in Entry.__table__.columns if c.name not in skip}


def test_changed_file_is_updated_and_a_new_image_needs_thumbnails_again(session):
    contest = make_contest(session)
    commons = ScriptedCommons({CATEGORY: [commons_file(1), commons_file(2)]})
    sync(session, contest, commons)
    for entry in entries(session, contest).values():
        entry.thumb_state = THUMB_DONE
    session.commit()
    commons.categories[CATEGORY] = [
        commons_file(1, title="File:Renamed.jpg"),
        commons_file(2, sha1="f" * 40, reuploaded=True, last_uploaded_at=utc(2025, 6, 25)),
    ]
    run = sync(session, contest, commons)
    assert run.updated == 2
    stored = entries(session, contest)
    assert stored[1].title == "File:Renamed.jpg" and stored[1].thumb_state == THUMB_DONE
    assert stored[2].reuploaded and stored[2].thumb_state == THUMB_PENDING


def test_files_gone_are_marked_not_dropped_and_can_come_back(session):
    contest = make_contest(session)
    commons = ScriptedCommons({CATEGORY: [commons_file(i) for i in range(1, 5)]})
    sync(session, contest, commons)
    commons.categories[CATEGORY] = [commons_file(1), commons_file(2)]
    commons.deleted = {3}
    commons.titles = {4: "File:Moved out.jpg"}
    run = sync(session, contest, commons)
    assert run.gone == 2
    stored = entries(session, contest)
    assert (stored[3].gone_reason, stored[4].gone_reason) == (GONE_DELETED, GONE_LEFT_CATEGORY)
    assert stored[4].title == "File:Moved out.jpg" and stored[3].gone_at is not None
    commons.categories[CATEGORY].append(commons_file(4))
    run = sync(session, contest, commons)
    assert (run.returned, run.gone) == (1, 0)
    assert entries(session, contest)[4].gone_at is None


def test_a_file_in_two_categories_is_one_entry(session):
    contest = make_contest(session, categories=("A", "B"))
    commons = ScriptedCommons({"A": [commons_file(1), commons_file(2)], "B": [commons_file(2), commons_file(3)]})
    run = sync(session, contest, commons)
    assert (run.added, run.files_seen) == (3, 3)


def test_failed_walk_records_the_error_marks_nothing_gone_and_a_rerun_finishes(session):
    contest = make_contest(session)
    files = [commons_file(i) for i in range(1, 11)]
    sync(session, contest, ScriptedCommons({CATEGORY: files}))
    broken = ScriptedCommons({CATEGORY: files[:9]}, batch=3, fail_after_batches=2)
    run = sync(session, contest, broken)
    assert run.state == FAILED and "503" in run.error and run.errors == 1
    assert all(e.gone_at is None for e in entries(session, contest).values())
    run = sync(session, contest, ScriptedCommons({CATEGORY: files[:9]}, batch=3))
    assert run.state == DONE and run.gone == 1
    assert entries(session, contest)[10].gone_reason == GONE_LEFT_CATEGORY


def test_killed_run_is_resumed_by_the_job_retry_with_the_same_result(session):
    contest = make_contest(session)
    files = [commons_file(i) for i in range(1, 10)]
    reference = make_contest(session, slug="reference")
    sync(session, reference, ScriptedCommons({CATEGORY: files}))

    run = begin_sync(session, contest, started_by="tester")
    session.commit()

    class Killed(BaseException):
        pass

    def die(_run, _result):
        raise Killed

    with pytest.raises(Killed):
        run_sync(session, run.id, ScriptedCommons({CATEGORY: files}, batch=4), on_batch=die)
    session.rollback()
    session.expire_all()
    assert session.get(SyncRun, run.id).state == RUNNING  # as a killed worker leaves it
    again = run_sync(session, run.id, ScriptedCommons({CATEGORY: files}, batch=4))
    assert again.state == DONE and again.added == 5 and again.files_seen == 9

    def comparable(c):
        return {p: {k: v for k, v in _row(e).items() if k not in {"id", "contest_id", "thumb_key", "first_seen_at"}}
                for p, e in entries(session, c).items()}

    assert comparable(contest) == comparable(reference)


def test_only_one_live_sync_per_contest(session):
    contest = make_contest(session)
    run = begin_sync(session, contest, started_by="a")
    session.commit()
    with pytest.raises(SyncAlreadyRunning, match="already queued"):
        begin_sync(session, contest, started_by="b")
    run.state, run.heartbeat_at = RUNNING, utc(2020, 1, 1)  # a long-dead worker
    session.commit()
    newer = begin_sync(session, contest, started_by="b")
    assert newer.state == QUEUED
    assert run.state == FAILED and "Interrupted" in run.error


def test_a_finished_run_delivered_again_does_nothing(session):
    contest = make_contest(session)
    commons = ScriptedCommons({CATEGORY: [commons_file(1)]})
    run = sync(session, contest, commons)
    requests = commons.requests_made
    assert run_sync(session, run.id, commons).state == DONE
    assert commons.requests_made == requests


def test_the_database_refuses_a_second_live_sync_even_past_the_check(session):
    contest = make_contest(session)
    session.add(SyncRun(contest_id=contest.id, started_by="a", state=RUNNING))
    session.commit()
    session.add(SyncRun(contest_id=contest.id, started_by="b", state=QUEUED))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    session.add(SyncRun(contest_id=contest.id, started_by="c", state=DONE))  # finished ones are many
    session.commit()
