"""File pages' wikitext: the client method against a recorded answer over real HTTP, storing it, and
the job that reads the pages and checks the contest."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from wle.commons import CommonsClient, FilePageText, MalformedAnswer
from wle.eligibility import load_settings, save_settings
from wle.models import Entry
from wle.models.rules import EntryReason, EntrySite, EntryWikitext
from wle.sites import fetch_wikitext

from tests.factories import make_contest
from tests.fake_api import Answer, FakeAPI, recorded

CONTACT = "wle-tests@example.org"


def client_for(api: FakeAPI) -> CommonsClient:
    return CommonsClient(api.url, CONTACT, sleep=lambda _seconds: None, max_tries=1)


def test_the_recorded_file_page_is_read_by_page_id():
    with FakeAPI([Answer.sample("filepage-wikitext.json")]) as api:
        pages = client_for(api).file_page_wikitext([29])
    params = api.requests[0].params
    assert (params["prop"], params["rvprop"], params["rvslots"], params["pageids"]) == (
        "revisions", "ids|content", "main", "29")
    assert params["formatversion"] == "2" and params["maxlag"] == "5"
    page = pages[29]
    assert isinstance(page, FilePageText) and page.revid == 30
    assert "{{Protected area Kazakhstan|KZ-TUR-001}}" in page.wikitext


def page(pageid: int, text: str = "text", revid: int = 1) -> dict:
    return {"pageid": pageid, "ns": 6, "title": f"File:{pageid}.jpg",
            "revisions": [{"revid": revid, "slots": {"main": {"contentmodel": "wikitext", "content": text}}}]}


def test_fifty_ids_a_request_gone_pages_are_none_and_continuations_are_merged():
    ids = list(range(1, 53))

    def answer(request):
        asked = [int(x) for x in request.params["pageids"].split("|")]
        if 1 in asked and "rvcontinue" not in request.params:  # the first 50: cut by the size cap
            return Answer.json({"continue": {"rvcontinue": "26|126", "continue": "||"},
                                "query": {"pages": [page(i) for i in asked[:25]]
                                          + [{"pageid": i, "ns": 6, "title": f"File:{i}.jpg"} for i in asked[25:]]}})
        if 1 in asked:
            return Answer.json({"batchcomplete": True, "query": {"pages": [page(i, revid=2) for i in asked[25:]]}})
        return Answer.json({"batchcomplete": True, "query": {"pages": [
            page(51), {"pageid": 52, "missing": True}]}})

    with FakeAPI(handler=answer) as api:
        pages = client_for(api).file_page_wikitext(ids)
    assert len(api.requests) == 3 and api.requests[1].params["rvcontinue"] == "26|126"
    assert [len(r.params["pageids"].split("|")) for r in api.requests] == [50, 50, 2]
    assert pages[52] is None and pages[30].revid == 2 and len(pages) == 52


@pytest.mark.parametrize("body, message", [
    ({"batchcomplete": True, "query": {"pages": [{"pageid": 7, "revisions": [{"revid": 1}]}]}}, "'slots'"),
    ({"batchcomplete": True, "query": {"pages": [{"pageid": 7, "revisions": []}]}}, "0 revisions"),
    ({"batchcomplete": True, "query": {"pages": [{"pageid": 8, "missing": True}]}}, "not asked for"),
    ({"batchcomplete": True, "query": {"pages": []}}, "no wikitext for page ids \\[7\\]"),
    ({"batchcomplete": True}, "left out 'query'"),
])
def test_answers_that_make_no_sense_are_refused(body, message):
    with FakeAPI([Answer.json(body)]) as api:
        with pytest.raises(MalformedAnswer, match=message):
            client_for(api).file_page_wikitext([7])


def test_hidden_text_is_an_empty_page_and_bad_ids_are_refused_before_asking():
    hidden = {"batchcomplete": True, "query": {"pages": [
        {"pageid": 7, "revisions": [{"revid": 3, "slots": {"main": {"texthidden": True}}}]}]}}
    with FakeAPI([Answer.json(hidden)]) as api:
        assert client_for(api).file_page_wikitext([7]) == {7: FilePageText(7, 3, "")}
        with pytest.raises(ValueError, match="positive integer"):
            client_for(api).file_page_wikitext([0])


def add_entry(session, contest, pageid: int) -> Entry:
    moment = datetime(2025, 6, 20, tzinfo=timezone.utc)
    entry = Entry(contest_id=contest.id, pageid=pageid, title=f"File:{pageid}.jpg", uploader="Aigerim Photographer",
                  uploaded_at=moment, last_uploaded_at=moment, width=4000, height=3000, size=1, mime="image/jpeg",
                  sha1=secrets.token_hex(20), license="CC BY-SA 4.0", credit="Own work", categories=[],
                  file_url="http://x/y.jpg", page_url="http://x/File:y", thumb_key=secrets.token_hex(16))
    session.add(entry)
    session.flush()
    return entry


def test_the_job_reads_the_pages_then_checks_the_contest(session, settings):
    from jobs.wikitext import read_file_pages

    contest = make_contest(session)
    entry = add_entry(session, contest, pageid=29)
    on = load_settings(session, contest)
    save_settings(session, contest, dataclasses.replace(on, enabled=on.enabled | {"site_id"},
                                                        site_template="Protected area Kazakhstan",
                                                        site_pattern=r"KZ-[A-Z]{3}-\d{3}"), "cli:test")
    session.commit()
    assert session.scalars(select(EntryReason.code)).all() == ["site_id_missing"]  # not read yet

    with FakeAPI([Answer.sample("filepage-wikitext.json")]) as api:
        message = read_file_pages(contest.id, settings=dataclasses.replace(settings, commons_api_url=api.url))
    assert "1 file pages read" in message
    session.expire_all()
    assert session.get(EntryWikitext, entry.id).revid == 30
    assert session.scalars(select(EntrySite.site_id)).all() == ["KZ-TUR-001"]
    assert session.scalars(select(EntryReason.code)).all() == []


def test_fetching_stores_and_replaces_the_text(session):
    contest = make_contest(session)
    entry = add_entry(session, contest, pageid=29)
    answer = recorded("filepage-wikitext.json")
    with FakeAPI([Answer.json(answer), Answer.json({"batchcomplete": True, "query": {"pages": [
            page(29, "{{Other}}", revid=31)]}})]) as api:
        client = client_for(api)
        progress = []
        assert fetch_wikitext(session, client, contest.id, [entry.id], on_progress=progress.append) == 1
        assert fetch_wikitext(session, client, contest.id, [entry.id]) == 1
    stored = session.get(EntryWikitext, entry.id)
    assert (stored.revid, stored.wikitext, stored.read_with) == (31, "{{Other}}", None)
    assert progress == [1]


def test_the_cli_reads_file_pages_then_checks(session, settings):
    from click.testing import CliRunner

    from wle.cli import main

    contest = make_contest(session)
    add_entry(session, contest, pageid=29)
    session.commit()
    env = {"WLE_DATABASE_URL": settings.database_url, "WLE_INSTANCE_DIR": settings.instance_dir,
           "WLE_CONTACT": CONTACT, "WLE_REDIS_URL": ""}
    with FakeAPI([Answer.sample("filepage-wikitext.json")]) as api:
        result = CliRunner().invoke(main, ["contest", "file-pages", contest.slug],
                                    env={**env, "WLE_COMMONS_API_URL": api.url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Rules: 1 of 1 entries eligible by the rules." in result.output
    session.expire_all()
    assert session.scalar(select(EntryWikitext.revid)) == 30
    refused = CliRunner().invoke(main, ["contest", "file-pages", contest.slug], env={**env, "WLE_CONTACT": ""})
    assert refused.exit_code == 1 and "WLE_CONTACT" in refused.output
