"""A contest's rules: small plain functions from an entry's data and a setting to a reason or None.

Each rule answers one question about one entry ("was it uploaded inside the window?") and, when
the answer is no, returns a `Reason`: a stable code and the facts behind it (the size found, the
earlier upload it copies...). The two duplicate rules look at all entries at once, through an
index, never pair by pair. Which rules a contest applies, and with which settings, is a
`RuleSettings` value; `wle.eligibility` runs them over a contest and stores the reasons.

Nothing here touches the database, the web or Commons: rules take plain data and are tested so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Iterable

from flask_babel import gettext as _

# The reason codes: stable, they appear in the database, the CLI's JSON and the URLs.
OUTSIDE_WINDOW = "outside_window"
TOO_SMALL = "too_small"
FILE_TYPE = "file_type"
LICENCE = "licence"
NOT_OWN_WORK = "not_own_work"
SITE_ID_MISSING = "site_id_missing"
SITE_ID_UNKNOWN = "site_id_unknown"
DUPLICATE = "duplicate"
NEAR_DUPLICATE = "near_duplicate"
REASON_CODES = (
    OUTSIDE_WINDOW, TOO_SMALL, FILE_TYPE, LICENCE, NOT_OWN_WORK,
    SITE_ID_MISSING, SITE_ID_UNKNOWN, DUPLICATE, NEAR_DUPLICATE,
)

# The rules, each switched on or off per contest; the site rule gives two of the codes.
WINDOW, MIN_SIZE, FILE_TYPES, LICENCES, OWN_WORK, SITE_ID, DUPLICATES, NEAR_DUPLICATES = (
    "window", "min_size", "file_type", "licence", "own_work", "site_id", "duplicate", "near_duplicate",
)
RULES = (WINDOW, MIN_SIZE, FILE_TYPES, LICENCES, OWN_WORK, SITE_ID, DUPLICATES, NEAR_DUPLICATES)

# Photos only. TIFF is in: some photographers upload their camera's TIFF and Commons renders it.
# GIF (animations, drawings), SVG (drawings), PDF and video are out.
DEFAULT_FILE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/tiff")
# LicenseShortName values of the free licences Commons photos carry, as CommonsMetadata spells them.
DEFAULT_LICENCES = (
    "CC0", "Public domain",
    "CC BY 4.0", "CC BY-SA 4.0", "CC BY 3.0", "CC BY-SA 3.0",
    "CC BY 2.5", "CC BY-SA 2.5", "CC BY 2.0", "CC BY-SA 2.0",
    "GFDL", "FAL",
)
DEFAULT_SITE_PATTERN = r"[\w./-]+"
DEFAULT_NEAR_DUPLICATE_DISTANCE = 4
# Near-duplicates are found through hash bands (see near_duplicates); past this distance the bands
# get so short that nearly everything is a candidate, and a 64-bit hash says little anyway.
MAX_NEAR_DUPLICATE_DISTANCE = 8
HASH_BITS = 64
# What the Credit field says for own work: Commons renders {{own}} as "Own work" in English, the
# language the API answers in; the Russian wording appears on pages written out by hand.
OWN_WORK_PHRASES = ("own work", "собственная работа")

MAX_MIME_TYPES = 50
MAX_LICENCES = 100
MAX_PATTERN_LENGTH = 200
MAX_ID_LENGTH = 100  # longer template values are never IDs; also keeps patterns quick
MIME = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")
TEMPLATE_NAME_FORBIDDEN = re.compile(r"[{}|\[\]<>#\n]")


class RuleSettingsError(ValueError):
    """Rule settings that cannot be used; the message names every problem, for a person."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Reason:
    """Why an entry breaks a rule: a code from REASON_CODES and plain JSON facts for people."""

    code: str
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SiteReading:
    """What an entry's file page says about protected sites: read with the contest's template."""

    template_found: bool
    ids: tuple[str, ...] = ()  # the values that match the ID pattern
    malformed: tuple[str, ...] = ()  # values of the template that do not


