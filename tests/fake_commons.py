"""A fake Commons holding one contest category of generated files, for the fault tests and the
sync benchmark, served over real HTTP by ``tests.fake_api.FakeAPI``.

Its answers have the shapes of the real API's, as recorded in
``tests/samples/commons/cat-72files-iicontinue-*.json`` and ``cat-imageinfo-gcmlimit5-page-*``:

- ``generator=categorymembers``: 500 members per generator page; every answer of a page lists
  all its members, but imageinfo (with a thumbnail URL) for only 50 of them, the rest following
  with ``iicontinue=<title>|<timestamp>``; ``batchcomplete`` and ``gcmcontinue=file|<hex>|<id>``
  come with the last answer of a page. ``gcmsort=timestamp`` with ``gcmstart`` lists the files
  put in the category since then, oldest first.
- ``pageids=`` (titles), ``list=users``, ``prop=globalusage``, ``prop=revisions`` (wikitext).
- ``/images/...``: a thumbnail, the same small JPEG for every file.

Faults are scripted: answers put in ``faults`` are served, in order, instead of the next API
answers (never instead of downloads), and ``fail_at(n, ...)`` puts them there when the n-th API
request from now arrives. ``delay`` slows every API answer and ``download_delay`` every download,
so that a test can kill a worker midway.
"""

from __future__ import annotations

import io
import threading
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from tests.fake_api import Answer, FakeAPI, Request

CATEGORY = "Images from Wiki Loves Earth 2025 in Kazakhstan"
MEMBERS_PER_PAGE = 500  # gcmlimit's maximum without bot rights
THUMBNAILS_PER_ANSWER = 50  # the API renders at most 50 thumbnail URLs a request
UPLOADERS = ("Aigerim Photographer", "SteppeWalker", "Нурлан Табиғат", "Mountain Lens", "Lake Watcher")


@dataclass(frozen=True)
class FakeFile:
    pageid: int
    title: str  # "File:..."
    uploaded: datetime
    added: datetime  # when it was put in the category (what gcmsort=timestamp orders by)
    uploader: str

    @property
    def name(self) -> str:
        return self.title.split(":", 1)[1].replace(" ", "_")


def make_files(count: int, first_pageid: int = 1000, start: datetime | None = None) -> list[FakeFile]:
    """``count`` files uploaded a minute apart from ``start``, each put in the category at once."""
    start = start or datetime(2025, 6, 15, 6, 0, tzinfo=timezone.utc)
    files = []
    for number in range(count):
        moment = start + timedelta(minutes=number)
        files.append(FakeFile(
            pageid=first_pageid + number,
            title=f"File:WLE 2025 KZ {first_pageid + number:06d}.jpg",
            uploaded=moment,
            added=moment,
            uploader=UPLOADERS[number % len(UPLOADERS)],
        ))
    return files


