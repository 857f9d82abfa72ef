"""Making entries' thumbnails: each file downloaded once, bad files failed with a reason."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image
from sqlalchemy import select

from wle.commons import CommonsClient, CommonsUnavailable
from wle.db import session_factory
from wle.download_slots import DownloadSlots
from wle.entry_media import claim, make_thumbnails, pending_entry_ids
from wle.models import Entry, utcnow
from wle.models.entry import THUMB_DONE, THUMB_FAILED, THUMB_PENDING
from wle.sync import begin_sync, run_sync
from wle.thumbnails import thumbnail_path

from tests.factories import ScriptedCommons, commons_file, make_contest
from tests.fake_api import Answer, FakeAPI

CATEGORY = "Images from Wiki Loves Earth 2025 in Kazakhstan"


def jpeg(width=1280, height=960) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 60)).save(out, "JPEG")
    return out.getvalue()


FILES = {"/img/good.jpg": Answer(jpeg()), "/img/corrupt.jpg": Answer(b"\xff\xd8\xff garbage"),
         "/img/page.jpg": Answer("<html>Not found</html>", headers={"Content-Type": "text/html"}),
         "/img/gone.jpg": Answer("no such file", status=404), "/img/down.jpg": Answer("busy", status=503)}


@pytest.fixture
def images():
    with FakeAPI(handler=lambda request: FILES[request.path], path="/img") as server:
        yield server


@pytest.fixture
def client(images):
    return CommonsClient(images.url, "wle-tests@example.org", sleep=lambda _: None, max_tries=2, timeout=5)


def synced(session, images, names):
    contest = make_contest(session)
    files = [commons_file(i, thumb_url=f"{images.base_url}/img/{name}") for i, name in enumerate(names, 1)]
    run = begin_sync(session, contest, "tester")
    session.commit()
    run_sync(session, run.id, ScriptedCommons({CATEGORY: files}))
    return contest, pending_entry_ids(session, contest.id)


def test_good_files_get_thumbnails_bad_ones_fail_with_the_reason(session, settings, images, client):
    contest, ids = synced(session, images, ["good.jpg", "corrupt.jpg", "page.jpg", "gone.jpg"])
    counts = make_thumbnails(session, ids, client, settings.media_dir, DownloadSlots())
    assert counts == {THUMB_DONE: 1, THUMB_FAILED: 3, "skipped": 0}
    entries = {e.pageid: e for e in session.scalars(select(Entry).where(Entry.contest_id == contest.id))}
    assert entries[1].thumb_state == THUMB_DONE and entries[1].thumb_error is None
    for size in ("grid", "view"):
        assert thumbnail_path(settings.media_dir, entries[1].thumb_key, size).is_file()
    assert "corrupt" in entries[2].thumb_error.lower() or "truncated" in entries[2].thumb_error.lower()
    assert "not an image" in entries[3].thumb_error
    assert "404" in entries[4].thumb_error
    assert all(e.thumb_claimed_at is None for e in entries.values())


def test_each_file_is_downloaded_once_even_when_queued_twice(session, settings, images, client):
    _, ids = synced(session, images, ["good.jpg"] * 6)
    slots = DownloadSlots(name="once-test", limit=1)  # contention: threads must wait for the slot
    # Each thread has its own session, built by the same factory the jobs use.
    threads = [threading.Thread(target=lambda: make_thumbnails(session_factory(settings.database_url)(), ids,
                                                               client, settings.media_dir, slots))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([r for r in images.requests if r.path == "/img/good.jpg"]) == 6
    assert pending_entry_ids(session, session.get(Entry, ids[0]).contest_id) == []


def test_commons_unavailable_releases_the_entry_and_stops_for_a_retry(session, settings, images, client):
    _, ids = synced(session, images, ["down.jpg", "good.jpg"])
    with pytest.raises(CommonsUnavailable):
        make_thumbnails(session, ids, client, settings.media_dir, DownloadSlots())
    entry = session.get(Entry, ids[0], populate_existing=True)
    assert entry.thumb_state == THUMB_PENDING and entry.thumb_claimed_at is None
    assert pending_entry_ids(session, entry.contest_id) == ids  # both wait for the retry


def test_a_claim_is_exclusive_until_it_expires(session, images):
    _, ids = synced(session, images, ["good.jpg"])
    assert claim(session, ids[0]) is True
    assert claim(session, ids[0]) is False
    entry = session.get(Entry, ids[0])
    entry.thumb_claimed_at = utcnow().replace(year=2020)  # the job that held it died long ago
    session.commit()
    assert claim(session, ids[0]) is True


def test_an_entry_without_thumbnail_url_fails_clearly(session, settings, images, client):
    contest = make_contest(session)
    run = begin_sync(session, contest, "tester")
    session.commit()
    run_sync(session, run.id, ScriptedCommons({CATEGORY: [commons_file(1, thumb_url=None, mime="video/webm")]}))
    ids = pending_entry_ids(session, contest.id)
    make_thumbnails(session, ids, client, settings.media_dir, DownloadSlots())
    assert "no thumbnail URL" in session.get(Entry, ids[0], populate_existing=True).thumb_error
