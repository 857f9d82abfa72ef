"""The Commons client against recorded MediaWiki answers and injected faults, over real HTTP."""

from __future__ import annotations

import copy
import json
import socket
from datetime import datetime, timezone

import pytest
import requests

from tests.fake_api import Answer, FakeAPI, recorded
from wle import __version__
from wle.commons import (
    STANDARD_WIDTHS,
    CommonsAPIError,
    CommonsClient,
    CommonsError,
    CommonsUnavailable,
    FileTooLarge,
    MalformedAnswer,
    MissingContact,
    RequestRefused,
    html_to_text,
    linked_user,
)

CONTACT = "wle-tests@example.org"
CATEGORY = "Images from Wiki Loves Earth 2025 in Kazakhstan"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


class Sleeps(list):
    """An injected sleep that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def api():
    with FakeAPI() as fake:
        yield fake


@pytest.fixture
def sleeps():
    return Sleeps()


def make_client(api: FakeAPI, sleeps: Sleeps, **kwargs) -> CommonsClient:
    return CommonsClient(api.url, CONTACT, sleep=sleeps, **kwargs)


def list_category(client: CommonsClient, category: str = CATEGORY) -> list[list]:
    return list(client.category_files(category))


# --- Construction ---


@pytest.mark.parametrize("contact", ["", "   ", None])
def test_a_client_without_contact_is_refused_with_a_clear_message(contact):
    with pytest.raises(MissingContact, match="WLE_CONTACT"):
        CommonsClient("https://commons.wikimedia.org/w/api.php", contact)


def test_user_agent_names_tool_version_contact_and_library():
    client = CommonsClient("https://commons.wikimedia.org/w/api.php", " ops@example.org ", version="9.8.7")
    assert client.user_agent == f"WLE-Jury/9.8.7 (ops@example.org) python-requests/{requests.__version__}"


@pytest.mark.parametrize("width", [0, 640, 1000, 4000])
def test_only_standard_thumbnail_widths_are_accepted(width):
    with pytest.raises(ValueError, match="1280"):
        CommonsClient("https://commons.wikimedia.org/w/api.php", CONTACT, thumb_width=width)


def test_every_standard_width_is_accepted():
    for width in STANDARD_WIDTHS:
        assert CommonsClient("https://commons.wikimedia.org/w/api.php", CONTACT, thumb_width=width).thumb_width == width


def test_an_api_url_without_scheme_is_refused():
    with pytest.raises(ValueError, match="http"):
        CommonsClient("commons.wikimedia.org/w/api.php", CONTACT)


# --- Listing a category ---


def test_listing_follows_gcmcontinue_and_yields_each_complete_batch(api, sleeps):
    api.add(*(Answer.sample(f"cat-imageinfo-gcmlimit5-page-{n}.json") for n in (1, 2, 3)))
    client = make_client(api, sleeps)

    batches = list_category(client)

    assert [len(batch) for batch in batches] == [5, 5, 2]
    assert sorted(f.pageid for batch in batches for f in batch) == list(range(25, 37))
    assert client.requests_made == 3 and api.pending == 0 and sleeps == []
    first, second, third = (request.params for request in api.requests)
    assert "gcmcontinue" not in first and "continue" not in first
    # Every key of the previous answer's `continue` is copied, and nothing stale stays.
    assert second["gcmcontinue"] == recorded("cat-imageinfo-gcmlimit5-page-1.json")["continue"]["gcmcontinue"]
    assert second["continue"] == "gcmcontinue||"
    assert third["gcmcontinue"] == recorded("cat-imageinfo-gcmlimit5-page-2.json")["continue"]["gcmcontinue"]


def test_listing_asks_for_everything_in_one_query(api, sleeps):
    api.add(Answer.sample("cat-imageinfo-all.json"))
    list_category(make_client(api, sleeps, thumb_width=960))

    (request,) = api.requests
    assert request.params["action"] == "query"
    assert request.params["generator"] == "categorymembers"
    assert request.params["gcmtitle"] == f"Category:{CATEGORY}"
    assert request.params["gcmtype"] == "file"
    assert request.params["gcmlimit"] == "500"
    assert request.params["prop"] == "imageinfo"
    wanted = {"timestamp", "user", "url", "size", "mime", "sha1", "extmetadata"}
    assert set(request.params["iiprop"].split("|")) >= wanted
    assert request.params["iilimit"] == "max"
    assert request.params["iiurlwidth"] == "960"
    assert request.params["format"] == "json" and request.params["formatversion"] == "2"
    assert request.params["maxlag"] == "5"
    assert request.headers["user-agent"].startswith(f"WLE-Jury/{__version__} ({CONTACT}) python-requests/")


@pytest.mark.parametrize("name", [CATEGORY, f"Category:{CATEGORY}", f"category:{CATEGORY}", f"  {CATEGORY} "])
def test_category_is_accepted_with_or_without_prefix(api, sleeps, name):
    api.add(Answer.sample("cat-imageinfo-all.json"))
    list_category(make_client(api, sleeps), name)
    assert api.requests[0].params["gcmtitle"] == f"Category:{CATEGORY}"


def test_an_empty_category_name_is_refused(api, sleeps):
    with pytest.raises(ValueError):
        list_category(make_client(api, sleeps), "Category: ")
    assert api.requests == []


def test_category_size_counts_files(api, sleeps):
    api.add(Answer.json({"batchcomplete": True, "query": {"pages": [
        {"pageid": 3, "ns": 14, "title": f"Category:{CATEGORY}",
         "categoryinfo": {"size": 75, "pages": 1, "files": 72, "subcats": 2}}]}}))
    assert make_client(api, sleeps).category_size(CATEGORY) == 72
    assert api.requests[0].params["prop"] == "categoryinfo"
    assert api.requests[0].params["titles"] == f"Category:{CATEGORY}"


def test_category_size_of_a_category_without_page_or_files_is_zero(api, sleeps):
    api.add(Answer.json({"batchcomplete": True, "query": {"pages": [
        {"ns": 14, "title": f"Category:{CATEGORY}", "missing": True}]}}))
    assert make_client(api, sleeps).category_size(CATEGORY) == 0


def test_category_size_with_a_malformed_answer_is_an_error(api, sleeps):
    api.add(Answer.json({"batchcomplete": True, "query": {"pages": [{"categoryinfo": {"files": "many"}}]}}))
    with pytest.raises(MalformedAnswer):
        make_client(api, sleeps).category_size(CATEGORY)


def test_an_empty_category_yields_nothing(api, sleeps):
    api.add(Answer.json({"batchcomplete": True}))
    assert list_category(make_client(api, sleeps)) == []
    assert len(api.requests) == 1


def test_iicontinue_pages_are_merged_by_page_id_into_one_batch(api, sleeps):
    # The recording asked for fewer properties than the client does: add what it would have sent.
    answers = [recorded("cat-72files-iicontinue-1.json"), recorded("cat-72files-iicontinue-2.json")]
    for answer in answers:
        for page in answer["query"]["pages"]:
            for revision in page.get("imageinfo", []):
                revision.update(mime="image/jpeg", sha1=f"{page['pageid']:040x}")
    api.add(*(Answer.json(answer) for answer in answers))
    client = make_client(api, sleeps)

    batches = list_category(client)

    assert len(batches) == 1, "the batch is complete only after the iicontinue answer"
    (files,) = batches
    assert len(files) == 72 and len({f.pageid for f in files}) == 72
    second_half = {p["pageid"] for p in answers[1]["query"]["pages"] if "imageinfo" in p}
    assert len(second_half) == 22
    by_id = {f.pageid: f for f in files}
    assert all(by_id[pageid].url and by_id[pageid].uploader for pageid in second_half)
    assert by_id[35].title == "File:Көлсай көлдері.jpg" and by_id[35].width == 1024
    assert api.requests[1].params["iicontinue"] == "WLE_2025_KZ_extra_0040.jpg|20250511120000"
    assert api.requests[1].params["continue"] == "||"
    assert "gcmcontinue" not in api.requests[1].params


def test_files_are_parsed_with_their_metadata(api, sleeps):
    api.add(Answer.sample("cat-imageinfo-all.json"))
    (files,) = list_category(make_client(api, sleeps))
    by_id = {f.pageid: f for f in files}
    charyn = by_id[25]

    assert charyn.title == "File:Charyn Canyon at sunset.jpg"
    assert charyn.uploader == "Aigerim Photographer"
    assert charyn.uploaded_at == charyn.last_uploaded_at == utc(2025, 5, 5, 8, 15)
    assert charyn.uploaded_at.tzinfo is not None
    assert charyn.reuploaded is False
    assert (charyn.width, charyn.height, charyn.size) == (4000, 3000, 675974)
    assert charyn.mime == "image/jpeg" and charyn.sha1 == "3db61acea66ff31c82381f85ca6930badeadaa4a"
    assert charyn.url.endswith("/images/6/60/Charyn_Canyon_at_sunset.jpg")
    assert charyn.page_url.endswith("/wiki/File:Charyn_Canyon_at_sunset.jpg")
    assert charyn.thumb_url.endswith("px-Charyn_Canyon_at_sunset.jpg")
    assert charyn.license == "CC BY-SA 4.0"
    assert charyn.license_url == "https://creativecommons.org/licenses/by-sa/4.0"
    assert charyn.description == "Charyn Canyon at sunset, Almaty Region."
    assert charyn.date_taken == "2025-05-03 19:41:10"
    assert (charyn.latitude, charyn.longitude) == (43.3534, 79.0772)
    assert charyn.credit == "Own work"  # the <span> is gone
    assert charyn.artist == "Aigerim Photographer"  # the <a> is gone
    assert charyn.artist_user == "Aigerim Photographer"
    assert "Charyn National Park" in charyn.categories
    assert f"{CATEGORY}" in charyn.categories
    # The Artist of this one is a red link: index.php?title=User:...&action=edit&redlink=1.
    assert by_id[26].artist_user == by_id[26].uploader == "Нурлан Табиғат"
    assert by_id[27].date_taken is None
    assert by_id[32].license == "CC0"


def test_without_commons_metadata_the_page_fields_are_none(api, sleeps):
    api.add(Answer.sample("cat-imageinfo-without-commonsmetadata.json"))
    (files,) = list_category(make_client(api, sleeps))

    assert len(files) == 12
    for file in files:
        assert file.license is file.license_url is file.description is file.date_taken is None
        assert file.latitude is file.longitude is file.credit is file.artist is file.artist_user is None
        assert file.categories == ()
        assert file.uploader and file.sha1 and file.thumb_url


def test_an_empty_extmetadata_array_is_no_metadata(api, sleeps):
    # PHP sends an empty extmetadata as [] when no field passes iiextmetadatafilter.
    answer = recorded("cat-imageinfo-without-commonsmetadata.json")
    answer["query"]["pages"][0]["imageinfo"][0]["extmetadata"] = []
    api.add(Answer.json(answer))
    (files,) = list_category(make_client(api, sleeps))
    assert files[0].license is None and files[0].categories == ()


def reuploaded_page() -> tuple[dict, dict]:
    """Page 25 as the current version (a rotation by another user) and the original upload."""
    page = recorded("cat-imageinfo-all.json")["query"]["pages"][0]
    original = page["imageinfo"][0]
    current = copy.deepcopy(original)
    current.update(timestamp="2025-06-20T10:00:00Z", user="Rotator", width=3000, height=4000, sha1="f" * 40)
    original = copy.deepcopy(original)
    original["url"] = original["url"].replace("/images/", "/images/archive/")
    return current, original


def test_the_original_uploader_is_the_oldest_revision_even_split_over_answers(api, sleeps):
    current, original = reuploaded_page()
    stub = {"pageid": 25, "ns": 6, "title": "File:Charyn Canyon at sunset.jpg", "imagerepository": "local"}
    # The transform limit fell between the two revisions: the history continues in the next answer.
    api.add(
        Answer.json({
            "continue": {"iicontinue": "Charyn_Canyon_at_sunset.jpg|20250505081500", "continue": "||"},
            "query": {"pages": [{**stub, "imageinfo": [current]}]},
        }),
        Answer.json({"batchcomplete": True, "query": {"pages": [{**stub, "imageinfo": [original]}]}}),
    )
    ((file,),) = list_category(make_client(api, sleeps))

    assert file.uploader == "Aigerim Photographer"
    assert file.uploaded_at == utc(2025, 5, 5, 8, 15)
    assert file.reuploaded is True
    assert file.last_uploaded_at == utc(2025, 6, 20, 10)
    # The picture is the current version's.
    assert (file.width, file.height, file.sha1) == (3000, 4000, "f" * 40)
    assert "/archive/" not in file.url
    assert api.requests[1].params["iicontinue"] == "Charyn_Canyon_at_sunset.jpg|20250505081500"


def test_a_hidden_original_uploader_is_none(api, sleeps):
    current, original = reuploaded_page()
    del original["user"]
    original["userhidden"] = True
    page = {"pageid": 25, "ns": 6, "title": "File:Charyn Canyon at sunset.jpg", "imageinfo": [current, original]}
    api.add(Answer.json({"batchcomplete": True, "query": {"pages": [page]}}))
    ((file,),) = list_category(make_client(api, sleeps))
    assert file.uploader is None and file.reuploaded


def test_a_file_page_without_a_file_is_skipped(api, sleeps):
    answer = recorded("cat-imageinfo-all.json")
    answer["query"]["pages"].append({"pageid": 99, "ns": 6, "title": "File:Gone.jpg", "imagerepository": ""})
    api.add(Answer.json(answer))
    (files,) = list_category(make_client(api, sleeps))
    assert len(files) == 12 and 99 not in {f.pageid for f in files}


def test_a_missing_thumbnail_is_none(api, sleeps):
    answer = recorded("cat-imageinfo-all.json")
    revision = answer["query"]["pages"][0]["imageinfo"][0]
    del revision["thumburl"]
    revision["thumberror"] = "Error creating thumbnail"
    api.add(Answer.json(answer))
    (files,) = list_category(make_client(api, sleeps))
    assert files[0].thumb_url is None


@pytest.mark.parametrize("text, expected", [("not a number", None), ("95.5", None), ("-12.25", -12.25)])
def test_bad_coordinates_from_the_description_page_are_none(api, sleeps, text, expected):
    answer = recorded("cat-imageinfo-all.json")
    answer["query"]["pages"][0]["imageinfo"][0]["extmetadata"]["GPSLatitude"]["value"] = text
    api.add(Answer.json(answer))
    (files,) = list_category(make_client(api, sleeps))
    assert files[0].latitude == expected


# --- Malformed listings ---


def broken_listing(change) -> dict:
    answer = recorded("cat-imageinfo-all.json")
    change(answer)
    return answer


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a["query"]["pages"][0]["imageinfo"][0].pop("url"), "'url' in page 25"),
        (lambda a: a["query"]["pages"][0]["imageinfo"][0].update(width="4000"), "'width' in page 25"),
        (lambda a: a["query"]["pages"][0]["imageinfo"][0].update(timestamp="yesterday"), "timestamp of page 25"),
        (lambda a: a["query"]["pages"][0]["imageinfo"][0].update(size=True), "'size' in page 25"),
        (lambda a: a["query"]["pages"][0].pop("imageinfo"), "no imageinfo for page 25"),
        (lambda a: a["query"]["pages"][0].update(imageinfo={"url": "x"}), "imageinfo of page 25"),
        (lambda a: a["query"]["pages"][0]["imageinfo"][0].update(extmetadata="html"), "extmetadata"),
        (lambda a: a["query"]["pages"][0]["imageinfo"][0]["extmetadata"].update(Artist="x"), "Artist"),
        (lambda a: a["query"]["pages"][0].pop("pageid"), "'pageid'"),
        (lambda a: a["query"].update(pages={"25": {}}), "the pages"),
        (lambda a: a.update(query=[]), "the query"),
        (lambda a: a.update(batchcomplete=True, **{"continue": "gcmcontinue"}), "continue"),
    ],
)
def test_a_malformed_listing_raises_malformed_answer_with_context(api, sleeps, change, message):
    api.add(Answer.json(broken_listing(change)))
    with pytest.raises(MalformedAnswer, match=message):
        list_category(make_client(api, sleeps))


def test_an_unfinished_batch_without_continuation_is_malformed(api, sleeps):
    answer = recorded("cat-72files-iicontinue-1.json")
    del answer["continue"]
    api.add(Answer.json(answer))
    with pytest.raises(MalformedAnswer, match="neither completed the batch nor said how to continue"):
        list_category(make_client(api, sleeps))


def test_a_continuation_that_does_not_advance_is_refused(api, sleeps):
    stuck = {"continue": {"iicontinue": "A.jpg|20250101000000", "continue": "||"}}
    api.add(Answer.json(stuck), Answer.json(stuck))
    with pytest.raises(MalformedAnswer, match="already was"):
        list_category(make_client(api, sleeps))
    assert len(api.requests) == 2


# --- Page titles and users ---


def test_page_titles_give_renames_and_deletions_50_ids_a_request(api, sleeps):
    def answer(request):
        ids = [int(i) for i in request.params["pageids"].split("|")]
        pages = [
            {"pageid": i, "missing": True} if i % 7 == 0 else {"pageid": i, "ns": 6, "title": f"File:P{i}.jpg"}
            for i in ids
        ]
        return Answer.json({"batchcomplete": True, "query": {"pages": pages}})

    with FakeAPI(handler=answer) as fake:
        titles = make_client(fake, sleeps).page_titles(range(1, 61))
        assert [r.params["pageids"].count("|") + 1 for r in fake.requests] == [50, 10]
        assert all(r.params["maxlag"] == "5" for r in fake.requests)
    assert len(titles) == 60
    assert titles[7] is None and titles[14] is None
    assert titles[8] == "File:P8.jpg"


def test_page_titles_notice_an_id_the_answer_left_out(api, sleeps):
    api.add(Answer.json({"batchcomplete": True, "query": {"pages": [{"pageid": 1, "ns": 6, "title": "File:A.jpg"}]}}))
    with pytest.raises(MalformedAnswer, match=r"\[2\]"):
        make_client(api, sleeps).page_titles([1, 2])


@pytest.mark.parametrize("bad", [0, -3, "12", True])
def test_page_titles_refuse_bad_ids(api, sleeps, bad):
    with pytest.raises(ValueError):
        make_client(api, sleeps).page_titles([1, bad])
    assert api.requests == []


def test_users_are_parsed_from_the_recorded_answer(api, sleeps):
    api.add(Answer.sample("users.json"))
    names = ["Aigerim Photographer", "SteppeWalker", "Нурлан Табиғат"]
    users = list(make_client(api, sleeps).users(names))

    (request,) = api.requests
    assert request.params["list"] == "users"
    assert request.params["ususers"] == "|".join(names)
    assert set(request.params["usprop"].split("|")) == {"registration", "editcount"}
    assert request.params["maxlag"] == "5"
    assert [u.name for u in users] == names
    newcomer = users[2]
    assert newcomer.registered_at == utc(2025, 5, 3, 12) and newcomer.edit_count == 4 and not newcomer.missing
    assert users[0].registered_at == utc(2012, 3, 15, 10, 15)


def test_missing_users_and_unknown_registration(api, sleeps):
    api.add(Answer.json({"batchcomplete": True, "query": {"users": [
        {"name": "Nobody here", "missing": True},
        {"name": "1.2.3.4", "invalid": True},
        {"userid": 1, "name": "Old timer", "editcount": 40000, "registration": None},
    ]}}))
    nobody, ip, old = make_client(api, sleeps).users(["Nobody here", "1.2.3.4", "Old timer"])
    assert nobody.missing and ip.missing and nobody.registered_at is None and nobody.edit_count is None
    assert not old.missing and old.registered_at is None and old.edit_count == 40000


def test_users_go_50_names_a_request(sleeps):
    def answer(request):
        names = request.params["ususers"].split("|")
        return Answer.json({"batchcomplete": True, "query": {"users": [{"name": n, "missing": True} for n in names]}})

    with FakeAPI(handler=answer) as fake:
        users = list(make_client(fake, sleeps).users(f"User {i}" for i in range(120)))
        assert [len(r.params["ususers"].split("|")) for r in fake.requests] == [50, 50, 20]
    assert len(users) == 120


def test_a_user_name_with_a_pipe_is_refused(api, sleeps):
    with pytest.raises(ValueError, match=r"\|"):
        list(make_client(api, sleeps).users(["A|B"]))


@pytest.mark.parametrize(
    "answer, message",
    [
        ({"batchcomplete": True}, "'query'"),
        ({"query": {"users": {"name": "x"}}}, "'users'"),
        ({"query": {"users": [{"name": "A", "editcount": "5"}]}}, "'editcount' in user 'A'"),
        ({"query": {"users": [{"name": "A", "registration": "long ago"}]}}, "timestamp of user 'A'"),
        ({"query": {"users": ["A"]}}, "a user"),
    ],
)
def test_malformed_user_answers(api, sleeps, answer, message):
    api.add(Answer.json(answer))
    with pytest.raises(MalformedAnswer, match=message):
        list(make_client(api, sleeps).users(["A"]))


# --- Faults: retries, waits, errors ---


def ok_users() -> Answer:
    return Answer.sample("users.json")


def fetch_users(client: CommonsClient) -> list:
    return list(client.users(["Aigerim Photographer"]))


def test_maxlag_error_waits_retry_after_then_retries(api, sleeps):
    api.add(
        Answer.json(
            {"error": {"code": "maxlag", "info": "Waiting for 10.64.0.1: 7 seconds lagged", "lag": 7}},
            headers={"Retry-After": "7", "MediaWiki-API-Error": "maxlag"},
        ),
        ok_users(),
    )
    client = make_client(api, sleeps)
    assert len(fetch_users(client)) == 3
    assert sleeps == [7.0]
    assert client.requests_made == 2
    assert api.requests[1].params == api.requests[0].params


def test_429_with_retry_after_waits_that_long(api, sleeps):
    api.add(Answer("slow down", status=429, headers={"Retry-After": "3"}), ok_users())
    assert len(fetch_users(make_client(api, sleeps))) == 3
    assert sleeps == [3.0]


def test_429_with_an_http_date_retry_after(api, sleeps):
    api.add(Answer("slow down", status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), ok_users())
    assert len(fetch_users(make_client(api, sleeps))) == 3
    assert sleeps == [0.0]  # a date in the past: retry at once


def test_429_without_retry_after_backs_off_with_jitter(api, sleeps):
    api.add(Answer("slow down", status=429), ok_users())
    assert len(fetch_users(make_client(api, sleeps))) == 3
    (wait,) = sleeps
    assert 1.0 <= wait <= 2.0


def test_a_huge_retry_after_is_capped(api, sleeps):
    api.add(Answer("slow down", status=429, headers={"Retry-After": "86400"}), ok_users())
    fetch_users(make_client(api, sleeps))
    assert sleeps == [120.0]


def test_500_then_success(api, sleeps):
    api.add(Answer("oops", status=500), ok_users())
    client = make_client(api, sleeps)
    assert len(fetch_users(client)) == 3
    assert len(sleeps) == 1 and client.requests_made == 2


def test_500_forever_gives_up_after_max_tries(api, sleeps):
    api.add(*[Answer("<html>Internal error</html>", status=500)] * 4)
    client = make_client(api, sleeps, max_tries=4)
    with pytest.raises(CommonsUnavailable) as caught:
        fetch_users(client)

    assert "4 times" in str(caught.value) and "HTTP 500" in str(caught.value) and "list=users" in str(caught.value)
    assert len(api.requests) == client.requests_made == 4
    assert len(sleeps) == 3
    # Exponential: each wait between half and all of 2, 4, 8 seconds.
    for wait, ceiling in zip(sleeps, (2, 4, 8)):
        assert ceiling / 2 <= wait <= ceiling


def test_a_timeout_is_retried(api, sleeps):
    api.add(Answer.sample("users.json", delay=2.0), ok_users())
    client = make_client(api, sleeps, timeout=0.2)
    assert len(fetch_users(client)) == 3
    assert len(sleeps) == 1 and client.requests_made == 2


def test_timeouts_forever_give_up_with_a_clear_message(api, sleeps):
    api.add(*[Answer.sample("users.json", delay=2.0)] * 2)
    with pytest.raises(CommonsUnavailable, match=r"2 times.*no answer within 0.2 s"):
        fetch_users(make_client(api, sleeps, timeout=0.2, max_tries=2))


def test_connection_refused_gives_up_after_max_tries(sleeps):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CommonsClient(f"http://127.0.0.1:{port}/w/api.php", CONTACT, sleep=sleeps, max_tries=3)
    with pytest.raises(CommonsUnavailable, match="could not connect"):
        fetch_users(client)
    assert len(sleeps) == 2 and client.requests_made == 3


def test_an_answer_cut_short_is_retried(api, sleeps):
    body = json.dumps(recorded("users.json")).encode()
    api.add(Answer(body[:50], headers={"Content-Length": str(len(body))}), ok_users())
    assert len(fetch_users(make_client(api, sleeps))) == 3
    assert len(sleeps) == 1


def test_truncated_json_is_malformed_and_not_retried(api, sleeps):
    api.add(Answer(json.dumps(recorded("users.json"))[:60], headers={"Content-Type": "application/json"}))
    with pytest.raises(MalformedAnswer, match=r"not JSON.*batchcomplete"):
        fetch_users(make_client(api, sleeps))
    assert len(api.requests) == 1 and sleeps == []


def test_an_html_page_is_malformed(api, sleeps):
    api.add(Answer("<!DOCTYPE html><html><body>Wikimedia Error</body></html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(MalformedAnswer, match=r"not JSON \(text/html.*Wikimedia Error"):
        fetch_users(make_client(api, sleeps))


def test_json_that_is_not_an_object_is_malformed(api, sleeps):
    api.add(Answer.json([1, 2]))
    with pytest.raises(MalformedAnswer, match="not an object"):
        fetch_users(make_client(api, sleeps))


def test_an_error_object_carries_the_apis_message(api, sleeps):
    api.add(Answer.json({"error": {"code": "badvalue", "info": 'Unrecognized value for parameter "usprop": x.'}}))
    with pytest.raises(CommonsAPIError) as caught:
        fetch_users(make_client(api, sleeps))
    assert caught.value.code == "badvalue"
    assert caught.value.info == 'Unrecognized value for parameter "usprop": x.'
    assert 'Unrecognized value for parameter "usprop": x.' in str(caught.value)
    assert sleeps == [] and len(api.requests) == 1


def test_a_forbidden_answer_is_not_retried(api, sleeps):
    api.add(Answer("Please set a user-agent and respect our robot policy", status=403))
    with pytest.raises(RequestRefused, match="403.*robot policy"):
        fetch_users(make_client(api, sleeps))
    assert sleeps == []


def test_fake_api_says_when_its_script_is_empty(api, sleeps):
    with pytest.raises(RequestRefused, match="no answer scripted"):
        fetch_users(make_client(api, sleeps))
    assert api.unexpected == 1


# --- Downloads ---


def test_download_returns_the_bytes_with_our_user_agent(api, sleeps):
    data = bytes(range(256)) * 1000
    api.add(Answer(data, headers={"Content-Type": "image/jpeg"}))
    client = make_client(api, sleeps)
    assert client.download(api.base_url + "/thumb/a.jpg", max_bytes=len(data)) == data
    assert api.requests[0].path == "/thumb/a.jpg"
    assert api.requests[0].headers["user-agent"] == client.user_agent
    assert "maxlag" not in api.requests[0].params
    assert client.requests_made == 1


def test_download_of_a_chunked_answer(api, sleeps):
    data = b"x" * 100_000
    api.add(Answer(data, chunked=True))
    assert make_client(api, sleeps).download(api.base_url + "/a.jpg", max_bytes=100_000) == data


@pytest.mark.parametrize("chunked", [False, True])
def test_download_larger_than_allowed_is_refused(api, sleeps, chunked):
    api.add(Answer(b"x" * 300_000, chunked=chunked))
    with pytest.raises(FileTooLarge, match="100000 bytes"):
        make_client(api, sleeps).download(api.base_url + "/big.jpg", max_bytes=100_000)
    assert sleeps == []


def test_download_retries_429_and_5xx(api, sleeps):
    api.add(Answer("busy", status=429, headers={"Retry-After": "5"}), Answer("oops", status=503), Answer(b"image"))
    client = make_client(api, sleeps)
    assert client.download(api.base_url + "/a.jpg", max_bytes=100) == b"image"
    assert sleeps[0] == 5.0 and len(sleeps) == 2 and client.requests_made == 3


def test_download_gives_up_after_max_tries(api, sleeps):
    api.add(*[Answer("oops", status=502)] * 3)
    with pytest.raises(CommonsUnavailable, match=r"download of .*/a.jpg failed 3 times.*HTTP 502"):
        make_client(api, sleeps, max_tries=3).download(api.base_url + "/a.jpg", max_bytes=100)


def test_download_of_a_missing_file_is_refused(api, sleeps):
    api.add(Answer("Not Found", status=404))
    with pytest.raises(RequestRefused, match="404"):
        make_client(api, sleeps).download(api.base_url + "/a.jpg", max_bytes=100)
    assert sleeps == []


def test_all_errors_share_the_base_class():
    for error in (MissingContact, CommonsAPIError, CommonsUnavailable, MalformedAnswer, RequestRefused, FileTooLarge):
        assert issubclass(error, CommonsError)


# --- HTML helpers ---


@pytest.mark.parametrize(
    "html, text",
    [
        ('<span class="int-own-work" lang="en">Own work</span>', "Own work"),
        ("Tom &amp; Jerry&#39;s <b>lake</b>", "Tom & Jerry's lake"),
        ("line one<br/>line two\n\n  end", "line one line two end"),
        ("<div>a</div><div>b</div>", "a b"),
        ("", ""),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    "html, user",
    [
        ('<a href="//commons.wikimedia.org/wiki/User:Some_One" title="User:Some One">S</a>', "Some One"),
        ('<a href="/w/index.php?title=User:%D0%90%D0%B1&amp;action=edit&amp;redlink=1">Аб</a>', "Аб"),
        ('<a href="/wiki/User:Some_One/Gallery">S</a>', "Some One"),
        ('<a href="/wiki/User_talk:Some_One">S</a>', None),
        ('<a href="https://example.org/photos">S</a> and <a href="/wiki/User:B">B</a>', "B"),
        ("Some One", None),
    ],
)
def test_linked_user(html, user):
    assert linked_user(html) == user
