"""The file-page job: read the entries' file pages (for their site IDs), then check the contest's rules."""

from __future__ import annotations

from wle.config import Settings
from wle.eligibility import check_contest
from wle.models import Contest
from wle.sites import fetch_wikitext, wikitext_wanted

from .context import commons_client, job_session, settings_or_env


def read_file_pages(contest_id: int, everything: bool = False, settings: Settings | None = None) -> str:
    """Read the pages never read or flagged for their site ID (every page with ``everything``)."""
    settings = settings_or_env(settings)
    with job_session(settings) as session:
        contest = session.get(Contest, contest_id)
        if contest is None:
            return f"contest {contest_id} is gone"
        wanted = wikitext_wanted(session, contest_id, everything=everything)
        stored = fetch_wikitext(session, commons_client(settings), contest_id, wanted)
        report = check_contest(session, contest)
        session.commit()
    return (f"contest {contest_id}: {stored} file pages read; {report.failing} of {report.checked} entries "
            f"break a rule")
