"""Real objects built through the real code paths, and a scripted stand-in for Commons."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from wle.commons import CommonsFile, CommonsUnavailable, CommonsUser
from wle.contests import ContestForm, create_contest


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def make_contest(session, slug="wle-2025-kz", categories=("Images from Wiki Loves Earth 2025 in Kazakhstan",)):
    contest = create_contest(
        session,
        ContestForm(
            slug=slug, name="Wiki Loves Earth 2025 in Kazakhstan", categories=list(categories),
            starts_at=datetime(2025, 6, 15), ends_at=datetime(2025, 7, 16), timezone="Asia/Almaty",
        ),
    )
    session.commit()
    return contest


def commons_file(pageid: int, **changes) -> CommonsFile:
    base = CommonsFile(
        pageid=pageid, title=f"File:Photo {pageid}.jpg", uploader=f"Uploader {pageid % 3}",
        uploaded_at=utc(2025, 6, 20, 10, 0), reuploaded=False, last_uploaded_at=utc(2025, 6, 20, 10, 0),
        width=4000, height=3000, size=2_500_000, mime="image/jpeg", sha1=f"{pageid:040x}",
        url=f"http://wiki.test/images/{pageid}.jpg", page_url=f"http://wiki.test/wiki/File:Photo_{pageid}.jpg",
        thumb_url=f"http://wiki.test/images/thumb/{pageid}.jpg/1280px-{pageid}.jpg",
        license="CC BY-SA 4.0", license_url="https://creativecommons.org/licenses/by-sa/4.0",
        description="A canyon.", date_taken="2025-06-01", latitude=43.35, longitude=79.07,
        credit="Own work", artist=f"Uploader {pageid % 3}", artist_user=f"Uploader {pageid % 3}",
        categories=("Images from Wiki Loves Earth 2025 in Kazakhstan",),
    )
    return dataclasses.replace(base, **changes)


class ScriptedCommons:
    """Answers like CommonsClient from in-memory categories, counting requests.

    Used by the unit tests of the sync logic; the client itself is tested against recorded
    answers over real HTTP, and the whole path against a real MediaWiki.
    """

    def __init__(self, categories: dict[str, list[CommonsFile]], batch=500, fail_after_batches=None):
        self.categories = categories
        self.batch = batch
        self.fail_after_batches = fail_after_batches
        self.deleted: set[int] = set()
        self.titles: dict[int, str] = {}
        self.users_registered: dict[str, datetime] = {}
        self.requests_made = 0

    def category_files(self, category):
        files = self.categories.get(category, [])
        for start in range(0, len(files), self.batch):
            if self.fail_after_batches is not None and self.requests_made >= self.fail_after_batches:
                raise CommonsUnavailable("Commons did not answer after 6 tries (HTTP 503).")
            self.requests_made += 1
            yield files[start:start + self.batch]
        if not files:
            self.requests_made += 1

    def page_titles(self, pageids):
        pageids = list(pageids)
        self.requests_made += (len(pageids) + 49) // 50
        return {p: None if p in self.deleted else self.titles.get(p, f"File:Photo {p}.jpg") for p in pageids}

    def users(self, names):
        names = list(names)
        self.requests_made += (len(names) + 49) // 50
        for name in names:
            registered = self.users_registered.get(name)
            yield CommonsUser(name, registered, 10 if registered else None, registered is None)
