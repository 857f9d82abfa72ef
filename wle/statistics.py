"""The figures organizers report, with the international statistics' definitions.

- **uploads**: present entries (gone ones excluded) whose *first* upload (``Entry.uploaded_at``)
  falls in the contest window, start included, end excluded;
- **uploaders**: distinct original uploaders of those uploads (hidden uploaders are not counted);
- **newcomers**: uploaders whose account was registered at or after the contest start. An
  uploader whose registration is unknown (not fetched yet, a very old account, a renamed one)
  is *not* a newcomer; how many those are is reported beside;
- **in use**: uploads used on at least one page of any wiki, Commons included
  (``prop=globalusage``, fetched by a job after each sync); how many were checked is reported;
- **daily curve**: uploads per day and joiners per day (uploaders on the day of their first
  upload in the contest), days in the contest's time zone;
- uploads under the contest's minimum size, top uploaders, and the site figures
  (``_site_statistics``).

Everything is aggregated in SQL from the covering index ``ix_entries_statistics`` and the
primary keys of the tables beside the entries; what comes back to Python is one row per quarter
hour, one per uploader and one per (upload, site ID). Python turns quarter hours into local days:
every time zone's offset is a whole number of quarter hours, DST changes included. For 100,000
entries it takes a few hundred milliseconds (``bench/contest_statistics.py``).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from operator import itemgetter
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, ColumnElement, and_, case, cast, delete, func, select
from sqlalchemy.orm import Session

from .audit import record
from .models import Contest, Entry, Uploader
from .models.rules import ContestRules, EntrySite, EntryWikitext, Site
from .models.statistics import EntryUsage, PreviouslyPicturedSite
from .rules import MAX_ID_LENGTH, template_key

TOP_UPLOADERS = 20
QUARTER_HOUR = 15 * 60  # seconds


@dataclass(frozen=True)
class Day:
    date: date  # in the contest's time zone
    uploads: int
    joiners: int  # uploaders whose first upload in the contest was on this day


@dataclass(frozen=True)
class TopUploader:
    name: str
    uploads: int
    first_upload: datetime  # in the contest's time zone
    newcomer: bool


@dataclass(frozen=True)
class Statistics:
    contest: str  # the slug
    timezone: str
    start: datetime  # the window, in the contest's time zone
    end: datetime
    uploads: int
    uploaders: int
    newcomers: int
    newcomer_share: float | None  # of the uploaders; None when there are none
    registration_unknown: int  # uploaders whose registration date is unknown (not newcomers)
    in_use: int
    in_use_share: float | None  # of the uploads
    usage_checked: int  # uploads whose usage was fetched; in_use counts only those
    min_megapixels: float
    under_minimum_size: int
    outside_window: int  # present entries first uploaded before or after the window (not counted)
    gone: int  # entries deleted or out of the categories (not counted)
    days: list[Day]
    top_uploaders: list[TopUploader]
    sites: SiteStatistics


def in_window(contest: Contest) -> ColumnElement[bool]:
    """The uploads the statistics count: present, first uploaded inside the window."""
    return and_(
        Entry.contest_id == contest.id,
        Entry.gone_at.is_(None),
        Entry.uploaded_at >= contest.starts_at,
        Entry.uploaded_at < contest.ends_at,
    )


def contest_statistics(session: Session, contest: Contest, *, top: int = TOP_UPLOADERS) -> Statistics:
    """Every figure of the contest, from a handful of aggregate queries."""
    totals = _upload_totals(session, contest)
    uploaders = _uploaders(session, contest)
    newcomers = sum(1 for u in uploaders if u.newcomer)
    present, gone = _presence(session, contest)
    zone = contest.zone
    return Statistics(
        contest=contest.slug,
        timezone=contest.timezone,
        start=contest.starts_at.astimezone(zone),
        end=contest.ends_at.astimezone(zone),
        uploads=totals["uploads"],
        uploaders=len(uploaders),
        newcomers=newcomers,
        newcomer_share=_share(newcomers, len(uploaders)),
        registration_unknown=sum(1 for u in uploaders if u.registered_at is None),
        in_use=totals["in_use"],
        in_use_share=_share(totals["in_use"], totals["uploads"]),
        usage_checked=totals["usage_checked"],
        min_megapixels=contest.min_megapixels,
        under_minimum_size=totals["under_minimum_size"],
        outside_window=present - totals["uploads"],
        gone=gone,
        days=_days(contest, _uploads_by_quarter(session, contest), uploaders),
        top_uploaders=[
            TopUploader(u.name, u.uploads, u.first_upload.astimezone(zone), u.newcomer)
            for u in sorted(uploaders, key=lambda u: (-u.uploads, u.first_upload, u.name))[:top]
        ],
        sites=_site_statistics(session, contest, uploads=totals["uploads"], pages_read=totals["pages_read"]),
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _upload_totals(session: Session, contest: Contest) -> dict[str, int]:
    """The uploads, those under the minimum size, those whose use on the wikis was checked, those
    in use, those whose file page was read (for the site figures)."""
    pixels = cast(Entry.width, BigInteger) * Entry.height  # a 50,000 px panorama overflows 32 bits
    minimum = round(contest.min_megapixels * 1_000_000)  # in whole pixels, as the size rule compares
    row = session.execute(
        select(
            func.count(),
            _number(pixels < minimum),
            func.count(EntryUsage.entry_id),
            _number(EntryUsage.usage_count > 0),
            func.count(EntryWikitext.entry_id),
        )
        .select_from(Entry)
        .outerjoin(EntryUsage, EntryUsage.entry_id == Entry.id)
        .outerjoin(EntryWikitext, EntryWikitext.entry_id == Entry.id)
        .where(in_window(contest))
    ).one()
    names = ("uploads", "under_minimum_size", "usage_checked", "in_use", "pages_read")
    return dict(zip(names, map(int, row)))


def _uploads_by_quarter(session: Session, contest: Contest) -> dict[int, int]:
    """Uploads per UTC quarter hour (numbered since 1970), from the index alone."""
    quarter = _quarter_hour(session, Entry.uploaded_at).label("quarter")
    rows = session.execute(select(quarter, func.count()).where(in_window(contest)).group_by(quarter))
    return {int(number): count for number, count in rows}


def _number(condition) -> ColumnElement[int]:
    """How many rows meet the condition."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _presence(session: Session, contest: Contest) -> tuple[int, int]:
    """How many of the contest's entries are present, and how many gone."""
    present, gone = session.execute(
        select(_number(Entry.gone_at.is_(None)), _number(Entry.gone_at.is_not(None))).where(
            Entry.contest_id == contest.id
        )
    ).one()
    return int(present), int(gone)


