"""The global-usage job: how often each entry's file is used on the wikis (for the statistics)."""

from __future__ import annotations

from wle.commons import GlobalUsageUnavailable
from wle.config import Settings
from wle.global_usage import fetch_global_usage, usage_due

from .context import commons_client, job_session, settings_or_env


def fetch_contest_global_usage(contest_id: int, settings: Settings | None = None) -> str:
    settings = settings_or_env(settings)
    with job_session(settings) as session:
        try:
            result = fetch_global_usage(session, commons_client(settings), usage_due(session, contest_id))
        except GlobalUsageUnavailable as error:
            # A wiki without the GlobalUsage extension (a test wiki): retrying cannot help.
            return f"contest {contest_id}: {error}"
    return f"contest {contest_id}: usage of {result.checked} files checked, {result.in_use} in use"
