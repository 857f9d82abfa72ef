"""Checking a contest: reasons stored from stored data, recomputed on a setting change with a report,
previews that write nothing, decisions by hand, the first round's query, and the CLI."""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import datetime, timedelta, timezone
from itertools import count

import pytest
from click.testing import CliRunner
from sqlalchemy import event, select

from wle.eligibility import (
    DecisionError, check_contest, check_state, decide, eligible_entries_query, entry_results, load_settings,
    preview_settings, reason_counts, remember_perceptual_hash, save_settings,
)
from wle.models import AuditLog, Entry, utcnow
from wle.models.rules import EntryCheck, EntryFingerprint, EntryReason, EntrySite, EntryWikitext
from wle.perceptual_hash import to_hex
from wle.rules import RuleSettingsError
from wle.sites import import_sites, wikitext_wanted

from tests.factories import make_contest

_pageids = count(5000)
IN_WINDOW = datetime(2025, 6, 20, 8, tzinfo=timezone.utc)
TEMPLATE = "Protected area Kazakhstan"


def add_entry(session, contest, **values) -> Entry:
    pageid = values.pop("pageid", None) or next(_pageids)
    uploaded = values.pop("uploaded_at", IN_WINDOW)
    entry = Entry(**{
        "contest_id": contest.id, "pageid": pageid, "title": f"File:Nature {pageid}.jpg",
        "uploader": "Aigerim", "uploaded_at": uploaded, "last_uploaded_at": uploaded,
        "width": 4000, "height": 3000, "size": 4_000_000, "mime": "image/jpeg", "sha1": secrets.token_hex(20),
        "license": "CC BY-SA 4.0", "credit": "Own work", "artist_user": "Aigerim", "categories": [],
        "file_url": f"http://wiki.test/{pageid}.jpg", "page_url": f"http://wiki.test/File:{pageid}",
        "thumb_key": secrets.token_hex(16), **values,
    })
    session.add(entry)
    session.flush()
    return entry


def give_page(session, entry, wikitext: str) -> None:
    session.add(EntryWikitext(entry_id=entry.id, contest_id=entry.contest_id, revid=1, wikitext=wikitext))


def give_hash(session, entry, value: int) -> None:
    session.add(EntryFingerprint(entry_id=entry.id, contest_id=entry.contest_id, perceptual_hash=to_hex(value)))


def reasons_of(session, entry) -> dict:
    return {code: detail for code, detail in session.execute(
        select(EntryReason.code, EntryReason.detail).where(EntryReason.entry_id == entry.id))}


@pytest.fixture
def contest(session):
    return make_contest(session)


def test_every_failing_reason_is_kept(session, contest):
    bad = add_entry(session, contest, uploaded_at=datetime(2025, 5, 1, tzinfo=timezone.utc), width=1000,
                    height=1000, mime="image/gif", license=None, credit="Flickr", artist_user="Someone")
    good = add_entry(session, contest)
    report = check_contest(session, contest)
    session.commit()
    assert (report.checked, report.failing, report.first_checked) == (2, 1, 2)
    assert sorted(reasons_of(session, bad)) == ["file_type", "licence", "not_own_work", "outside_window",
                                                "too_small"]
    assert reasons_of(session, bad)["licence"] == {"licence": None}
    assert reasons_of(session, good) == {}
    assert [e.id for e in session.scalars(eligible_entries_query(contest))] == [good.id]


def test_a_setting_change_recomputes_and_says_what_changed(session, contest):
    small = add_entry(session, contest, width=1500, height=1000)  # 1.5 Mpx
    medium = add_entry(session, contest, width=2000, height=1500)  # 3 Mpx
    add_entry(session, contest, width=3000, height=2000)  # 6 Mpx
    check_contest(session, contest)
    session.commit()

    stricter = dataclasses.replace(load_settings(session, contest), min_megapixels=5)
    report = save_settings(session, contest, stricter, "cli:test")
    session.commit()
    assert report.newly_failing == [medium.pageid] and report.newly_passing == []
    assert report.reasons == {"too_small": (1, 2)} and report.first_checked == 0
    assert contest.min_megapixels == 5  # one place only: the contest's column
    assert reasons_of(session, medium)["too_small"]["minimum"] == 5
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "rules.update")).one()
    assert (audit.details["before"]["min_megapixels"], audit.details["after"]["min_megapixels"]) == (2.0, 5.0)

    again = check_contest(session, contest)
    assert not again.changed  # nothing new: nothing reported, nothing written

    off = dataclasses.replace(load_settings(session, contest), enabled=stricter.enabled - {"min_size"})
    report = save_settings(session, contest, off, "cli:test")
    assert sorted(report.newly_passing) == sorted([small.pageid, medium.pageid]) and report.failing == 0


