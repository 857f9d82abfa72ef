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


# --- Wording (issue 10: reviewed by fluent Kazakh and Russian readers) ------------------------------

# A case ending glued onto a placeholder is wrong for most values ("100-ке"): rephrase instead. An
# ordinal written with a hyphen and its noun ("%(place)s-орын") is a word, not an ending.
KAZAKH_CASE_ENDINGS = ("ке|ге|қа|ға|а|е|ден|тен|нен|дан|тан|нан|да|де|та|те|ның|нің|дың|дің|тың|тің|ды|ді|ты|ті"
                       "|ны|ні|мен|бен|пен|ы|і|сы|сі")
GLUED = re.compile(rf"%\([a-z_]+\)[sd](?:[^\W\d_]|-(?:{KAZAKH_CASE_ENDINGS})\b)")


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_no_ending_is_glued_onto_a_placeholder(locale):
    glued = [form for message in read_catalog(locale) if message.id and message.string
             for form in _forms(message) if GLUED.search(form)]
    assert not glued, f"{locale}: rephrase so that no ending sits on a placeholder: {glued}"


def test_the_reviewed_kazakh_and_russian_wording():
    kk, ru = read_catalog("kk"), read_catalog("ru")
    expected_kk = {
        "Your progress": "Бағалау барысы", "Progress": "Барысы", "entry %(id)s": "№%(id)s жұмыс",
        "juror %(id)s": "№%(id)s қазы", "The votes behind the score": "Ұпайды құраған дауыстар",
        "Gone since %(when)s: %(why)s.": "Байқаудан шыққан уақыты: %(when)s. Себебі: %(why)s.",
        "Every 15 minutes": "15 минут сайын", "Your vote": "Дауысыңыз", "Your rounds": "Кезеңдеріңіз",
        "%(name)s is a juror of this round already.": "%(name)s бұл кезеңнің қазылары қатарында бар.",
        "Newcomers, share of uploaders": "Жаңа қатысушылар, жүктеушілер ішіндегі үлесі",
        "Not saved yet; trying again in %(s)s s": "Әлі сақталмады; %(s)s секундтан кейін қайта әрекет жасалады",
        "Job": "Фондық тапсырма",
    }
    for english, kazakh in expected_kk.items():
        assert kk.get(english).string == kazakh
    assert "1 мен %(max)s аралығында" in kk.get("The quorum (jurors per entry) must be a whole number from 1 to %(max)s.").string
    expected_ru = {
        "Older ›": "Более старые ›", "‹ Newer": "‹ Более новые",
        "You judged %(done)s of your %(total)s entries.": "Вы оценили %(done)s из %(total)s назначенных вам работ.",
    }
    for english, russian in expected_ru.items():
        assert ru.get(english).string == russian
    assert ru.get("The quorum is %(quorum)s jurors per entry, but the round has %(jurors)s jurors.").string.startswith(
        "Кворум (членов жюри на работу): %(quorum)s")
    assert set(ru.get(("the best place", "the best %(num)s places")).string) == {"топ-%(num)s"}
    # "Review" is a button for jurors and a page title for organizers: two contexts, two words.
    button, title = kk.get("Review", context="button: look at the votes again"), kk.get(
        "Review", context="page title: the entries that break the rules")
    assert button.string and title.string and button.string != title.string
    every_kk = " ".join(form for message in kk if message.id and message.string for form in _forms(message))
    for wrong in ("үлгерім", "Үлгерім", "Сіздің дауыс", "бағыттауыш", "жасырын", "қазірдің өзінде", "Әр 15",
                  "Commons", "Wikimedia-", "Тапсырмалар кезегі"):
        assert wrong not in every_kk, wrong
    assert "Ортаққор" in every_kk and "Уикимедиа" in every_kk and "көрсеткі пернелер" in every_kk