@dataclass(frozen=True)
class EntryFacts:
    """What the rules read of one entry: plain data, loaded in one query for a whole contest."""

    id: int
    pageid: int
    title: str
    uploader: str | None
    uploaded_at: datetime  # the ORIGINAL upload, aware
    width: int
    height: int
    mime: str
    sha1: str
    license: str | None  # LicenseShortName; None when the wiki has no CommonsMetadata
    credit: str | None
    artist_user: str | None
    perceptual_hash: int | None = None  # of the grid thumbnail; None until it is made
    site_reading: SiteReading | None = None  # None until the file page was read


@dataclass(frozen=True)
class UploadWindow:
    starts_at: datetime  # aware; the first moment that counts
    ends_at: datetime  # aware; the first moment that no longer counts


@dataclass(frozen=True)
class RuleSettings:
    """Which rules a contest applies, and their settings. Defaults suit Wiki Loves Earth.

    The minimum size is the contest's own ``min_megapixels`` column (one place only); the
    site rule is off until the contest names its ID template.
    """

    enabled: frozenset[str] = frozenset(rule for rule in RULES if rule != SITE_ID)
    min_megapixels: float = 2.0
    file_types: tuple[str, ...] = DEFAULT_FILE_TYPES
    licences: tuple[str, ...] = DEFAULT_LICENCES
    site_template: str = ""
    site_pattern: str = DEFAULT_SITE_PATTERN
    near_duplicate_distance: int = DEFAULT_NEAR_DUPLICATE_DISTANCE

    def on(self, rule: str) -> bool:
        return rule in self.enabled

    @property
    def site_reading_key(self) -> str:
        """What a stored site reading depends on: read again when it differs."""
        return f"{template_key(self.site_template)}\n{self.site_pattern}"

    def to_json(self) -> dict:
        """Everything but the minimum size, which lives on the contest."""
        return {
            "enabled": sorted(self.enabled),
            "file_types": list(self.file_types),
            "licences": list(self.licences),
            "site_template": self.site_template,
            "site_pattern": self.site_pattern,
            "near_duplicate_distance": self.near_duplicate_distance,
        }

    @classmethod
    def from_json(cls, data: dict | None, min_megapixels: float) -> RuleSettings:
        """Settings as stored; keys missing (a rule added since they were saved) take the default."""
        data = data or {}
        defaults = cls()
        return cls(
            enabled=frozenset(r for r in data.get("enabled", defaults.enabled) if r in RULES),
            min_megapixels=min_megapixels,
            file_types=tuple(data.get("file_types", defaults.file_types)),
            licences=tuple(data.get("licences", defaults.licences)),
            site_template=data.get("site_template", defaults.site_template),
            site_pattern=data.get("site_pattern", defaults.site_pattern),
            near_duplicate_distance=int(data.get("near_duplicate_distance", defaults.near_duplicate_distance)),
        )


