"""The thumbnail job: download each entry's file once and write its local sizes."""

from __future__ import annotations

from rq import get_current_job

from wle.config import Settings
from wle.entry_media import make_thumbnails

from .context import commons_client, download_slots, job_session, settings_or_env


def make_entry_thumbnails(contest_id: int, entry_ids: list[int], settings: Settings | None = None) -> str:
    settings = settings_or_env(settings)
    job = get_current_job()  # None in-process; under RQ, a retry of this job keeps its id
    with job_session(settings) as session:
        counts = make_thumbnails(
            session, entry_ids, commons_client(settings), settings.media_dir, download_slots(settings),
            holder=job.id if job else None,
        )
    return f"contest {contest_id}: " + ", ".join(f"{n} {state}" for state, n in counts.items())
