"""Bad input, tried: oversize and malformed fields and bodies, unknown ids, another contest's ids,
path tricks in media URLs, and a CSV site list with broken (and hostile) rows.

Each gets a clear 4xx answer, never a crash, and changes nothing it should not. The id routes are
read from the URL map, so that a route added later is tried too.
"""

from __future__ import annotations

import re
import secrets
from io import BytesIO

import pytest
from sqlalchemy import select

from wle.models import Base, Site
from wle.thumbnails import thumbnail_path

from tests.security.conftest import MUTATING, csrf_from_page, log_in, routes

UNKNOWN = 987_654
# URL arguments that name something in a contest, and a value that names nothing.
UNKNOWN_VALUES = {"pageid": UNKNOWN, "entry_id": UNKNOWN, "round_id": UNKNOWN, "task_id": UNKNOWN,
                  "number": UNKNOWN, "round_number": UNKNOWN, "table": "no-such-table",
                  "key": "0" * 32, "size": "huge"}
# Arguments that pick a thing rather than a contest's object: not tried as "another contest's id".
# The thumbnail key is a capability (128 random bits, handed out only on pages that checked the
# viewer's role; see wle.web.media), so it is not checked against a contest.
NOT_CONTEST_OBJECTS = {"slug", "filename", "table", "size", "key"}
# Numbers counted within the URL's own contest (round 1, 2...): "their round 1" is our round 1.
CONTEST_SCOPED = {"number", "round_number"}
# A body with what the forms and the JSON API take, so that a refusal is about the ids, not the body.
FORM = {"action": "disqualify", "note": "touched", "value": "5", "interval": "60", "username": "Our Organizer"}
JSON = {"value": 5, "order": [], "note": "touched"}


def send(client, method: str, url: str, token: str, *, as_json: bool):
    if method == "GET":
        return client.get(url)
    if as_json:
        return client.open(url, method=method, json=JSON, headers={"X-CSRFToken": token})
    return client.open(url, method=method, data={"csrf_token": token, **FORM})


def id_routes(app, *, leave_out=frozenset()):
    """Routes whose URL names an object of a contest (an entry, a round, a task...)."""
    return [(endpoint, method, rule) for endpoint, method, rule in routes(app, {"GET"} | MUTATING)
            if set(rule.arguments) - NOT_CONTEST_OBJECTS - leave_out]


def snapshot(session, contest) -> dict[str, set]:
    """Every row that belongs to the contest, table by table (through its rounds and entries too)."""
    session.rollback()  # see what the app committed
    tables = Base.metadata.tables
    round_ids = select(tables["rounds"].c.id).where(tables["rounds"].c.contest_id == contest.id)
    entry_ids = select(tables["entries"].c.id).where(tables["entries"].c.contest_id == contest.id)
    rows = {}
    for table in Base.metadata.sorted_tables:
        columns = table.c
        if "contest_id" in columns:
            condition = columns.contest_id == contest.id
        elif "round_id" in columns:
            condition = columns.round_id.in_(round_ids)
        elif "entry_id" in columns:
            condition = columns.entry_id.in_(entry_ids)
        elif table.name == "contests":
            condition = columns.id == contest.id
        else:
            continue
        rows[table.name] = {repr(tuple(row)) for row in session.execute(select(table).where(condition))}
    return rows


# --- Sizes -------------------------------------------------------------------------------------


def test_an_oversize_body_is_refused_with_413(client, world):
    admin = log_in(client, world.admin)
    token = csrf_from_page(admin)
    huge = "x" * (3 * 1024 * 1024)

    page = admin.post("/contests/new", data={"csrf_token": token, "name": huge})
    api = admin.post(f"/api/v1/jury/rounds/{world.rounds['wle-ours'].id}/tasks/{world.tasks['wle-ours'].id}/vote",
                     data=huge, content_type="application/json", headers={"X-CSRFToken": token})

    assert page.status_code == 413 and "larger than this site accepts" in page.get_data(as_text=True)
    assert api.status_code == 413 and api.get_json()["error"] == "Too large"


def test_an_oversize_field_is_refused_clearly(client, world):
    admin = log_in(client, world.admin)
    token = csrf_from_page(admin)
    field = "x" * 600_000  # under the body's limit, over what a form field may hold

    in_a_form = admin.post("/contests/new", data={"csrf_token": token, "name": field})
    in_a_multipart_form = admin.post("/contests/new", data={"csrf_token": token, "name": field},
                                     content_type="multipart/form-data")

    assert in_a_form.status_code == 400
    assert "cannot be longer than 255 characters" in in_a_form.get_data(as_text=True)
    assert in_a_multipart_form.status_code == 413


