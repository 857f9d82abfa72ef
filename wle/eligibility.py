"""Which entries may enter the contest: the rules run over a contest, their reasons stored, and an
organizer's decisions on top.

A check reads the stored data of every present entry in a few queries (the entries' columns,
their thumbnails' hashes, their file pages' site IDs, the site list), runs the enabled rules of
`wle.rules` in memory, and writes only what changed. It says what changed: which entries now
fail or pass, and how each reason's count moved. A preview runs the same over new settings and
writes nothing. An organizer's decision (disqualify, requalify) wins over the rules, and the
reasons stay visible beside it.

Entries enter the first round through ``eligible_entries_query(contest)``; an entry never checked
is not in it, so a check runs before a round is made (``check_contest``).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable

from flask_babel import gettext as _
from sqlalchemy import Select, Text, cast, delete, func, insert, select, update
from sqlalchemy.orm import Session

from . import rules
from .audit import record
from .models import Contest, Entry, User, utcnow
from .models.rules import (
    DISQUALIFIED, QUALIFIED, ContestRules, EntryCheck, EntryFingerprint, EntryReason, EntrySite, EntryWikitext,
)
from .perceptual_hash import PerceptualHashError, dhash_of_file, from_hex, to_hex
from .rules import EntryFacts, Reason, RuleSettings, UploadWindow
from .sites import known_site_ids, site_readings

log = logging.getLogger(__name__)

# What an organizer can decide about an entry, and the decision stored.
DECISION_ACTIONS = {"disqualify": DISQUALIFIED, "requalify": QUALIFIED, "clear": None}
MAX_NOTE_LENGTH = 2000
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WRITE_CHUNK = 500  # ids per IN (...) when writing


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message says why, for a person."""


@dataclass
class CheckReport:
    """What a check (or a preview) changes, compared with what was stored (or the current settings)."""

    checked: int = 0  # present entries checked
    failing: int = 0  # of them, breaking at least one rule
    first_checked: int = 0  # entries never checked before
    newly_failing: list[int] = field(default_factory=list)  # page ids that passed and now fail
    newly_passing: list[int] = field(default_factory=list)  # page ids that failed and now pass
    reasons: dict[str, tuple[int, int]] = field(default_factory=dict)  # code → (before, after)

    @property
    def changed(self) -> bool:
        return bool(self.first_checked or self.newly_failing or self.newly_passing
                    or any(before != after for before, after in self.reasons.values()))

    def as_dict(self) -> dict:
        return {
            "checked": self.checked, "failing": self.failing, "first_checked": self.first_checked,
            "newly_failing": self.newly_failing, "newly_passing": self.newly_passing,
            "reasons": {code: {"before": before, "after": after} for code, (before, after) in self.reasons.items()},
        }


# --- Settings -------------------------------------------------------------------------------


def load_settings(session: Session, contest: Contest) -> RuleSettings:
    row = session.get(ContestRules, contest.id)
    return RuleSettings.from_json(row.settings if row else None, contest.min_megapixels)


def save_settings(session: Session, contest: Contest, settings: RuleSettings, actor) -> CheckReport:
    """Validate and store new settings (audited), then check every entry with them.

    Raises ``rules.RuleSettingsError`` naming every problem; nothing is written then.
    """
    settings = rules.validate_settings(settings)
    before = load_settings(session, contest)
    row = _rules_row(session, contest)
    row.settings, row.updated_at = settings.to_json(), utcnow()
    contest.min_megapixels = settings.min_megapixels
    record(session, actor, "rules.update", contest_id=contest.id,
           before=_settings_record(before), after=_settings_record(settings))
    return check_contest(session, contest, settings)


def _settings_record(settings: RuleSettings) -> dict:
    return {**settings.to_json(), "min_megapixels": settings.min_megapixels}


def _rules_row(session: Session, contest: Contest) -> ContestRules:
    """The contest's settings row, locked for this transaction, so that two checks take turns."""
    row = session.scalar(select(ContestRules).where(ContestRules.contest_id == contest.id).with_for_update())
    if row is None:
        row = ContestRules(contest_id=contest.id, settings={})
        session.add(row)
        session.flush()
    return row