class _Uploader(NamedTuple):  # a tuple: ten thousand of them are made in a blink
    name: str
    uploads: int
    first_upload: datetime  # UTC
    registered_at: datetime | None
    newcomer: bool


def _uploaders(session: Session, contest: Contest) -> list[_Uploader]:
    """One row per uploader of the counted uploads: how many, the first one, the registration."""
    rows = session.execute(
        # Grouped by the name alone (a name has one registration): PostgreSQL then hashes instead of sorting.
        select(Entry.uploader, func.count(), func.min(Entry.uploaded_at), func.max(Uploader.registered_at))
        .outerjoin(Uploader, Uploader.name == Entry.uploader)
        .where(in_window(contest), Entry.uploader.is_not(None))
        .group_by(Entry.uploader)
    )
    return [
        _Uploader(name, uploads, first, registered, registered is not None and registered >= contest.starts_at)
        for name, uploads, first, registered in rows
    ]


def _days(contest: Contest, quarters: dict[int, int], uploaders: list[_Uploader]) -> list[Day]:
    """Every day of the window in the contest's time zone, empty days included."""
    zone = contest.zone
    uploads: Counter[date] = Counter()
    for number, count in quarters.items():
        uploads[datetime.fromtimestamp(number * QUARTER_HOUR, timezone.utc).astimezone(zone).date()] += count
    joiners = Counter(uploader.first_upload.astimezone(zone).date() for uploader in uploaders)
    first = contest.starts_at.astimezone(zone).date()
    last = (contest.ends_at - timedelta(microseconds=1)).astimezone(zone).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [Day(day, uploads[day], joiners[day]) for day in days]