def test_too_many_fields_are_refused(client, world):
    admin = log_in(client, world.admin)
    fields = {"csrf_token": csrf_from_page(admin), **{f"field{i}": "1" for i in range(1500)}}

    assert admin.post("/contests/new", data=fields, content_type="multipart/form-data").status_code == 413


# --- Malformed fields --------------------------------------------------------------------------


def new_contest(admin, **changes):
    form = {"csrf_token": csrf_from_page(admin), "slug": "wle-new", "name": "New", "categories": "Some category",
            "starts_on": "2025-06-15", "ends_on": "2025-07-15", "timezone": "Asia/Almaty",
            "min_megapixels": "2", **changes}
    return admin.post("/contests/new", data=form)


@pytest.mark.parametrize("changes, message", [
    ({"slug": "../../etc"}, "slug"),
    ({"starts_on": "2025-13-45"}, "Give a date such as"),
    ({"ends_on": "tomorrow"}, "Give a date such as"),
    ({"starts_time": "noon"}, "Give a time such as 09:00"),
    ({"timezone": "Mars/Olympus_Mons"}, "time zone"),
    ({"categories": "\x00\x01"}, "control characters"),
    ({"min_megapixels": "lots"}, "must be a number"),
    ({"min_megapixels": "nan"}, "must be between 0 and 1000"),
    ({"min_megapixels": "1e400"}, "must be between 0 and 1000"),
])
def test_malformed_contest_fields_get_a_clear_400(client, world, changes, message):
    admin = log_in(client, world.admin)

    response = new_contest(admin, **changes)

    assert response.status_code == 400
    assert message.lower() in response.get_data(as_text=True).lower()
    assert admin.get("/contests/wle-new").status_code == 404  # nothing was created


def test_the_same_contest_form_without_the_fault_is_accepted(client, world):
    """The other side of the test above: its base form is valid."""
    admin = log_in(client, world.admin)
    assert new_contest(admin).status_code == 302
    assert admin.get("/contests/wle-new").status_code == 200


def test_malformed_votes_get_a_clear_json_400(client, world):
    juror = log_in(client, world.admin)
    token = csrf_from_page(juror)
    url = f"/api/v1/jury/rounds/{world.rounds['wle-ours'].id}/tasks/{world.tasks['wle-ours'].id}/vote"
    for body in ('{"value": "five"}', '{"value": 99}', '{"value": 1e400}', '{"value": null}', "[1, 2", '"5"', "{}"):
        response = juror.post(url, data=body, content_type="application/json", headers={"X-CSRFToken": token})
        assert response.status_code == 400, body
        assert response.get_json()["message"], body


@pytest.mark.parametrize("query", ["show=<script>", "after=abc", "before=-1", "after=99999999999999999999999",
                                   "before=-99999999999999999999999", "after=9223372036854775807", "after=2147483648",
                                   "after=" + "9" * 5000])
def test_malformed_query_arguments_never_crash(client, world, query):
    admin = log_in(client, world.admin)
    response = admin.get(f"/contests/{world.ours.slug}/entries?{query}")
    assert response.status_code in (200, 400)
    assert "<script>" not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/contests/wle-ours/entries/2147483648", "/contests/wle-ours/entries/" + "9" * 30,
                                 "/jury/rounds/99999999999999999999999", "/api/v1/jury/rounds/2147483648/progress"])
def test_ids_too_large_for_the_database_are_no_page(client, world, url):
    assert log_in(client, world.admin).get(url).status_code == 404


# --- Unknown ids and another contest's ids ------------------------------------------------------


def unknown_urls(app, world):
    """(method, url): every route naming things, with names of nothing in our contest; then every
    route of a contest, for a contest that does not exist."""
    ours = world.values(world.ours)
    every = routes(app, {"GET"} | MUTATING)
    for _endpoint, method, rule in every:
        if set(rule.arguments) & UNKNOWN_VALUES.keys():
            yield method, rule.build({name: {**ours, **UNKNOWN_VALUES}[name] for name in rule.arguments})[1]
    for _endpoint, method, rule in every:
        if "slug" in rule.arguments:
            yield method, rule.build({name: {**ours, "slug": "no-such-contest"}[name] for name in rule.arguments})[1]


def test_unknown_ids_are_refused_cleanly(quiet_app, world, session):
    before = snapshot(session, world.ours)
    client = log_in(quiet_app.test_client(), world.admin)
    token = csrf_from_page(client)
    wrong = []
    tried = 0
    for method, url in unknown_urls(quiet_app, world):
        for as_json in (False, True):
            response = send(client, method, url, token, as_json=as_json)
            tried += 1
            # 403: a juror's routes do not tell whether a round they do not judge exists.
            if response.status_code not in (400, 403, 404):
                wrong.append(f"{method} {url}: {response.status_code}")
    assert tried > 20
    assert not wrong, "\n".join(wrong)
    assert snapshot(session, world.ours) == before


