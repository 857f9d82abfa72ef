"""The web forms (Flask-WTF): they parse what was typed; the rules of a contest live in ``wle.contests``.

A form only turns text into values (dates, numbers, lines) and refuses what cannot be stored at
all (control characters, impossible years); whether a slug, a time zone or an upload window is
acceptable is decided by ``wle.contests.validate``, so the CLI and the web agree.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FloatField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..contests import LANGUAGES, ContestForm
from .language import LANGUAGES as INTERFACE_LANGUAGES

# Browsers send a date input as 2024-06-15 and a time input as 00:00 (seconds when the step asks for them).
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
FIRST_YEAR, LAST_YEAR = 2001, 2100  # Commons began in 2004; anything outside is a typing slip
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control_characters(_form, field) -> None:
    """NUL and other control characters cannot be stored (PostgreSQL refuses NUL in text)."""
    if field.data and CONTROL_CHARACTERS.search(field.data):
        raise ValidationError(_l("This field contains control characters; type plain text."))


def plausible_year(_form, field) -> None:
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(
            _l("Give a date between the years %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR)
        )


@lru_cache(maxsize=1)
def time_zone_names() -> list[str]:
    """The IANA zone names (without the legacy aliases such as "US/Pacific" or "EST5EDT" when a
    region/city name exists), the choices of the time zone list."""
    return sorted(zone for zone in available_timezones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/"))
                  or zone == "UTC")


def time_zone_choices() -> list[tuple[str, str]]:
    """ "Asia/Almaty (UTC+05:00)": the offset now helps to find a zone by its hour."""
    now = datetime.now().astimezone()

    def offset(zone: str) -> str:
        digits = now.astimezone(ZoneInfo(zone)).strftime("%z")  # +0500
        return f"UTC{digits[:3]}:{digits[3:]}"

    return [(zone, f"{zone} ({offset(zone)})") for zone in time_zone_names()]


def example_date(month: int = 6) -> str:
    """A date of this year for the examples (a contest is usually set up for the coming summer)."""
    return date.today().replace(month=month, day=15).isoformat()


# Each language named in itself, as the header's switcher names it.
LANGUAGE_LABELS = {language.code: language.name for language in INTERFACE_LANGUAGES}


class ContestWindowForm(FlaskForm):
    """The upload window as organizers think of it: from one day to another, both days included, in
    the contest's time zone; the times of day are optional (the start of the first day, the end of
    the last). Shared by the new contest page and the contest's edit page (``contests/_field.html``'s
    ``window_fields`` renders it)."""

    starts_on = DateField(
        _l("Upload window starts"),
        invalid_value_message=LazyString(lambda: _("Give a date such as %(example)s.", example=example_date())),
        validators=[InputRequired(_l("Give the first day of the upload window.")), plausible_year],
    )
    starts_time = TimeField(
        _l("at (optional)"), format=TIME_FORMATS, validators=[Optional()],
        invalid_value_message=_l("Give a time such as 09:00, or leave it empty."),
        description=_l("Empty: the start of the day."),
    )
    ends_on = DateField(
        _l("Upload window ends"),
        invalid_value_message=LazyString(lambda: _("Give a date such as %(example)s.", example=example_date(7))),
        validators=[InputRequired(_l("Give the last day of the upload window.")), plausible_year],
        description=_l("This day is included."),
    )
    ends_time = TimeField(
        _l("at (optional)"), format=TIME_FORMATS, validators=[Optional()],
        invalid_value_message=_l("Give a time such as 18:00, or leave it empty."),
        description=_l("Empty: the end of the day."),
    )
    timezone = SelectField(
        _l("Time zone"),
        choices=[],  # filled per request: the offsets change with summer time
        default="UTC",
        validate_choice=False,  # wle.contests.validate names an unknown zone; the field keeps what was sent
        validators=[Length(max=64), no_control_characters],
        description=_l("The days and times above are read in this zone; the list starts at your browser's zone."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = time_zone_choices()
        if self.timezone.data and self.timezone.data not in time_zone_names():
            self.timezone.choices.insert(0, (self.timezone.data, self.timezone.data))

    def window(self) -> tuple[datetime | None, datetime | None]:
        """The start and the end as date-times without a zone (``wle.contests`` reads them in the
        contest's zone). A last day without a time ends at the next midnight, so that day counts whole."""
        if self.starts_on.data is None or self.ends_on.data is None:
            return None, None
        starts_at = datetime.combine(self.starts_on.data, self.starts_time.data or time())
        if self.ends_time.data is None:
            ends_at = datetime.combine(self.ends_on.data + timedelta(days=1), time())
        else:
            ends_at = datetime.combine(self.ends_on.data, self.ends_time.data)
        return starts_at, ends_at

    def show_window(self, starts_at: datetime, ends_at: datetime, timezone: str) -> None:
        """Fill the fields from a stored window (UTC) and zone, as ``window()`` would read them back."""
        zone = ZoneInfo(timezone)
        self.timezone.data = timezone
        start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
        self.starts_on.data = start.date()
        self.starts_time.data = start.time().replace(tzinfo=None) if start.time() != time() else None
        if end.time() == time():
            self.ends_on.data, self.ends_time.data = end.date() - timedelta(days=1), None
        else:
            self.ends_on.data, self.ends_time.data = end.date(), end.time().replace(tzinfo=None)


class NewContestForm(ContestWindowForm):
    slug = StringField(
        _l("Slug"),
        validators=[Length(max=64), no_control_characters],
        description=_l("Lower-case letters, digits and dashes; it appears in the addresses of the contest's pages."),
    )
    name = StringField(_l("Name"), validators=[Length(max=255), no_control_characters])
    categories = TextAreaField(
        _l("Commons categories"),
        validators=[Length(max=20_000), no_control_characters],
        description=_l("One per line, with or without “Category:”."),
    )
    min_megapixels = FloatField(
        _l("Minimum megapixels"),
        default=2.0,
        validators=[InputRequired(_l("Give the minimum size in megapixels, e.g. 2."))],
        invalid_value_message=_l("The minimum megapixels must be a number, e.g. 2 or 1.5."),
    )
    language = SelectField(
        _l("Language of the winners' wikitext"),
        choices=[SelectChoice(code, LANGUAGE_LABELS[code]) for code in LANGUAGES],
        default="en",
        validate_choice=True,
        description=_l("The gallery for the Commons winners page is written in it; English is always offered too."),
    )

    def contest_form(self) -> ContestForm:
        """What was typed, as the data ``wle.contests.create_contest`` checks and stores."""
        starts_at, ends_at = self.window()
        return ContestForm(
            slug=(self.slug.data or "").strip(),
            name=self.name.data or "",
            categories=(self.categories.data or "").splitlines(),
            starts_at=starts_at,
            ends_at=ends_at,
            timezone=(self.timezone.data or "").strip(),
            min_megapixels=self.min_megapixels.data,
            language=self.language.data,
        )


class ActionForm(FlaskForm):
    """A button that changes something (e.g. "Sync now"): nothing to type, but a CSRF token."""


# --- The periodic sync (issue 5) ---

INTERVAL_LABELS = {
    0: _l("Off: only when someone presses “Sync now”"),
    15: _l("Every 15 minutes"),
    30: _l("Every 30 minutes"),
    60: _l("Every hour"),
    120: _l("Every 2 hours"),
    360: _l("Every 6 hours"),
    720: _l("Every 12 hours"),
    1440: _l("Once a day"),
}


class SyncScheduleForm(FlaskForm):
    """How often the contest is synced on its own during its upload window (``wle.schedule``)."""

    interval = SelectField(
        _l("Automatic sync"),
        coerce=int,
        choices=[SelectChoice(str(minutes), label) for minutes, label in INTERVAL_LABELS.items()],
        validate_choice=True,
        description=_l("During the upload window and a grace period after it. Most automatic syncs ask Commons "
                       "only for the files added since the last one; once a day the whole categories are read."),
    )