class FakeCommons:
    """``with FakeCommons(make_files(1500)) as commons: CommonsClient(commons.url, ...)``"""

    def __init__(self, files: list[FakeFile], *, category: str = CATEGORY, delay: float = 0.0,
                 download_delay: float = 0.0):
        self.category = category
        self.files = list(files)
        self.delay = delay
        self.download_delay = download_delay
        self.faults: deque[Answer] = deque()
        self._planned: dict[int, list[Answer]] = {}
        self._api_count = 0
        self.served = Counter()  # what was asked: "listing", "download", "fault", ...
        self._lock = threading.Lock()
        self.api = FakeAPI(handler=self._answer)

    # --- Life cycle ---

    def __enter__(self) -> FakeCommons:
        self.api.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.api.stop()

    @property
    def url(self) -> str:
        return self.api.url

    def add_files(self, files: list[FakeFile]) -> None:
        with self._lock:
            self.files.extend(files)

    def remove(self, pageids: set[int]) -> None:
        """Take files out of the category (as if deleted: their page ids are missing too)."""
        with self._lock:
            self.files = [f for f in self.files if f.pageid not in pageids]

    def fail_at(self, request_number: int, *answers: Answer) -> None:
        """Answer the ``request_number``-th API request from now (from 1, faults included) and those
        after it with ``answers``, then carry on as before."""
        with self._lock:
            self._planned.setdefault(self._api_count + request_number, []).extend(answers)

    @property
    def api_requests(self) -> int:
        return sum(n for kind, n in self.served.items() if kind != "download")

    # --- Serving ---

    def _answer(self, request: Request) -> Answer:
        if request.path.startswith("/images/"):
            self.served["download"] += 1
            return Answer(thumbnail_jpeg(), headers={"Content-Type": "image/jpeg"}, delay=self.download_delay)
        with self._lock:
            self._api_count += 1
            self.faults.extend(self._planned.pop(self._api_count, ()))
            if self.faults:
                self.served["fault"] += 1
                return self.faults.popleft()
            files = list(self.files)
        kind, body = self._api(request.params, files)
        self.served[kind] += 1
        return Answer.json(body, delay=self.delay)

    def _api(self, params: dict[str, str], files: list[FakeFile]) -> tuple[str, dict]:
        if params.get("generator") == "categorymembers":
            return "listing", self._listing(params, files)
        if params.get("list") == "users":
            return "users", _users(params["ususers"].split("|"))
        by_id = {f.pageid: f for f in files}
        ids = [int(p) for p in params.get("pageids", "").split("|") if p]
        if params.get("prop") == "globalusage":
            return "globalusage", _pages(ids, by_id, lambda f: {"globalusage": []})
        if params.get("prop") == "revisions":
            return "wikitext", _pages(ids, by_id, _revision)
        if ids and "prop" not in params:
            return "titles", _pages(ids, by_id, lambda f: {})
        return "unknown", {"error": {"code": "badparams", "info": f"The fake Commons does not know {params}"}}

    def _listing(self, params: dict[str, str], files: list[FakeFile]) -> dict:
        if params["gcmtitle"] != f"Category:{self.category}":
            return {"batchcomplete": True}  # an empty category: no query at all
        if params.get("gcmsort") == "timestamp":
            start = datetime.fromisoformat(params["gcmstart"].replace("Z", "+00:00"))
            members = sorted((f for f in files if f.added >= start), key=lambda f: (f.added, f.pageid))
        else:
            members = sorted(files, key=lambda f: f.title)
        page_start = _page_start(params.get("gcmcontinue"), members)
        page = members[page_start:page_start + MEMBERS_PER_PAGE]
        if not page:
            return {"batchcomplete": True}
        info_start = _info_start(params.get("iicontinue"), page)
        with_info = page[info_start:info_start + THUMBNAILS_PER_ANSWER]
        thumb_width = int(params.get("iiurlwidth", "1280"))
        answer: dict = {"query": {"pages": [
            _page(f, _imageinfo(f, thumb_width, self.api.base_url) if f in with_info else None)
            for f in sorted(page, key=lambda f: f.pageid)
        ]}}
        rest = page[info_start + THUMBNAILS_PER_ANSWER:]
        if rest:
            answer["continue"] = {"iicontinue": f"{rest[0].name}|{_stamp(rest[0].uploaded, compact=True)}",
                                  "continue": "||"}
            if "gcmcontinue" in params:  # the generator repeats the same page until its batch is complete
                answer["continue"]["gcmcontinue"] = params["gcmcontinue"]
            return answer
        answer["batchcomplete"] = True
        following = members[page_start + MEMBERS_PER_PAGE:page_start + MEMBERS_PER_PAGE + 1]
        if following:
            answer["continue"] = {"gcmcontinue": _gcmcontinue(following[0]), "continue": "gcmcontinue||"}
        return answer


# --- The answers' parts ---


def _page_start(gcmcontinue: str | None, members: list[FakeFile]) -> int:
    if not gcmcontinue:
        return 0
    pageid = int(gcmcontinue.rsplit("|", 1)[1])
    return next(i for i, f in enumerate(members) if f.pageid == pageid)


def _info_start(iicontinue: str | None, page: list[FakeFile]) -> int:
    if not iicontinue:
        return 0
    name = iicontinue.rsplit("|", 1)[0]
    return next(i for i, f in enumerate(page) if f.name == name)


