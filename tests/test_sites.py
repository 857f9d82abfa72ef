"""The site list's CSV import: good rows in, bad rows reported with their line and why."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from wle.models import AuditLog
from wle.models.rules import Site
from wle.sites import BadRow, SiteListError, import_sites, parse_site_list

from tests.factories import make_contest

HEADER = "ID,Name,Region,Lat,Lon,Wikidata\n"


def parse(text: str | bytes):
    return parse_site_list(text.encode() if isinstance(text, str) else text)


def test_a_good_file_with_bom_semicolons_decimal_commas_and_cyrillic():
    data = "\ufeffid;название;область;широта;долгота;wikidata\n" \
           "KZ-TUR-001;Аксу-Жабаглы;Түркістан облысы;42,4333;70,5333;https://www.wikidata.org/wiki/Q1133523\n" \
           "\n" \
           "KZ-ALM-002;Charyn Canyon;Almaty Region;;;\n"
    rows, bad = parse(data)
    assert bad == []
    assert [(r.line, r.site_id, r.name, r.region, r.latitude, r.longitude, r.wikidata) for r in rows] == [
        (2, "KZ-TUR-001", "Аксу-Жабаглы", "Түркістан облысы", 42.4333, 70.5333, "Q1133523"),
        (4, "KZ-ALM-002", "Charyn Canyon", "Almaty Region", None, None, None),
    ]


def test_only_id_name_and_region_columns_are_required():
    rows, bad = parse("site_id,name,region\nA-1,Lake,North\n")
    assert bad == [] and rows[0].latitude is None and rows[0].wikidata is None


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"\n\n", "empty"),
    (b"Name,Lat\nLake,43\n", "missing: id, region"),
    (b"ID,Name,Region,Lat\nA,B,C,43\n", "latitude column without a longitude"),
    ("ID,Name,Region\n".encode("utf-16"), "UTF-16"),
    ("Код,Название,Регион\n".encode("cp1251"), "not UTF-8"),
])
def test_files_that_cannot_be_read_at_all_are_refused_whole(data, message):
    with pytest.raises(SiteListError, match=message):
        parse(data)


def test_rows_in_another_encoding_are_reported_one_by_one():
    data = (HEADER + "A-1,Lake,North,,,\n").encode() + "A-2,Озеро,Север,,,\n".encode("cp1251") \
        + "A-3,Kól,North,,,\n".encode()
    rows, bad = parse(data)
    assert [r.site_id for r in rows] == ["A-1", "A-3"]
    assert bad == [BadRow(3, "not UTF-8 text (save the file as “CSV UTF-8”)")]


def test_duplicate_ids_keep_the_first_and_report_the_others():
    rows, bad = parse(HEADER + "A-1,Lake,North,,,\nA-2,Hill,South,,,\nA-1,Lake again,North,,,\n")
    assert [r.name for r in rows] == ["Lake", "Hill"]
    assert bad == [BadRow(4, "the ID A-1 is on line 2 already")]


@pytest.mark.parametrize("row, reason", [
    ("A-1,Lake,North,abc,70,", "abc is not a coordinate in degrees such as 43.25"),
    ("A-1,Lake,North,91,70,", "the coordinate 91 is outside −90…90"),
    ("A-1,Lake,North,43,-180.5,", "the coordinate -180.5 is outside −180…180"),
    ("A-1,Lake,North,43,,", "has a latitude without a longitude, or the reverse"),
    ("A-1,Lake,North,nan,70,", "the coordinate nan is outside −90…90"),
    ("A-1,Lake,North,43,inf,", "the coordinate inf is outside −180…180"),
    ("A-1,Lake,North,,,X12", "X12 is not a Wikidata item such as Q123"),
    (",Lake,North,,,", "has no ID"),
    ("A-1,,North,,,", "has no name"),
    ("A-1,Lake, North, Region,,,", "has 7 fields but the header names 6 (a comma in a name needs quotes)"),
    ("A-1,Lake", "has 2 fields but the header names 6"),
    ("A-1,La\x01ke,North,,,", "contains control characters"),
    ("A" * 101 + ",Lake,North,,,", "the ID is longer than 100 characters"),
])
def test_bad_rows_are_reported_with_line_and_reason_and_the_rest_imported(row, reason):
    rows, bad = parse(HEADER + row + "\nB-2,Hill,South,43.1,77.2,Q42\n")
    assert bad == [BadRow(2, reason)]
    assert [(r.site_id, r.line) for r in rows] == [("B-2", 3)]


def test_line_numbers_count_lines_of_the_file_not_rows():
    rows, bad = parse(HEADER + 'A-1,"Lake\non two lines",North,,,\nB-2,,South,,,\n')
    assert rows[0].name == "Lake\non two lines"
    assert bad == [BadRow(4, "has no name")]


def test_import_adds_then_updates_by_id_and_keeps_sites_missing_from_the_file(session):
    contest = make_contest(session)
    first = import_sites(session, contest, (HEADER + "A-1,Lake,North,,,\nA-2,Hill,South,,,\n").encode(), "cli:test")
    session.commit()
    assert (first.added, first.updated, first.unchanged, first.not_in_file) == (2, 0, 0, 0)
    again = import_sites(session, contest,
                         (HEADER + "A-1,Lake,North,,,\nA-3,Forest,East,43.2,76.9,Q5\nA-3,dup,East,,,\n").encode(),
                         "cli:test")
    session.commit()
    assert (again.added, again.updated, again.unchanged, again.not_in_file) == (1, 0, 1, 1)
    assert again.bad_rows == [BadRow(4, "the ID A-3 is on line 3 already")]
    fixed = import_sites(session, contest, (HEADER + "A-2,Hill top,South,,,\n").encode(), "cli:test")
    session.commit()
    assert (fixed.added, fixed.updated) == (0, 1)
    sites = {s.site_id: s for s in session.scalars(select(Site).where(Site.contest_id == contest.id))}
    assert sorted(sites) == ["A-1", "A-2", "A-3"]
    assert sites["A-2"].name == "Hill top" and sites["A-3"].wikidata == "Q5" and sites["A-3"].latitude == 43.2
    lines = session.scalars(select(AuditLog).where(AuditLog.action == "sites.import").order_by(AuditLog.id)).all()
    assert [line.details["added"] for line in lines] == [2, 1, 0]
    assert lines[1].details["bad_rows"] == 1 and lines[1].actor_name == "cli:test"


def test_a_refused_file_writes_nothing(session):
    contest = make_contest(session)
    with pytest.raises(SiteListError):
        import_sites(session, contest, b"nothing,useful\n1,2\n", "cli:test")
    assert session.scalars(select(Site)).all() == []
    assert session.scalars(select(AuditLog).where(AuditLog.action == "sites.import")).all() == []


def test_site_lists_are_per_contest(session):
    one = make_contest(session, slug="one")
    two = make_contest(session, slug="two")
    import_sites(session, one, (HEADER + "A-1,Lake,North,,,\n").encode(), "cli:test")
    report = import_sites(session, two, (HEADER + "A-1,Lake,North,,,\n").encode(), "cli:test")
    session.commit()
    assert report.added == 1
