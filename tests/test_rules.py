"""Each rule on its edge cases, on plain data: no database, no web."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from wle import rules
from wle.rules import EntryFacts, Reason, RuleSettings, RuleSettingsError, SiteReading, UploadWindow

from tests.fake_api import SAMPLES

ALMATY = ZoneInfo("Asia/Almaty")
# The window of a contest from 15 June to 15 July in Kazakhstan, as wle.contests stores it.
WINDOW = UploadWindow(datetime(2025, 6, 15, tzinfo=ALMATY), datetime(2025, 7, 16, tzinfo=ALMATY))


def facts(**changes) -> EntryFacts:
    base = EntryFacts(
        id=1, pageid=101, title="File:Charyn.jpg", uploader="Aigerim Photographer",
        uploaded_at=datetime(2025, 6, 20, 10, tzinfo=timezone.utc), width=4000, height=3000,
        mime="image/jpeg", sha1="a" * 40, license="CC BY-SA 4.0", credit="Own work",
        artist_user="Aigerim Photographer",
    )
    return dataclasses.replace(base, **changes)


# --- Window ---------------------------------------------------------------------------------


def test_window_boundaries_are_judged_in_the_contest_time_zone():
    start = datetime(2025, 6, 15, tzinfo=ALMATY)
    end = datetime(2025, 7, 16, tzinfo=ALMATY)
    assert rules.in_window(facts(uploaded_at=start), WINDOW) is None  # the first second counts
    assert rules.in_window(facts(uploaded_at=end - timedelta(seconds=1)), WINDOW) is None  # 15 July 23:59:59
    early = rules.in_window(facts(uploaded_at=start - timedelta(seconds=1)), WINDOW)
    late = rules.in_window(facts(uploaded_at=end), WINDOW)
    assert early == Reason("outside_window", {"uploaded_at": early.detail["uploaded_at"], "early": True})
    assert late.code == "outside_window" and late.detail["early"] is False
    # Midnight in Almaty is the evening before in UTC: still inside, though the UTC date is the 14th.
    evening_utc = start.astimezone(timezone.utc)
    assert evening_utc.day == 14 and rules.in_window(facts(uploaded_at=evening_utc), WINDOW) is None


# --- Size -----------------------------------------------------------------------------------


@pytest.mark.parametrize("width, height, minimum, passes", [
    (2000, 1000, 2.0, True),  # exactly 2 Mpx
    (1999, 1000, 2.0, False),
    (1, 1, 0.0, True),
    (1500, 1000, 1.5, True),  # 1.5 Mpx, no floating-point surprise
    (1224, 1225, 1.5, False),
])
def test_minimum_size_is_compared_in_whole_pixels(width, height, minimum, passes):
    reason = rules.large_enough(facts(width=width, height=height), minimum)
    assert (reason is None) is passes
    if reason:
        assert reason.code == "too_small" and reason.detail["minimum"] == minimum
        assert reason.detail["megapixels"] < minimum  # what the reason says is true


@pytest.mark.parametrize("width, height, minimum, shown", [
    (1920, 1040, 2.0, 1.997),  # 1.9968 Mpx: "2" would read as large enough
    (1999, 1000, 2.0, 1.999),
    (1000, 1000, 2.0, 1.0),
    (1999, 1000, 1.9999, 1.999),
    (1999_999, 1, 2.0, 1.999999),  # one pixel short: six decimals are whole pixels
])
def test_the_size_in_the_reason_has_the_digits_that_keep_it_true(width, height, minimum, shown):
    assert rules.large_enough(facts(width=width, height=height), minimum).detail["megapixels"] == shown


# --- File type, licence -----------------------------------------------------------------------


@pytest.mark.parametrize("mime, passes", [
    ("image/jpeg", True), ("IMAGE/JPEG", True), ("image/png", True), ("image/tiff", True), ("image/webp", True),
    ("image/gif", False), ("image/svg+xml", False), ("video/webm", False), ("application/pdf", False),
])
def test_default_file_types_are_photos(mime, passes):
    allowed = frozenset(rules.DEFAULT_FILE_TYPES)
    reason = rules.allowed_file_type(facts(mime=mime), allowed)
    assert (reason is None) is passes
    if reason:
        assert reason == Reason("file_type", {"mime": mime})


def test_licence_on_the_list_passes_others_and_none_fail_with_a_reason():
    allowed = frozenset(rules.normal_licence(name) for name in rules.DEFAULT_LICENCES)
    assert rules.free_licence(facts(license="CC BY-SA 4.0"), allowed) is None
    assert rules.free_licence(facts(license="cc by-sa   4.0"), allowed) is None  # case and spaces
    assert rules.free_licence(facts(license="CC0"), allowed) is None
    assert rules.free_licence(facts(license="CC BY-NC 4.0"), allowed) == Reason("licence", {"licence": "CC BY-NC 4.0"})
    # A wiki without CommonsMetadata gives no licence: a reason, not a crash.
    assert rules.free_licence(facts(license=None), allowed) == Reason("licence", {"licence": None})


# --- Own work -------------------------------------------------------------------------------


@pytest.mark.parametrize("credit, artist_user, uploader, passes", [
    ("Own work", None, "Aigerim", True),
    ("own work", "Someone else", "Aigerim", True),
    ("Own work, based on a photo by my father", None, "Aigerim", True),
    ("Собственная работа", None, "Aigerim", True),
    (None, "Aigerim", "Aigerim", True),
    ("Flickr", "aigerim_Photographer", "Aigerim Photographer", True),  # MediaWiki's name forms
    ("Flickr", "Someone else", "Aigerim", False),
    (None, None, "Aigerim", False),
    ("", "Aigerim", None, False),  # the uploader's name is hidden: nothing to compare
])
def test_own_work_variants(credit, artist_user, uploader, passes):
    reason = rules.own_work(facts(credit=credit, artist_user=artist_user, uploader=uploader))
    assert (reason is None) is passes
    if reason:
        assert reason == Reason("not_own_work", {"credit": credit, "artist_user": artist_user})


# --- Site ID --------------------------------------------------------------------------------


def test_site_id_rule_on_every_kind_of_reading():
    known = frozenset({"KZ-TUR-001", "KZ-ALM-002"})

    def check(reading, known_ids=known):
        return rules.known_site(facts(site_reading=reading), known_ids)

    assert check(None) == Reason("site_id_missing", {"why": "not_read"})
    assert check(SiteReading(False)) == Reason("site_id_missing", {"why": "no_template"})
    assert check(SiteReading(True)) == Reason("site_id_missing", {"why": "empty", "values": []})
    assert check(SiteReading(True, (), ("Aksu",))) == Reason("site_id_missing", {"why": "malformed",
                                                                                 "values": ["Aksu"]})
    assert check(SiteReading(True, ("KZ-XXX-999",))) == Reason("site_id_unknown", {"ids": ["KZ-XXX-999"]})
    assert check(SiteReading(True, ("KZ-XXX-999", "KZ-TUR-001"))) is None  # one known site is enough
    assert check(SiteReading(True, ("KZ-XXX-999",)), known_ids=None) is None  # no site list: pattern only


def sample_wikitext() -> str:
    answer = json.loads((SAMPLES / "filepage-wikitext.json").read_text(encoding="utf-8"))
    return answer["query"]["pages"][0]["revisions"][0]["slots"]["main"]["content"]


PATTERN = r"KZ-[A-Z]{3}-\d{3}"


def test_the_id_is_read_from_the_recorded_file_page():
    assert rules.read_site_ids(sample_wikitext(), "Protected area Kazakhstan", PATTERN) == SiteReading(
        True, ("KZ-TUR-001",))
    # Template names as MediaWiki compares them.
    for name in ("protected_area_Kazakhstan", "Template:Protected area Kazakhstan", " Protected  area Kazakhstan "):
        assert rules.read_site_ids(sample_wikitext(), name, PATTERN).ids == ("KZ-TUR-001",)
    assert rules.read_site_ids(sample_wikitext(), "Another template", PATTERN) == SiteReading(False)


@pytest.mark.parametrize("wikitext, expected", [
    ("no templates at all", SiteReading(False)),
    ("{{Protected area Kazakhstan}}", SiteReading(True)),
    ("{{Protected area Kazakhstan|}}", SiteReading(True)),
    ("{{Protected area Kazakhstan| Aksu-Zhabagly }}", SiteReading(True, (), ("Aksu-Zhabagly",))),
    ("{{Protected area Kazakhstan|kz-tur-001}}", SiteReading(True, (), ("kz-tur-001",))),
    ("{{Protected area Kazakhstan|1=KZ-TUR-001}}", SiteReading(True, ("KZ-TUR-001",))),
    ("{{Protected area Kazakhstan|name=[[Aksu|the reserve]]|KZ-TUR-001}}", SiteReading(True, ("KZ-TUR-001",))),
    ("{{Protected area Kazakhstan|{{Q|KZ-TUR-001}}}}", SiteReading(True, (), ("{{Q|KZ-TUR-001}}",))),
    ("{{Information|description={{en|Tulips}}{{Protected area Kazakhstan|KZ-TUR-001}}}}",
     SiteReading(True, ("KZ-TUR-001",))),
    ("{{Protected area Kazakhstan|KZ-TUR-001}} {{Protected area Kazakhstan|KZ-ALM-002}}",
     SiteReading(True, ("KZ-TUR-001", "KZ-ALM-002"))),
    ("<!-- {{Protected area Kazakhstan|KZ-TUR-001}} -->", SiteReading(False)),
    ("{{Protected area Kazakhstan|KZ-TUR-001", SiteReading(False)),  # never closed: not a template call
])
def test_id_template_edge_cases(wikitext, expected):
    assert rules.read_site_ids(wikitext, "Protected area Kazakhstan", PATTERN) == expected


# --- Duplicates -----------------------------------------------------------------------------


def at(minutes: int) -> datetime:
    return datetime(2025, 6, 20, tzinfo=timezone.utc) + timedelta(minutes=minutes)


def test_exact_duplicates_flag_every_later_upload_pointing_to_the_first():
    first = facts(id=2, pageid=20, title="File:First.jpg", uploaded_at=at(0), sha1="s" * 40)
    second = facts(id=1, pageid=10, title="File:Second.jpg", uploaded_at=at(5), sha1="s" * 40)
    third = facts(id=3, pageid=30, title="File:Third.jpg", uploaded_at=at(9), sha1="s" * 40)
    other = facts(id=4, pageid=40, uploaded_at=at(1), sha1="o" * 40)
    flagged = rules.exact_duplicates([third, other, second, first])  # any order in
    expected = Reason("duplicate", {"earlier_pageid": 20, "earlier_title": "File:First.jpg"})
    assert flagged == {1: expected, 3: expected}


def test_exact_duplicates_uploaded_in_the_same_second_go_by_page_id():
    a = facts(id=1, pageid=11, uploaded_at=at(0), sha1="s" * 40)
    b = facts(id=2, pageid=12, uploaded_at=at(0), sha1="s" * 40)
    assert list(rules.exact_duplicates([b, a])) == [2]


def hashed(entry_id: int, value: int, minutes: int, sha1: str | None = None) -> EntryFacts:
    return facts(id=entry_id, pageid=100 + entry_id, title=f"File:{entry_id}.jpg", uploaded_at=at(minutes),
                 perceptual_hash=value, sha1=sha1 or f"{entry_id:040x}")


def test_near_duplicate_threshold_is_inclusive():
    base = 0x0F0F_F0F0_1234_5678
    earlier = hashed(1, base, 0)
    at_limit = hashed(2, base ^ 0b1111, 5)  # 4 bits differ
    past_limit = hashed(3, base ^ 0b11111 << 20, 6)  # 5 bits differ
    flagged = rules.near_duplicates([past_limit, at_limit, earlier], max_distance=4)
    assert flagged == {2: Reason("near_duplicate", {"earlier_pageid": 101, "earlier_title": "File:1.jpg",
                                                    "distance": 4})}
    assert 3 in rules.near_duplicates([past_limit, earlier], max_distance=5)
    assert rules.near_duplicates([at_limit, earlier], max_distance=0) == {}


def test_near_duplicates_leave_exact_copies_and_unhashed_entries_alone():
    a = hashed(1, 42, 0, sha1="s" * 40)
    b = hashed(2, 42, 1, sha1="s" * 40)  # the same file: the duplicate rule's business
    c = facts(id=3, perceptual_hash=None, uploaded_at=at(2))
    assert rules.near_duplicates([a, b, c], max_distance=4) == {}


def test_near_duplicates_point_to_the_earliest_close_upload():
    a = hashed(1, 0b0000, 10)
    b = hashed(2, 0b0001, 0)  # the earliest
    c = hashed(3, 0b0011, 20)
    flagged = rules.near_duplicates([a, b, c], max_distance=2)
    assert {entry_id: reason.detail["earlier_pageid"] for entry_id, reason in flagged.items()} == {1: 102, 3: 102}


@pytest.mark.parametrize("max_distance", [0, 1, 4, 8])
def test_hash_bands_find_exactly_what_comparing_every_pair_finds(max_distance):
    generator = random.Random(max_distance)
    entries = []
    for i in range(400):
        if i % 3 and entries:  # plant near copies of earlier entries
            value = generator.choice(entries).perceptual_hash
            for _bit in range(generator.randint(0, 10)):
                value ^= 1 << generator.randrange(64)
        else:
            value = generator.getrandbits(64)
        entries.append(hashed(i + 1, value, i))
    brute = {}
    for later in entries:
        close = [e for e in entries if rules.upload_order(e) < rules.upload_order(later)
                 and (e.perceptual_hash ^ later.perceptual_hash).bit_count() <= max_distance]
        if close:
            brute[later.id] = min(close, key=rules.upload_order).pageid
    found = rules.near_duplicates(entries, max_distance)
    assert {i: r.detail["earlier_pageid"] for i, r in found.items()} == brute
    assert brute  # the test planted some


# --- Settings -------------------------------------------------------------------------------


def test_defaults_suit_wle_and_leave_the_site_rule_off_until_a_template_is_named():
    settings = rules.validate_settings(RuleSettings())
    assert settings.min_megapixels == 2.0
    assert not settings.on("site_id") and settings.on("window") and settings.on("near_duplicate")
    with pytest.raises(RuleSettingsError, match="Name the template"):
        rules.validate_settings(dataclasses.replace(settings, enabled=settings.enabled | {"site_id"}))


def test_settings_are_normalized():
    settings = rules.validate_settings(RuleSettings(
        file_types=("IMAGE/JPEG ", "image/jpeg", "image/png"), licences=("CC  BY 4.0", "CC BY 4.0"),
        site_template="Template:Protected_area  Kazakhstan",
    ))
    assert settings.file_types == ("image/jpeg", "image/png")
    assert settings.licences == ("CC BY 4.0",)
    assert settings.site_template == "Protected area Kazakhstan"


@pytest.mark.parametrize("changes, message", [
    ({"site_pattern": "KZ-("}, "not a valid regular expression"),
    ({"site_pattern": r"\d*"}, "accepts an empty ID"),
    ({"site_pattern": ""}, "ID pattern must be"),
    ({"near_duplicate_distance": 9}, "whole number from 0 to 8"),
    ({"near_duplicate_distance": True}, "whole number from 0 to 8"),
    ({"min_megapixels": -1}, "between 0 and 1000"),
    ({"file_types": ("jpeg",)}, "Not a file type"),
    ({"file_types": ()}, "allowed file types"),
    ({"licences": ()}, "licences"),
    ({"site_template": "{{Foo}}"}, "template's name"),
    ({"enabled": frozenset({"window", "colour"})}, "Unknown rules: colour"),
])
def test_bad_settings_are_refused_with_every_problem_named(changes, message):
    with pytest.raises(RuleSettingsError, match=message):
        rules.validate_settings(dataclasses.replace(RuleSettings(), **changes))


def test_two_problems_are_both_named():
    with pytest.raises(RuleSettingsError) as caught:
        rules.validate_settings(RuleSettings(min_megapixels=-1, near_duplicate_distance=99))
    assert len(caught.value.problems) == 2


def test_settings_survive_json_and_missing_keys_take_the_default():
    settings = RuleSettings(enabled=frozenset({"window", "site_id"}), site_template="X", near_duplicate_distance=2)
    again = RuleSettings.from_json(json.loads(json.dumps(settings.to_json())), min_megapixels=2.0)
    assert again == settings
    assert RuleSettings.from_json({"enabled": ["window", "gone-rule"]}, 5.0) == RuleSettings(
        enabled=frozenset({"window"}), min_megapixels=5.0)
    assert RuleSettings.from_json(None, 2.0) == RuleSettings()