def preview_settings(session: Session, contest: Contest, settings: RuleSettings) -> CheckReport:
    """What the new settings would change, compared with the current ones; nothing is written.

    The entries are read once and judged twice; only a new ID template or pattern makes the
    stored file pages be read again (in memory).
    """
    settings = rules.validate_settings(settings)
    current = load_settings(session, contest)
    facts = load_facts(session, contest, current, save_readings=False)
    proposed_facts = facts
    if settings.site_reading_key != current.site_reading_key:
        readings = site_readings(session, contest.id, settings, save=False) if settings.site_template else {}
        proposed_facts = [replace(entry, site_reading=readings.get(entry.id)) for entry in facts]
    window = UploadWindow(contest.starts_at, contest.ends_at)
    before = _results(find_reasons(facts, current, window, _known_ids(session, contest, current)))
    after = _results(find_reasons(proposed_facts, settings, window, _known_ids(session, contest, settings)))
    return _compare(before, after, after.keys(), pageids=_pageids(session, contest))


# --- Checking -------------------------------------------------------------------------------


def check_contest(session: Session, contest: Contest, settings: RuleSettings | None = None) -> CheckReport:
    """Run the rules over every present entry, store what changed, and report it. Not committed."""
    row = _rules_row(session, contest)
    settings = settings or RuleSettings.from_json(row.settings, contest.min_megapixels)
    computed = _results(find_reasons_in(session, contest, settings, save_readings=True))
    stored_checks = {entry_id: (rules_eligible, decision) for entry_id, rules_eligible, decision in session.execute(
        select(EntryCheck.entry_id, EntryCheck.rules_eligible, EntryCheck.decision)
        .where(EntryCheck.contest_id == contest.id))}
    # The stored details are compared as the JSON text SQLAlchemy wrote (json.dumps): decoding
    # 100,000 of them would cost more than the rules. Text written otherwise is only rewritten once.
    stored = {entry_id: {} for entry_id in stored_checks}
    for entry_id, code, detail in session.execute(
        select(EntryReason.entry_id, EntryReason.code, cast(EntryReason.detail, Text))
        .where(EntryReason.contest_id == contest.id)
    ):
        stored.setdefault(entry_id, {})[code] = detail
    report = _compare(stored, computed, computed.keys(), pageids=_pageids(session, contest))
    _write(session, contest, computed, stored, stored_checks)
    row.checked_at = utcnow()
    session.flush()
    return report


def find_reasons_in(session: Session, contest: Contest, settings: RuleSettings, *, save_readings: bool
                    ) -> dict[int, list[Reason]]:
    """Every present entry's reasons under the settings (entry id → reasons, [] when it passes)."""
    facts = load_facts(session, contest, settings, save_readings=save_readings)
    window = UploadWindow(contest.starts_at, contest.ends_at)
    return find_reasons(facts, settings, window, _known_ids(session, contest, settings))


def _known_ids(session: Session, contest: Contest, settings: RuleSettings) -> frozenset[str] | None:
    return known_site_ids(session, contest.id) if settings.on(rules.SITE_ID) else None


def find_reasons(facts: list[EntryFacts], settings: RuleSettings, window: UploadWindow,
                 known_ids: frozenset[str] | None) -> dict[int, list[Reason]]:
    """The enabled rules over plain entry data: entry id → every failing reason, in code order."""
    checks: list[Callable[[EntryFacts], Reason | None]] = []
    if settings.on(rules.WINDOW):
        checks.append(partial(rules.in_window, window=window))
    if settings.on(rules.MIN_SIZE):
        checks.append(partial(rules.large_enough, min_megapixels=settings.min_megapixels))
    if settings.on(rules.FILE_TYPES):
        checks.append(partial(rules.allowed_file_type, file_types=frozenset(t.lower() for t in settings.file_types)))
    if settings.on(rules.LICENCES):
        checks.append(partial(rules.free_licence,
                              licences=frozenset(rules.normal_licence(name) for name in settings.licences)))
    if settings.on(rules.OWN_WORK):
        checks.append(rules.own_work)
    if settings.on(rules.SITE_ID):
        checks.append(partial(rules.known_site, known_ids=known_ids))
    found = {entry.id: [reason for check in checks if (reason := check(entry)) is not None] for entry in facts}
    if settings.on(rules.DUPLICATES):
        for entry_id, reason in rules.exact_duplicates(facts).items():
            found[entry_id].append(reason)
    if settings.on(rules.NEAR_DUPLICATES):
        for entry_id, reason in rules.near_duplicates(facts, settings.near_duplicate_distance).items():
            found[entry_id].append(reason)
    return found


