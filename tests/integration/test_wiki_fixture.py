"""The local MediaWiki holds what its manifest says, and answers the way Commons does."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
import requests
from PIL import Image

from tests.mediawiki import wiki as wiki_module
from tests.mediawiki.wiki import (
    CONTEST_CATEGORY,
    CYRILLIC_TITLE,
    CYRILLIC_UPLOADER,
    LocalWiki,
    MissingPackagesError,
    REUPLOADED_TITLE,
    REUPLOADER,
    ROTATED_90_CLOCKWISE,
    SMALL_TITLE,
    WikiError,
    check_packages,
)

HEADERS = {"User-Agent": "WLE-Jury-tests/0 (integration tests on loopback)"}


def api(wiki, **params) -> dict:
    params |= {"format": "json", "formatversion": "2"}
    answer = requests.get(wiki.api_url, params=params, headers=HEADERS, timeout=30).json()
    assert "error" not in answer, answer["error"]
    return answer


def query_all(wiki, **params) -> dict[int, dict]:
    """Every page of a query, following `continue` and merging repeated pages by page id."""
    pages: dict[int, dict] = {}
    extra: dict = {}
    while True:
        answer = api(wiki, action="query", **params, **extra)
        for page in answer.get("query", {}).get("pages", []):
            merged = pages.setdefault(page["pageid"], {})
            imageinfo = merged.get("imageinfo", []) + page.pop("imageinfo", [])
            merged.update(page, imageinfo=imageinfo)
        if "continue" not in answer:
            return pages
        extra = answer["continue"]


def contest_listing(wiki, category=CONTEST_CATEGORY, **params) -> dict[str, dict]:
    pages = query_all(
        wiki, generator="categorymembers", gcmtitle=category, gcmtype="file", gcmlimit="max",
        prop="imageinfo", iiprop="timestamp|user|size|sha1|url", **params,
    )
    return {page["title"]: page for page in pages.values()}


def download(url: str) -> bytes:
    response = requests.get(url, headers=HEADERS, timeout=30)
    response.raise_for_status()
    return response.content


def test_api_answers_as_the_installed_wiki(mediawiki):
    general = api(mediawiki, action="query", meta="siteinfo")["query"]["general"]
    assert general["sitename"] == "Testland Commons"
    assert general["generator"].startswith("MediaWiki 1.")
    assert general["server"] == mediawiki.base_url


def test_category_lists_exactly_the_seeded_files(mediawiki, manifest):
    listing = contest_listing(mediawiki)

    assert len(manifest.files) > 50
    assert set(listing) == {seeded.title for seeded in manifest.files}
    for seeded in manifest.files:
        latest = listing[seeded.title]["imageinfo"][0]
        assert (latest["width"], latest["height"], latest["sha1"]) == (
            seeded.width, seeded.height, seeded.sha1), seeded.title


def test_category_holds_a_subcategory_and_an_article(mediawiki, manifest):
    members = api(mediawiki, action="query", list="categorymembers", cmtitle=CONTEST_CATEGORY,
                  cmtype="subcat|page", cmlimit="max")["query"]["categorymembers"]
    assert {member["title"] for member in members} == {manifest.subcategory, manifest.article}
    in_subcategory = contest_listing(mediawiki, category=manifest.subcategory)
    assert set(in_subcategory) == {seeded.title for seeded in manifest.subcategory_files}


def test_thumbnail_urls_stop_at_fifty_and_continue(mediawiki, manifest):
    first = api(mediawiki, action="query", generator="categorymembers", gcmtitle=CONTEST_CATEGORY,
                gcmtype="file", gcmlimit="max", prop="imageinfo", iiprop="url", iiurlwidth=1280)
    with_info = [page for page in first["query"]["pages"] if "imageinfo" in page]
    assert "iicontinue" in first.get("continue", {})
    assert len(with_info) == 50

    listing = contest_listing(mediawiki, iiurlwidth=1280)
    assert all("thumburl" in page["imageinfo"][0] for page in listing.values())


def test_thumbnails_render_on_request_upright(mediawiki, manifest):
    rotated = next(f for f in manifest.files if f.exif_orientation == ROTATED_90_CLOCKWISE)
    info = contest_listing(mediawiki, iiurlwidth=330)[rotated.title]["imageinfo"][0]

    thumbnail = Image.open(io.BytesIO(download(info["thumburl"])))
    assert thumbnail.size == (info["thumbwidth"], info["thumbheight"])
    assert (thumbnail.width > thumbnail.height) == (rotated.width > rotated.height)

    original = Image.open(io.BytesIO(download(info["url"])))
    assert original.getexif()[0x0112] == ROTATED_90_CLOCKWISE
    assert original.size == (rotated.height, rotated.width)  # stored sideways


def test_originals_are_the_uploaded_bytes(mediawiki, manifest):
    listing = contest_listing(mediawiki)
    for title in (CYRILLIC_TITLE, SMALL_TITLE, REUPLOADED_TITLE):
        url = listing[title]["imageinfo"][0]["url"]
        assert hashlib.sha1(download(url)).hexdigest() == manifest.file(title).sha1


def test_seeded_edge_cases_are_there(manifest):
    assert manifest.file(SMALL_TITLE).megapixels < 2
    assert sum(seeded.megapixels >= 2 for seeded in manifest.files) == len(manifest.files) - 1
    assert manifest.file(CYRILLIC_TITLE).uploader == CYRILLIC_UPLOADER
    assert len({seeded.uploader for seeded in manifest.files}) >= 3
    with pytest.raises(KeyError, match="not seeded"):
        manifest.file("File:Nowhere.jpg")


def test_reupload_keeps_the_original_uploader_in_history(mediawiki, manifest):
    seeded = manifest.file(REUPLOADED_TITLE)
    pages = api(mediawiki, action="query", titles=REUPLOADED_TITLE, prop="imageinfo",
                iilimit="max", iiprop="timestamp|user|sha1")["query"]["pages"]
    latest, oldest = pages[0]["imageinfo"]

    assert seeded.reuploaded_by == REUPLOADER
    assert (latest["user"], latest["sha1"]) == (REUPLOADER, seeded.sha1)
    assert (oldest["user"], oldest["sha1"]) == (seeded.uploader, seeded.original_sha1)
    assert oldest["timestamp"] == seeded.uploaded_at
    assert seeded.sha1 != seeded.original_sha1


def test_users_have_their_registration_dates(mediawiki, manifest):
    names = "|".join(user.name for user in manifest.users)
    users = api(mediawiki, action="query", list="users", ususers=names,
                usprop="registration")["query"]["users"]
    assert {user["name"]: user["registration"] for user in users} == {
        user.name: user.registered for user in manifest.users}


def test_delete_removes_a_file_from_its_category(mediawiki, fresh_category):
    kept, deleted = mediawiki.add_files(2, fresh_category)
    assert set(contest_listing(mediawiki, category=fresh_category)) == {kept.title, deleted.title}
    page_id = api(mediawiki, action="query", titles=deleted.title)["query"]["pages"][0]["pageid"]

    mediawiki.delete(deleted.title)

    assert set(contest_listing(mediawiki, category=fresh_category)) == {kept.title}
    gone = api(mediawiki, action="query", pageids=page_id)["query"]["pages"][0]
    assert gone.get("missing") is True


def test_rename_keeps_the_page_id_and_leaves_a_redirect(mediawiki, fresh_category):
    (seeded,) = mediawiki.add_files(1, fresh_category)
    before = contest_listing(mediawiki, category=fresh_category)[seeded.title]
    new_title = "File:Renamed " + seeded.title.removeprefix("File:")

    mediawiki.rename(seeded.title, new_title)

    after = contest_listing(mediawiki, category=fresh_category)
    assert list(after) == [new_title]
    assert after[new_title]["pageid"] == before["pageid"]
    assert after[new_title]["imageinfo"][0]["sha1"] == seeded.sha1
    old = api(mediawiki, action="query", titles=seeded.title, redirects=1)["query"]
    assert old["redirects"] == [{"from": seeded.title, "to": new_title}]


def test_bad_changes_raise_clear_errors(mediawiki, fresh_category):
    with pytest.raises(WikiError, match="could not delete 'File:No such file.jpg'"):
        mediawiki.delete("File:No such file.jpg")
    with pytest.raises(WikiError, match="could not rename"):
        mediawiki.rename(CYRILLIC_TITLE, SMALL_TITLE)  # the target exists
    with pytest.raises(WikiError, match="at least 1"):
        mediawiki.add_files(0, fresh_category)
    with pytest.raises(WikiError, match="not a category title"):
        mediawiki.add_files(1, "Images of Testland")


def test_stop_leaves_no_server_process(tmp_path):
    with LocalWiki(tmp_path) as wiki:
        process_group = wiki.pid
        assert api(wiki, action="query", meta="siteinfo")["query"]["general"]
    with pytest.raises(ProcessLookupError):
        os.killpg(process_group, 0)
    with pytest.raises(requests.ConnectionError):
        requests.get(wiki.api_url, timeout=5)


def test_missing_packages_name_the_install_script(monkeypatch, tmp_path):
    monkeypatch.setattr(wiki_module, "MEDIAWIKI_DIR", tmp_path / "no-mediawiki")
    with pytest.raises(MissingPackagesError, match="install-packages.sh") as raised:
        check_packages()
    assert "mediawiki" in str(raised.value)
