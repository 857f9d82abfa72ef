"""A real MediaWiki on loopback for the integration tests.

`LocalWiki` installs Debian's MediaWiki (see install-packages.sh beside this file) into a
work directory with SQLite, serves it with `php -S 127.0.0.1:<free port>` and router.php,
and seeds it like a small Wiki Loves Earth contest on Commons: uploaders (one with a
Cyrillic name), more than 50 JPEGs in the contest category so the API's 50-thumbnail
limit forces an `iicontinue`, a file under 2 Mpx, files with an EXIF orientation, a file
re-uploaded by a second user, a subcategory and an article in the category.

Everything goes through MediaWiki's own maintenance scripts, run with `php`, so the wiki
holds what a real one would. Nothing is written outside the work directory:
MW_CONFIG_FILE points MediaWiki at the work directory's LocalSettings.php.

    with LocalWiki(tmp_path) as wiki:      # installs and starts
        manifest = wiki.seed()
        requests.get(wiki.api_url, params={...})
        wiki.delete("File:Throwaway 001.jpg")
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import requests
from PIL import Image

MEDIAWIKI_DIR = Path("/usr/share/mediawiki")
IMAGEMAGICK_CONVERT = Path("/usr/bin/convert")
ROUTER = Path(__file__).with_name("router.php")
INSTALL_SCRIPT = Path(__file__).with_name("install-packages.sh")
PHP_MODULES = ("intl", "mbstring", "pdo_sqlite", "xml")

CONTEST_CATEGORY = "Category:Images from Wiki Loves Earth 2025 in Testland"
SUBCATEGORY = "Category:Images from Wiki Loves Earth 2025 in Testland - Lake District"
ARTICLE = "Wiki Loves Earth 2025 in Testland"
# The national upload window the seeded timestamps are laid around (UTC, inclusive).
CONTEST_START = "2025-05-01T00:00:00Z"
CONTEST_END = "2025-05-31T23:59:59Z"

ADMIN = "Admin"
CYRILLIC_UPLOADER = "Асель Нурланова"
UPLOADERS = (CYRILLIC_UPLOADER, "Alice Landscape", "Bob Macro")
REUPLOADER = "Carol Rotator"
# Local registration dates: one veteran, the rest newcomers who joined for the contest.
REGISTRATIONS = {
    CYRILLIC_UPLOADER: "2025-05-02T09:00:00Z",
    "Alice Landscape": "2019-03-14T12:00:00Z",
    "Bob Macro": "2025-05-01T08:00:00Z",
    REUPLOADER: "2016-01-20T10:00:00Z",
}
UPLOAD_DAYS = ("2025-05-03T10:00:00Z", "2025-05-12T15:30:00Z", "2025-05-27T18:45:00Z")
LATE_UPLOAD = "2025-06-04T11:00:00Z"  # after the window: still in the category, as on Commons
REUPLOAD_AT = "2025-06-10T09:00:00Z"

CONTEST_FILE_COUNT = 55  # > 50, so one imageinfo request with iiurlwidth cannot hold them all
CYRILLIC_TITLE = "File:Шарын шатқалы.jpg"
SMALL_TITLE = "File:Testland meadow 02.jpg"
REUPLOADED_TITLE = "File:Testland nature reserve 03.jpg"
LATE_TITLE = "File:Devil's Bridge, Testland.jpg"
ROTATED_INDEXES = frozenset({5, 6, 7})
SIZES = ((2000, 1500), (1500, 2000), (1800, 1200), (2400, 1600))  # all at least 2 Mpx
SMALL_SIZE = (1200, 900)  # 1.08 Mpx

EXIF_ORIENTATION_TAG = 0x0112
ROTATED_90_CLOCKWISE = 6  # EXIF "RightTop": turn 90° clockwise to display


class WikiError(Exception):
    """The local test wiki could not be installed, started, seeded or changed."""


class MissingPackagesError(WikiError):
    """Debian packages the local test wiki needs are not installed."""


@dataclass(frozen=True)
class SeededUser:
    name: str
    registered: str  # ISO 8601, UTC


@dataclass(frozen=True)
class SeededFile:
    """One uploaded file, as the wiki's API should report it.

    width, height and sha1 describe the latest revision; width and height as displayed,
    that is after EXIF rotation, which is how MediaWiki reports them.
    """

    title: str  # "File:…"
    uploader: str  # the original uploader, author of the oldest revision
    uploaded_at: str  # the first upload, ISO 8601 UTC
    width: int
    height: int
    sha1: str  # hex, of the latest bytes
    original_sha1: str  # hex, of the first upload's bytes
    site_id: str  # the protected-site ID in the page's {{Testland protected area|…}}
    exif_orientation: int = 1
    reuploaded_by: str | None = None

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1_000_000


@dataclass(frozen=True)
class Manifest:
    """What seed() put on the wiki."""

    category: str
    subcategory: str
    article: str
    files: tuple[SeededFile, ...]  # the direct file members of the contest category
    subcategory_files: tuple[SeededFile, ...]  # only in the subcategory
    users: tuple[SeededUser, ...]

    def file(self, title: str) -> SeededFile:
        for seeded in self.files + self.subcategory_files:
            if seeded.title == title:
                return seeded
        raise KeyError(f"{title!r} was not seeded")


@dataclass
class _PlannedFile:
    """A file to generate and import, with what the manifest will say about it."""

    name: str
    size: tuple[int, int]  # pixels as stored
    uploader: str
    uploaded_at: str
    site_id: str
    category: str
    orientation: int = 1
    sha1: str = field(default="", init=False)

    @property
    def displayed_size(self) -> tuple[int, int]:
        width, height = self.size
        return (height, width) if self.orientation == ROTATED_90_CLOCKWISE else (width, height)


def check_packages() -> None:
    """Raises MissingPackagesError naming what is missing and how to install it."""
    missing = []
    if shutil.which("php") is None:
        missing.append("php (php-cli)")
    else:
        modules = subprocess.run(["php", "-m"], capture_output=True, text=True).stdout
        loaded = modules.lower().split()
        missing += [f"php module {module}" for module in PHP_MODULES if module not in loaded]
    if not (MEDIAWIKI_DIR / "maintenance" / "install.php").is_file():
        missing.append(f"mediawiki ({MEDIAWIKI_DIR})")
    if not IMAGEMAGICK_CONVERT.is_file():
        missing.append(f"imagemagick ({IMAGEMAGICK_CONVERT})")
    if missing:
        raise MissingPackagesError(
            "the local MediaWiki for the integration tests needs Debian packages that are "
            f"missing here: {', '.join(missing)}. Install them (as root) with: sh {INSTALL_SCRIPT}"
        )


class LocalWiki:
    """A MediaWiki installed in `workdir` and served on 127.0.0.1."""

    def __init__(self, workdir: Path | str):
        self.workdir = Path(workdir)
        self.port: int | None = None
        self.timings: dict[str, float] = {}
        self.manifest: Manifest | None = None  # set by seed()
        self._server: subprocess.Popen | None = None
        self._extra_files = 0

    # -- where things are -----------------------------------------------------------------

    @property
    def config_file(self) -> Path:
        return self.workdir / "LocalSettings.php"

    @property
    def upload_dir(self) -> Path:
        return self.workdir / "htdocs" / "images"

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise WikiError("the wiki is not installed yet: call install() first")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server's process id, which is also its process group's; None when stopped."""
        return None if self._server is None else self._server.pid

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/w/api.php"

    @property
    def index_url(self) -> str:
        return f"{self.base_url}/w/index.php"

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> LocalWiki:
        self.install()
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def install(self) -> None:
        """Runs install.php (SQLite) and adds the settings a Commons-like wiki needs."""
        check_packages()
        if self.config_file.exists():
            raise WikiError(f"{self.config_file} exists already: install into an empty directory")
        started = time.monotonic()
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "tmp").mkdir(exist_ok=True)
        self.port = _free_port()
        self.maintenance(
            "install.php",
            "--dbtype=sqlite", f"--dbpath={self.workdir / 'data'}", "--dbname=testwiki",
            f"--server={self.base_url}", "--scriptpath=/w", f"--confpath={self.workdir}",
            f"--pass={_password()}", "--skins=Vector",
            "Testland Commons", ADMIN,
        )
        with self.config_file.open("a", encoding="utf-8") as settings:
            settings.write(self._extra_settings())
        self.timings["install"] = time.monotonic() - started

    def _extra_settings(self) -> str:
        return f"""
# --- added by tests/mediawiki/wiki.py -------------------------------------------------
$wgArticlePath = "/wiki/$1";
$wgEnableUploads = true;
$wgUploadDirectory = "{self.upload_dir}";
$wgUploadPath = "/images";
$wgTmpDirectory = "{self.workdir / 'tmp'}";
# Thumbnails are rendered when first requested (router.php -> thumb_handler.php), as on
# Commons; rendering them while answering imageinfo would make each API call take seconds.
$wgGenerateThumbnailOnParse = false;
$wgUseImageMagick = true;
$wgImageMagickConvertCommand = "{IMAGEMAGICK_CONVERT}";
$wgEnableAutoRotation = true;
# Sessions need a store for logins; pages must never be served from a stale cache.
$wgSessionCacheType = CACHE_DB;
$wgParserCacheType = CACHE_NONE;
$wgJobRunRate = 0;  # wiki.py runs runJobs.php itself after changes
$wgShowExceptionDetails = true;
"""

    def start(self) -> None:
        """Serves the wiki and returns once api.php answers."""
        if self._server is not None:
            raise WikiError("the wiki is already running")
        log = (self.workdir / "server.log").open("ab")
        self._server = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(self.upload_dir.parent), str(ROUTER)],
            env=self._env() | {"PHP_CLI_SERVER_WORKERS": "4"},
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() also ends the workers
        )
        log.close()
        self._wait_until_ready()

    def _wait_until_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        params = {"action": "query", "meta": "siteinfo", "format": "json"}
        with requests.Session() as http:
            http.trust_env = False  # never through a proxy from the environment: it is loopback
            while time.monotonic() < deadline:
                if self._server.poll() is not None:
                    self._server = None
                    raise WikiError(f"php -S exited at start: {self._log_tail()}")
                try:
                    if "query" in http.get(self.api_url, params=params, timeout=5).json():
                        return
                except (requests.RequestException, ValueError):
                    pass
                time.sleep(0.1)
        self.stop()
        raise WikiError(f"api.php did not answer within {timeout} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        log = self.workdir / "server.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else "(no server log)"

    def stop(self) -> None:
        """Ends the server and its worker processes; does nothing if not running."""
        if self._server is None:
            return
        try:
            # SIGINT, not SIGTERM: on SIGINT php -S shuts down and its master reaps the
            # workers; on SIGTERM the master dies first and leaves them as zombies.
            os.killpg(self._server.pid, signal.SIGINT)
            self._server.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self._server.pid, signal.SIGKILL)
            self._server.wait()
        self._server = None

    # -- maintenance scripts --------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        return os.environ | {
            "MW_INSTALL_PATH": str(MEDIAWIKI_DIR),
            "MW_CONFIG_FILE": str(self.config_file),
        }

    def maintenance(self, script: str, *args: str, stdin: str | None = None) -> str:
        """Runs maintenance/<script> with php; returns its output, raises WikiError on failure."""
        command = ["php", str(MEDIAWIKI_DIR / "maintenance" / script), *args]
        result = subprocess.run(
            command, input=stdin, capture_output=True, text=True, env=self._env(),
            cwd=MEDIAWIKI_DIR,
        )
        if result.returncode != 0:
            raise WikiError(
                f"{script} failed with exit code {result.returncode}: "
                f"{_abridged(result.stderr + result.stdout)}"  # errors go to stderr
            )
        return result.stdout + result.stderr

    def edit(self, title: str, text: str, user: str = ADMIN, summary: str = "") -> None:
        self.maintenance("edit.php", f"--user={user}", f"--summary={summary}", title, stdin=text)

    def delete(self, title: str, reason: str = "Copyright violation") -> None:
        """Deletes a page, and for a file page the file too, as an administrator would."""
        output = self.maintenance(
            "deleteBatch.php", f"--u={ADMIN}", f"--r={reason}", stdin=f"{title}\n"
        )
        if "Deleted!" not in output:
            raise WikiError(f"could not delete {title!r}: {output.strip()}")
        self.run_jobs()

    def rename(self, old: str, new: str, reason: str = "Better name") -> None:
        """Moves a page (a file page takes its file along), leaving a redirect as Commons does."""
        output = self.maintenance(
            "moveBatch.php", f"--u={ADMIN}", f"--r={reason}", stdin=f"{old}|{new}\n"
        )
        if re.search(r"FAILED:|Error on line|Invalid title", output):
            raise WikiError(f"could not rename {old!r} to {new!r}: {output.strip()}")
        self.run_jobs()

    def run_jobs(self) -> None:
        """Runs queued jobs, so link tables (category members) reflect every change."""
        self.maintenance("runJobs.php", "--nothrottle")

    # -- seeding --------------------------------------------------------------------------

    def seed(self) -> Manifest:
        """Creates the users, pages and files of a small contest; returns what it made."""
        started = time.monotonic()
        for name in (*UPLOADERS, REUPLOADER):
            self.maintenance("createAndPromote.php", name, _password())
        self._set_registrations(REGISTRATIONS)
        self.edit(CONTEST_CATEGORY, "Uploads to Wiki Loves Earth 2025 in Testland.",
                  summary="Contest tracking category")
        self.edit(SUBCATEGORY, f"Lake District uploads.\n\n[[{CONTEST_CATEGORY}]]",
                  summary="Subcategory")
        self.edit(ARTICLE, "Wiki Loves Earth 2025 in Testland runs in May 2025.\n\n"
                  f"[[{CONTEST_CATEGORY}]]", summary="About the contest")

        planned = _contest_plan()
        self._import(planned, summary="Wiki Loves Earth 2025 upload")
        reupload = self._reupload(next(p for p in planned if f"File:{p.name}" == REUPLOADED_TITLE))
        self.run_jobs()

        files = [_seeded(p) for p in planned]
        files = [replace(f, **reupload) if f.title == REUPLOADED_TITLE else f for f in files]
        self.timings["seed"] = time.monotonic() - started
        self.manifest = Manifest(
            category=CONTEST_CATEGORY,
            subcategory=SUBCATEGORY,
            article=ARTICLE,
            files=tuple(f for f, p in zip(files, planned) if p.category == CONTEST_CATEGORY),
            subcategory_files=tuple(f for f, p in zip(files, planned) if p.category == SUBCATEGORY),
            users=tuple(SeededUser(name, registered) for name, registered in REGISTRATIONS.items()),
        )
        return self.manifest

    def add_files(
        self, count: int, category: str, uploader: str = UPLOADERS[1], prefix: str = "Throwaway"
    ) -> tuple[SeededFile, ...]:
        """Uploads `count` more files into `category`, for tests that change or delete files.

        Each call makes new names, so tests can mutate their own files without disturbing
        the manifest that seed() returned to everyone else.
        """
        if count < 1:
            raise WikiError(f"add_files needs a count of at least 1, not {count}")
        if not category.startswith("Category:"):
            raise WikiError(f"{category!r} is not a category title: it must start with 'Category:'")
        planned = []
        for _ in range(count):
            self._extra_files += 1
            number = self._extra_files
            planned.append(_PlannedFile(
                name=f"{prefix} {number:03d}.jpg", size=SIZES[number % len(SIZES)],
                uploader=uploader, uploaded_at=UPLOAD_DAYS[0], site_id=f"TL-90-{number:03d}",
                category=category,
            ))
        self._import(planned, summary="Extra upload for a test")
        self.run_jobs()
        return tuple(_seeded(p) for p in planned)

    def _set_registrations(self, registrations: dict[str, str]) -> None:
        """Backdates accounts: createAndPromote.php registers them now."""
        cases = " ".join(
            f"WHEN {_sql_string(name)} THEN {_sql_string(_mw_timestamp(at))}"
            for name, at in registrations.items()
        )
        self.maintenance(
            "sql.php", "--query",
            f"UPDATE user SET user_registration = CASE user_name {cases} "
            "ELSE user_registration END",
        )

    def _import(self, planned: list[_PlannedFile], summary: str, overwrite: bool = False) -> None:
        """Generates the JPEGs and imports them: one importImages.php run per uploader and time."""
        groups: dict[tuple[str, str], list[_PlannedFile]] = defaultdict(list)
        for item in planned:
            groups[(item.uploader, item.uploaded_at)].append(item)
        for (uploader, uploaded_at), items in groups.items():
            folder = self.workdir / "seed" / secrets.token_hex(4)
            folder.mkdir(parents=True)
            for item in items:
                item.sha1 = _write_jpeg(folder / item.name, item)
                (folder / f"{item.name}.txt").write_text(_page_text(item), encoding="utf-8")
            args = ["--comment-ext=txt", f"--user={uploader}", f"--summary={summary}",
                    f"--timestamp={_mw_timestamp(uploaded_at)}", str(folder)]
            if overwrite:
                args.insert(0, "--overwrite")
            output = self.maintenance("importImages.php", *args)
            expected = f"{'Overwritten' if overwrite else 'Added'}: {len(items)}"
            if expected not in output:
                raise WikiError(
                    f"importImages.php did not import all {len(items)} files: {_abridged(output)}"
                )
            shutil.rmtree(folder)

    def _reupload(self, original: _PlannedFile) -> dict:
        """Uploads a new version of `original` over it as REUPLOADER: other pixels, turned
        from landscape to portrait. Returns what changes in the file's manifest entry."""
        width, height = original.displayed_size
        portrait = replace(original, size=(height, width), orientation=1,
                           uploader=REUPLOADER, uploaded_at=REUPLOAD_AT)
        self._import([portrait], summary="New version, portrait", overwrite=True)
        return {"width": height, "height": width, "sha1": portrait.sha1,
                "reuploaded_by": REUPLOADER}


