"""The statistics against a hand-counted contest, and their exports.

The fixture is a contest in Kathmandu (UTC+05:45, an offset that is no whole hour) from 15 to 17
June 2025, local days. Its entries, in local time (see ``build_contest``):

    #   uploader  first upload       notes                               counted  day
    1   Asel      15 Jun 00:00:00    exactly the start                   yes      15
    2   Asel      16 Jun 12:00       used on 3 pages; sites 001 + 003    yes      16
    3   Asel      17 Jun 23:59:59    1 Mpx (too small); site 999         yes      17
    4   Asel      18 Jun 00:00:00    exactly the end; used on 5 pages    no (outside)
    5   Asel      14 Jun 23:59:59    a second early                      no (outside)
    6   Bolat     14 Jun 20:00       re-uploaded on 16 Jun               no (outside: first upload counts)
    7   Bolat     16 Jun 09:00       re-uploaded on 20 Jun; used once    yes      16
    8   Bolat     17 Jun 08:00       2000x1000: exactly 2 Mpx; site 002  yes      17
    9   Dana      16 Jun 00:05       checked, used nowhere; site 001     yes      16
    10  Erlan     15 Jun 10:00       gone (deleted)                      no (gone)
    11  Erlan     17 Jun 10:00       1999x1000 (too small)               yes      17
    12  Gulnar    15 Jun 23:55       page not read                       yes      15
    13  (hidden)  16 Jun 13:00       page not read                       yes      16

Uploaders: Asel (registered 2020), Bolat (one minute after the start: a newcomer), Dana
(registration unknown), Erlan (never fetched: unknown), Gulnar (one minute before the start).
Entry 1 falls on 14 June in UTC, entry 12 on 15 June in UTC but 16 June would be wrong, entry 9
on 15 June in UTC: local days must come out.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from wle.contests import ContestForm, create_contest
from wle.models import AuditLog, Entry, Uploader
from wle.models.rules import ContestRules, EntrySite, EntryWikitext, Site
from wle.models.statistics import EntryUsage, PreviouslyPicturedSite
from wle.statistics import (
    PicturedListError,
    as_json,
    contest_statistics,
    csv_tables,
    parse_site_ids,
    replace_previously_pictured,
    to_csv,
    user_link,
    wiki_text,
    wikitext,
)

ZONE = ZoneInfo("Asia/Kathmandu")
TEMPLATE = "Protected area of Nepal"
NOT_READ = object()


def local(*args) -> datetime:
    return datetime(*args, tzinfo=ZONE)


def add_contest(session, slug: str, start: datetime, end: datetime, template: str | None = TEMPLATE):
    contest = create_contest(
        session,
        ContestForm(slug=slug, name=f"WLE {slug}", categories=[f"Images of {slug}"], starts_at=start,
                    ends_at=end, timezone="Asia/Kathmandu"),
    )
    if template is not None:
        session.add(ContestRules(contest_id=contest.id, settings={"site_template": template}))
    return contest


def add_entry(session, contest, number: int, uploader: str | None, uploaded_at: datetime, *,
              width=4000, height=3000, reuploaded_at=None, gone=False, usage=None, sites=NOT_READ) -> Entry:
    """One entry; ``sites`` is the IDs its file page gives ([] for a page read without any)."""
    entry = Entry(
        contest_id=contest.id, pageid=contest.id * 1000 + number, title=f"File:{contest.slug} {number}.jpg",
        uploader=uploader, uploaded_at=uploaded_at, reuploaded=reuploaded_at is not None,
        last_uploaded_at=reuploaded_at or uploaded_at, width=width, height=height, size=3_000_000,
        mime="image/jpeg", sha1=secrets.token_hex(20), file_url="https://upload.test/x.jpg",
        page_url="https://commons.test/wiki/X", thumb_key=secrets.token_hex(16),
        gone_at=local(2025, 6, 25) if gone else None, gone_reason="deleted" if gone else None,
    )
    session.add(entry)
    session.flush()
    if usage is not None:
        session.add(EntryUsage(entry_id=entry.id, usage_count=usage))
    if sites is not NOT_READ:
        session.add(EntryWikitext(entry_id=entry.id, contest_id=contest.id, revid=1, wikitext="...",
                                  template_found=bool(sites)))
        session.add_all(EntrySite(entry_id=entry.id, contest_id=contest.id, site_id=s) for s in sites)
    return entry


def build_contest(session):
    """The contest of the module docstring, with an earlier year and another country beside it."""
    contest = add_contest(session, "wle-2025-np", local(2025, 6, 15), local(2025, 6, 18))
    start = contest.starts_at
    session.add_all([
        Uploader(name="Asel", registered_at=local(2020, 1, 1), fetched_at=start),
        Uploader(name="Bolat", registered_at=local(2025, 6, 15, 0, 1), fetched_at=start),
        Uploader(name="Dana", registered_at=None, fetched_at=start),
        Uploader(name="Gulnar", registered_at=local(2025, 6, 14, 23, 59), fetched_at=start),
    ])
    add_entry(session, contest, 1, "Asel", local(2025, 6, 15, 0, 0, 0), sites=["NP-001"])
    add_entry(session, contest, 2, "Asel", local(2025, 6, 16, 12, 0), usage=3, sites=["NP-001", "NP-003"])
    add_entry(session, contest, 3, "Asel", local(2025, 6, 17, 23, 59, 59), width=1000, height=1000,
              sites=["NP-999"])
    add_entry(session, contest, 4, "Asel", local(2025, 6, 18, 0, 0, 0), usage=5, sites=["NP-004"])
    add_entry(session, contest, 5, "Asel", local(2025, 6, 14, 23, 59, 59))
    add_entry(session, contest, 6, "Bolat", local(2025, 6, 14, 20, 0), reuploaded_at=local(2025, 6, 16))
    add_entry(session, contest, 7, "Bolat", local(2025, 6, 16, 9, 0), reuploaded_at=local(2025, 6, 20), usage=1,
              sites=[])
    add_entry(session, contest, 8, "Bolat", local(2025, 6, 17, 8, 0), width=2000, height=1000, sites=["NP-002"])
    add_entry(session, contest, 9, "Dana", local(2025, 6, 16, 0, 5), usage=0, sites=["NP-001"])
    add_entry(session, contest, 10, "Erlan", local(2025, 6, 15, 10, 0), gone=True, sites=["NP-004"])
    add_entry(session, contest, 11, "Erlan", local(2025, 6, 17, 10, 0), width=1999, height=1000, sites=[])
    add_entry(session, contest, 12, "Gulnar", local(2025, 6, 15, 23, 55))
    add_entry(session, contest, 13, None, local(2025, 6, 16, 13, 0))
    session.add_all([
        Site(contest_id=contest.id, site_id="NP-001", name="Lake Rara", region="Karnali"),
        Site(contest_id=contest.id, site_id="NP-002", name="Shey Phoksundo", region="Karnali"),
        Site(contest_id=contest.id, site_id="NP-003", name="Chitwan", region="Bagmati"),
        Site(contest_id=contest.id, site_id="NP-004", name="Koshi Tappu", region=""),
    ])
    # Last year, same template: NP-002 was pictured; NP-003 only on a file now gone, NP-001 only
    # on a file uploaded outside that window: neither counts as pictured before.
    earlier = add_contest(session, "wle-2024-np", local(2024, 6, 1), local(2024, 7, 1))
    add_entry(session, earlier, 1, "Asel", local(2024, 6, 10), sites=["NP-002"])
    add_entry(session, earlier, 2, "Asel", local(2024, 6, 11), gone=True, sites=["NP-003"])
    add_entry(session, earlier, 3, "Asel", local(2024, 7, 2), sites=["NP-001"])
    # Another country's contest, earlier too, whose IDs happen to look the same: not ours.
    other = add_contest(session, "wle-2024-xx", local(2024, 6, 1), local(2024, 7, 1), template="Other template")
    add_entry(session, other, 1, "Asel", local(2024, 6, 10), sites=["NP-001"])
    # The organizers' list of earlier years' sites.
    session.add(PreviouslyPicturedSite(contest_id=contest.id, site_id="NP-004"))
    session.commit()
    return contest


@pytest.fixture
def stats(session):
    return contest_statistics(session, build_contest(session))


# --- The figures ------------------------------------------------------------------------------


def test_uploads_count_first_uploads_inside_the_window_of_present_files(stats):
    assert stats.uploads == 9  # entries 1 2 3 7 8 9 11 12 13
    assert stats.outside_window == 3  # entries 4 5 6
    assert stats.gone == 1  # entry 10


def test_uploaders_and_newcomers(stats):
    assert stats.uploaders == 5  # the hidden uploader of entry 13 is nobody's
    assert stats.newcomers == 1  # Bolat, registered one minute after the start
    assert stats.newcomer_share == pytest.approx(1 / 5)
    assert stats.registration_unknown == 2  # Dana (unknown date), Erlan (never fetched)


def test_images_in_use(stats):
    assert stats.in_use == 2  # entries 2 and 7; entry 4 is used but outside the window
    assert stats.usage_checked == 3  # entries 2 7 9
    assert stats.in_use_share == pytest.approx(2 / 9)


def test_uploads_under_the_minimum_size(stats):
    assert stats.min_megapixels == 2.0
    assert stats.under_minimum_size == 2  # entries 3 (1 Mpx) and 11 (1,999,000 px); 8 has exactly 2 Mpx


def test_daily_curve_in_the_contests_time_zone(stats):
    assert [(d.date, d.uploads, d.joiners) for d in stats.days] == [
        (date(2025, 6, 15), 2, 2),  # uploads 1 12; joiners Asel, Gulnar
        (date(2025, 6, 16), 4, 2),  # uploads 2 7 9 13; joiners Bolat (entry 6 is outside), Dana
        (date(2025, 6, 17), 3, 1),  # uploads 3 8 11; joiner Erlan (his entry 10 is gone)
    ]
    assert sum(d.uploads for d in stats.days) == stats.uploads
    assert sum(d.joiners for d in stats.days) == stats.uploaders


def test_top_uploaders_by_uploads_then_first_upload(stats):
    assert [(u.name, u.uploads, u.newcomer) for u in stats.top_uploaders] == [
        ("Asel", 3, False), ("Bolat", 2, True), ("Gulnar", 1, False), ("Dana", 1, False), ("Erlan", 1, False),
    ]
    assert stats.top_uploaders[0].first_upload == local(2025, 6, 15)
    assert stats.top_uploaders[0].first_upload.utcoffset() == local(2025, 6, 15).utcoffset()


def test_site_figures(stats):
    sites = stats.sites
    assert sites.site_list == 4
    assert sites.sites_pictured == 3  # NP-001 NP-002 NP-003; NP-999 is not on the list, NP-004 outside
    assert sites.sites_pictured_share == pytest.approx(3 / 4)
    assert sites.earlier_contests == ["wle-2024-np"]
    assert sites.previously_pictured == 2  # NP-002 last year, NP-004 from the uploaded list
    assert sites.pictured_first_time == 2  # NP-001 NP-003
    assert sites.uploads_with_site == 4  # entries 1 2 8 9
    assert sites.site_id_unknown == 1  # entry 3
    assert sites.site_id_missing == 2  # entries 7 11
    assert sites.site_pages_unread == 2  # entries 12 13
    assert sum([sites.uploads_with_site, sites.site_id_unknown, sites.site_id_missing,
                sites.site_pages_unread]) == stats.uploads


def test_sites_per_region_and_most_pictured(stats):
    assert [(r.region, r.sites, r.pictured, r.pictured_first_time, r.uploads) for r in stats.sites.regions] == [
        ("Bagmati", 1, 1, 1, 1),  # NP-003 on entry 2
        ("Karnali", 2, 2, 1, 4),  # NP-001 on 1 2 9 (new), NP-002 on 8 (pictured last year)
        ("", 1, 0, 0, 0),  # NP-004, only outside the window
    ]
    assert [(p.site_id, p.name, p.region, p.uploads, p.first_time) for p in stats.sites.most_pictured] == [
        ("NP-001", "Lake Rara", "Karnali", 3, True),
        ("NP-002", "Shey Phoksundo", "Karnali", 1, False),
        ("NP-003", "Chitwan", "Bagmati", 1, True),
    ]


def test_without_a_site_list_every_well_formed_id_is_a_site(session):
    contest = add_contest(session, "no-list", local(2025, 6, 1), local(2025, 6, 2))
    add_entry(session, contest, 1, "Asel", local(2025, 6, 1, 8), sites=["A-1", "A-2"])
    add_entry(session, contest, 2, "Asel", local(2025, 6, 1, 9), sites=["A-1"])
    add_entry(session, contest, 3, "Asel", local(2025, 6, 1, 10), sites=[])
    session.commit()
    sites = contest_statistics(session, contest).sites
    assert (sites.site_list, sites.sites_pictured, sites.sites_pictured_share) == (0, 2, None)
    assert (sites.uploads_with_site, sites.site_id_unknown, sites.site_id_missing) == (2, 0, 1)
    assert sites.regions == [] and sites.earlier_contests == []
    assert [(p.site_id, p.uploads, p.first_time) for p in sites.most_pictured] == [("A-1", 2, True), ("A-2", 1, True)]


def test_an_empty_contest_has_zeros_and_no_shares(session):
    contest = add_contest(session, "empty", local(2025, 6, 1), local(2025, 6, 3), template=None)
    stats = contest_statistics(session, contest)
    assert (stats.uploads, stats.uploaders, stats.newcomers, stats.in_use) == (0, 0, 0, 0)
    assert (stats.newcomer_share, stats.in_use_share) == (None, None)
    assert [(d.date, d.uploads, d.joiners) for d in stats.days] == [
        (date(2025, 6, 1), 0, 0), (date(2025, 6, 2), 0, 0),
    ]
    assert stats.top_uploaders == [] and stats.sites.sites_pictured == 0


def test_a_window_across_a_daylight_saving_change_keeps_local_days(session):
    contest = create_contest(session, ContestForm(
        slug="dst", name="DST", categories=["X"], starts_at=datetime(2025, 3, 29), ends_at=datetime(2025, 4, 1),
        timezone="Europe/Berlin"))
    berlin = ZoneInfo("Europe/Berlin")
    # 30 March 2025: clocks go from 02:00 to 03:00. 23:30 on the 30th is 21:30 UTC (summer time).
    add_entry(session, contest, 1, "Asel", datetime(2025, 3, 29, 23, 30, tzinfo=berlin))  # 22:30 UTC
    add_entry(session, contest, 2, "Asel", datetime(2025, 3, 30, 23, 30, tzinfo=berlin))
    add_entry(session, contest, 3, "Asel", datetime(2025, 3, 31, 0, 15, tzinfo=berlin))  # 30 Mar 22:15 UTC
    session.commit()
    days = contest_statistics(session, contest).days
    assert [(d.date.day, d.uploads) for d in days] == [(29, 1), (30, 1), (31, 1)]


def test_a_huge_panorama_does_not_overflow(session):
    contest = add_contest(session, "panorama", local(2025, 6, 1), local(2025, 6, 2), template=None)
    add_entry(session, contest, 1, "Asel", local(2025, 6, 1, 8), width=60_000, height=50_000)
    session.commit()
    stats = contest_statistics(session, contest)
    assert (stats.uploads, stats.under_minimum_size) == (1, 0)


# --- Exports ----------------------------------------------------------------------------------


def test_json_has_the_required_keys_and_iso_dates(stats):
    data = json.loads(json.dumps(as_json(stats)))
    assert {k: data[k] for k in ("uploads", "uploaders", "newcomers", "in_use")} == {
        "uploads": 9, "uploaders": 5, "newcomers": 1, "in_use": 2}
    assert data["sites"]["sites_pictured"] == 3
    assert data["newcomer_share"] == 0.2 and data["in_use_share"] == 0.2222
    assert data["start"] == "2025-06-15T00:00:00+05:45" and data["end"] == "2025-06-18T00:00:00+05:45"
    assert data["days"][0] == {"date": "2025-06-15", "uploads": 2, "joiners": 2}
    assert data["top_uploaders"][1]["first_upload"] == "2025-06-16T09:00:00+05:45"


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: spreadsheets then read UTF-8
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_csv_tables_columns_and_rows(stats):
    tables = csv_tables(stats)
    assert set(tables) == {"figures", "daily", "uploaders", "regions", "sites"}
    figures = read_csv(to_csv(*tables["figures"]))
    assert figures[0] == ["figure", "value"]
    assert ["uploads", "9"] in figures and ["newcomer_share", "0.2"] in figures
    assert ["sites_pictured", "3"] in figures and ["site_id_missing", "2"] in figures
    assert read_csv(to_csv(*tables["daily"])) == [
        ["date", "uploads", "joiners"], ["2025-06-15", "2", "2"], ["2025-06-16", "4", "2"], ["2025-06-17", "3", "1"],
    ]
    uploaders = read_csv(to_csv(*tables["uploaders"]))
    assert uploaders[0] == ["rank", "uploader", "uploads", "first_upload", "newcomer"]
    assert uploaders[2] == ["2", "Bolat", "2", "2025-06-16T09:00:00+05:45", "yes"]
    assert read_csv(to_csv(*tables["regions"]))[1:] == [
        ["Bagmati", "1", "1", "1", "1"], ["Karnali", "2", "2", "1", "4"], ["", "1", "0", "0", "0"]]
    assert read_csv(to_csv(*tables["sites"]))[1] == ["1", "NP-001", "Lake Rara", "Karnali", "3", "yes"]


def test_csv_keeps_cyrillic_and_defuses_formulas():
    data = to_csv(["uploader", "uploads"], [["Әлия", 3], ["=HYPERLINK(\"http://x\")", 1], ["-1+1", 2], [None, 0]])
    assert read_csv(data) == [["uploader", "uploads"], ["Әлия", "3"], ["'=HYPERLINK(\"http://x\")", "1"],
                              ["'-1+1", "2"], ["", "0"]]


def test_wikitext_tables(stats):
    text = wikitext(stats, "Wiki Loves Earth 2025 in Nepal")
    assert text.startswith("== Wiki Loves Earth 2025 in Nepal ==\n")
    assert text.count("{|") == text.count("|}") == 5  # figures, days, uploaders, regions, sites
    assert '{| class="wikitable"\n! Figure !! Value\n|-\n| Uploads || 9\n' in text
    assert "| Newcomers, share of uploaders || 20.0%\n" in text
    assert "! Date !! Uploads !! First-time uploaders\n|-\n| 2025-06-15 || 2 || 2\n" in text
    assert "| 2 || [[User:Bolat|Bolat]] || 2 || yes\n" in text
    assert "| Karnali || 2 || 2 || 1 || 4\n" in text and "| — || 1 || 0 || 0 || 0\n" in text
    assert "| 1 || NP-001 || Lake Rara || Karnali || 3 || yes\n" in text
    for line in text.splitlines():  # every table line is a table command; nothing else but headings
        assert line == "" or line.startswith(("{|", "|", "!", "==")), line


def test_wiki_text_shows_markup_as_text():
    assert wiki_text("[[Category:X]] {{Delete}} a|b ''c'' ~~~~") == (
        "&#91;&#91;Category:X&#93;&#93; &#123;&#123;Delete&#125;&#125; a&#124;b &#39;&#39;c&#39;&#39; "
        "&#126;&#126;&#126;&#126;")
    assert wiki_text("__NOTOC__ <b>x</b>\nnext") == "_&#95;NOTOC_&#95; &#60;b&#62;x&#60;/b&#62; next"
    assert user_link("Ақбота") == "[[User:Ақбота|Ақбота]]"
    assert user_link("Odd]]name") == "Odd&#93;&#93;name"


# --- The uploaded list of previously pictured sites -------------------------------------------


def test_parse_site_ids_one_a_line_or_first_column_with_header():
    assert parse_site_ids(b"NP-001\n\nNP-002\n# a comment\nNP-001\n") == ["NP-001", "NP-002"]
    assert parse_site_ids("\ufeffsite_id;name\nNP-1;Озеро\n\"NP-2\";Лес\n".encode()) == ["NP-1", "NP-2"]
    assert parse_site_ids(b"id,name\r\nNP-1,x\r\n") == ["NP-1"]


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe\x00", "not UTF-8"),
    (b"\n# nothing\n", "no site IDs"),
    (b"NP-1\nhas space\n", "line 2: \u201chas space\u201d does not match"),
    (b"NP-1\n" + b"x" * 101 + b"\n", "line 2"),
    (b"NP-1\nNP-\x002\n", "line 2: \u201cNP-\x002\u201d is not a site ID"),
    (b"NP-1\n\"NP-2\nNP-3\n", "cannot be read past line"),
])
def test_parse_site_ids_refuses_bad_lists_whole(data, message):
    with pytest.raises(PicturedListError, match=message):
        parse_site_ids(data, pattern=r"[\w./-]+")


def test_replacing_the_list_is_audited_and_changes_the_first_time_figure(session):
    contest = build_contest(session)
    assert contest_statistics(session, contest).sites.pictured_first_time == 2
    replace_previously_pictured(session, contest, ["NP-001", "NP-003"], "cli:tester")
    session.commit()
    stored = session.scalars(select(PreviouslyPicturedSite.site_id).where(
        PreviouslyPicturedSite.contest_id == contest.id).order_by(PreviouslyPicturedSite.site_id)).all()
    assert stored == ["NP-001", "NP-003"]
    assert contest_statistics(session, contest).sites.pictured_first_time == 0
    line = session.scalar(select(AuditLog).where(AuditLog.action == "statistics.previously_pictured"))
    assert (line.actor_name, line.contest_id, line.details) == ("cli:tester", contest.id, {"before": 1, "after": 2})


# --- The command line ---------------------------------------------------------------------------


def test_wle_contest_stats_json(settings, session):
    from click.testing import CliRunner

    from wle.cli import main

    build_contest(session)
    env = {"WLE_DATABASE_URL": settings.database_url, "WLE_INSTANCE_DIR": settings.instance_dir,
           "WLE_MEDIA_DIR": settings.media_dir, "WLE_REDIS_URL": ""}
    result = CliRunner().invoke(main, ["contest", "stats", "wle-2025-np", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {k: data[k] for k in ("uploads", "uploaders", "newcomers", "in_use")} == {
        "uploads": 9, "uploaders": 5, "newcomers": 1, "in_use": 2}
    assert data["sites"]["sites_pictured"] == 3 and data["sites"]["pictured_first_time"] == 2

    readable = CliRunner().invoke(main, ["contest", "stats", "wle-2025-np"], env=env)
    assert readable.exit_code == 0, readable.output
    assert "       9  Uploads\n" in readable.output and "   20.0%  Newcomers, share of uploaders\n" in readable.output
    assert "  2025-06-16        4        2\n" in readable.output

    unknown = CliRunner().invoke(main, ["contest", "stats", "nope", "--json"], env=env)
    assert unknown.exit_code == 1 and "No contest with the slug 'nope'" in unknown.output
