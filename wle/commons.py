"""A client for the Wikimedia Commons Action API (api.php), and for downloading its files.

It lists a contest category with each file's metadata, looks up pages by id (to notice renames
and deletions) and user accounts (for newcomer statistics), and downloads thumbnails. It knows
nothing of Flask or the database: it returns frozen dataclasses.

It follows Wikimedia's API etiquette: a User-Agent naming the tool and its operator, one request
at a time, `maxlag` on every API request, `Retry-After` honoured, other failures retried a bounded
number of times with exponential backoff and jitter. A client is not meant to be shared between
threads: that is what keeps its requests in series.

Everything that goes wrong surfaces as a `CommonsError` whose str() is a message for a person.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any, Callable, Iterable, Iterator, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from wle import __version__

log = logging.getLogger(__name__)

# The only thumbnail widths Wikimedia's CDN serves; other widths are refused.
STANDARD_WIDTHS: tuple[int, ...] = (20, 40, 60, 120, 250, 330, 500, 960, 1280, 1920, 3840)

MAX_WAIT = 120.0  # seconds: the longest we sleep before one retry, whatever a server asks
BACKOFF_BASE = 2.0  # seconds before the first retry; doubled for each further try
IDS_PER_REQUEST = 50  # the API's limit for pageids=, titles= and ususers= without bot rights
DOWNLOAD_CHUNK = 64 * 1024

# The extmetadata fields we read. Asking for only these keeps answers small (every revision of
# every file carries its own copy).
EXTMETADATA_FIELDS = (
    "LicenseShortName", "LicenseUrl", "ImageDescription", "DateTimeOriginal",
    "GPSLatitude", "GPSLongitude", "Credit", "Artist", "Categories",
)

T = TypeVar("T")


class CommonsError(Exception):
    """Anything that went wrong talking to Commons."""


class MissingContact(CommonsError):
    """The operator gave no contact for the User-Agent, which Wikimedia's policy requires."""


class CommonsAPIError(CommonsError):
    """The API answered with an error object: its own code and message."""

    def __init__(self, code: str, info: str):
        super().__init__(f"Commons refused the request: {info} (API error code {code!r})")
        self.code = code
        self.info = info


class CommonsUnavailable(CommonsError):
    """Commons did not answer usefully, even after retries: try again later."""


class MalformedAnswer(CommonsError):
    """Commons answered something this client cannot read."""


class RequestRefused(CommonsError):
    """An HTTP error that retrying will not mend (403 for a blocked User-Agent, 404, ...)."""


class FileTooLarge(CommonsError):
    """A download was larger than the caller allows."""


class GlobalUsageUnavailable(CommonsError):
    """The wiki does not know ``prop=globalusage`` (the GlobalUsage extension, which Commons has)."""


@dataclass(frozen=True)
class CommonsFile:
    """One file of a category, as the jury needs it. Texts are plain (HTML stripped)."""

    pageid: int
    title: str  # "File:..."
    uploader: str | None  # the original uploader (oldest revision); None if hidden
    uploaded_at: datetime  # first upload, UTC
    reuploaded: bool  # someone uploaded a new version later (a rotation, a crop, ...)
    last_uploaded_at: datetime
    width: int  # the current version's
    height: int
    size: int
    mime: str
    sha1: str
    url: str
    page_url: str
    thumb_url: str | None  # at the client's thumb_width; the original's URL if that is narrower
    license: str | None  # short name, e.g. "CC BY-SA 4.0"
    license_url: str | None
    description: str | None
    date_taken: str | None  # DateTimeOriginal of the description page, as text
    latitude: float | None
    longitude: float | None
    credit: str | None
    artist: str | None
    artist_user: str | None  # the user name the Artist field links to (User:Name), if any
    categories: tuple[str, ...]


@dataclass(frozen=True)
class CommonsUser:
    name: str
    registered_at: datetime | None  # None for very old accounts (and missing ones)
    edit_count: int | None
    missing: bool  # no such account (or an invalid name)


class _Transient(Exception):
    """A failure worth retrying; retry_after is the server's own wish, in seconds, if it said."""

    def __init__(self, problem: str, retry_after: float | None = None):
        super().__init__(problem)
        self.retry_after = retry_after