def _contest_plan() -> list[_PlannedFile]:
    """The contest category's files plus one that sits only in the subcategory."""
    planned = []
    for index in range(CONTEST_FILE_COUNT + 1):
        name = f"Testland nature reserve {index:02d}.jpg"
        size = SIZES[index % len(SIZES)]
        uploaded_at = UPLOAD_DAYS[(index // 3) % len(UPLOAD_DAYS)]
        category = CONTEST_CATEGORY
        if index == 0:
            name = CYRILLIC_TITLE.removeprefix("File:")
        elif index == 2:
            name, size = SMALL_TITLE.removeprefix("File:"), SMALL_SIZE
        elif index == 4:
            name, uploaded_at = LATE_TITLE.removeprefix("File:"), LATE_UPLOAD
        elif index == CONTEST_FILE_COUNT:
            name, category = "Lake in the Lake District.jpg", SUBCATEGORY
        planned.append(_PlannedFile(
            name=name, size=size, uploader=UPLOADERS[index % len(UPLOADERS)],
            uploaded_at=uploaded_at, site_id=f"TL-{index % 7:02d}-{index:03d}", category=category,
            orientation=ROTATED_90_CLOCKWISE if index in ROTATED_INDEXES else 1,
        ))
    assert f"File:{planned[3].name}" == REUPLOADED_TITLE
    return planned


def _seeded(item: _PlannedFile) -> SeededFile:
    width, height = item.displayed_size
    return SeededFile(
        title=f"File:{item.name}", uploader=item.uploader, uploaded_at=item.uploaded_at,
        width=width, height=height, sha1=item.sha1, original_sha1=item.sha1,
        site_id=item.site_id, exif_orientation=item.orientation,
    )


def _write_jpeg(path: Path, item: _PlannedFile) -> str:
    """Writes a smooth, distinct picture (a blown-up grid of random colours); returns its sha1."""
    rng = random.Random(f"{item.name}|{item.uploader}|{item.size}")
    grid = Image.new("RGB", (8, 6))
    grid.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(8 * 6)])
    picture = grid.resize(item.size, Image.Resampling.BILINEAR)
    exif = Image.Exif()
    if item.orientation != 1:
        exif[EXIF_ORIENTATION_TAG] = item.orientation
    picture.save(path, "JPEG", quality=85, exif=exif)
    return hashlib.sha1(path.read_bytes()).hexdigest()


def _page_text(item: _PlannedFile) -> str:
    """A description page shaped like a Wiki Loves Earth upload's on Commons."""
    return f"""{{{{Information
|description={{{{en|1=A protected area of Testland ({item.site_id})}}}}
|date={item.uploaded_at[:10]}
|source={{{{own}}}}
|author=[[User:{item.uploader}|{item.uploader}]]
}}}}
{{{{Testland protected area|{item.site_id}}}}}

== {{{{int:license-header}}}} ==
{{{{self|cc-by-sa-4.0}}}}

{{{{Wiki Loves Earth 2025|tl}}}}
[[{item.category}]]
"""


def _password() -> str:
    """A random password that cannot be mistaken for an option (token_urlsafe may start with -)."""
    return "pw" + secrets.token_urlsafe(16)


def _abridged(output: str, head: int = 1500, tail: int = 500) -> str:
    """A script's output cut to its start (where MediaWiki puts the error) and its end."""
    if len(output) <= head + tail:
        return output.strip()
    return f"{output[:head].strip()}\n[…]\n{output[-tail:].strip()}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _mw_timestamp(iso: str) -> str:
    """'2025-05-03T10:00:00Z' -> '20250503100000', MediaWiki's database form."""
    return re.sub(r"\D", "", iso)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