def load_facts(session: Session, contest: Contest, settings: RuleSettings, *, save_readings: bool
               ) -> list[EntryFacts]:
    """The rules' view of every present entry, in three queries whatever the contest's size."""
    readings = site_readings(session, contest.id, settings, save=save_readings) if settings.site_template else {}
    hashes = dict(session.execute(
        select(EntryFingerprint.entry_id, EntryFingerprint.perceptual_hash)
        .where(EntryFingerprint.contest_id == contest.id)
    ).all())
    rows = session.execute(
        select(Entry.id, Entry.pageid, Entry.title, Entry.uploader, Entry.uploaded_at, Entry.width, Entry.height,
               Entry.mime, Entry.sha1, Entry.license, Entry.credit, Entry.artist_user)
        .where(Entry.contest_id == contest.id, Entry.gone_at.is_(None))
    )
    facts = []
    for row in rows:
        fingerprint = hashes.get(row.id)
        facts.append(EntryFacts(*row, perceptual_hash=from_hex(fingerprint) if fingerprint else None,
                                site_reading=readings.get(row.id)))
    return facts


def _results(found: dict[int, list[Reason]]) -> dict[int, dict[str, dict]]:
    """Reasons as stored: entry id → {code: detail}."""
    return {entry_id: {reason.code: reason.detail for reason in reasons} for entry_id, reasons in found.items()}


def _pageids(session: Session, contest: Contest) -> Callable[[list[int]], list[int]]:
    def pageids_of(entry_ids: list[int]) -> list[int]:
        found: list[int] = []
        for start in range(0, len(entry_ids), WRITE_CHUNK):
            found += session.scalars(select(Entry.pageid).where(Entry.id.in_(entry_ids[start:start + WRITE_CHUNK])))
        return sorted(found)

    return pageids_of


def _compare(before: dict[int, dict], after: dict[int, dict], entry_ids, *, pageids) -> CheckReport:
    report = CheckReport(checked=len(after), failing=sum(1 for reasons in after.values() if reasons))
    newly_failing, newly_passing = [], []
    counts_before: Counter = Counter()
    counts_after: Counter = Counter()
    for entry_id in entry_ids:
        now = after[entry_id]
        counts_after.update(now.keys())
        if entry_id not in before:
            report.first_checked += 1
            continue
        then = before[entry_id]
        counts_before.update(then.keys())
        if then and not now:
            newly_passing.append(entry_id)
        elif now and not then:
            newly_failing.append(entry_id)
    report.newly_failing, report.newly_passing = pageids(newly_failing), pageids(newly_passing)
    report.reasons = {code: (counts_before[code], counts_after[code])
                      for code in rules.REASON_CODES if counts_before[code] or counts_after[code]}
    return report


def _write(session: Session, contest: Contest, computed: dict[int, dict], stored: dict[int, dict[str, str]],
           stored_checks: dict[int, tuple[bool, str | None]]) -> None:
    """Store the entries whose reasons changed, in bulk: a re-check that changes nothing writes nothing."""
    now = utcnow()
    new_checks, changed_checks, changed_reasons = [], [], []
    for entry_id, reasons in computed.items():
        rules_eligible = not reasons
        if entry_id not in stored_checks:
            new_checks.append({"entry_id": entry_id, "contest_id": contest.id, "rules_eligible": rules_eligible,
                               "eligible": rules_eligible, "checked_at": now})
        else:
            was_eligible, decision = stored_checks[entry_id]
            if was_eligible != rules_eligible:
                changed_checks.append({"entry_id": entry_id, "rules_eligible": rules_eligible, "checked_at": now,
                                       "eligible": _outcome(rules_eligible, decision)})
        if {code: json.dumps(detail) for code, detail in reasons.items()} != stored.get(entry_id, {}):
            changed_reasons.append(entry_id)
    if new_checks:
        session.execute(insert(EntryCheck), new_checks)
    if changed_checks:
        session.execute(update(EntryCheck), changed_checks)
    for start in range(0, len(changed_reasons), WRITE_CHUNK):
        chunk = changed_reasons[start:start + WRITE_CHUNK]
        session.execute(delete(EntryReason).where(EntryReason.entry_id.in_(chunk)))
        values = [{"entry_id": entry_id, "code": code, "contest_id": contest.id, "detail": detail}
                  for entry_id in chunk for code, detail in computed[entry_id].items()]
        if values:
            session.execute(insert(EntryReason), values)


def _outcome(rules_eligible: bool, decision: str | None) -> bool:
    if decision == DISQUALIFIED:
        return False
    if decision == QUALIFIED:
        return True
    return rules_eligible