class CommonsClient:
    """Talks to one MediaWiki API (Commons, or a test wiki) on behalf of one operator."""

    def __init__(
        self,
        api_url: str,
        contact: str,
        *,
        version: str = __version__,
        thumb_width: int = 1280,
        timeout: float = 30,
        max_tries: int = 6,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        maxlag: int = 5,
    ):
        contact = (contact or "").strip()
        if not contact:
            raise MissingContact(
                "No operator contact for the User-Agent: Wikimedia blocks tools that do not say who "
                "runs them. Set WLE_CONTACT to an e-mail address or a Commons user page URL."
            )
        if "\n" in contact or "\r" in contact:
            raise ValueError("The operator contact must be a single line.")
        if thumb_width not in STANDARD_WIDTHS:
            raise ValueError(
                f"Thumbnail width {thumb_width} is not one Wikimedia serves; "
                f"choose one of {', '.join(map(str, STANDARD_WIDTHS))}."
            )
        if not api_url.startswith(("http://", "https://")):
            raise ValueError(f"The API URL must start with http:// or https://, not {api_url!r}.")
        if max_tries < 1:
            raise ValueError("max_tries must be at least 1.")
        self.api_url = api_url
        self.thumb_width = thumb_width
        self.timeout = timeout
        self.max_tries = max_tries
        self.maxlag = maxlag
        self.session = session or requests.Session()
        self.sleep = sleep
        self.user_agent = f"WLE-Jury/{version} ({contact}) python-requests/{requests.__version__}"
        self.requests_made = 0

    # --- What the rest of the code uses ---

    def category_files(self, category: str) -> Iterator[list[CommonsFile]]:
        """The files of a category, one list per complete batch of the API (up to 500 files).

        Why `iilimit=max` in the listing itself (MediaWiki 1.39, ApiQueryImageInfo): with
        `iiurlwidth`, every revision listed costs one of the 50 transforms a request may make,
        and past them the answer continues with `iicontinue` ("title|timestamp"), even in the
        middle of one file's history; so the history is never cut short silently, and the 50
        pages of imageinfo a request holds are what the thumbnails alone would allow anyway.
        Files are rarely re-uploaded, so a listing costs about (files + re-uploads) / 50
        requests. The alternative, asking only the current revision and the history in a second
        query, needs a request per 50 files for the history (imageinfo does not say which files
        have one), and reads two states of a category that may change in between.
        """
        yield from self._file_batches(self._listing_params(category))

    def _listing_params(self, category: str) -> dict[str, str]:
        """A category's files with their imageinfo, 500 a request (see ``category_files``)."""
        return {
            "generator": "categorymembers",
            "gcmtitle": _category_title(category),
            "gcmtype": "file",
            "gcmlimit": "500",
            "prop": "imageinfo",
            "iiprop": "timestamp|user|url|size|mime|sha1|extmetadata",
            "iilimit": "max",
            "iiurlwidth": str(self.thumb_width),
            "iiextmetadatafilter": "|".join(EXTMETADATA_FIELDS),
        }

    def _file_batches(self, params: dict[str, str]) -> Iterator[list[CommonsFile]]:
        """Follow a listing to its end: one list of files per complete batch of the API."""
        pages: dict[int, dict] = {}
        continuation: dict[str, str] = {}
        while True:
            answer = self._query({**params, **continuation})
            _merge_pages(pages, answer)
            if answer.get("batchcomplete"):
                files = [file for file in map(_parse_file, pages.values()) if file is not None]
                pages = {}
                if files:
                    yield files
            following = _continuation(answer, previous=continuation)
            if following is None:
                return
            continuation = following

    def category_size(self, category: str) -> int:
        """How many files a category holds now (for progress bars; subcategories not counted)."""
        title = _category_title(category)
        answer = self._query({"titles": title, "prop": "categoryinfo"})
        where = f"the answer about {title}"
        pages = _field(_field(answer, "query", dict, where), "pages", list, where)
        info = _as(pages[0], dict, where).get("categoryinfo") if pages else None
        if info is None:
            return 0  # an empty category has no categoryinfo
        return _field(_as(info, dict, where), "files", int, where)

    def page_titles(self, pageids: Iterable[int]) -> dict[int, str | None]:
        """The current title of each page id (files get renamed), or None if it is gone."""
        ids = _page_ids(pageids)
        titles: dict[int, str | None] = {}
        for chunk in _chunks(ids, IDS_PER_REQUEST):
            answer = self._query({"pageids": "|".join(map(str, chunk))})
            where = "the answer about page ids"
            for page in _field(_field(answer, "query", dict, where), "pages", list, where):
                page = _as(page, dict, f"a page in {where}")
                pageid = _field(page, "pageid", int, f"a page in {where}")
                gone = page.get("missing") or page.get("invalid")
                titles[pageid] = None if gone else _field(page, "title", str, f"page {pageid}")
            absent = [pageid for pageid in chunk if pageid not in titles]
            if absent:
                raise MalformedAnswer(f"Commons said nothing about page ids {absent} in {where}.")
        return titles

    def users(self, names: Iterable[str]) -> Iterator[CommonsUser]:
        """Registration date and edit count of accounts, 50 names a request."""
        wanted = [name.strip() for name in names if name and name.strip()]
        for name in wanted:
            if "|" in name:
                raise ValueError(f"A user name cannot contain '|': {name!r}.")
        for chunk in _chunks(list(dict.fromkeys(wanted)), IDS_PER_REQUEST):
            answer = self._query({"list": "users", "ususers": "|".join(chunk), "usprop": "registration|editcount"})
            where = "the answer about users"
            for user in _field(_field(answer, "query", dict, where), "users", list, where):
                yield _parse_user(_as(user, dict, f"a user in {where}"))

    def download(self, url: str, *, max_bytes: int) -> bytes:
        """The bytes at url (a thumbnail), read as a stream and refused past max_bytes."""

        def once() -> bytes:
            with self._send(url, None, stream=True) as response:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise FileTooLarge(f"{url} is larger than the {max_bytes} bytes allowed ({declared} bytes).")
                received = bytearray()
                try:
                    for chunk in response.iter_content(DOWNLOAD_CHUNK):
                        received += chunk
                        if len(received) > max_bytes:
                            raise FileTooLarge(f"{url} is larger than the {max_bytes} bytes allowed.")
                except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
                    raise _Transient(f"the download broke off: {error}") from error
                return bytes(received)

        return self._with_retries(f"the download of {url}", once)

    # --- HTTP, retries and answers ---

    def _query(self, params: dict[str, str]) -> dict:
        """One action=query request: its answer, or the API's error raised."""
        full = {
            "action": "query",
            **params,
            "format": "json",
            "formatversion": "2",
            "maxlag": str(self.maxlag),
        }

        def once() -> dict:
            response = self._send(self.api_url, full)
            answer = _decode(response)
            if "error" in answer:
                code, info = _error_code_and_info(answer["error"])
                if code == "maxlag":
                    raise _Transient(f"the database is lagging ({info})", _retry_after(response))
                raise CommonsAPIError(code, info)
            if "warnings" in answer:
                log.warning("Commons warns about %s: %s", _describe(params), answer["warnings"])
            return answer

        return self._with_retries(f"the API request {_describe(params)}", once)

    def _send(self, url: str, params: dict[str, str] | None, *, stream: bool = False) -> requests.Response:
        """One GET; transient failures raised as _Transient, refusals as RequestRefused."""
        self.requests_made += 1
        try:
            response = self.session.get(
                url, params=params, headers={"User-Agent": self.user_agent},
                timeout=self.timeout, stream=stream,
            )
        except requests.Timeout as error:
            raise _Transient(f"no answer within {self.timeout:g} s") from error
        except requests.ConnectionError as error:
            raise _Transient(f"could not connect ({error})") from error
        except requests.exceptions.ChunkedEncodingError as error:
            raise _Transient(f"the answer broke off ({error})") from error
        except requests.RequestException as error:
            raise CommonsError(f"Could not request {url}: {error}") from error
        if response.ok:
            return response
        with response:
            status = f"HTTP {response.status_code} {response.reason or ''}".strip()
            if response.status_code == 429:
                raise _Transient(f"{status} (too many requests)", _retry_after(response))
            if response.status_code >= 500:
                raise _Transient(status, _retry_after(response))
            start = next(response.iter_content(1000), b"")  # the start of an error page says enough
            raise RequestRefused(f"{url} answered {status}: {_excerpt(start)}")

    def _with_retries(self, what: str, once: Callable[[], T]) -> T:
        """Run once() until it succeeds, sleeping between tries; give up after max_tries."""
        for attempt in range(1, self.max_tries + 1):
            try:
                return once()
            except _Transient as failure:
                problem = failure
                if attempt == self.max_tries:
                    break
                wait = failure.retry_after if failure.retry_after is not None else _backoff(attempt)
                wait = min(max(wait, 0.0), MAX_WAIT)
                log.warning(
                    "Commons: %s failed (%s); try %d of %d in %.1f s", what, failure, attempt + 1, self.max_tries, wait
                )
                self.sleep(wait)
        raise CommonsUnavailable(
            f"Commons is unavailable: {what} failed {self.max_tries} "
            f"{'time' if self.max_tries == 1 else 'times'}; the last problem: {problem}. Try again later."
        )

    # --- Global usage, for the statistics (issue 4) ---

    def global_usage(self, pageids: Iterable[int]) -> dict[int, int]:
        """How many pages on any wiki use each file (``prop=globalusage``), 50 page ids a request.

        Uses on Commons itself count as well: the international statistics define an image in
        use as one used on any wiki. ``gulimit=max`` allows 500 uses per request for all its
        files together; past them the answer continues with ``gucontinue`` and the same pages
        come back with their next uses, which are added up. Page ids that are gone (deleted)
        are left out of the result.
        """
        ids = _page_ids(pageids)
        counts: dict[int, int] = {}
        for chunk in _chunks(ids, IDS_PER_REQUEST):
            counts.update(self._global_usage_of(chunk))
        return counts

    def _global_usage_of(self, chunk: list[int]) -> dict[int, int]:
        """The use counts of at most 50 pages, following the continuation to its end."""
        params = {
            "prop": "globalusage",
            "pageids": "|".join(map(str, chunk)),
            "guprop": "namespace",  # the smallest answer: the default, url, makes the API build URLs
            "gulimit": "max",
        }
        where = "the answer about global usage"
        counts: dict[int, int] = {}
        gone: set[int] = set()
        continuation: dict[str, str] = {}
        while True:
            answer = self._query({**params, **continuation})
            if "globalusage" in json.dumps(_as(answer.get("warnings", {}), dict, "the warnings").get("query", "")):
                raise GlobalUsageUnavailable(
                    "This wiki does not say where its files are used: prop=globalusage needs the GlobalUsage "
                    "extension, which Commons has. The images-in-use figure stays unknown."
                )
            for page in _field(_field(answer, "query", dict, where), "pages", list, where):
                page = _as(page, dict, f"a page in {where}")
                pageid = _field(page, "pageid", int, f"a page in {where}")
                if pageid not in chunk:
                    raise MalformedAnswer(f"Commons answered about page id {pageid}, not asked for, in {where}.")
                if page.get("missing") or page.get("invalid"):
                    gone.add(pageid)
                    continue
                uses = _as(page.get("globalusage", []), list, f"the global usage of page {pageid}")
                for use in uses:
                    _as(use, dict, f"a use of page {pageid}")
                counts[pageid] = counts.get(pageid, 0) + len(uses)
            following = _continuation(answer, previous=continuation)
            if following is None:
                break
            continuation = following
        absent = [pageid for pageid in chunk if pageid not in counts and pageid not in gone]
        if absent:
            raise MalformedAnswer(f"Commons said nothing about page ids {absent} in {where}.")
        return counts


    # --- File pages' wikitext, for the contest rules' site IDs (issue 4) ---

    def file_page_wikitext(self, pageids: Iterable[int]) -> dict[int, FilePageText | None]:
        """The current wikitext of file pages, by page id, 50 a request; None for a page that is gone.

        ``rvprop=content`` for many pages gives each page's latest revision only; when the answer
        would pass the size cap, the rest comes with ``rvcontinue`` and is merged by page id.
        """
        ids = _page_ids(pageids)
        pages: dict[int, FilePageText | None] = {}
        for chunk in _chunks(ids, IDS_PER_REQUEST):
            pages.update(self._wikitext_of(chunk))
        return pages

    def _wikitext_of(self, chunk: list[int]) -> dict[int, FilePageText | None]:
        params = {
            "prop": "revisions",
            "pageids": "|".join(map(str, chunk)),
            "rvprop": "ids|content",
            "rvslots": "main",
        }
        where = "the answer about file pages"
        pages: dict[int, FilePageText | None] = {}
        continuation: dict[str, str] = {}
        while True:
            answer = self._query({**params, **continuation})
            for page in _field(_field(answer, "query", dict, where), "pages", list, where):
                page = _as(page, dict, f"a page in {where}")
                pageid = _field(page, "pageid", int, f"a page in {where}")
                if pageid not in chunk:
                    raise MalformedAnswer(f"Commons answered about page id {pageid}, not asked for, in {where}.")
                if page.get("missing") or page.get("invalid"):
                    pages[pageid] = None
                elif "revisions" in page:
                    pages[pageid] = _parse_file_page(pageid, page)
            following = _continuation(answer, previous=continuation)
            if following is None:
                break
            continuation = following
        absent = [pageid for pageid in chunk if pageid not in pages]
        if absent:
            raise MalformedAnswer(f"Commons gave no wikitext for page ids {absent} in {where}.")
        return pages

    # --- The files added to a category lately, for the periodic sync (issue 5) ---

    def category_files_added_since(self, category: str, since: datetime) -> Iterator[list[CommonsFile]]:
        """The files put in a category at or after ``since``, in batches like ``category_files``.

        ``gcmsort=timestamp`` orders a category's members by when they were put in it, and
        ``gcmstart`` skips those put there before: a sync of what changed costs a request or two
        instead of a walk of the whole category. The API ignores ``gcmtype`` with this sort, so
        ``gcmnamespace=6`` keeps the files. Files that left the category or were deleted, new
        versions and edited descriptions of files already in it do not show: only a walk of the
        whole category notices those.
        """
        if since.tzinfo is None:
            raise ValueError("Give the moment as an aware datetime (UTC), not a naive one.")
        params = self._listing_params(category)
        del params["gcmtype"]
        params.update(
            gcmnamespace="6",
            gcmsort="timestamp",
            gcmdir="newer",
            gcmstart=since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        return self._file_batches(params)


# --- Answers: decoding, merging, parsing. Pure functions over the decoded JSON. ---


def _page_ids(pageids: Iterable[int]) -> list[int]:
    """The page ids once each, in order; a ValueError for anything that is not one."""
    ids = list(pageids)
    for pageid in ids:
        if not isinstance(pageid, int) or isinstance(pageid, bool) or pageid <= 0:
            raise ValueError(f"A page id is a positive integer, not {pageid!r}.")
    return list(dict.fromkeys(ids))


def _category_title(category: str) -> str:
    title = category.strip()
    if title.lower().startswith("category:"):
        title = title.split(":", 1)[1].strip()
    if not title:
        raise ValueError("Give a category name.")
    return f"Category:{title}"


def _decode(response: requests.Response) -> dict:
    try:
        answer = json.loads(response.content)
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        raise MalformedAnswer(
            f"Commons answered {response.url} with something that is not JSON ({kind}, "
            f"{len(response.content)} bytes): {_excerpt(response.content)}"
        ) from None
    if not isinstance(answer, dict):
        raise MalformedAnswer(
            f"Commons answered {response.url} with JSON that is not an object: {_excerpt(response.content)}"
        )
    return answer


def _error_code_and_info(error: Any) -> tuple[str, str]:
    if not isinstance(error, dict):
        raise MalformedAnswer(f"Commons answered with an error that is not an object: {error!r}")
    return str(error.get("code", "unknown")), str(error.get("info", "no details given"))


def _continuation(answer: dict, previous: dict[str, str]) -> dict[str, str] | None:
    """The `continue` object to send next, copied whole; None when the listing is over."""
    following = answer.get("continue")
    if following is None:
        if not answer.get("batchcomplete"):
            raise MalformedAnswer("Commons neither completed the batch nor said how to continue it.")
        return None
    following = _as(following, dict, "the continue object")
    for key, value in following.items():
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise MalformedAnswer(f"Continuation value {key}={value!r} is not a string.")
    following = {key: str(value) for key, value in following.items()}
    if following == previous:
        raise MalformedAnswer(f"Commons asked to continue from where it already was ({following}); stopping.")
    return following


def _merge_pages(pages: dict[int, dict], answer: dict) -> None:
    """Add the answer's pages to those of the batch: by page id, imageinfo lists appended.

    Until a batch is complete, the same pages come back with more imageinfo (the 50-thumbnail
    limit), and one file's revisions may even be split over two answers.
    """
    query = answer.get("query")
    if query is None:  # an empty category: no pages at all
        return
    query = _as(query, dict, "the query")
    for page in _as(query.get("pages", []), list, "the pages"):
        page = _as(page, dict, "a page")
        pageid = _field(page, "pageid", int, "a page")
        merged = pages.setdefault(pageid, {"imageinfo": []})
        merged.update((key, value) for key, value in page.items() if key != "imageinfo")
        merged["imageinfo"].extend(_as(page.get("imageinfo", []), list, f"imageinfo of page {pageid}"))


def _parse_file(page: dict) -> CommonsFile | None:
    """A CommonsFile from a merged page; None for a file page without a file."""
    pageid = page["pageid"]
    title = _field(page, "title", str, f"page {pageid}")
    where = f"page {pageid} ({title})"
    if not page["imageinfo"]:
        if page.get("imagerepository") == "":
            log.warning("Commons: %s has no file (deleted or never uploaded); skipped", where)
            return None
        raise MalformedAnswer(f"Commons gave no imageinfo for {where}, though the batch was complete.")
    revisions = [_as(revision, dict, f"a revision of {where}") for revision in page["imageinfo"]]
    timestamps = [_timestamp(_field(r, "timestamp", str, where), where) for r in revisions]
    # The API lists the current version first, older ones after; order by time all the same.
    current = revisions[timestamps.index(max(timestamps))]
    original = revisions[timestamps.index(min(timestamps))]
    meta = _extmetadata(current, where)
    artist_html = _meta_html(meta, "Artist", where)
    return CommonsFile(
        pageid=pageid,
        title=title,
        uploader=_optional(original, "user", str, where) or None,  # absent or "" when hidden
        uploaded_at=min(timestamps),
        reuploaded=len(revisions) > 1,
        last_uploaded_at=max(timestamps),
        width=_field(current, "width", int, where),
        height=_field(current, "height", int, where),
        size=_field(current, "size", int, where),
        mime=_field(current, "mime", str, where),
        sha1=_field(current, "sha1", str, where),
        url=_field(current, "url", str, where),
        page_url=_field(current, "descriptionurl", str, where),
        thumb_url=_optional(current, "thumburl", str, where),
        license=_meta_text(meta, "LicenseShortName", where),
        license_url=_meta_text(meta, "LicenseUrl", where),
        description=_meta_text(meta, "ImageDescription", where),
        date_taken=_meta_text(meta, "DateTimeOriginal", where),
        latitude=_coordinate(_meta_text(meta, "GPSLatitude", where), 90),
        longitude=_coordinate(_meta_text(meta, "GPSLongitude", where), 180),
        credit=_meta_text(meta, "Credit", where),
        artist=html_to_text(artist_html) if artist_html is not None else None,
        artist_user=linked_user(artist_html) if artist_html is not None else None,
        categories=_categories(_meta_text(meta, "Categories", where)),
    )


def _parse_user(user: dict) -> CommonsUser:
    name = _field(user, "name", str, "a user")
    where = f"user {name!r}"
    if user.get("missing") or user.get("invalid"):
        return CommonsUser(name=name, registered_at=None, edit_count=None, missing=True)
    registration = _optional(user, "registration", str, where)
    return CommonsUser(
        name=name,
        registered_at=_timestamp(registration, where) if registration else None,
        edit_count=_optional(user, "editcount", int, where),
        missing=False,
    )


def _extmetadata(revision: dict, where: str) -> dict:
    meta = revision.get("extmetadata", {})
    if meta == []:  # PHP's empty array: no field passed the filter (a wiki without CommonsMetadata)
        return {}
    return _as(meta, dict, f"extmetadata of {where}")


def _meta_html(meta: dict, name: str, where: str) -> str | None:
    """The raw value of one extmetadata field (HTML), or None if absent."""
    if name not in meta:
        return None
    value = _field(_as(meta[name], dict, f"{name} of {where}"), "value", (str, int, float), f"{name} of {where}")
    return str(value)


def _meta_text(meta: dict, name: str, where: str) -> str | None:
    html = _meta_html(meta, name, where)
    text = html_to_text(html) if html is not None else ""
    return text or None


def _categories(text: str | None) -> tuple[str, ...]:
    return tuple(name.strip() for name in (text or "").split("|") if name.strip())


def _coordinate(text: str | None, limit: float) -> float | None:
    """A latitude or longitude; None if absent or not a plausible number (it is page content)."""
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and -limit <= value <= limit else None


def _timestamp(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedAnswer(f"Commons gave {text!r} as a timestamp of {where}.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class _TextAndLinks(HTMLParser):
    """Collects the text of an HTML fragment (entities decoded) and the targets of its links."""

    BREAKS = {"br", "p", "div", "li", "tr", "td", "th", "dd", "dt"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BREAKS:
            self.parts.append(" ")
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)

    def handle_endtag(self, tag):
        if tag in self.BREAKS:
            self.parts.append(" ")

    def handle_data(self, data):
        self.parts.append(data)


def _read_html(html: str) -> _TextAndLinks:
    reader = _TextAndLinks()
    reader.feed(html)
    reader.close()
    return reader


def html_to_text(html: str) -> str:
    """The plain text of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    return " ".join("".join(_read_html(html).parts).split())


def linked_user(html: str) -> str | None:
    """The user name of the first link to a User: page in an HTML fragment, if any.

    Handles /wiki/User:Name, index.php?title=User:Name (red links), subpages and percent-encoding.
    """
    for href in _read_html(html).links:
        parts = urlsplit(href)
        query = parse_qs(parts.query)
        if "title" in query:
            title = query["title"][0]
        elif "/wiki/" in parts.path:
            title = unquote(parts.path.split("/wiki/", 1)[1])
        else:
            continue
        namespace, colon, rest = title.replace("_", " ").partition(":")
        name = rest.split("/", 1)[0].strip()
        if colon and namespace.strip().lower() == "user" and name:
            return name
    return None


# --- Small helpers ---


def _as(value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind):
        raise MalformedAnswer(f"Commons gave {_type_name(value)} for {what}, expected {_kind_name(kind)}.")
    return value


def _field(mapping: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """mapping[key], checked to be of the given type (bool never passes for int)."""
    if key not in mapping:
        raise MalformedAnswer(f"Commons left out {key!r} in {where}.")
    value = mapping[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
        raise MalformedAnswer(
            f"Commons gave {_type_name(value)} {value!r:.80} as {key!r} in {where}, expected {_kind_name(kind)}."
        )
    return value


def _optional(mapping: dict, key: str, kind: type, where: str) -> Any:
    return _field(mapping, key, kind, where) if mapping.get(key) is not None else None


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _kinds(kind))


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _retry_after(response: requests.Response) -> float | None:
    """Seconds the server asks us to wait (Retry-After: seconds or an HTTP date), if it asks."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter: about 2, 4, 8... seconds, each between half and all of it."""
    return min(MAX_WAIT, BACKOFF_BASE * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def _describe(params: dict[str, str]) -> str:
    """A short name for an API request, for messages."""
    if "pageids" in params:
        return f"for {params['pageids'].count('|') + 1} page ids"
    return ", ".join(f"{key}={params[key]}" for key in ("list", "generator", "gcmtitle") if key in params)


def _excerpt(content: bytes, limit: int = 200) -> str:
    """The start of a body, on one line, for an error message."""
    text = " ".join(content[:limit * 4].decode("utf-8", errors="replace").split())
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- File pages (contest rules, issue 4) ---


@dataclass(frozen=True)
class FilePageText:
    pageid: int
    revid: int  # the revision read
    wikitext: str  # "" when the revision's text is hidden


def _parse_file_page(pageid: int, page: dict) -> FilePageText:
    where = f"the file page {pageid}"
    revisions = _as(page["revisions"], list, f"the revisions of {where}")
    if len(revisions) != 1:
        raise MalformedAnswer(f"Commons gave {len(revisions)} revisions of {where}, expected the latest only.")
    revision = _as(revisions[0], dict, f"the revision of {where}")
    main = _field(_field(revision, "slots", dict, where), "main", dict, f"the slots of {where}")
    hidden = main.get("texthidden") or main.get("textmissing")
    return FilePageText(
        pageid=pageid,
        revid=_field(revision, "revid", int, where),
        wikitext="" if hidden else _field(main, "content", str, f"the main slot of {where}"),
    )