def test_a_recheck_that_changes_nothing_writes_nothing(session, contest):
    first = add_entry(session, contest, title="File:Ақсу көлі.jpg")
    add_entry(session, contest, sha1=first.sha1, uploaded_at=IN_WINDOW + timedelta(hours=1), license=None)
    add_entry(session, contest, width=10, height=10, mime="video/webm")
    check_contest(session, contest)
    session.commit()
    statements = []

    def remember(_connection, _cursor, statement, *_args):
        statements.append(statement.split(None, 1)[0].upper() + " " + statement)

    event.listen(session.get_bind(), "before_cursor_execute", remember)
    try:
        report = check_contest(session, contest)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", remember)
    writes = [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE")) and "contest_rules" not in s]
    assert writes == [] and not report.changed and report.failing == 2


def test_a_preview_reports_the_effect_and_writes_nothing(session, contest):
    small = add_entry(session, contest, width=1500, height=1000)
    add_entry(session, contest)
    check_contest(session, contest)
    session.commit()
    lenient = dataclasses.replace(load_settings(session, contest), min_megapixels=1)
    report = preview_settings(session, contest, lenient)
    assert report.newly_passing == [small.pageid] and report.reasons == {"too_small": (1, 0)}
    session.commit()
    session.expire_all()
    assert contest.min_megapixels == 2.0 and "too_small" in reasons_of(session, small)
    assert session.scalars(select(AuditLog)).all() == []
    with pytest.raises(RuleSettingsError, match="between 0 and 1000"):
        preview_settings(session, contest, dataclasses.replace(lenient, min_megapixels=-3))


def test_refused_settings_change_nothing(session, contest):
    with pytest.raises(RuleSettingsError):
        save_settings(session, contest, dataclasses.replace(load_settings(session, contest), site_pattern="("),
                      "cli:test")
    session.rollback()
    assert load_settings(session, contest).site_pattern != "("


def test_a_decision_overrides_the_rules_is_audited_and_survives_a_recheck(session, contest):
    flagged = add_entry(session, contest, license="CC BY-NC 4.0")
    fine = add_entry(session, contest)
    check_contest(session, contest)
    decide(session, contest, flagged.pageid, "requalify", "Licence fixed on Commons; Commons is slow to tell.",
           "cli:test")
    decide(session, contest, fine.pageid, "disqualify", "The photo shows a zoo, not a protected area.", "cli:test")
    session.commit()
    assert [e.pageid for e in session.scalars(eligible_entries_query(contest))] == [flagged.pageid]
    check_contest(session, contest)
    session.commit()
    kept = session.get(EntryCheck, flagged.id)
    assert (kept.decision, kept.eligible, kept.rules_eligible) == ("qualified", True, False)
    assert "licence" in reasons_of(session, flagged)  # the reason stays visible
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "entry.disqualify")).one()
    assert audit.details["pageid"] == fine.pageid and "zoo" in audit.details["note"]

    decide(session, contest, fine.pageid, "clear", "Checked again: it is the reserve.", "cli:test")
    session.commit()
    assert session.get(EntryCheck, fine.id).eligible and session.get(EntryCheck, fine.id).decision is None


def test_a_decision_on_an_entry_never_checked_checks_the_contest_first(session, contest):
    entry = add_entry(session, contest)
    check = decide(session, contest, entry.pageid, "disqualify", "Not nature.", "cli:test")
    assert check.rules_eligible and not check.eligible


@pytest.mark.parametrize("action, note, pageid, message", [
    ("delete", "why", None, "Unknown action"),
    ("disqualify", "   ", None, "Write a note"),
    ("disqualify", "x" * 2001, None, "at most 2000"),
    ("disqualify", "bad\x00note", None, "plain text"),
    ("disqualify", "why", 999_999, "no entry with the page id 999999"),
])
def test_bad_decisions_are_refused_clearly(session, contest, action, note, pageid, message):
    entry = add_entry(session, contest)
    with pytest.raises(DecisionError, match=message):
        decide(session, contest, pageid or entry.pageid, action, note, "cli:test")


def test_gone_entries_are_neither_checked_nor_eligible(session, contest):
    gone = add_entry(session, contest, gone_at=utcnow(), gone_reason="deleted")
    copy = add_entry(session, contest, sha1=gone.sha1, uploaded_at=IN_WINDOW + timedelta(hours=1))
    report = check_contest(session, contest)
    assert report.checked == 1 and reasons_of(session, copy) == {}  # a deleted earlier upload is no original
    with pytest.raises(DecisionError, match="no longer in the contest"):
        decide(session, contest, gone.pageid, "requalify", "why", "cli:test")