def _quarter_hour(session: Session, column) -> ColumnElement[int]:
    """The number of the UTC quarter hour a stored (naive UTC) moment falls in, since 1970."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return func.floor(func.extract("epoch", column) / QUARTER_HOUR)  # naive timestamps: as if UTC
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), BigInteger) // QUARTER_HOUR  # integer division
    raise NotImplementedError(f"The statistics know PostgreSQL and SQLite, not {dialect}.")


# --- Protected sites ---------------------------------------------------------------------------
#
# Read from the rules' tables: the contest's site list (``Site``), the well-formed IDs found on
# each file page (``EntrySite``) and whether the page was read at all (``EntryWikitext``). The
# definitions follow the site rule of ``wle.rules.known_site``: an upload without a well-formed
# ID has a missing ID; one whose IDs are all off the list has an unknown ID. Without a site list
# every well-formed ID counts as a site.

TOP_SITES = 20


@dataclass(frozen=True)
class PicturedSite:
    site_id: str
    name: str  # "" for an ID that is not on the list
    region: str
    uploads: int
    first_time: bool


@dataclass(frozen=True)
class RegionRow:
    region: str  # "" for the sites of the list without a region
    sites: int  # on the list
    pictured: int
    pictured_first_time: int
    uploads: int  # uploads showing a site of the region (an upload of two regions counts in both)


@dataclass(frozen=True)
class SiteStatistics:
    site_list: int  # sites on the contest's list
    sites_pictured: int
    sites_pictured_share: float | None  # of the list
    pictured_first_time: int  # pictured now, in no earlier contest and not on the uploaded list
    previously_pictured: int  # IDs pictured before: earlier contests and the uploaded list
    uploads_with_site: int
    site_id_missing: int  # the file page was read and names no well-formed ID
    site_id_unknown: int  # it names IDs, none of them on the list
    site_pages_unread: int  # the file page was not read yet: neither missing nor unknown so far
    earlier_contests: list[str]  # the slugs whose uploads count as pictured before
    regions: list[RegionRow]
    most_pictured: list[PicturedSite]


def _site_statistics(session: Session, contest: Contest, *, uploads: int, pages_read: int,
                     top: int = TOP_SITES) -> SiteStatistics:
    """The site figures of the counted uploads, of which ``pages_read`` had their file page read."""
    listed = {
        site_id: (name, region)
        for site_id, name, region in session.execute(
            select(Site.site_id, Site.name, Site.region).where(Site.contest_id == contest.id)
        )
    }
    pairs = _upload_site_pairs(session, contest)
    found = Counter(map(itemgetter(1), pairs))
    pictured = {site_id: n for site_id, n in found.items() if not listed or site_id in listed}
    with_id = set(map(itemgetter(0), pairs))
    showing = {entry_id for entry_id, site_id in pairs if site_id in pictured}
    earlier = earlier_contests(session, contest)
    before = previously_pictured_ids(session, contest, earlier)
    first_time = set(pictured) - before
    most = sorted(pictured.items(), key=lambda item: (-item[1], item[0]))[:top]
    return SiteStatistics(
        site_list=len(listed),
        sites_pictured=len(pictured),
        sites_pictured_share=_share(len(pictured), len(listed)),
        pictured_first_time=len(first_time),
        previously_pictured=len(before),
        uploads_with_site=len(showing),
        # IDs are only ever stored with the reading of a page, so those with one were all read.
        site_id_missing=pages_read - len(with_id),
        site_id_unknown=len(with_id) - len(showing),
        site_pages_unread=uploads - pages_read,
        earlier_contests=[c.slug for c in earlier],
        regions=_regions(listed, pairs, pictured, first_time) if listed else [],
        most_pictured=[
            PicturedSite(site_id, *listed.get(site_id, ("", "")), count, site_id in first_time)
            for site_id, count in most
        ],
    )


def _upload_site_pairs(session: Session, contest: Contest) -> list[tuple[int, str]]:
    """(entry id, site ID) for every well-formed ID on the counted uploads' pages, about one a file.

    Counted here rather than joined to the site list in SQL: SQLite, which keeps no table
    statistics, would pick a plan that walks the whole window once for every site.
    """
    query = select(EntrySite.entry_id, EntrySite.site_id).join(Entry, Entry.id == EntrySite.entry_id)
    return session.connection().execute(query.where(in_window(contest))).fetchall()


def _regions(
    listed: dict[str, tuple[str, str]],
    pairs: list[tuple[int, str]],
    pictured: dict[str, int],
    first_time: set[str],
) -> list[RegionRow]:
    """One row per region of the list; an upload showing two sites of a region counts once."""
    region_of = {site_id: region or "" for site_id, (_name, region) in listed.items()}
    uploads = Counter(map(itemgetter(1), {
        (entry_id, region_of[site_id]) for entry_id, site_id in pairs if site_id in region_of
    }))
    rows: dict[str, list[int]] = {}
    for site_id, (_name, region) in listed.items():
        row = rows.setdefault(region or "", [0, 0, 0])
        row[0] += 1
        row[1] += site_id in pictured
        row[2] += site_id in first_time
    return [
        RegionRow(region, sites, seen, new, uploads.get(region, 0))
        for region, (sites, seen, new) in sorted(rows.items(), key=lambda item: (item[0] == "", item[0]))
    ]


def earlier_contests(session: Session, contest: Contest) -> list[Contest]:
    """Contests on the platform that started before this one and read the same ID template.

    The template names the country's list (``{{Monument Kazakhstan|...}}``), so its contests of
    earlier years are the ones whose IDs mean the same sites. Without a template: none.
    """
    settings = dict(session.execute(select(ContestRules.contest_id, ContestRules.settings)).all())
    own = _site_template(settings.get(contest.id))
    if not own:
        return []
    before = session.scalars(
        select(Contest).where(Contest.starts_at < contest.starts_at).order_by(Contest.starts_at, Contest.id)
    )
    return [c for c in before if _site_template(settings.get(c.id)) == own]


def _site_template(settings: dict | None) -> str:
    return template_key((settings or {}).get("site_template") or "")


def previously_pictured_ids(session: Session, contest: Contest, earlier: list[Contest]) -> set[str]:
    """IDs pictured before: on the counted uploads of the earlier contests, or on the uploaded list."""
    ids = set(
        session.scalars(select(PreviouslyPicturedSite.site_id).where(PreviouslyPicturedSite.contest_id == contest.id))
    )
    if earlier:
        ids.update(
            session.scalars(
                select(EntrySite.site_id)
                .distinct()
                .join(Entry, Entry.id == EntrySite.entry_id)
                .join(Contest, Contest.id == Entry.contest_id)
                .where(
                    Entry.contest_id.in_([c.id for c in earlier]),
                    Entry.gone_at.is_(None),
                    Entry.uploaded_at >= Contest.starts_at,
                    Entry.uploaded_at < Contest.ends_at,
                )
            )
        )
    return ids


# --- The uploaded list of previously pictured site IDs ------------------------------------------

ID_HEADERS = {"id", "ids", "site", "site id", "site_id", "siteid", "code", "site code"}


class PicturedListError(ValueError):
    """An uploaded list of site IDs cannot be taken; the message names every bad line."""


def parse_site_ids(data: bytes, pattern: str | None = None) -> list[str]:
    """The IDs of an uploaded list: one a line, or a CSV whose first column is the ID.

    Empty lines, lines starting with ``#`` and a header line ("id", "site_id"...) are skipped.
    With ``pattern`` (the contest's ID pattern), every ID must match it whole. Any bad line
    refuses the whole list, so that nothing is half-replaced.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PicturedListError(_("The list is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in a spreadsheet).")) from None
    matcher = re.compile(pattern) if pattern else None
    ids: list[str] = []
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        for fields in reader:
            value = fields[0].strip() if fields else ""
            if not value or value.startswith("#") or (not ids and not problems and value.casefold() in ID_HEADERS):
                continue
            if len(value) > MAX_ID_LENGTH or any(ord(ch) < 32 for ch in value):
                problems.append(_("line %(number)d: “%(value)s” is not a site ID",
                                  number=reader.line_num, value=value[:40]))
            elif matcher is not None and not matcher.fullmatch(value):
                problems.append(_("line %(number)d: “%(value)s” does not match the contest's ID pattern",
                                  number=reader.line_num, value=value[:40]))
            else:
                ids.append(value)
    except csv.Error as error:  # an unclosed quote, a stray one...
        raise PicturedListError(_("The list cannot be read past line %(number)d (%(error)s).",
                                  number=reader.line_num, error=str(error))) from None
    if problems:
        shown = "; ".join(problems[:20]) + (" …" if len(problems) > 20 else "")
        raise PicturedListError(_("The list was not saved: %(count)d bad lines: %(problems)s.",
                                  count=len(problems), problems=shown))
    if not ids:
        raise PicturedListError(_("The list holds no site IDs."))
    return list(dict.fromkeys(ids))


def _delimiter(text: str) -> str:
    """Comma, semicolon (spreadsheets in many languages) or tab, whichever the first line uses most."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max(",;\t", key=first.count) if any(ch in first for ch in ",;\t") else ","


def replace_previously_pictured(session: Session, contest: Contest, ids: list[str], actor) -> int:
    """Make ``ids`` the contest's list of previously pictured sites (audited); return its size."""
    old = session.scalar(
        select(func.count()).select_from(PreviouslyPicturedSite).where(PreviouslyPicturedSite.contest_id == contest.id)
    )
    session.execute(delete(PreviouslyPicturedSite).where(PreviouslyPicturedSite.contest_id == contest.id))
    session.add_all(PreviouslyPicturedSite(contest_id=contest.id, site_id=site_id) for site_id in ids)
    record(session, actor, "statistics.previously_pictured", contest_id=contest.id, before=old, after=len(ids))
    session.flush()
    return len(ids)


def clear_previously_pictured(session: Session, contest: Contest, actor) -> int:
    """Drop the uploaded list (audited); return how many IDs it held."""
    old = session.execute(delete(PreviouslyPicturedSite).where(PreviouslyPicturedSite.contest_id == contest.id))
    record(session, actor, "statistics.previously_pictured", contest_id=contest.id, before=old.rowcount, after=0)
    session.flush()
    return old.rowcount


# --- Exports: JSON, CSV and wikitext, over the plain data above -------------------------------

# The scalar figures, in the order every export shows them.
FIGURE_LABELS = {
    "uploads": _l("Uploads"),
    "uploaders": _l("Uploaders"),
    "newcomers": _l("Newcomers"),
    "newcomer_share": _l("Newcomers, share of uploaders"),
    "registration_unknown": _l("Uploaders with unknown registration (not counted as newcomers)"),
    "in_use": _l("Images in use on any wiki"),
    "in_use_share": _l("Images in use, share of uploads"),
    "usage_checked": _l("Uploads whose use was checked"),
    "under_minimum_size": _l("Uploads under the minimum size"),
    "outside_window": _l("Files first uploaded outside the window (not counted)"),
    "gone": _l("Files deleted or removed from the categories (not counted)"),
}
SITE_FIGURE_LABELS = {
    "site_list": _l("Sites on the list"),
    "sites_pictured": _l("Sites pictured"),
    "sites_pictured_share": _l("Sites pictured, share of the list"),
    "pictured_first_time": _l("Sites pictured for the first time"),
    "previously_pictured": _l("Sites pictured before (earlier contests and the uploaded list)"),
    "uploads_with_site": _l("Uploads showing a site"),
    "site_id_missing": _l("Uploads without a site ID"),
    "site_id_unknown": _l("Uploads with an unknown site ID"),
    "site_pages_unread": _l("Uploads whose file page was not read yet"),
}
SHARES = {"newcomer_share", "in_use_share", "sites_pictured_share"}


def figures(stats: Statistics) -> list[tuple[str, int | float | None]]:
    """(key, value) of every scalar figure, the site figures included when there are any."""
    return [(key, getattr(stats, key)) for key in FIGURE_LABELS] + [
        (key, getattr(stats.sites, key)) for key in SITE_FIGURE_LABELS
    ]


def figure_label(key: str) -> str:
    return str(FIGURE_LABELS.get(key) or SITE_FIGURE_LABELS[key])


def as_json(stats: Statistics) -> dict:
    """JSON-ready data (what ``wle contest stats --json`` prints): moments and dates as ISO text."""
    return _plain(asdict(stats))


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    return value


def csv_tables(stats: Statistics) -> dict[str, tuple[list[str], list[list]]]:
    """The tables organizers export, each as (column names, rows), by name."""
    tables = {
        "figures": (["figure", "value"], [[key, value] for key, value in figures(stats)]),
        "daily": (
            ["date", "uploads", "joiners"],
            [[day.date.isoformat(), day.uploads, day.joiners] for day in stats.days],
        ),
        "uploaders": (
            ["rank", "uploader", "uploads", "first_upload", "newcomer"],
            [
                [rank, u.name, u.uploads, u.first_upload.isoformat(), "yes" if u.newcomer else "no"]
                for rank, u in enumerate(stats.top_uploaders, 1)
            ],
        ),
    }
    tables.update(site_csv_tables(stats.sites))
    return tables


def site_csv_tables(sites: SiteStatistics) -> dict[str, tuple[list[str], list[list]]]:
    return {
        "regions": (
            ["region", "sites", "pictured", "pictured_first_time", "uploads"],
            [[r.region, r.sites, r.pictured, r.pictured_first_time, r.uploads] for r in sites.regions],
        ),
        "sites": (
            ["rank", "site_id", "name", "region", "uploads", "first_time"],
            [
                [rank, p.site_id, p.name, p.region, p.uploads, "yes" if p.first_time else "no"]
                for rank, p in enumerate(sites.most_pictured, 1)
            ],
        ),
    }


def to_csv(columns: list[str], rows: list[list]) -> bytes:
    """UTF-8 with a byte order mark, so that spreadsheets open Cyrillic names right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([_spreadsheet_safe(cell) for cell in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _spreadsheet_safe(cell):
    """Text that a spreadsheet would take for a formula (a name like ``=HYPERLINK(...)``) is quoted."""
    if cell is None:
        return ""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


def wikitext(stats: Statistics, title: str) -> str:
    """The statistics as wikitext tables, for a report page on Commons."""
    lines = [f"== {wiki_text(title)} ==", ""]
    lines += _wiki_table(
        [_("Figure"), _("Value")],
        [[figure_label(key), _wiki_figure(key, value)] for key, value in figures(stats)],
        sortable=False,
    )
    lines += ["", f"=== {_('Uploads per day')} ===", ""]
    lines += _wiki_table(
        [_("Date"), _("Uploads"), _("First-time uploaders")],
        [[day.date.isoformat(), str(day.uploads), str(day.joiners)] for day in stats.days],
    )
    lines += ["", f"=== {_('Top uploaders')} ===", ""]
    lines += _wiki_table(
        ["#", _("Uploader"), _("Uploads"), _("Newcomer")],
        [
            [str(rank), user_link(u.name), str(u.uploads), _("yes") if u.newcomer else _("no")]
            for rank, u in enumerate(stats.top_uploaders, 1)
        ],
    )
    lines += site_wikitext(stats.sites)
    return "\n".join(lines) + "\n"


def site_wikitext(sites: SiteStatistics) -> list[str]:
    lines = []
    if sites.regions:
        lines += ["", f"=== {_('Sites per region')} ===", ""]
        lines += _wiki_table(
            [_("Region"), _("Sites on the list"), _("Pictured"), _("For the first time"), _("Uploads")],
            [
                [wiki_text(r.region) or "—", str(r.sites), str(r.pictured), str(r.pictured_first_time), str(r.uploads)]
                for r in sites.regions
            ],
        )
    lines += ["", f"=== {_('Most pictured sites')} ===", ""]
    lines += _wiki_table(
        ["#", _("Site ID"), _("Site"), _("Region"), _("Uploads"), _("For the first time")],
        [
            [str(rank), wiki_text(p.site_id), wiki_text(p.name), wiki_text(p.region), str(p.uploads),
             _("yes") if p.first_time else _("no")]
            for rank, p in enumerate(sites.most_pictured, 1)
        ],
    )
    return lines


def _wiki_figure(key: str, value) -> str:
    if value is None:
        return "—"
    if key in SHARES:
        return f"{value:.1%}"
    return str(value)


def _wiki_table(headers: list[str], rows: list[list[str]], *, sortable: bool = True) -> list[str]:
    """A wikitable; cells are wikitext already (use ``wiki_text`` for plain text)."""
    lines = ['{| class="wikitable sortable"' if sortable else '{| class="wikitable"']
    lines.append("! " + " !! ".join(headers))
    for row in rows:
        lines += ["|-", "| " + " || ".join(row)]
    lines.append("|}")
    return lines


# Characters that would turn plain text into markup inside a table cell or a heading: links,
# templates, cell separators, bold and italics, signatures (~~~~), tags and entities, headings.
_WIKI_ESCAPES = {ch: f"&#{ord(ch)};" for ch in "&<>[]{}|'~="}


def wiki_text(text: str) -> str:
    """Plain text made safe for a wikitext table cell or heading: shown exactly as it is.

    Text never starts a line here (cells start with "| "), so line-start markup (* # : ;) is
    harmless; behaviour switches such as __NOTOC__ are broken up.
    """
    escaped = "".join(_WIKI_ESCAPES.get(ch, ch) for ch in " ".join(str(text).split()))
    return escaped.replace("__", "_&#95;")


def user_link(name: str) -> str:
    """A link to the user's page; user names cannot hold the characters that would break it."""
    if any(ch in name for ch in "[]{}|<>#\n"):
        return wiki_text(name)
    return f"[[User:{name}|{wiki_text(name)}]]"
