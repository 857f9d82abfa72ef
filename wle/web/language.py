"""The interface language: which one a page speaks, and the switcher in every page's header.

A page is in English (the messages themselves), Kazakh in Cyrillic script, Kazakh in Latin script
or Russian, each from its catalog in ``wle/translations/<code>/``. The language is, in this order:
the logged-in user's own choice (``User.language``), the choice made in this browser's session, the
best match of the browser's ``Accept-Language``, English.

Kazakh in Latin script has no locale data in CLDR, so none in Babel: ``Locale.parse("kk_Latn")``
even quietly answers Cyrillic Kazakh, whose catalog would then be shown. Its code is therefore
``kk@latin``, the gettext way of naming a script (as ``sr@latin``): Babel keeps the ``@latin``,
so gettext finds the ``kk@latin`` catalog, while dates and numbers are formatted with Kazakh's
data. Numbers are the same in both scripts; month names in medium and long dates come out in
Cyrillic ("2025 ж. 15 мам."), which every reader of Kazakh reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, has_request_context, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import get_locale
from sqlalchemy.exc import SQLAlchemyError

from . import db
from .access import current_user, safe_next

SESSION_KEY = "language"


@dataclass(frozen=True)
class Language:
    code: str  # the catalog's and Babel's locale; what User.language and the session store
    tag: str  # BCP 47: the page's <html lang>, and what browsers name in Accept-Language
    name: str  # the language's name in itself, as the switcher shows it


LANGUAGES = (
    Language("en", "en", "English"),
    Language("kk", "kk", "Қазақша"),
    Language("kk@latin", "kk-Latn", "Qazaqşa"),
    Language("ru", "ru", "Русский"),
)
DEFAULT = LANGUAGES[0]
BY_CODE = {language.code: language for language in LANGUAGES}
BY_TAG = {language.tag: language for language in LANGUAGES}

bp = Blueprint("language", __name__)


def select_locale() -> str:
    """The code of the request's language (Flask-Babel's locale selector); English without a request."""
    if not has_request_context():  # the CLI: an app context, no request
        return DEFAULT.code
    chosen = _users_choice() or session.get(SESSION_KEY)
    if chosen in BY_CODE:
        return chosen
    # "kk-KZ" falls back to "kk" (werkzeug matches the primary tag); "kk-Latn" finds the Latin one.
    tag = request.accept_languages.best_match([language.tag for language in LANGUAGES])
    return BY_TAG[tag].code if tag else DEFAULT.code


def _users_choice() -> str | None:
    try:
        return current_user.language if current_user.is_authenticated else None
    except SQLAlchemyError:
        # The database is down and the error page asks which language to speak: not the user's.
        return None


def page_language() -> Language:
    """The Language the current page is in."""
    return BY_CODE.get(str(get_locale() or DEFAULT.code), DEFAULT)


@bp.post("/language")
def choose():
    """Remember the language chosen in the header's switcher, then go back to the page."""
    code = request.form.get("language", "")
    if code not in BY_CODE:
        abort(400, _("Choose one of the languages offered."))
    if current_user.is_authenticated:
        current_user.language = code  # it follows the user to every browser
        db().commit()
    else:
        session[SESSION_KEY] = code
    return redirect(safe_next(request.form.get("next")) or url_for("contests.index"))


@bp.app_context_processor
def switcher() -> dict:
    return {"languages": LANGUAGES, "page_language": page_language(),
            "language_names": {language.code: language.name for language in LANGUAGES}}
