"""Creating contests: validation of every field, and the summary."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from wle.contests import ContestError, ContestForm, create_contest, normalize_category, summary, validate

from tests.factories import make_contest


def form(**changes) -> ContestForm:
    values = dict(
        slug="wle-2025-kz", name="WLE 2025 Kazakhstan", categories=["Images from Wiki Loves Earth 2025 in Kazakhstan"],
        starts_at=datetime(2025, 6, 15), ends_at=datetime(2025, 7, 16), timezone="Asia/Almaty",
    )
    values.update(changes)
    return ContestForm(**values)


def test_naive_window_is_read_in_the_contest_time_zone():
    checked = validate(form())
    assert checked.starts_at.astimezone(timezone.utc) == datetime(2025, 6, 14, 19, 0, tzinfo=timezone.utc)
    assert checked.starts_at.utcoffset() == timedelta(hours=5)


@pytest.mark.parametrize("raw, expected", [
    ("Category:Images_from Wiki Loves Earth 2025", "Images from Wiki Loves Earth 2025"),
    ("  category : foo  bar ", "Foo bar"),
    ("Шарын", "Шарын"),
])
def test_category_names_are_normalized(raw, expected):
    assert normalize_category(raw) == expected


@pytest.mark.parametrize("changes, message", [
    (dict(slug="Bad Slug"), "slug"),
    (dict(slug=""), "slug"),
    (dict(name="  "), "name"),
    (dict(categories=["", "  "]), "at least one"),
    (dict(categories=["A|B"]), "character"),
    (dict(timezone="Mars/Olympus"), "time zone"),
    (dict(ends_at=datetime(2025, 6, 1)), "end after"),
    (dict(min_megapixels=-1), "megapixels"),
])
def test_bad_fields_are_refused_with_a_reason(changes, message):
    with pytest.raises(ContestError, match=message):
        validate(form(**changes))


def test_every_problem_is_named_at_once():
    with pytest.raises(ContestError) as error:
        validate(form(slug="!", name="", categories=[]))
    assert "slug" in str(error.value) and "name" in str(error.value) and "category" in str(error.value)


def test_duplicate_slug_is_refused(session):
    make_contest(session)
    with pytest.raises(ContestError, match="exists already"):
        create_contest(session, form())


def test_duplicate_categories_are_kept_once(session):
    contest = create_contest(session, form(categories=["Foo", "Category:Foo", "foo"]))
    assert contest.category_names == ["Foo"]


def test_summary_of_a_new_contest(session):
    contest = make_contest(session)
    data = summary(session, contest)
    assert data["slug"] == "wle-2025-kz" and data["entries"] == 0 and data["entries_gone"] == 0
    assert data["thumbnails"] == {"pending": 0, "done": 0, "failed": 0}
    assert data["uploaders"] == 0 and data["last_sync"] is None
    assert data["start"] == "2025-06-15T00:00:00+05:00"
