"""The web forms (Flask-WTF): they parse what was typed; the rules of a contest live in ``wle.contests``.

A form only turns text into values (dates, numbers, lines) and refuses what cannot be stored at
all (control characters, impossible years); whether a slug, a time zone or an upload window is
acceptable is decided by ``wle.contests.validate``, so the CLI and the web agree.
"""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, FloatField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from ..contests import ContestForm

# Browsers send datetime-local as 2024-06-15T00:00 (seconds when the step asks for them).
DATETIME_LOCAL = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
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
    """The IANA zone names, offered as suggestions next to the time zone field."""
    return sorted(available_timezones())


class NewContestForm(FlaskForm):
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
    starts_at = DateTimeLocalField(
        _l("Upload window starts"),
        format=DATETIME_LOCAL,
        validators=[InputRequired(_l("Give the start of the upload window.")), plausible_year],
        invalid_value_message=_l("Give a date and time such as 2024-06-15 00:00."),
    )
    ends_at = DateTimeLocalField(
        _l("Upload window ends"),
        format=DATETIME_LOCAL,
        validators=[InputRequired(_l("Give the end of the upload window.")), plausible_year],
        invalid_value_message=_l("Give a date and time such as 2024-07-15 23:59."),
    )
    timezone = StringField(
        _l("Time zone"),
        default="UTC",
        validators=[Length(max=64), no_control_characters],
        description=_l("The start and end are read in this zone, e.g. Asia/Almaty."),
    )
    min_megapixels = FloatField(
        _l("Minimum megapixels"),
        default=2.0,
        validators=[InputRequired(_l("Give the minimum size in megapixels, e.g. 2."))],
        invalid_value_message=_l("The minimum megapixels must be a number, e.g. 2 or 1.5."),
    )

    def contest_form(self) -> ContestForm:
        """What was typed, as the data ``wle.contests.create_contest`` checks and stores."""
        return ContestForm(
            slug=(self.slug.data or "").strip(),
            name=self.name.data or "",
            categories=(self.categories.data or "").splitlines(),
            starts_at=self.starts_at.data,
            ends_at=self.ends_at.data,
            timezone=(self.timezone.data or "").strip(),
            min_megapixels=self.min_megapixels.data,
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