def validate_settings(settings: RuleSettings) -> RuleSettings:
    """The settings normalized (types lower-case, lists without repeats), or RuleSettingsError."""
    problems = []
    unknown = set(settings.enabled) - set(RULES)
    if unknown:
        problems.append(_("Unknown rules: %(names)s.", names=", ".join(sorted(unknown))))
    if not 0 <= settings.min_megapixels <= 1000:
        problems.append(_("The minimum size must be between 0 and 1000 megapixels."))
    file_types = _unique(t.strip().lower() for t in settings.file_types)
    bad_types = [t for t in file_types if not MIME.match(t)]
    if bad_types:
        problems.append(_("Not a file type (such as image/jpeg): %(values)s.", values=", ".join(bad_types[:5])))
    if not file_types or len(file_types) > MAX_MIME_TYPES:
        problems.append(_("Give between 1 and %(n)d allowed file types.", n=MAX_MIME_TYPES))
    licences = _unique(" ".join(name.split()) for name in settings.licences)
    if not licences or len(licences) > MAX_LICENCES or any(len(name) > 255 for name in licences):
        problems.append(_("Give between 1 and %(n)d licences, each a short name such as CC BY-SA 4.0.",
                          n=MAX_LICENCES))
    template = " ".join(settings.site_template.replace("_", " ").split())
    if template.lower().startswith("template:"):
        template = template.split(":", 1)[1].strip()
    if len(template) > 255 or TEMPLATE_NAME_FORBIDDEN.search(template):
        problems.append(_("The ID template's name is too long or has a character a template name cannot have."))
    if settings.on(SITE_ID) and not template:
        problems.append(_("Name the template that holds the site ID, or switch the site ID rule off."))
    problems.extend(_pattern_problems(settings.site_pattern))
    distance = settings.near_duplicate_distance
    if isinstance(distance, bool) or not isinstance(distance, int) or not 0 <= distance <= MAX_NEAR_DUPLICATE_DISTANCE:
        problems.append(_("The near-duplicate distance must be a whole number from 0 to %(max)d.",
                          max=MAX_NEAR_DUPLICATE_DISTANCE))
    if problems:
        raise RuleSettingsError(problems)
    return replace(
        settings, enabled=frozenset(settings.enabled), min_megapixels=float(settings.min_megapixels),
        file_types=tuple(file_types), licences=tuple(licences), site_template=template,
    )


def _pattern_problems(pattern: str) -> list[str]:
    if not pattern or len(pattern) > MAX_PATTERN_LENGTH:
        return [_("The ID pattern must be 1–%(n)d characters.", n=MAX_PATTERN_LENGTH)]
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        return [_("The ID pattern is not a valid regular expression: %(error)s.", error=str(error))]
    if compiled.fullmatch(""):
        return [_("The ID pattern accepts an empty ID; make it require at least one character.")]
    return []


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


# --- The rules on one entry -------------------------------------------------------------------


def in_window(entry: EntryFacts, window: UploadWindow) -> Reason | None:
    """The first upload falls inside the window: start included, end excluded.

    The window is stored as instants (the contest's local midnight made UTC), so comparing
    instants judges it in the contest's time zone.
    """
    if window.starts_at <= entry.uploaded_at < window.ends_at:
        return None
    return Reason(OUTSIDE_WINDOW, {"uploaded_at": entry.uploaded_at.isoformat(),
                                   "early": entry.uploaded_at < window.starts_at})


def large_enough(entry: EntryFacts, min_megapixels: float) -> Reason | None:
    """At least the minimum number of pixels, compared in whole pixels (2 Mpx = 2,000,000)."""
    pixels = entry.width * entry.height
    if pixels >= round(min_megapixels * 1_000_000):
        return None
    return Reason(TOO_SMALL, {"width": entry.width, "height": entry.height,
                              "megapixels": megapixels_below(pixels, min_megapixels), "minimum": min_megapixels})


def megapixels_below(pixels: int, min_megapixels: float) -> float:
    """The size in megapixels with as few decimals as keep it visibly below the minimum.

    1920 × 1040 px is 1.9968 Mpx: "2 megapixels; the minimum is 2" would be false, "1.997" is true.
    Six decimals are whole pixels, so the loop always ends below the minimum.
    """
    megapixels = pixels / 1_000_000
    for decimals in range(1, 6):
        shown = round(megapixels, decimals)
        if shown < min_megapixels:
            return shown
    return round(megapixels, 6)


def allowed_file_type(entry: EntryFacts, file_types: frozenset[str]) -> Reason | None:
    if entry.mime.lower() in file_types:
        return None
    return Reason(FILE_TYPE, {"mime": entry.mime})


