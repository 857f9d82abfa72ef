"""The data, one module per idea: people, contests, entries, syncs."""

from .audit import AuditLog
from .base import Base, UTCDateTime, utcnow
from .contest import Contest, ContestCategory
from .entry import Entry, Uploader
from .people import ContestRole, User
from .jury import Round, RoundEntry, RoundJuror, Task, Winner, WinnersPage  # noqa: F401  (registers the tables)
from .rules import ContestRules, EntryCheck, EntryFingerprint, EntryReason, EntrySite, EntryWikitext, Site  # noqa: F401
from .statistics import EntryUsage, PreviouslyPicturedSite  # noqa: F401  (registers the tables)
from .sync import SyncRun

__all__ = [
    "Base", "UTCDateTime", "utcnow",
    "Contest", "ContestCategory", "ContestRole", "User",
    "Entry", "Uploader", "SyncRun", "AuditLog",
]