# --- Decisions ------------------------------------------------------------------------------


def decide(session: Session, contest: Contest, pageid: int, action: str, note: str, actor) -> EntryCheck:
    """Disqualify or requalify an entry by hand (or ``clear`` the decision), with a note; audited.

    Not committed. Raises DecisionError for an unknown action, a missing note, an unknown entry.
    """
    if action not in DECISION_ACTIONS:
        raise DecisionError(_("Unknown action %(action)s: disqualify, requalify or clear.", action=str(action)[:40]))
    note = (note or "").strip()
    if not note:
        raise DecisionError(_("Write a note saying why: the other organizers will read it."))
    if len(note) > MAX_NOTE_LENGTH or CONTROL_CHARACTERS.search(note):
        raise DecisionError(_("The note must be plain text of at most %(n)d characters.", n=MAX_NOTE_LENGTH))
    entry = session.scalar(select(Entry).where(Entry.contest_id == contest.id, Entry.pageid == pageid))
    if entry is None:
        raise DecisionError(_("This contest has no entry with the page id %(pageid)s.", pageid=pageid))
    if entry.gone_at is not None:
        raise DecisionError(_("This file is no longer in the contest (deleted or out of its categories)."))
    check = session.get(EntryCheck, entry.id)
    if check is None:  # a new entry, not checked yet: check them all, duplicates need every entry
        check_contest(session, contest)
        check = session.get(EntryCheck, entry.id)
    before = check.decision
    check.decision = DECISION_ACTIONS[action]
    check.decision_note = note if check.decision else None
    check.decided_by = _name(actor) if check.decision else None
    check.decided_at = utcnow() if check.decision else None
    check.eligible = _outcome(check.rules_eligible, check.decision)
    reasons = list(session.scalars(select(EntryReason.code).where(EntryReason.entry_id == entry.id)))
    record(session, actor, f"entry.{action}", contest_id=contest.id, pageid=entry.pageid, title=entry.title,
           note=note, reasons=sorted(reasons), decision_before=before, eligible=check.eligible)
    session.flush()
    return check


def _name(actor) -> str:
    return actor.username if isinstance(actor, User) else str(actor or "system")


# --- What others read -----------------------------------------------------------------------


def eligible_entries_query(contest: Contest) -> Select[tuple[Entry]]:
    """The contest's present entries that are eligible (rules and decisions), as a select of Entry.

    An entry never checked is left out: run ``check_contest`` first to include the newest ones.
    """
    return (
        select(Entry)
        .join(EntryCheck, EntryCheck.entry_id == Entry.id)
        .where(Entry.contest_id == contest.id, Entry.gone_at.is_(None), EntryCheck.eligible.is_(True))
    )


def entry_results(session: Session, contest: Contest) -> list[dict]:
    """Every entry with its eligibility and reason codes: what ``wle contest entries --json`` prints."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for entry_id, code in session.execute(
        select(EntryReason.entry_id, EntryReason.code).where(EntryReason.contest_id == contest.id)
    ):
        reasons[entry_id].append(code)
    order = {code: index for index, code in enumerate(rules.REASON_CODES)}
    rows = session.execute(
        select(Entry.id, Entry.pageid, Entry.title, Entry.uploader, Entry.gone_reason, Entry.gone_at,
               EntryCheck.eligible, EntryCheck.decision, EntryCheck.decision_note)
        .outerjoin(EntryCheck, EntryCheck.entry_id == Entry.id)
        .where(Entry.contest_id == contest.id)
        .order_by(Entry.uploaded_at, Entry.id)
    )
    return [
        {
            "pageid": row.pageid, "title": row.title, "uploader": row.uploader,
            "eligible": bool(row.eligible) and row.gone_at is None,
            "reasons": sorted(reasons.get(row.id, []), key=order.__getitem__),
            "decision": row.decision, "note": row.decision_note,
            "gone": row.gone_reason if row.gone_at is not None else None,
        }
        for row in rows
    ]


def reason_counts(session: Session, contest: Contest) -> dict[str, int]:
    """How many present entries each reason flags."""
    rows = session.execute(
        select(EntryReason.code, func.count())
        .join(Entry, Entry.id == EntryReason.entry_id)
        .where(EntryReason.contest_id == contest.id, Entry.gone_at.is_(None))
        .group_by(EntryReason.code)
    )
    counts = dict(rows.all())
    return {code: counts[code] for code in rules.REASON_CODES if counts.get(code)}


@dataclass(frozen=True)
class CheckState:
    """How complete the last check's data is, for the review page."""

    checked_at: object  # datetime | None
    entries: int
    unchecked: int  # present entries the rules have not seen yet
    without_hash: int  # no thumbnail hash yet: near-duplicates cannot be found for them
    without_wikitext: int  # file page not read yet: no site ID known
    eligible: int
    flagged: int  # breaking at least one rule (decisions aside)
    decided: int