def free_licence(entry: EntryFacts, licences: frozenset[str]) -> Reason | None:
    """The licence is on the contest's list (compared without case or extra spaces).

    A wiki without CommonsMetadata tells no licence: that fails too, with the licence as None.
    """
    if entry.license is not None and normal_licence(entry.license) in licences:
        return None
    return Reason(LICENCE, {"licence": entry.license})


def normal_licence(name: str) -> str:
    return " ".join(name.split()).casefold()


def own_work(entry: EntryFacts, phrases: tuple[str, ...] = OWN_WORK_PHRASES) -> Reason | None:
    """The Credit says own work, or the Artist field links to the uploader's user page."""
    credit = (entry.credit or "").casefold()
    if any(phrase in credit for phrase in phrases):
        return None
    if entry.uploader and entry.artist_user and user_key(entry.uploader) == user_key(entry.artist_user):
        return None
    return Reason(NOT_OWN_WORK, {"credit": entry.credit, "artist_user": entry.artist_user})


def user_key(name: str) -> str:
    """MediaWiki's form of a user name: underscores are spaces, the first letter is upper-case."""
    name = " ".join(name.replace("_", " ").split())
    return name[:1].upper() + name[1:]


def known_site(entry: EntryFacts, known_ids: frozenset[str] | None) -> Reason | None:
    """The file page names a site with a well-formed ID from the contest's site list.

    ``known_ids`` None means the contest has no site list yet: IDs are then only checked
    against the pattern (the review page says so).
    """
    reading = entry.site_reading
    if reading is None:
        return Reason(SITE_ID_MISSING, {"why": "not_read"})
    if not reading.template_found:
        return Reason(SITE_ID_MISSING, {"why": "no_template"})
    if not reading.ids:
        return Reason(SITE_ID_MISSING, {"why": "malformed" if reading.malformed else "empty",
                                        "values": list(reading.malformed)})
    if known_ids is None or any(site_id in known_ids for site_id in reading.ids):
        return None
    return Reason(SITE_ID_UNKNOWN, {"ids": list(reading.ids)})


# --- The rules across entries: the later upload is flagged, pointing to the earlier one ---------


def upload_order(entry: EntryFacts) -> tuple:
    return entry.uploaded_at, entry.pageid


def exact_duplicates(entries: Iterable[EntryFacts]) -> dict[int, Reason]:
    """Entries whose file (sha1) an earlier entry has already: entry id → reason."""
    first_by_sha1: dict[str, EntryFacts] = {}
    flagged = {}
    for entry in sorted(entries, key=upload_order):
        earlier = first_by_sha1.setdefault(entry.sha1, entry)
        if earlier is not entry:
            flagged[entry.id] = Reason(DUPLICATE, {"earlier_pageid": earlier.pageid, "earlier_title": earlier.title})
    return flagged


def near_duplicates(entries: Iterable[EntryFacts], max_distance: int) -> dict[int, Reason]:
    """Entries whose thumbnail looks like an earlier entry's: Hamming distance ≤ max_distance.

    Pairs with the same sha1 are left to exact_duplicates. Candidates come from hash bands:
    cut the 64 bits into max_distance + 1 bands; two hashes that differ in at most max_distance
    bits agree entirely on at least one band (pigeonhole), so only entries sharing a band value
    are compared, never all pairs. Entries are taken in upload order and numbered, so each
    bucket lists them oldest first and its first match is its earliest.
    """
    if not 0 <= max_distance <= MAX_NEAR_DUPLICATE_DISTANCE:
        raise ValueError(f"max_distance must be 0–{MAX_NEAR_DUPLICATE_DISTANCE}, not {max_distance}")
    ordered = sorted((e for e in entries if e.perceptual_hash is not None), key=upload_order)
    hashes = [entry.perceptual_hash for entry in ordered]
    buckets: list[dict[int, list[int]]] = [{} for _band in range(max_distance + 1)]
    masks = list(zip(_bands(max_distance + 1), buckets))
    flagged = {}
    for index, value in enumerate(hashes):
        earliest = index
        for mask, bucket in masks:
            members = bucket.setdefault(value & mask, [])
            for other in members:
                if other >= earliest:
                    break
                if (hashes[other] ^ value).bit_count() <= max_distance and ordered[other].sha1 != ordered[index].sha1:
                    earliest = other
                    break
            members.append(index)
        if earliest != index:
            original = ordered[earliest]
            flagged[ordered[index].id] = Reason(NEAR_DUPLICATE, {
                "earlier_pageid": original.pageid, "earlier_title": original.title,
                "distance": (hashes[earliest] ^ value).bit_count(),
            })
    return flagged


