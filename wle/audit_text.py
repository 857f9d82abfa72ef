"""The audit log in words: each action as a translated sentence, its details as readable lines.

The log stores codes and plain values (``round.quorum``, ``before: 2``); people read "Changed the
quorum of round 1 from 2 to 3." An action this module does not know yet (a newer version wrote it)
still shows, as its code with its details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditLog, Entry

# Each action's sentence; its placeholders are taken from the line's details (and not repeated below it).
SENTENCES = {
    "admin.add": _l("Made %(user)s a site admin."),
    "admin.remove": _l("Removed %(user)s from the site admins."),
    "contest.create": _l("Created the contest “%(name)s”."),
    "contest.update": _l("Changed the contest's settings."),
    "contest.sync_interval": _l("Changed how often the contest is synced on its own."),
    "organizer.add": _l("Made %(user)s an organizer of the contest."),
    "organizer.remove": _l("Removed %(user)s from the organizers of the contest."),
    "sync.start": _l("Started a sync with Commons."),
    "rules.update": _l("Changed the contest's rules; every entry was checked again."),
    "sites.import": _l("Imported the list of protected sites."),
    "statistics.previously_pictured": _l("Replaced the list of sites pictured in earlier years."),
    "entry.disqualify": _l("Disqualified “%(file)s” by hand."),
    "entry.requalify": _l("Requalified “%(file)s” by hand."),
    "entry.clear": _l("Cleared the decision on “%(file)s”: the rules decide again."),
    "round.create": _l("Created round %(round)s."),
    "round.update": _l("Changed the settings of round %(round)s."),
    "round.jurors": _l("Changed the jurors of round %(round)s."),
    "round.juror_add": _l("Added %(juror)s to the jurors of round %(round)s."),
    "round.juror_remove": _l("Removed %(juror)s from the jurors of round %(round)s."),
    "round.quorum": _l("Changed the quorum of round %(round)s."),
    "round.open": _l("Opened round %(round)s."),
    "round.close": _l("Closed round %(round)s."),
    "winners.set": _l("Saved the winners list."),
    "winners.publish": _l("Published the public winners page."),
    "winners.unpublish": _l("Took the public winners page down."),
}

# What a detail is, in words. Keys not listed show as they are stored.
LABELS = {
    "before": _l("Before"), "after": _l("After"), "note": _l("Note"), "reasons": _l("Broken rules"),
    "eligible": _l("Eligible now"), "decision_before": _l("Decision before"), "kind": _l("Kind"),
    "quorum": _l("Quorum"), "rank_top": _l("Places each juror ranks"), "selection": _l("Entries from"),
    "added": _l("Added"), "removed": _l("Removed"), "updated": _l("Updated"), "unchanged": _l("Unchanged"),
    "not_in_file": _l("Not in the file"), "bad_rows": _l("Rows with errors"),
    "tasks_created": _l("Tasks created"), "tasks_deleted": _l("Tasks deleted"), "jurors": _l("Jurors"),
    "entries": _l("Entries"), "tasks": _l("Tasks"), "unvoted_tasks": _l("Tasks without a vote"),
    "entries_below_quorum": _l("Entries below the quorum"), "categories": _l("Commons categories"),
    "slug": _l("Slug"), "name": _l("Name"), "user": _l("User"), "juror": _l("Juror"), "title": _l("File"), "file": _l("File"),
    "pageid": _l("Commons page id"), "sync_run_id": _l("Sync number"), "round": _l("Round"),
}
# Details that only help a program (ids) or repeat the sentence.
HIDDEN = {"user_id", "pageid", "sync_run_id", "title", "slug"}
NOTHING = "—"


@dataclass(frozen=True)
class Described:
    line: AuditLog
    sentence: str
    details: list[tuple[str, str]]


# Words for a detail's stored value, given by the layer that has them (a round's kind, its selection).
Wording = dict[str, Callable[[object], str]]


def describe_lines(session: Session, lines: list[AuditLog], wording: Wording | None = None) -> list[Described]:
    """The lines in words; the entries a winners list names are looked up once for all lines."""
    ids = {pair[1] for line in lines if line.action == "winners.set" for key in ("before", "after")
           for pair in (line.details or {}).get(key) or [] if isinstance(pair, list) and len(pair) == 2}
    files = {}
    if ids:
        files = {entry_id: title.split(":", 1)[-1] for entry_id, title in session.execute(
            select(Entry.id, Entry.title).where(Entry.id.in_([i for i in ids if isinstance(i, int)])))}
    return [describe(line, files, wording) for line in lines]


def describe(line: AuditLog, files: dict[int, str] | None = None, wording: Wording | None = None) -> Described:
    details = dict(line.details or {})
    if "title" in details and "file" not in details:
        details["file"] = str(details["title"]).split(":", 1)[-1]
    template = SENTENCES.get(line.action)
    used: set[str] = set()
    if template is None:
        sentence = line.action
    else:
        text = str(template)
        used = {key for key in details if f"%({key})s" in text}
        try:
            sentence = text % {key: _value(details[key]) for key in used}
        except (KeyError, TypeError, ValueError):  # a line written before its details had these keys
            sentence, used = line.action, set()
    shown = []
    if line.action == "winners.set":
        for key in ("before", "after"):
            shown.append((str(LABELS[key]), _winners(details.pop(key, None), files or {})))
    elif isinstance(details.get("before"), dict) and isinstance(details.get("after"), dict):
        shown += _changes(details.pop("before"), details.pop("after"))
    for key, value in details.items():
        if key in used or key in HIDDEN or value is None:  # None: a setting that does not apply
            continue
        words = (wording or {}).get(key)
        shown.append((str(LABELS.get(key, key)), words(value) if words and value is not None else _value(value)))
    return Described(line, sentence, shown)


def _changes(before: dict, after: dict) -> list[tuple[str, str]]:
    """Only what changed: "Quorum: 2 → 3"."""
    return [(str(LABELS.get(key, key)), f"{_value(before.get(key))} → {_value(after.get(key))}")
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]


def _winners(pairs, files: dict[int, str]) -> str:
    if not pairs:
        return NOTHING
    def name(entry_id) -> str:
        return files.get(entry_id) or _("entry no. %(id)s", id=entry_id)

    return "; ".join(f"{place}. {name(entry_id)}" for place, entry_id in pairs)


def _value(value) -> str:
    """A stored value as people read it: no None, True, brackets or quotes."""
    if value is None or value == "" or value == []:
        return NOTHING
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{LABELS.get(k, k)}: {_value(v)}" for k, v in value.items())
    return str(value)
