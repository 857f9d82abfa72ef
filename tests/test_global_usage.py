"""Global usage: the client's ``prop=globalusage`` over real HTTP (scripted answers), and the job
that stores each entry's count."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs import sync as sync_job
from jobs.global_usage import fetch_contest_global_usage
from jobs.runner import JobRunner
from wle.commons import CommonsClient, GlobalUsageUnavailable, MalformedAnswer
from wle.global_usage import fetch_global_usage, usage_due
from wle.models import utcnow
from wle.models.statistics import EntryUsage
from wle.sync import begin_sync

from tests.factories import ScriptedCommons, commons_file, make_contest
from tests.fake_api import Answer, FakeAPI
from tests.web.conftest import make_entry

CONTACT = "wle-tests@example.org"


def use(title: str, wiki: str = "en.wikipedia.org") -> dict:
    return {"title": title, "wiki": wiki, "ns": 0}


@pytest.fixture
def api():
    with FakeAPI() as fake:
        yield fake


def client_for(api: FakeAPI) -> CommonsClient:
    return CommonsClient(api.url, CONTACT, sleep=lambda seconds: None)


# --- The client -------------------------------------------------------------------------------


def test_uses_are_counted_across_continuations_and_gone_pages_left_out(api):
    api.add(
        Answer.json({
            "continue": {"gucontinue": "A.jpg|enwiki|77", "continue": "||"},
            "query": {"pages": [
                {"pageid": 11, "ns": 6, "title": "File:A.jpg", "globalusage": [use("Lake"), use("Озеро", "ru.wikipedia.org")]},
                {"pageid": 12, "ns": 6, "title": "File:B.jpg", "globalusage": []},
                {"pageid": 13, "missing": True},
            ]},
        }),
        Answer.json({
            "batchcomplete": True,
            "query": {"pages": [
                {"pageid": 11, "ns": 6, "title": "File:A.jpg", "globalusage": [use("Mountain")]},
                {"pageid": 12, "ns": 6, "title": "File:B.jpg", "globalusage": [use("Galleries", "commons.wikimedia.org")]},
                {"pageid": 13, "missing": True},
            ]},
        }),
    )
    assert client_for(api).global_usage([11, 12, 13, 11]) == {11: 3, 12: 1}
    first, second = api.requests
    assert first.params["prop"] == "globalusage" and first.params["pageids"] == "11|12|13"
    assert (first.params["gulimit"], first.params["formatversion"], first.params["format"]) == ("max", "2", "json")
    assert "gucontinue" not in first.params
    assert (second.params["gucontinue"], second.params["continue"]) == ("A.jpg|enwiki|77", "||")
    assert second.params["pageids"] == "11|12|13"


def test_fifty_page_ids_a_request(api):
    def answer(request):
        ids = [int(i) for i in request.params["pageids"].split("|")]
        return Answer.json({"batchcomplete": True, "query": {"pages": [
            {"pageid": i, "ns": 6, "title": f"File:{i}.jpg", "globalusage": [use("P")] * (i % 3)} for i in ids]}})

    with FakeAPI(handler=answer) as fake:
        counts = client_for(fake).global_usage(range(1, 52))
    assert [len(r.params["pageids"].split("|")) for r in fake.requests] == [50, 1]
    assert counts == {i: i % 3 for i in range(1, 52)}


@pytest.mark.parametrize("page, message", [
    ({"pageid": 11, "ns": 6, "title": "File:A.jpg", "globalusage": {"0": use("x")}}, "global usage of page 11"),
    ({"pageid": 11, "ns": 6, "title": "File:A.jpg", "globalusage": ["Lake"]}, "a use of page 11"),
    ({"pageid": "11"}, "'pageid'"),
    ({"pageid": 99, "ns": 6, "title": "File:Z.jpg", "globalusage": []}, "page id 99, not asked for"),
])
def test_a_malformed_answer_is_refused(api, page, message):
    api.add(Answer.json({"batchcomplete": True, "query": {"pages": [page]}}))
    with pytest.raises(MalformedAnswer, match=message):
        client_for(api).global_usage([11])


def test_a_page_left_out_of_the_answer_is_refused(api):
    api.add(Answer.json({"batchcomplete": True, "query": {"pages": [
        {"pageid": 11, "ns": 6, "title": "File:A.jpg", "globalusage": []}]}}))
    with pytest.raises(MalformedAnswer, match=r"nothing about page ids \[12\]"):
        client_for(api).global_usage([11, 12])


# What a MediaWiki without the GlobalUsage extension answered (recorded on the test wiki).
WITHOUT_EXTENSION = {
    "batchcomplete": True,
    "warnings": {"main": {"warnings": "Unrecognized parameters: gulimit, guprop."},
                 "query": {"warnings": "Unrecognized value for parameter \"prop\": globalusage"}},
    "query": {"pages": [{"pageid": 1, "ns": 0, "title": "Main Page"}]},
}


def test_a_wiki_without_global_usage_says_so(api):
    api.add(Answer.json(WITHOUT_EXTENSION))
    with pytest.raises(GlobalUsageUnavailable, match="GlobalUsage extension"):
        client_for(api).global_usage([1])


@pytest.mark.parametrize("bad", [0, -3, "12", True, 1.5])
def test_bad_page_ids_are_refused_before_any_request(api, bad):
    with pytest.raises(ValueError, match="positive integer"):
        client_for(api).global_usage([5, bad])
    assert api.requests == []


# --- Storing the counts -----------------------------------------------------------------------


def usage_api(missing=()) -> FakeAPI:
    """A wiki where page id N is used N % 3 times, and the ``missing`` ones are deleted."""

    def answer(request):
        pages = []
        for pageid in map(int, request.params["pageids"].split("|")):
            if pageid in missing:
                pages.append({"pageid": pageid, "missing": True})
            else:
                pages.append({"pageid": pageid, "ns": 6, "title": f"File:{pageid}.jpg",
                              "globalusage": [use(f"Page {n}") for n in range(pageid % 3)]})
        return Answer.json({"batchcomplete": True, "query": {"pages": pages}})

    return FakeAPI(handler=answer)


def stored_usage(session) -> dict[int, int]:
    session.expire_all()
    return {u.entry_id: u.usage_count for u in session.scalars(select(EntryUsage))}


def test_usage_is_stored_per_entry_in_batches_and_only_refreshed_when_old(session):
    contest = make_contest(session)
    entries = [make_entry(session, contest, pageid=pageid) for pageid in range(3001, 3061)]
    gone = make_entry(session, contest, pageid=3099, gone_at=utcnow())
    session.commit()
    assert len(usage_due(session, contest.id)) == 60  # the gone entry is not asked about

    batches = []
    with usage_api(missing={3005}) as fake:
        result = fetch_global_usage(session, client_for(fake), usage_due(session, contest.id), on_batch=batches.append)
    assert batches == [50, 10] and len(fake.requests) == 2
    assert (result.checked, result.gone) == (59, 1)
    assert result.in_use == sum(1 for e in entries if e.pageid % 3 and e.pageid != 3005)
    usage = stored_usage(session)
    assert usage == {e.id: e.pageid % 3 for e in entries if e.pageid != 3005}
    assert gone.id not in usage

    # Fresh counts are kept; a day-old one is fetched again; the deleted file is asked about again.
    assert usage_due(session, contest.id) == [(entries[4].id, 3005)]
    old = session.get(EntryUsage, entries[0].id)
    old.fetched_at = utcnow() - timedelta(days=1, minutes=1)
    session.commit()
    assert usage_due(session, contest.id) == [(entries[0].id, 3001), (entries[4].id, 3005)]


def test_the_job_fetches_the_contests_usage(settings, session):
    contest = make_contest(session)
    entries = [make_entry(session, contest, pageid=pageid) for pageid in (4001, 4002, 4003)]
    session.commit()
    with usage_api() as fake:
        message = fetch_contest_global_usage(contest.id, dataclasses.replace(settings, commons_api_url=fake.url))
    assert message == f"contest {contest.id}: usage of 3 files checked, 2 in use"
    assert stored_usage(session) == {entries[0].id: 2, entries[1].id: 0, entries[2].id: 1}  # 4001 % 3 == 2


def test_the_job_on_a_wiki_without_global_usage_stores_nothing_and_says_why(settings, session):
    contest = make_contest(session)
    make_entry(session, contest, pageid=1)
    session.commit()
    with FakeAPI([Answer.json(WITHOUT_EXTENSION)]) as fake:
        message = fetch_contest_global_usage(contest.id, dataclasses.replace(settings, commons_api_url=fake.url))
    assert "GlobalUsage extension" in message
    assert stored_usage(session) == {}


def test_a_sync_queues_the_global_usage_job(settings, session, monkeypatch):
    contest = make_contest(session)
    commons = ScriptedCommons({contest.category_names[0]: [commons_file(1)]})
    monkeypatch.setattr(sync_job, "commons_client", lambda settings: commons)
    queued = []
    monkeypatch.setattr(JobRunner, "enqueue", lambda self, func, *args, **kwargs: queued.append((func, args)))
    run = begin_sync(session, contest, "tester")
    session.commit()
    sync_job.sync_contest(run.id, settings)
    assert (fetch_contest_global_usage, (contest.id,)) in queued
