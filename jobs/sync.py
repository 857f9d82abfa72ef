"""The sync job: walk a contest's categories, then queue its thumbnails, uploaders and global usage."""

from __future__ import annotations

from wle.commons import CommonsError
from wle.config import Settings
from wle.entry_media import pending_entry_ids
from wle.models.sync import DONE
from wle.sync import fail_sync, run_sync

from . import global_usage, thumbnails, uploaders, wikitext
from .context import commons_client, job_session, settings_or_env
from .runner import JobRunner

THUMBNAIL_CHUNK = 25  # entries per thumbnail job: small enough to retry cheaply
SYNC_TIMEOUT = 6 * 3600  # seconds: a 100k-file category takes a few hours at Commons' pace


def queue_sync(runner: JobRunner, run_id: int) -> str:
    """Queue the sync job of a recorded run; return the job's id."""
    return runner.enqueue(sync_contest, run_id, timeout=SYNC_TIMEOUT)


def sync_contest(run_id: int, settings: Settings | None = None) -> str:
    settings = settings_or_env(settings)
    runner = JobRunner(settings)
    with job_session(settings) as session:
        try:
            client = commons_client(settings)
        except CommonsError as error:
            fail_sync(session, run_id, str(error))
            return f"sync {run_id} failed: {error}"
        run = run_sync(session, run_id, client)
        if run.state != DONE:
            return f"sync {run_id} {run.state}: {run.error}"
        # Everything still pending, including leftovers of jobs that died, in one pass.
        queue_thumbnails(runner, run.contest_id, pending_entry_ids(session, run.contest_id))
        runner.enqueue(uploaders.fetch_contest_uploaders, run.contest_id, timeout=1800)
        # Statistics: how often each file is used on the wikis (counts younger than a day are kept).
        runner.enqueue(global_usage.fetch_contest_global_usage, run.contest_id, timeout=3600)
        # Contest rules: read the new and the flagged file pages (site IDs), then check every entry.
        runner.enqueue(wikitext.read_file_pages, run.contest_id, timeout=3600)
        return f"sync {run_id} done: {run.added} added, {run.updated} updated, {run.gone} gone"


def queue_thumbnails(runner: JobRunner, contest_id: int, entry_ids: list[int]) -> int:
    chunks = [entry_ids[i:i + THUMBNAIL_CHUNK] for i in range(0, len(entry_ids), THUMBNAIL_CHUNK)]
    for chunk in chunks:
        runner.enqueue(thumbnails.make_entry_thumbnails, contest_id, chunk, timeout=1800)
    return len(chunks)
