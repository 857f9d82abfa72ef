"""The catalogs: every message of the templates and the Python sources is translated in every
language, keeps the message's placeholders and HTML, and is compiled into an up-to-date ``.mo``.

The messages are extracted here, with Babel and ``babel.cfg``, from the sources as they are now: a
new ``_('...')`` anywhere fails these tests until each catalog translates it (wle/translations/
says how).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from wle.translations.kazakh_latin import latin_catalog, transliterate
from wle.web.language import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "wle" / "translations"
LOCALES = [language.code for language in LANGUAGES if language.code != "en"]  # English is the messages
PLURAL_FORMS = {"kk": 2, "kk@latin": 2, "ru": 3}  # Russian: one, few, many (1, 2–4, 5–20...)

# A Python %-placeholder, named or not, and the %% of a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def read_catalog(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


@pytest.fixture(scope="module")
def extracted() -> dict[tuple[str, str | None], list[str]]:
    """Each message of the sources, singular id and context, with where it is used."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    messages: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map):
        msgid = message[0] if isinstance(message, tuple) else message
        messages.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return messages


def test_the_extraction_finds_the_messages_of_templates_and_sources(extracted):
    places = {place.split(":")[0] for where in extracted.values() for place in where}
    assert ("Log in", None) in extracted  # a template
    assert ("Only site admins may do this.", None) in extracted  # a view
    assert ("%(name)s is not a site admin.", None) in extracted  # a domain error
    assert any(place.startswith("templates/") for place in places)
    assert any(place.startswith("wle/") for place in places) and any(place.startswith("jobs/") for place in places)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(extracted, locale):
    catalog = read_catalog(locale)
    problems = []
    for (msgid, context), where in sorted(extracted.items(), key=lambda item: item[1][0]):
        message = catalog.get(msgid, context)
        if message is None:
            problems.append(f"missing: {msgid!r} ({where[0]})")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r} ({where[0]})")
        elif not all(_forms(message)):
            problems.append(f"empty: {msgid!r} ({where[0]})")
    assert not problems, f"{locale}: {len(problems)} messages need a translation:\n" + "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_and_the_html(locale):
    problems = []
    for message in read_catalog(locale):
        if not message.id or not message.string:
            continue
        original = message.id[-1] if message.pluralizable else message.id  # the plural names every value
        for form in _forms(message):
            if Counter(PLACEHOLDER.findall(form)) != Counter(PLACEHOLDER.findall(original)) \
                    or form.count("%") != original.count("%"):
                problems.append(f"placeholders: {original!r} → {form!r}")
            if Counter(TAG.findall(form)) != Counter(TAG.findall(original)):
                problems.append(f"HTML: {original!r} → {form!r}")
    assert not problems, f"{locale}:\n" + "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_each_catalog_has_its_languages_plural_forms_and_is_not_fuzzy(locale):
    catalog = read_catalog(locale)
    assert not catalog.fuzzy, f"{locale}: the catalog's header is marked fuzzy; gettext would ignore it"
    assert catalog.num_plurals == PLURAL_FORMS[locale]
    wrong = [m.id for m in catalog if m.pluralizable and m.string and len(m.string) != catalog.num_plurals]
    assert not wrong, f"{locale}: plural messages without {catalog.num_plurals} forms: {wrong}"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalog_is_up_to_date(locale):
    """The .mo is what the app reads: compiled afresh from the .po, it must say the same."""
    fresh = io.BytesIO()
    write_mo(fresh, read_catalog(locale))
    fresh.seek(0)
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as committed:
        stale = _messages(read_mo(committed))
    assert stale == _messages(read_mo(fresh)), (
        f"{locale}: messages.mo is not compiled from messages.po; run pybabel compile -d wle/translations"
    )


def test_the_latin_catalog_is_the_cyrillic_one_transliterated():
    made = {message.id: message.string for message in latin_catalog(read_catalog("kk")) if message.id}
    saved = {message.id: message.string for message in read_catalog("kk@latin") if message.id}
    assert saved == made, "kk@latin is out of date: run python -m wle.translations.kazakh_latin"


@pytest.mark.parametrize("cyrillic, latin", [
    ("Қазақша", "Qazaqşa"),
    ("бір кісі", "bır kısı"),  # і is the dotless ı
    ("Иә, үйіне", "İä, üiıne"),  # и and й are i, İ in capitals
    ("Бұрыңғы", "Būryñğy"),
    ("лицензия, чек, пиксель", "litsenziia, çek, piksel"),  # letters of Russian loanwords
    ("%(name)s — <b>сайт</b> әкімшісі, CSV", "%(name)s — <b>sait</b> äkımşısı, CSV"),  # the rest untouched
])
def test_transliteration(cyrillic, latin):
    assert transliterate(cyrillic) == latin


def _forms(message) -> list[str]:
    return list(message.string) if message.pluralizable else [message.string]


def _messages(catalog: Catalog) -> dict:
    def frozen(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {(frozen(m.id), m.context): frozen(m.string) for m in catalog if m.id}