def test_duplicates_and_near_duplicates_flag_the_later_upload(session, contest):
    first = add_entry(session, contest, uploaded_at=IN_WINDOW)
    copy = add_entry(session, contest, sha1=first.sha1, uploaded_at=IN_WINDOW + timedelta(hours=1))
    near = add_entry(session, contest, uploaded_at=IN_WINDOW + timedelta(hours=2))
    far = add_entry(session, contest, uploaded_at=IN_WINDOW + timedelta(hours=3))
    for entry, value in ((first, 0xABCD_0000_FFFF_1234), (copy, 0xABCD_0000_FFFF_1234),
                         (near, 0xABCD_0000_FFFF_1237), (far, 0x1234_FFFF_0000_ABCD)):
        give_hash(session, entry, value)
    check_contest(session, contest)
    assert reasons_of(session, copy) == {"duplicate": {"earlier_pageid": first.pageid, "earlier_title": first.title}}
    assert reasons_of(session, near)["near_duplicate"]["earlier_pageid"] == first.pageid
    assert reasons_of(session, first) == {} and reasons_of(session, far) == {}
    # A threshold of 1 lets the two-bit difference pass.
    report = save_settings(session, contest, dataclasses.replace(load_settings(session, contest),
                                                                 near_duplicate_distance=1), "cli:test")
    assert report.newly_passing == [near.pageid]


def test_site_ids_from_file_pages_against_the_site_list(session, contest):
    known = add_entry(session, contest)
    unknown = add_entry(session, contest)
    malformed = add_entry(session, contest)
    absent = add_entry(session, contest)
    unread = add_entry(session, contest)
    give_page(session, known, f"{{{{{TEMPLATE}|KZ-TUR-001}}}}")
    give_page(session, unknown, f"{{{{{TEMPLATE}|KZ-XXX-999}}}}")
    give_page(session, malformed, f"{{{{{TEMPLATE}|Aksu}}}}")
    give_page(session, absent, "{{Information|description=A lake}}")
    settings = dataclasses.replace(load_settings(session, contest), enabled=load_settings(session, contest).enabled
                                   | {"site_id"}, site_template=TEMPLATE, site_pattern=r"KZ-[A-Z]{3}-\d{3}")
    save_settings(session, contest, settings, "cli:test")
    # No site list yet: a well-formed ID is enough.
    assert reasons_of(session, known) == {} and reasons_of(session, unknown) == {}
    assert reasons_of(session, malformed)["site_id_missing"] == {"why": "malformed", "values": ["Aksu"]}
    assert reasons_of(session, absent)["site_id_missing"] == {"why": "no_template"}
    assert reasons_of(session, unread)["site_id_missing"] == {"why": "not_read"}

    import_sites(session, contest, b"ID,Name,Region\nKZ-TUR-001,Aksu-Zhabagly,Turkistan\n", "cli:test")
    report = check_contest(session, contest)
    assert report.newly_failing == [unknown.pageid]
    assert reasons_of(session, unknown)["site_id_unknown"] == {"ids": ["KZ-XXX-999"]}
    assert set(session.scalars(select(EntrySite.site_id))) == {"KZ-TUR-001", "KZ-XXX-999"}
    # Flagged and unread pages are read again after the next sync; the known one is not.
    assert wikitext_wanted(session, contest.id) == sorted([unknown.id, malformed.id, absent.id, unread.id])

    # A new pattern is applied to the stored pages, without reading them again.
    looser = dataclasses.replace(settings, site_pattern=r"[A-Za-z-]+")
    report = save_settings(session, contest, looser, "cli:test")
    assert reasons_of(session, malformed)["site_id_unknown"] == {"ids": ["Aksu"]}
    assert reasons_of(session, known)["site_id_missing"] == {"why": "malformed", "values": ["KZ-TUR-001"]}
    assert set(session.scalars(select(EntrySite.site_id))) == {"Aksu"}


def test_check_state_and_counts(session, contest):
    add_entry(session, contest, width=10, height=10)
    add_entry(session, contest)
    assert check_state(session, contest).unchecked == 2
    check_contest(session, contest)
    state = check_state(session, contest)
    assert (state.entries, state.unchecked, state.eligible, state.flagged, state.without_hash) == (2, 0, 1, 1, 2)
    assert state.checked_at is not None
    assert reason_counts(session, contest) == {"too_small": 1}


def test_the_thumbnail_hash_is_remembered_and_an_unreadable_one_skipped(session, contest, tmp_path):
    from tests.test_perceptual_hash import encoded, landscape
    from wle.thumbnails import render

    entry = add_entry(session, contest)
    path = tmp_path / "grid.webp"
    path.write_bytes(render(encoded(landscape(4)), {"grid": 400})["grid"])
    remember_perceptual_hash(session, entry, path)
    remember_perceptual_hash(session, entry, path)  # made again: replaced, not added
    session.flush()
    assert len(session.get(EntryFingerprint, entry.id).perceptual_hash) == 16
    other = add_entry(session, contest)
    remember_perceptual_hash(session, other, tmp_path / "missing.webp")
    assert session.get(EntryFingerprint, other.id) is None


