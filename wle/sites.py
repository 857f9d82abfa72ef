"""Protected sites: the contest's national list (imported from CSV), and which sites each entry
shows (read from its file page's ID template).

The CSV import takes what it can and reports the rest: each bad row with its line number and
why, so the organizer can fix the file and import it again (an import updates the sites it
knows by ID and adds the new ones; it never deletes). Only a file that cannot be read at all
(no header, a required column missing, not text) is refused as a whole, with `SiteListError`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from .audit import record
from .commons import CommonsClient, IDS_PER_REQUEST
from .models import Contest, Entry, utcnow
from .models.rules import EntryReason, EntrySite, EntryWikitext, Site
from .rules import MAX_ID_LENGTH, SITE_ID_MISSING, SITE_ID_UNKNOWN, RuleSettings, SiteReading, read_site_ids

MAX_SITES = 100_000
MAX_REPORTED_ROWS = 1000  # a file of bad rows is reported in full up to here, then counted
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WIKIDATA_ITEM = re.compile(r"(?:^|/)(Q[1-9][0-9]{0,11})$", re.IGNORECASE)

# Header names people use for each column (compared without case, "_" read as a space).
COLUMNS = {
    "site_id": ("id", "site id", "code", "site code"),
    "name": ("name", "title", "название", "атауы"),
    "region": ("region", "регион", "область", "облыс"),
    "latitude": ("lat", "latitude", "широта"),
    "longitude": ("lon", "lng", "long", "longitude", "долгота"),
    "wikidata": ("wikidata", "wikidata item", "wikidata id", "item", "qid"),
}
REQUIRED = ("site_id", "name", "region")


class SiteListError(ValueError):
    """The file cannot be read as a site list at all; the message says why, for a person."""


@dataclass(frozen=True)
class BadRow:
    line: int  # the line of the file where the row starts, counting the header as 1
    reason: str  # for people


@dataclass(frozen=True)
class SiteRow:
    line: int
    site_id: str
    name: str
    region: str
    latitude: float | None
    longitude: float | None
    wikidata: str | None


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    not_in_file: int = 0  # sites of the list this file did not name: kept
    bad_rows: list[BadRow] = field(default_factory=list)
    bad_rows_not_shown: int = 0

    @property
    def imported(self) -> int:
        return self.added + self.updated + self.unchanged

    def as_dict(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "not_in_file": self.not_in_file,
            "bad_rows": [{"line": bad.line, "reason": bad.reason} for bad in self.bad_rows],
            "bad_rows_not_shown": self.bad_rows_not_shown,
        }


# --- Reading the CSV --------------------------------------------------------------------------


def parse_site_list(data: bytes) -> tuple[list[SiteRow], list[BadRow]]:
    """The good rows and the bad ones of a CSV file (UTF-8, comma, semicolon or tab separated)."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise SiteListError(_("The first line cannot be read as CSV: %(error)s.", error=str(error))) from None
    if not header or not any(cell.strip() for cell in header):
        raise SiteListError(_("The file is empty: the first line must name the columns (ID, name, region…)."))
    if _has_bad_bytes(header):
        raise SiteListError(_("The file is not UTF-8 text. Save it as “CSV UTF-8” and import it again."))
    positions = _column_positions(header)
    rows: list[SiteRow] = []
    bad: list[BadRow] = []
    first_line: dict[str, int] = {}
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            bad.append(BadRow(line, _("cannot be read as CSV: %(error)s", error=str(error))))
            break  # the reader cannot go on after this
        if any(cell.strip() for cell in cells):
            row = _site_row(line, cells, len(header), positions)
            if isinstance(row, BadRow):
                bad.append(row)
            elif row.site_id in first_line:
                bad.append(BadRow(line, _("the ID %(id)s is on line %(first)d already",
                                          id=row.site_id, first=first_line[row.site_id])))
            else:
                first_line[row.site_id] = line
                rows.append(row)
        line = reader.line_num + 1
        if len(rows) > MAX_SITES:
            raise SiteListError(_("The file has more than %(n)d sites; split it.", n=MAX_SITES))
    return rows, bad


def _decode(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes); bytes that are not UTF-8 are kept as escapes,
    so that the rows holding them can be reported one by one."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SiteListError(_("The file is UTF-16 text. Save it as “CSV UTF-8” and import it again."))
    return data.decode("utf-8", errors="surrogateescape")


