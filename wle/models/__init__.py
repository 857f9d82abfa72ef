"""The data, one module per idea: people, contests, entries, syncs."""

from .audit import AuditLog
from .base import Base, UTCDateTime, utcnow
from .contest import Contest, ContestCategory
from .entry import Entry, Uploader
from .people import ContestRole, User
from .sync import SyncRun

__all__ = [
    "Base", "UTCDateTime", "utcnow",
    "Contest", "ContestCategory", "ContestRole", "User",
    "Entry", "Uploader", "SyncRun", "AuditLog",
]
