"""The upload window's form pieces, shared by the new contest page and the edit page: a date range
in the contest's time zone, times optional, the last day included; and back from what is stored."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from werkzeug.datastructures import MultiDict

from wle.contests import LANGUAGES
from wle.web.forms import ContestWindowForm
from wle.web.language import LANGUAGES as INTERFACE_LANGUAGES


def window_form(app, **data) -> ContestWindowForm:
    with app.test_request_context(method="POST"):
        form = ContestWindowForm(formdata=MultiDict(data), meta={"csrf": False})
        form.validate()
        return form


@pytest.mark.parametrize("data, expected", [
    ({"starts_on": "2026-06-15", "ends_on": "2026-07-15"},
     (datetime(2026, 6, 15), datetime(2026, 7, 16))),  # the last day counts whole: to the next midnight
    ({"starts_on": "2026-06-15", "starts_time": "09:30", "ends_on": "2026-07-15", "ends_time": "18:00"},
     (datetime(2026, 6, 15, 9, 30), datetime(2026, 7, 15, 18, 0))),
    ({"starts_on": "2026-06-15", "ends_on": "2026-07-15", "ends_time": "00:00"},
     (datetime(2026, 6, 15), datetime(2026, 7, 15))),  # a time typed is taken as typed
])
def test_the_window_is_read_as_days_with_optional_times(app, data, expected):
    assert window_form(app, timezone="Asia/Almaty", **data).window() == expected


@pytest.mark.parametrize("starts_at, ends_at", [
    (datetime(2026, 6, 14, 19, 0, tzinfo=timezone.utc), datetime(2026, 7, 15, 19, 0, tzinfo=timezone.utc)),
    (datetime(2026, 6, 15, 4, 30, tzinfo=timezone.utc), datetime(2026, 7, 15, 13, 0, tzinfo=timezone.utc)),
])
def test_a_stored_window_shows_as_it_was_typed_and_reads_back_the_same(app, starts_at, ends_at):
    with app.test_request_context():
        form = ContestWindowForm(meta={"csrf": False})
        form.show_window(starts_at, ends_at, "Asia/Almaty")
        starts, ends = form.window()
    almaty = ZoneInfo("Asia/Almaty")
    assert form.timezone.data == "Asia/Almaty" and form.starts_on.data == date(2026, 6, 15)
    assert (starts, ends) == (starts_at.astimezone(almaty).replace(tzinfo=None),
                              ends_at.astimezone(almaty).replace(tzinfo=None))
    if ends_at.hour == 19:  # midnight in Almaty: shown as the last day, with no time
        assert form.ends_on.data == date(2026, 7, 15) and form.ends_time.data is None
    else:
        assert form.ends_time.data == time(18, 0)


def test_a_contest_can_publish_in_every_language_of_the_interface():
    assert LANGUAGES == tuple(language.code for language in INTERFACE_LANGUAGES)