def _has_bad_bytes(cells: Iterable[str]) -> bool:
    return any(any("\udc80" <= ch <= "\udcff" for ch in cell) for cell in cells)


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    first_line = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _column_positions(header: list[str]) -> dict[str, int]:
    names = [" ".join(cell.replace("_", " ").split()).casefold() for cell in header]
    positions = {}
    for column, aliases in COLUMNS.items():
        for index, name in enumerate(names):
            if name in aliases:
                positions.setdefault(column, index)
    missing = [column for column in REQUIRED if column not in positions]
    if missing:
        raise SiteListError(_(
            "The first line must name the columns; missing: %(missing)s. Found: %(found)s. "
            "Expected names: ID, name, region, and optionally lat, lon, wikidata.",
            missing=", ".join(COLUMNS[column][0] for column in missing),
            found=", ".join(cell.strip() for cell in header if cell.strip())[:300],
        ))
    if ("latitude" in positions) != ("longitude" in positions):
        raise SiteListError(_("The file has a latitude column without a longitude column, or the reverse."))
    return positions


def _site_row(line: int, cells: list[str], width: int, positions: dict[str, int]) -> SiteRow | BadRow:
    if _has_bad_bytes(cells):
        return BadRow(line, _("not UTF-8 text (save the file as “CSV UTF-8”)"))
    if any(CONTROL_CHARACTERS.search(cell) for cell in cells):
        return BadRow(line, _("contains control characters"))
    if len(cells) > width:
        return BadRow(line, _("has %(found)d fields but the header names %(expected)d (a comma in a name "
                              "needs quotes)", found=len(cells), expected=width))

    def cell(column: str) -> str | None:
        index = positions.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else None

    site_id, name, region = cell("site_id"), cell("name"), cell("region")
    if site_id is None or name is None or region is None:
        return BadRow(line, _("has %(found)d fields but the header names %(expected)d",
                              found=len(cells), expected=width))
    if not site_id:
        return BadRow(line, _("has no ID"))
    if len(site_id) > MAX_ID_LENGTH:
        return BadRow(line, _("the ID is longer than %(n)d characters", n=MAX_ID_LENGTH))
    if not name:
        return BadRow(line, _("has no name"))
    if len(name) > 500 or len(region) > 255:
        return BadRow(line, _("the name (500 characters at most) or the region (255) is too long"))
    coordinates = _coordinates(cell("latitude") or "", cell("longitude") or "")
    if isinstance(coordinates, str):
        return BadRow(line, coordinates)
    wikidata = cell("wikidata") or ""
    item = WIKIDATA_ITEM.search(wikidata)
    if wikidata and not item:
        return BadRow(line, _("%(value)s is not a Wikidata item such as Q123", value=wikidata[:100]))
    return SiteRow(line, site_id, name, region, *coordinates, item.group(1).upper() if item else None)


def _coordinates(latitude: str, longitude: str) -> tuple[float | None, float | None] | str:
    """Both or neither; a decimal comma is accepted. A string is the problem, for people."""
    if not latitude and not longitude:
        return None, None
    if not latitude or not longitude:
        return _("has a latitude without a longitude, or the reverse")
    values = []
    for text, limit in ((latitude, 90), (longitude, 180)):
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            return _("%(value)s is not a coordinate in degrees such as 43.25", value=text[:50])
        if not math.isfinite(value) or not -limit <= value <= limit:
            return _("the coordinate %(value)s is outside −%(limit)d…%(limit)d", value=text[:50], limit=limit)
        values.append(value)
    return values[0], values[1]


# --- Importing ------------------------------------------------------------------------------