def test_making_thumbnails_stores_the_hash_that_finds_a_resized_copy(session, contest, settings):
    from tests.test_perceptual_hash import encoded, landscape
    from wle.download_slots import DownloadSlots
    from wle.entry_media import make_thumbnails

    picture = landscape(5)
    files = {"http://wiki.test/a.jpg": encoded(picture), "http://wiki.test/b.jpg": encoded(picture.resize((700, 466)))}

    class Downloads:
        def download(self, url, *, max_bytes):
            return files[url]

    first = add_entry(session, contest, thumb_source_url="http://wiki.test/a.jpg")
    copy = add_entry(session, contest, thumb_source_url="http://wiki.test/b.jpg",
                     uploaded_at=IN_WINDOW + timedelta(days=2))
    session.commit()
    counts = make_thumbnails(session, [first.id, copy.id], Downloads(), settings.media_dir, DownloadSlots(None))
    assert counts["done"] == 2
    check_contest(session, contest)
    assert reasons_of(session, copy)["near_duplicate"]["earlier_pageid"] == first.pageid


# --- The command line -----------------------------------------------------------------------------


@pytest.fixture
def wle(settings):
    from wle.cli import main

    env = {"WLE_DATABASE_URL": settings.database_url, "WLE_MEDIA_DIR": settings.media_dir,
           "WLE_INSTANCE_DIR": settings.instance_dir, "WLE_COMMONS_API_URL": settings.commons_api_url,
           "WLE_CONTACT": settings.contact, "WLE_REDIS_URL": ""}

    def run(*args):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def test_cli_entries_json(wle, session, contest):
    small = add_entry(session, contest, width=100, height=100, uploader="Daniyar", credit=None, artist_user=None)
    good = add_entry(session, contest, uploaded_at=IN_WINDOW + timedelta(days=1))
    session.commit()
    result = wle("contest", "entries", contest.slug, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [{k: item[k] for k in ("pageid", "title", "uploader", "eligible", "reasons")} for item in data] == [
        {"pageid": small.pageid, "title": small.title, "uploader": "Daniyar", "eligible": False,
         "reasons": ["too_small", "not_own_work"]},
        {"pageid": good.pageid, "title": good.title, "uploader": "Aigerim", "eligible": True, "reasons": []},
    ]
    assert entry_results(session, contest) == data
    plain = wle("contest", "entries", contest.slug)
    assert "1 of 2 entries eligible." in plain.output


def test_cli_rules_preview_then_save(wle, session, contest):
    add_entry(session, contest, width=2000, height=1500)
    session.commit()
    wle("contest", "entries", contest.slug)
    preview = json.loads(wle("contest", "rules", contest.slug, "--min-megapixels", "5", "--preview", "--json").output)
    assert preview["saved"] is False and len(preview["report"]["newly_failing"]) == 1
    assert preview["min_megapixels"] == 5
    shown = json.loads(wle("contest", "rules", contest.slug, "--json").output)
    assert shown["min_megapixels"] == 2.0 and shown["report"] is None
    saved = wle("contest", "rules", contest.slug, "--min-megapixels", "5", "--disable", "near_duplicate")
    assert "Saved. 1 entries newly fail" in saved.output and "[ ] near_duplicate" in saved.output
    bad = wle("contest", "rules", contest.slug, "--enable", "site_id")
    assert bad.exit_code == 1 and "Name the template" in bad.output
    unknown = wle("contest", "rules", contest.slug, "--enable", "colour")
    assert unknown.exit_code == 2 and "unknown rule 'colour'" in unknown.output


def test_cli_sites_import_reports_bad_rows_and_exits_1(wle, contest, tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("ID,Name,Region,Lat,Lon\nA-1,Lake,North,43,77\nA-2,Hill,South,99,77\n", encoding="utf-8")
    result = wle("contest", "sites", contest.slug, str(path), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["added"] == 1 and report["bad_rows"] == [{"line": 3, "reason": "the coordinate 99 is outside −90…90"}]
    path.write_text("Nothing,Useful\n", encoding="utf-8")
    refused = wle("contest", "sites", contest.slug, str(path))
    assert refused.exit_code == 1 and "missing: id, name, region" in refused.output


def test_cli_decide(wle, session, contest):
    entry = add_entry(session, contest)
    session.commit()
    result = wle("contest", "decide", contest.slug, str(entry.pageid), "disqualify", "--note", "A zoo.")
    assert result.exit_code == 0 and "not eligible" in result.output
    empty = wle("contest", "decide", contest.slug, str(entry.pageid), "requalify", "--note", " ")
    assert empty.exit_code == 1 and "Write a note" in empty.output