def test_another_contests_ids_give_nothing_and_change_nothing(quiet_app, world, session):
    """The organizer (and juror) of "ours" names the objects of "theirs" in routes of "ours"."""
    before = snapshot(session, world.theirs)
    ours, theirs = world.values(world.ours), world.values(world.theirs)
    wrong = []
    tried = 0
    for _endpoint, method, rule in id_routes(quiet_app, leave_out=CONTEST_SCOPED):
        ids = set(rule.arguments) - NOT_CONTEST_OBJECTS - CONTEST_SCOPED
        # All of theirs at once, then each one alone among ours (e.g. our round, their task).
        mixes = [ids] + ([{name} for name in ids] if len(ids) > 1 else [])
        for mix in mixes:
            values = {name: (theirs if name in mix else ours)[name] for name in rule.arguments}
            url = rule.build(values)[1]
            client = log_in(quiet_app.test_client(), world.organizer)
            token = csrf_from_page(client)
            for as_json in (False, True):
                response = send(client, method, url, token, as_json=as_json)
                tried += 1
                body = response.get_data(as_text=True)
                if response.status_code not in (400, 403, 404):
                    wrong.append(f"{method} {url}: {response.status_code}")
                if world.entries["wle-theirs"].thumb_key in body or f" {theirs['pageid']}.jpg" in body:
                    wrong.append(f"{method} {url}: shows their entry")
    assert tried > 10
    assert not wrong, "\n".join(wrong)
    assert snapshot(session, world.theirs) == before


def test_the_same_requests_reach_ones_own_objects(quiet_app, world):
    """The other side of the test above: with ids of "ours", the GET routes let the same person in."""
    client = log_in(quiet_app.test_client(), world.organizer)
    answers = {}
    for _endpoint, method, rule in id_routes(quiet_app):
        if method == "GET":
            url = rule.build({name: world.values(world.ours)[name] for name in rule.arguments})[1]
            answers[url] = client.get(url).status_code
    assert all(status not in (401, 403) and status < 500 for status in answers.values()), answers
    assert sum(status == 200 for status in answers.values()) >= 5, answers


MALFORMED_JSON = [
    {"value": 10**30}, {"value": -(10**30)}, {"value": 1e308}, {"value": "5"}, {"value": [5]}, {"value": {"$gt": 0}},
    {"order": [10**30, -1, "x", None]}, {"quorum": 10**30}, {"usernames": ["a" * 10_000]}, {"username": ["list"]},
    {"entry": 10**30, "place": -1}, [], "text", None,
]


def test_malformed_json_never_crashes_the_api(quiet_app, world):
    client = log_in(quiet_app.test_client(), world.admin)
    token = csrf_from_page(client)
    crashed = []
    api_routes = [(method, rule) for _endpoint, method, rule in routes(quiet_app, MUTATING) if rule.rule.startswith("/api/")]
    assert api_routes
    for method, rule in api_routes:
        url = rule.build({name: world.values(world.ours)[name] for name in rule.arguments})[1]
        for body in MALFORMED_JSON:
            response = client.open(url, method=method, json=body, headers={"X-CSRFToken": token})
            if response.status_code >= 500:
                crashed.append(f"{method} {url} {str(body)[:60]}: {response.status_code}")
        for raw in ("{", '{"value": 1,,}', "\x00", "NaN"):
            response = client.open(url, method=method, data=raw, content_type="application/json",
                                   headers={"X-CSRFToken": token})
            if response.status_code >= 500:
                crashed.append(f"{method} {url} {raw!r}: {response.status_code}")
    assert not crashed, "\n".join(crashed)


# --- Media paths -----------------------------------------------------------------------------------


MEDIA_TRICKS = [
    "/media/{key}/grid.webp%00.png",
    "/media/{key}%00/grid.webp",
    "/media/%00/grid.webp",
    "/media/{long}/grid.webp",
    "/media/{key}/{long}.webp",
    "/media/{key}%5c..%5c..%5csecret/grid.webp",
    "/media/..%5c..%5csecret/grid.webp",
    "/media/%252e%252e/grid.webp",
    "/media/{key}/%2e%2e%2fgrid.webp",
    "/media/{key}%0a/grid.webp",
    "/media/{key} /grid.webp",
    "/media/{fullwidth}/grid.webp",
    "/media/{key}/grid.webp/..",
    "/media/{key}/../../secret.webp",
    "/media//etc/passwd",
    "/media/{key}/grid.webp;.png",
]