def import_sites(session: Session, contest: Contest, data: bytes, actor) -> ImportReport:
    """Add the file's new sites, update the known ones; report bad rows. Audited, not committed."""
    rows, bad = parse_site_list(data)
    report = ImportReport(bad_rows=bad[:MAX_REPORTED_ROWS], bad_rows_not_shown=max(0, len(bad) - MAX_REPORTED_ROWS))
    existing = {site.site_id: site for site in session.scalars(select(Site).where(Site.contest_id == contest.id))}
    for row in rows:
        values = dict(name=row.name, region=row.region, latitude=row.latitude, longitude=row.longitude,
                      wikidata=row.wikidata)
        site = existing.pop(row.site_id, None)
        if site is None:
            session.add(Site(contest_id=contest.id, site_id=row.site_id, **values))
            report.added += 1
        elif any(getattr(site, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(site, name, value)
            report.updated += 1
        else:
            report.unchanged += 1
    report.not_in_file = len(existing)
    record(session, actor, "sites.import", contest_id=contest.id, added=report.added, updated=report.updated,
           unchanged=report.unchanged, not_in_file=report.not_in_file, bad_rows=len(bad))
    session.flush()
    return report


def known_site_ids(session: Session, contest_id: int) -> frozenset[str] | None:
    """The IDs of the contest's site list; None when it has none yet."""
    ids = frozenset(session.scalars(select(Site.site_id).where(Site.contest_id == contest_id)))
    return ids or None


def site_count(session: Session, contest_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Site).where(Site.contest_id == contest_id))


# --- Entries' file pages ----------------------------------------------------------------------


def wikitext_wanted(session: Session, contest_id: int, *, everything: bool = False) -> list[int]:
    """Entries whose file page should be read: never read, or flagged for their site ID (someone
    may have fixed the page since); every present entry with ``everything``."""
    present = select(Entry.id).where(Entry.contest_id == contest_id, Entry.gone_at.is_(None))
    if everything:
        return list(session.scalars(present.order_by(Entry.id)))
    never_read = present.where(~select(EntryWikitext.entry_id).where(EntryWikitext.entry_id == Entry.id).exists())
    flagged = present.where(Entry.id.in_(
        select(EntryReason.entry_id).where(EntryReason.contest_id == contest_id,
                                           EntryReason.code.in_((SITE_ID_MISSING, SITE_ID_UNKNOWN)))
    ))
    return sorted(set(session.scalars(never_read)) | set(session.scalars(flagged)))


def fetch_wikitext(
    session: Session,
    client: CommonsClient,
    contest_id: int,
    entry_ids: list[int],
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Read the file pages of the entries from Commons and store them, committing every 50.

    The site IDs are read from the stored text at the next check (``read_with`` is cleared).
    Returns how many pages were stored; a page that is gone is left to the next sync.
    """
    stored = 0
    for start in range(0, len(entry_ids), IDS_PER_REQUEST):
        chunk = entry_ids[start:start + IDS_PER_REQUEST]
        pageids = dict(session.execute(select(Entry.pageid, Entry.id).where(Entry.id.in_(chunk))).all())
        pages = client.file_page_wikitext(list(pageids))
        existing = {row.entry_id: row for row in session.scalars(
            select(EntryWikitext).where(EntryWikitext.entry_id.in_(chunk)))}
        now = utcnow()
        for pageid, page in pages.items():
            if page is None or pageid not in pageids:
                continue
            row = existing.get(pageids[pageid]) or EntryWikitext(entry_id=pageids[pageid], contest_id=contest_id)
            row.revid, row.wikitext, row.fetched_at, row.read_with = page.revid, page.wikitext, now, None
            session.add(row)
            stored += 1
        session.commit()
        if on_progress:
            on_progress(len(chunk))
    return stored


def site_readings(session: Session, contest_id: int, settings: RuleSettings, *, save: bool) -> dict[int, SiteReading]:
    """What each entry's file page says about sites, read with the settings' template and pattern.

    Readings made with other settings are made again from the stored wikitext (and, with
    ``save``, stored with their site IDs); entries whose page was never read are absent.
    """
    key = settings.site_reading_key
    rows = session.execute(
        select(EntryWikitext.entry_id, EntryWikitext.read_with, EntryWikitext.template_found, EntryWikitext.malformed)
        .where(EntryWikitext.contest_id == contest_id)
    ).all()
    ids_by_entry: dict[int, list[str]] = defaultdict(list)
    for entry_id, site_id in session.execute(
        select(EntrySite.entry_id, EntrySite.site_id).where(EntrySite.contest_id == contest_id).order_by(
            EntrySite.entry_id, EntrySite.site_id)
    ):
        ids_by_entry[entry_id].append(site_id)
    readings = {}
    stale = []
    for entry_id, read_with, template_found, malformed in rows:
        if read_with == key:
            readings[entry_id] = SiteReading(template_found, tuple(ids_by_entry.get(entry_id, ())),
                                             tuple(malformed or ()))
        else:
            stale.append(entry_id)
    for start in range(0, len(stale), 500):
        chunk = stale[start:start + 500]
        texts = session.execute(
            select(EntryWikitext.entry_id, EntryWikitext.wikitext).where(EntryWikitext.entry_id.in_(chunk))
        ).all()
        fresh = {entry_id: read_site_ids(text, settings.site_template, settings.site_pattern)
                 for entry_id, text in texts}
        readings.update(fresh)
        if save:
            _store_readings(session, contest_id, key, fresh)
    return readings


def _store_readings(session: Session, contest_id: int, key: str, readings: dict[int, SiteReading]) -> None:
    if not readings:
        return
    session.execute(
        update(EntryWikitext),
        [{"entry_id": entry_id, "read_with": key, "template_found": reading.template_found,
          "malformed": list(reading.malformed) or None} for entry_id, reading in readings.items()],
    )
    session.execute(delete(EntrySite).where(EntrySite.entry_id.in_(list(readings))))
    values = [{"entry_id": entry_id, "site_id": site_id, "contest_id": contest_id}
              for entry_id, reading in readings.items() for site_id in reading.ids]
    if values:
        session.execute(insert(EntrySite), values)