def _gcmcontinue(file: FakeFile) -> str:
    return f"file|{file.title.split(':', 1)[1].upper().encode().hex()}|{file.pageid}"


def _page(file: FakeFile, imageinfo: dict | None) -> dict:
    page = {"pageid": file.pageid, "ns": 6, "title": file.title, "imagerepository": "local"}
    if imageinfo is not None:
        page["imageinfo"] = [imageinfo]
    return page


def _imageinfo(file: FakeFile, thumb_width: int, base_url: str) -> dict:
    name, digest = file.name, f"{file.pageid:040x}"[-40:]
    path = f"{digest[-1]}/{digest[-2:]}/{name}"
    return {
        "timestamp": _stamp(file.uploaded),
        "user": file.uploader,
        "size": 4_200_000 + file.pageid,
        "width": 4000,
        "height": 3000,
        "thumburl": f"{base_url}/images/thumb/{path}/{thumb_width}px-{name}",
        "thumbwidth": thumb_width,
        "thumbheight": thumb_width * 3 // 4,
        "url": f"{base_url}/images/{path}",
        "descriptionurl": f"{base_url}/wiki/{file.title.replace(' ', '_')}",
        "descriptionshorturl": f"{base_url}/w/index.php?curid={file.pageid}",
        "mime": "image/jpeg",
        "sha1": digest,
        "extmetadata": {
            "Categories": {"value": f"{CATEGORY}|Charyn National Park", "source": "commons-categories"},
            "ImageDescription": {"value": f"Charyn Canyon, view {file.pageid}.", "source": "commons-desc-page"},
            "DateTimeOriginal": {"value": _stamp(file.uploaded - timedelta(days=2)), "source": "commons-desc-page"},
            "GPSLatitude": {"value": "43.3534", "source": "commons-desc-page"},
            "GPSLongitude": {"value": "79.0772", "source": "commons-desc-page"},
            "Credit": {"value": '<span class="int-own-work" lang="en">Own work</span>', "source": "commons-desc-page"},
            "Artist": {"value": f'<a href="{base_url}/wiki/User:{file.uploader.replace(" ", "_")}">{file.uploader}</a>',
                       "source": "commons-desc-page"},
            "LicenseShortName": {"value": "CC BY-SA 4.0", "source": "commons-desc-page"},
            "LicenseUrl": {"value": "https://creativecommons.org/licenses/by-sa/4.0", "source": "commons-desc-page"},
        },
    }


def _pages(ids: list[int], by_id: dict[int, FakeFile], extra) -> dict:
    pages = []
    for pageid in ids:
        file = by_id.get(pageid)
        pages.append({"pageid": pageid, "missing": True} if file is None
                     else {"pageid": pageid, "ns": 6, "title": file.title, **extra(file)})
    return {"batchcomplete": True, "query": {"pages": pages}}


def _revision(file: FakeFile) -> dict:
    text = ("== Summary ==\n{{Information\n|description={{en|1=Charyn Canyon.}}\n|source={{own}}\n"
            f"|author=[[User:{file.uploader}|{file.uploader}]]\n}}}}\n{{{{self|cc-by-sa-4.0}}}}\n"
            "{{Wiki Loves Earth 2025|kz}}\n")
    return {"revisions": [{"revid": file.pageid * 10, "slots": {"main": {
        "contentmodel": "wikitext", "contentformat": "text/x-wiki", "content": text}}}]}


def _users(names: list[str]) -> dict:
    return {"batchcomplete": True, "query": {"users": [
        {"userid": 100 + i, "name": name, "editcount": 10 + i, "registration": "2025-06-01T08:00:00Z"}
        for i, name in enumerate(names)
    ]}}


def _stamp(moment: datetime, compact: bool = False) -> str:
    return moment.strftime("%Y%m%d%H%M%S" if compact else "%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=1)
def thumbnail_jpeg() -> bytes:
    """A photo-like JPEG (a gradient with a little noise), made once. 800 px wide rather than a
    real thumbnail's 1280, so that the tests that make hundreds of thumbnails stay quick."""
    from PIL import Image

    width, height = 800, 600
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 8).convert("RGB")
    image = Image.blend(image, noise, 0.2)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
