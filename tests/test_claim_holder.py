"""Thumbnail claims name their job: a retry of the same job (after its worker was killed) takes its
claims back at once; another job waits for them to expire."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import make_contest
from tests.web.conftest import make_entry
from wle.entry_media import CLAIM_EXPIRES, claim
from wle.models import Entry, utcnow


def test_the_same_job_takes_its_claim_back_another_does_not(session):
    entry = make_entry(session, make_contest(session))
    session.commit()

    assert claim(session, entry.id, "job-1")
    assert not claim(session, entry.id, "job-2")
    assert not claim(session, entry.id)  # a job without a name (in-process) never matches a claim
    assert claim(session, entry.id, "job-1")  # job-1 retried: its own claim
    session.refresh(entry)
    assert entry.thumb_claimed_by == "job-1"


def test_an_expired_claim_is_taken_by_anyone(session):
    entry = make_entry(session, make_contest(session))
    entry.thumb_claimed_at, entry.thumb_claimed_by = utcnow() - CLAIM_EXPIRES - timedelta(seconds=1), "dead-job"
    session.commit()

    assert claim(session, entry.id, "job-2")
    session.refresh(entry)
    assert entry.thumb_claimed_by == "job-2"
    assert session.get(Entry, entry.id).thumb_claimed_at > utcnow() - timedelta(minutes=1)
