"""Recording changes made by organizers and admins, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditLog, User


def record(session: Session, actor: User | str | None, action: str, *, contest_id: int | None = None,
           **details) -> AuditLog:
    """Add an audit line to the session; it commits (or rolls back) with the change it describes.

    ``actor`` is the user who acted, or a plain name for the command line ("cli:root").
    ``details`` must be JSON-serializable: ids, names, old and new values.
    """
    if isinstance(actor, User):
        line = AuditLog(actor_id=actor.id, actor_name=actor.username, action=action, contest_id=contest_id,
                        details=details)
    else:
        line = AuditLog(actor_name=actor or "system", action=action, contest_id=contest_id, details=details)
    session.add(line)
    return line


def contest_log(session: Session, contest_id: int, limit: int = 200, before_id: int | None = None) -> list[AuditLog]:
    """A contest's audit lines, newest first, paged by id."""
    query = select(AuditLog).where(AuditLog.contest_id == contest_id)
    if before_id is not None:
        query = query.where(AuditLog.id < before_id)
    return list(session.scalars(query.order_by(AuditLog.id.desc()).limit(limit)))
