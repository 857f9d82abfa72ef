"""The whole foundation against a real MediaWiki: the README's commands, then deletes and renames."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from PIL import Image
from sqlalchemy import select

from jobs.context import commons_client, download_slots
from wle.contests import ContestForm, create_contest
from wle.entry_media import make_thumbnails, pending_entry_ids
from wle.models import Entry, Uploader
from wle.models.entry import GONE_DELETED, GONE_LEFT_CATEGORY, THUMB_DONE
from wle.models.sync import DONE
from wle.sync import begin_sync, run_sync
from wle.thumbnails import thumbnail_path

from tests.mediawiki.wiki import REGISTRATIONS, UPLOADERS

WLE = str(Path(sys.executable).with_name("wle"))


def wle(settings, api_url, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "WLE_DATABASE_URL": settings.database_url, "WLE_MEDIA_DIR": settings.media_dir,
           "WLE_INSTANCE_DIR": settings.instance_dir, "WLE_COMMONS_API_URL": api_url,
           "WLE_CONTACT": settings.contact, "WLE_REDIS_URL": ""}
    return subprocess.run([WLE, *args], env=env, capture_output=True, text=True, timeout=600)


def iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_readme_commands_sync_the_category_with_metadata_and_thumbnails(settings, session, mediawiki, manifest):
    created = wle(settings, mediawiki.api_url, "contest", "create", "testland", "--name", "WLE 2025 Testland",
                  "--category", manifest.category, "--start", "2025-05-01", "--end", "2025-05-31")
    assert created.returncode == 0, created.stderr
    synced = wle(settings, mediawiki.api_url, "contest", "sync", "testland")
    assert synced.returncode == 0, synced.stderr + synced.stdout
    shown = json.loads(wle(settings, mediawiki.api_url, "contest", "show", "testland", "--json").stdout)

    assert shown["entries"] == len(manifest.files) == 55
    assert shown["entries_gone"] == 0
    assert shown["thumbnails"] == {"done": 55, "failed": 0, "pending": 0}
    assert shown["uploaders"] == len(UPLOADERS)
    last = shown["last_sync"]
    assert last["state"] == DONE and last["added"] == 55 and last["error"] is None
    # Listing 55 files with thumbnail URLs takes two requests (50 thumbnails a request) + the count.
    assert last["requests"] <= 3

    entries = {e.title: e for e in session.scalars(select(Entry))}
    assert set(entries) == {f.title for f in manifest.files}  # no subcategory file, no article
    for seeded in manifest.files:
        entry = entries[seeded.title]
        assert (entry.uploader, entry.width, entry.height, entry.sha1) == (
            seeded.uploader, seeded.width, seeded.height, seeded.sha1), seeded.title
        assert entry.uploaded_at == iso(seeded.uploaded_at), seeded.title
        assert entry.reuploaded == (seeded.reuploaded_by is not None)
        assert entry.mime == "image/jpeg"
        assert unquote(entry.page_url).endswith(entry.title.replace(" ", "_"))
        grid = thumbnail_path(settings.media_dir, entry.thumb_key, "grid")
        view = thumbnail_path(settings.media_dir, entry.thumb_key, "view")
        with Image.open(view) as image:
            # Portrait stays portrait: EXIF orientation was honoured on the way.
            assert (image.width > image.height) == (seeded.width > seeded.height), seeded.title
            assert max(image.size) <= 1280 and not image.info.get("exif")
        assert grid.is_file()

    uploaders = {u.name: u for u in session.scalars(select(Uploader))}
    for name in UPLOADERS:
        assert uploaders[name].registered_at == iso(REGISTRATIONS[name])
        assert uploaders[name].edit_count is not None


def sync_in_process(session, settings, contest):
    client = commons_client(settings)
    run = begin_sync(session, contest, "integration test")
    session.commit()
    run = run_sync(session, run.id, client)
    assert run.state == DONE, run.error
    make_thumbnails(session, pending_entry_ids(session, contest.id), client, settings.media_dir,
                    download_slots(settings))
    return run


def test_deleted_renamed_and_removed_files_are_marked(settings, session, mediawiki, fresh_category):
    files = mediawiki.add_files(4, fresh_category)
    settings = settings.__class__(**{**settings.__dict__, "commons_api_url": mediawiki.api_url})
    contest = create_contest(session, ContestForm(
        slug="marks", name="Marks", categories=[fresh_category], starts_at=datetime(2025, 1, 1),
        ends_at=datetime(2026, 12, 31)))
    session.commit()
    assert sync_in_process(session, settings, contest).added == 4

    deleted, renamed, removed, kept = files
    mediawiki.delete(deleted.title)
    new_title = renamed.title.replace("File:", "File:Renamed ")  # unique: the wiki is shared by the session
    mediawiki.rename(renamed.title, new_title)
    mediawiki.edit(removed.title, "A photo that left the contest.", user=removed.uploader, summary="out")
    mediawiki.run_jobs()

    again = sync_in_process(session, settings, contest)
    assert (again.added, again.gone) == (0, 2)
    entries = {e.pageid: e for e in session.scalars(select(Entry).where(Entry.contest_id == contest.id))}
    by_title = {e.title: e for e in entries.values()}
    assert by_title[deleted.title].gone_reason == GONE_DELETED
    assert by_title[removed.title].gone_reason == GONE_LEFT_CATEGORY
    moved = by_title[new_title]  # same page id, new title, still an entry
    assert moved.gone_at is None and moved.thumb_state == THUMB_DONE
    assert by_title[kept.title].gone_at is None
    assert len(entries) == 4  # nothing dropped
    third = sync_in_process(session, settings, contest)
    assert (third.added, third.updated, third.gone) == (0, 0, 0)
