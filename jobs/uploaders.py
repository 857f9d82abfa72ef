"""The uploaders job: registration date and edit count of a contest's uploaders."""

from __future__ import annotations

from wle.config import Settings
from wle.uploaders import fetch_uploaders, names_to_fetch

from .context import commons_client, job_session, settings_or_env


def fetch_contest_uploaders(contest_id: int, settings: Settings | None = None) -> str:
    settings = settings_or_env(settings)
    with job_session(settings) as session:
        stored = fetch_uploaders(session, commons_client(settings), names_to_fetch(session, contest_id))
    return f"contest {contest_id}: {stored} uploaders fetched"