def check_state(session: Session, contest: Contest) -> CheckState:
    present = (Entry.contest_id == contest.id, Entry.gone_at.is_(None))

    def count_without(model) -> int:
        return session.scalar(select(func.count()).select_from(Entry).outerjoin(
            model, model.entry_id == Entry.id).where(*present, model.entry_id.is_(None)))

    counts = session.execute(
        select(func.count(), func.count(EntryCheck.entry_id),
               func.count(EntryCheck.entry_id).filter(EntryCheck.eligible.is_(True)),
               func.count(EntryCheck.entry_id).filter(EntryCheck.rules_eligible.is_(False)),
               func.count(EntryCheck.decision))
        .select_from(Entry).outerjoin(EntryCheck, EntryCheck.entry_id == Entry.id).where(*present)
    ).one()
    row = session.get(ContestRules, contest.id)
    return CheckState(
        checked_at=row.checked_at if row else None,
        entries=counts[0], unchecked=counts[0] - counts[1], eligible=counts[2], flagged=counts[3], decided=counts[4],
        without_hash=count_without(EntryFingerprint),
        without_wikitext=count_without(EntryWikitext),
    )


@dataclass(frozen=True)
class FlaggedEntry:
    entry: Entry
    check: EntryCheck
    reasons: dict[str, dict]  # code → detail, in code order
    site_ids: tuple[str, ...]


def flagged_entries(session: Session, contest: Contest, code: str | None, *, after_id: int | None = None,
                    size: int = 30) -> list[FlaggedEntry]:
    """Present entries flagged with ``code`` (any reason, or decided by hand, when None), by entry id."""
    query = (select(Entry, EntryCheck).join(EntryCheck, EntryCheck.entry_id == Entry.id)
             .where(Entry.contest_id == contest.id, Entry.gone_at.is_(None)))
    if code == "decided":
        query = query.where(EntryCheck.decision.is_not(None))
    elif code:
        query = query.where(Entry.id.in_(select(EntryReason.entry_id).where(
            EntryReason.contest_id == contest.id, EntryReason.code == code)))
    else:
        query = query.where(EntryCheck.rules_eligible.is_(False))
    if after_id:
        query = query.where(Entry.id > after_id)
    pairs = session.execute(query.order_by(Entry.id).limit(size)).all()
    ids = [entry.id for entry, _check in pairs]
    reasons: dict[int, dict[str, dict]] = defaultdict(dict)
    for entry_id, reason_code, detail in session.execute(
        select(EntryReason.entry_id, EntryReason.code, EntryReason.detail).where(EntryReason.entry_id.in_(ids))
    ):
        reasons[entry_id][reason_code] = detail
    sites: dict[int, list[str]] = defaultdict(list)
    for entry_id, site_id in session.execute(
        select(EntrySite.entry_id, EntrySite.site_id).where(EntrySite.entry_id.in_(ids)).order_by(EntrySite.site_id)
    ):
        sites[entry_id].append(site_id)
    order = rules.REASON_CODES
    return [
        FlaggedEntry(entry, check, {c: reasons[entry.id][c] for c in order if c in reasons[entry.id]},
                     tuple(sites[entry.id]))
        for entry, check in pairs
    ]


# --- The thumbnail's perceptual hash ---------------------------------------------------------


def remember_perceptual_hash(session: Session, entry: Entry, grid_path: str | Path) -> None:
    """Hash the entry's grid thumbnail and store it (not committed). A thumbnail that cannot be
    read only leaves the entry without a hash: the near-duplicate rule then skips it."""
    try:
        value = to_hex(dhash_of_file(grid_path))
    except PerceptualHashError as error:
        log.warning("no perceptual hash for entry %s: %s", entry.id, error)
        return
    fingerprint = session.get(EntryFingerprint, entry.id)
    if fingerprint is None:
        session.add(EntryFingerprint(entry_id=entry.id, contest_id=entry.contest_id, perceptual_hash=value))
    else:
        fingerprint.perceptual_hash, fingerprint.made_at = value, utcnow()