def test_media_path_tricks_reach_nothing(client, world, settings, tmp_path):
    (tmp_path / "secret.webp").write_bytes(b"secret bytes")
    key = world.entries["wle-ours"].thumb_key
    assert thumbnail_path(settings.media_dir, key, "grid").is_file()
    admin = log_in(client, world.admin)
    wrong = []
    for path in MEDIA_TRICKS:
        url = path.format(key=key, long="a" * 5000,
                          fullwidth="".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in key))
        response = admin.get(url)
        if response.status_code not in (400, 404) or b"secret bytes" in response.data or b"RIFF" in response.data:
            wrong.append(f"{url[:120]}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
    # (An encoded slash is a slash: /media/<key>%2fgrid.webp is the same thumbnail, nothing more.)


def test_media_needs_a_login(client, world):
    key = world.entries["wle-ours"].thumb_key
    assert client.get(f"/media/{key}/grid.webp").status_code == 302
    assert log_in(client, world.admin).get(f"/media/{key}/grid.webp").status_code == 200


# --- The site list's CSV ---------------------------------------------------------------------------

BROKEN_CSV = "\n".join([
    "id,name,region,lat,lon,wikidata",
    "KZ-10,Good lake,Almaty,43.1,77.2,Q123",                       # 2: good
    "KZ-11,No region",                                             # 3: too few fields
    "KZ-12,Too many,Almaty,1,2,Q1,extra,fields",                   # 4: too many
    "KZ-13,Bad place,Almaty,north,77.2,",                          # 5: not a coordinate
    "KZ-14,Off the map,Almaty,95,77.2,",                           # 6: out of range
    "KZ-10,Again,Almaty,,,",                                       # 7: the ID again
    ",No ID,Almaty,,,",                                            # 8: no ID
    "KZ-15,Script <script>alert(7)</script>,Almaty,,,",            # 9: good, hostile name
    "KZ-16,Bad item,Almaty,,,<script>alert(8)</script>",           # 10: not a Wikidata item, hostile
    "KZ-17,Control \x01 char,Almaty,,,",                           # 11: a control character
    "KZ-18,=HYPERLINK(\"http://evil\"),Almaty,,,",                  # 12: good (a name is a name)
]).encode() + "\nKZ-19,Not UTF-8 \xff,Almaty,,,\n".encode("latin-1") + b'KZ-20,"unclosed quote,Almaty,,,\n'


def upload(client, slug: str, data: bytes, token: str):
    return client.post(f"/contests/{slug}/review/sites", content_type="multipart/form-data",
                       data={"csrf_token": token, "csv_file": (BytesIO(data), "sites.csv")})


def site_ids(session, contest) -> set[str]:
    session.rollback()
    return set(session.scalars(select(Site.site_id).where(Site.contest_id == contest.id)))


def test_a_csv_with_broken_rows_imports_the_good_ones_and_reports_the_rest(client, world, session):
    organizer = log_in(client, world.organizer)

    response = upload(organizer, world.ours.slug, BROKEN_CSV, csrf_from_page(organizer))

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert site_ids(session, world.ours) == {"KZ-1", "KZ-10", "KZ-15", "KZ-18"}
    bad_lines = {int(line) for line in re.findall(r'<td class="num">(\d+)</td>', html)}
    assert {3, 4, 5, 6, 7, 8, 10, 11, 13} <= bad_lines
    assert "<script>alert(8)" not in html and "&lt;script&gt;alert(8)" in html  # the reason quotes it, escaped
    assert site_ids(session, world.theirs) == {"KZ-1"}  # another contest's list is untouched


@pytest.mark.parametrize("data, message", [
    (b"", "The file is empty"),
    (b"\xff\xfei\x00d\x00", "UTF-16"),
    (b"code;title\nKZ-1;Lake\n", "missing: region"),
    (b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(64), "not UTF-8"),
])
def test_a_file_that_is_no_site_list_is_refused_whole(client, world, session, data, message):
    organizer = log_in(client, world.organizer)

    response = upload(organizer, world.ours.slug, data, csrf_from_page(organizer))

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert site_ids(session, world.ours) == {"KZ-1"}


def test_hostile_site_names_are_shown_escaped(client, world):
    organizer = log_in(client, world.organizer)
    upload(organizer, world.ours.slug, BROKEN_CSV, csrf_from_page(organizer))

    html = organizer.get(f"/contests/{world.ours.slug}/statistics").get_data(as_text=True)

    assert "Lake &lt;script&gt;alert(5)&lt;/script&gt;" in html  # the pictured site's name
    assert "&lt;img src=x onerror=alert(6)&gt;" in html  # its region
    assert "<script>alert(" not in html and "<img src=x" not in html
