"""Kazakh in Latin script, made letter by letter from the Cyrillic catalog.

The alphabet is the one Kazakhstan adopted in 2021 (Ä Ğ I İ Ñ Ö Ş Ū Ü; і is the dotless ı, и and
й are i, ы is y). It has no letters of its own for Russian loanwords; they are written here ц ts,
ч ç, щ şş, ю iu, я ia, ё io, э e, and ъ and ь are dropped. Only Cyrillic letters change, so placeholders
(``%(name)s``), HTML and Latin words pass through untouched.

    python -m wle.translations.kazakh_latin    # rewrite kk@latin/ from kk/ (then pybabel compile)
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
CYRILLIC, LATIN = "kk", "kk@latin"

LOWER = {
    "а": "a", "ә": "ä", "б": "b", "в": "v", "г": "g", "ғ": "ğ", "д": "d", "е": "e", "ё": "io",
    "ж": "j", "з": "z", "и": "i", "й": "i", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n",
    "ң": "ñ", "о": "o", "ө": "ö", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "ū",
    "ү": "ü", "ф": "f", "х": "h", "һ": "h", "ц": "ts", "ч": "ç", "ш": "ş", "щ": "şş", "ъ": "",
    "ы": "y", "і": "ı", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}
# Upper case by hand: Python's "i".upper() is "I", but И is İ here and І is the dotless I.
UPPER = {
    "А": "A", "Ә": "Ä", "Б": "B", "В": "V", "Г": "G", "Ғ": "Ğ", "Д": "D", "Е": "E", "Ё": "Io",
    "Ж": "J", "З": "Z", "И": "İ", "Й": "İ", "К": "K", "Қ": "Q", "Л": "L", "М": "M", "Н": "N",
    "Ң": "Ñ", "О": "O", "Ө": "Ö", "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "U", "Ұ": "Ū",
    "Ү": "Ü", "Ф": "F", "Х": "H", "Һ": "H", "Ц": "Ts", "Ч": "Ç", "Ш": "Ş", "Щ": "Şş", "Ъ": "",
    "Ы": "Y", "І": "I", "Ь": "", "Э": "E", "Ю": "Iu", "Я": "Ia",
}
TABLE = str.maketrans({**LOWER, **UPPER})


def transliterate(text: str) -> str:
    """Kazakh text in Cyrillic script, in Latin script."""
    return text.translate(TABLE)


def latin_catalog(cyrillic: Catalog) -> Catalog:
    """The Latin-script catalog of a Cyrillic one: the same messages, each translation transliterated."""
    latin = Catalog(
        locale=Locale.parse(LATIN), domain=cyrillic.domain, project=cyrillic.project,
        version=cyrillic.version, copyright_holder=cyrillic.copyright_holder,
        msgid_bugs_address=cyrillic.msgid_bugs_address, creation_date=cyrillic.creation_date,
        revision_date=cyrillic.revision_date, last_translator=cyrillic.last_translator,
        language_team="Kazakh (Latin script)", fuzzy=False,
        header_comment=(
            "# Kazakh in Latin script: made from kk/ by wle.translations.kazakh_latin.\n"
            "# Do not edit by hand: translate in kk/, then run python -m wle.translations.kazakh_latin."
        ),
    )
    for message in cyrillic:
        if not message.id:
            continue
        string = message.string
        string = tuple(map(transliterate, string)) if isinstance(string, (tuple, list)) else transliterate(string)
        latin.add(message.id, string, locations=message.locations, flags=message.flags,
                  auto_comments=message.auto_comments, user_comments=message.user_comments,
                  context=message.context)
    return latin


def po_path(locale: str, directory: Path = HERE) -> Path:
    return directory / locale / "LC_MESSAGES" / "messages.po"


def main(directory: Path = HERE) -> Path:
    with po_path(CYRILLIC, directory).open("rb") as source:
        cyrillic = read_po(source, locale=CYRILLIC)
    target = po_path(LATIN, directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        write_po(out, latin_catalog(cyrillic), width=76)
    return target


if __name__ == "__main__":
    print(f"wrote {main()}")