def _bands(count: int) -> list[int]:
    """Bit masks cutting HASH_BITS bits into `count` nearly equal, contiguous bands."""
    edges = [round(i * HASH_BITS / count) for i in range(count + 1)]
    return [((1 << (end - start)) - 1) << start for start, end in zip(edges, edges[1:])]


# --- Reading the site ID from a file page's wikitext ------------------------------------------


def template_key(name: str) -> str:
    """Template names as MediaWiki compares them: spaces for underscores, first letter any case."""
    name = " ".join(name.replace("_", " ").split())
    if name.lower().startswith("template:"):
        name = name.split(":", 1)[1].strip()
    return name[:1].upper() + name[1:]


COMMENT = re.compile(r"<!--.*?(-->|$)", re.DOTALL)
NOWIKI = re.compile(r"<nowiki>.*?</nowiki>", re.DOTALL | re.IGNORECASE)


def read_site_ids(wikitext: str, template: str, pattern: str) -> SiteReading:
    """The IDs the file page gives in the ID template: its first unnamed parameter (or ``1=``).

    Every call of the template counts (a photo can show two sites). A value that does not fully
    match the pattern is reported as malformed, not dropped silently.
    """
    wanted = template_key(template)
    matcher = re.compile(pattern)
    text = NOWIKI.sub("", COMMENT.sub("", wikitext))
    found = False
    ids: list[str] = []
    malformed: list[str] = []
    for name, params in _template_calls(text):
        if template_key(name) != wanted:
            continue
        found = True
        value = _first_positional(params)
        if value is None or value == "":
            continue
        if len(value) <= MAX_ID_LENGTH and matcher.fullmatch(value):
            ids.append(value)
        else:
            malformed.append(value[:MAX_ID_LENGTH])
    return SiteReading(found, tuple(_unique(ids)), tuple(_unique(malformed)))


def _template_calls(text: str) -> Iterable[tuple[str, list[str]]]:
    """Every ``{{name|param|...}}`` in the text, nested ones included, with its top-level params."""
    stack: list[list] = []  # for each open {{: [start, parts, current part start]
    i = 0
    links = 0  # depth of [[...]] inside the innermost template: a | there is no separator
    while i < len(text):
        pair = text[i:i + 2]
        if pair == "{{" and text[i:i + 3] != "{{{":
            stack.append([i + 2, [], i + 2, links])
            links = 0
            i += 2
        elif pair == "}}" and stack:
            start, parts, part_start, outer_links = stack.pop()
            parts.append(text[part_start:i])
            links = outer_links
            yield parts[0].strip(), [p for p in parts[1:]]
            i += 2
        elif pair == "[[":
            links += 1
            i += 2
        elif pair == "]]" and links:
            links -= 1
            i += 2
        elif text[i] == "|" and stack and links == 0:
            frame = stack[-1]
            frame[1].append(text[frame[2]:i])
            frame[2] = i + 1
            i += 1
        else:
            i += 1


def _first_positional(params: list[str]) -> str | None:
    """The value of parameter 1: the first without ``name=``, or an explicit ``1=``."""
    position = 0
    for param in params:
        name, equals, value = param.partition("=")
        if equals and "{{" not in name and "[[" not in name:
            if name.strip() == "1":
                return value.strip()
            continue
        position += 1
        if position == 1:
            return param.strip()
    return None
