"""The winners page (prefilled from the last round, set by place numbers, exports, publishing)
and the public winners page (no login, authors credited, no juror named, 404 until published)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from wle.models import User
from wle.models.jury import Winner, WinnersPage
from wle.thumbnails import thumbnail_path

from tests.factories import make_contest
from tests.web.conftest import log_in
from tests.web.test_rounds_pages import (  # noqa: F401  (organizer, org: fixtures)
    JURORS, audit_actions, judged_round, make_entries, org, organizer, post, text,
)


@pytest.fixture
def judged(session, contest):
    """A closed yes/no round of 12 entries by Cyrillic authors: entry i got i % 3 yes votes of 2."""
    values = [1 if i % 3 == 0 else 0 for i in range(12)]
    round_, entries = judged_round(session, contest, values, uploader="Автор")
    for i, entry in enumerate(entries):
        entry.uploader = f"Автор {i}"
    session.commit()
    return entries


def winners_url(contest, suffix: str = "") -> str:
    return f"/contests/{contest.slug}/winners{suffix}"


def saved(session, contest) -> list[tuple[int, int, str]]:
    session.rollback()
    return [(w.place, w.entry_id, w.note) for w in session.scalars(
        select(Winner).where(Winner.contest_id == contest.id).order_by(Winner.place, Winner.id))]


def rows_of(html: str) -> list[tuple[str, str]]:
    """(entry id, place) of each row, in page order."""
    return re.findall(r'name="entry" value="(\d+)">.*?name="place-\d+" value="([^"]*)"', html, flags=re.S)


def form_of(html: str) -> dict:
    """The winners form as the browser would send it back unchanged."""
    data: dict = {"entry": []}
    for entry_id, place in rows_of(html):
        data["entry"].append(entry_id)
        data[f"place-{entry_id}"] = place
        note = re.search(rf'name="note-{entry_id}" value="([^"]*)"', html).group(1)
        data[f"note-{entry_id}"] = note
    return data


# --- Choosing -------------------------------------------------------------------------------------


def test_without_a_closed_round_the_page_says_so(org, contest):
    html = text(org.get(winners_url(contest)))
    assert "No round is closed yet" in html and rows_of(html) == []


def test_the_list_is_prefilled_from_the_last_round_but_not_saved(org, session, contest, judged):
    html = text(org.get(winners_url(contest)))

    assert "Prefilled from the best of “Round 1”, not saved yet." in html
    placed = [(int(e), p) for e, p in rows_of(html) if p]
    # The four entries with two yes votes tie for places 1–4; the ten best are offered.
    assert [p for _e, p in placed] == [str(n) for n in range(1, 11)]
    assert {e for e, _p in placed[:4]} == {judged[i].id for i in (0, 3, 6, 9)}
    assert "place 1–4, score 1.00" in html
    assert saved(session, contest) == []


def test_saving_the_list_keeps_the_places_and_notes(org, session, contest, judged):
    data = form_of(text(org.get(winners_url(contest))))
    first, second = judged[3].id, judged[0].id
    for entry_id in data["entry"]:
        data[f"place-{entry_id}"] = ""
    data.update({f"place-{first}": "1", f"place-{second}": "2", f"note-{second}": "Special prize: lakes"})

    response = post(org, winners_url(contest), **data)

    assert response.status_code == 302
    assert saved(session, contest) == [(1, first, ""), (2, second, "Special prize: lakes")]
    assert audit_actions(session, contest)[-1] == "winners.set"
    html = text(org.get(winners_url(contest)))
    assert "The winners list was saved (2 entries)." in html
    assert [int(e) for e, p in rows_of(html) if p] == [first, second]  # the list first, in its order


def test_equal_places_are_shared_in_the_order_given(org, session, contest, judged):
    a, b, c = judged[0].id, judged[1].id, judged[2].id
    post(org, winners_url(contest), entry=[str(a), str(b), str(c)],
         **{f"place-{a}": "2", f"place-{b}": "1", f"place-{c}": "2"})
    assert [(p, e) for p, e, _n in saved(session, contest)] == [(1, b), (2, a), (2, c)]


@pytest.mark.parametrize("place, note, message", [
    ("first", "", "A place is a whole number from 1"),
    ("0", "", "A place is a whole number from 1"),
    ("1", "x" * 501, "at most 500 characters"),
    ("1", "bad\x00note", "plain text"),
])
def test_bad_rows_get_a_clear_400_and_what_was_typed_stays(org, session, contest, judged, place, note, message):
    a, b = judged[0].id, judged[1].id
    response = post(org, winners_url(contest), entry=[str(a), str(b)],
                    **{f"place-{a}": place, f"note-{a}": note, f"place-{b}": "7", f"note-{b}": "Kept note"})

    assert response.status_code == 400 and message in text(response)
    assert 'value="Kept note"' in text(response) and f'name="place-{b}" value="7"' in text(response)
    assert saved(session, contest) == []


def test_an_entry_is_added_by_page_id_or_title(org, session, contest, judged):
    extra = make_entries(session, contest, 2)
    session.commit()
    a = judged[0].id

    post(org, winners_url(contest), entry=[str(a)], **{f"place-{a}": "1"}, add=str(extra[0].pageid))
    post(org, winners_url(contest), entry=[str(a), str(extra[0].id)],
         **{f"place-{a}": "1", f"place-{extra[0].id}": "2"}, add=extra[1].title.replace("File:", "file:"))

    assert [(p, e) for p, e, _n in saved(session, contest)] == [(1, a), (2, extra[0].id), (3, extra[1].id)]


def test_an_unknown_entry_to_add_is_refused_and_nothing_is_saved(org, session, contest, judged):
    a = judged[0].id
    response = post(org, winners_url(contest), entry=[str(a)], **{f"place-{a}": "1"}, add="File:Nowhere.jpg")
    assert response.status_code == 400 and "This contest has no entry “File:Nowhere.jpg”" in text(response)
    assert 'value="File:Nowhere.jpg"' in text(response)
    assert saved(session, contest) == []


def test_an_entry_of_another_contest_is_refused(org, session, contest, judged):
    other = make_contest(session, "wle-other")
    theirs = make_entries(session, other, 1)[0]
    session.commit()
    refused = post(org, winners_url(contest), entry=[str(theirs.id)], **{f"place-{theirs.id}": "1"})
    by_pageid = post(org, winners_url(contest), entry=[], add=str(theirs.pageid))
    assert refused.status_code == by_pageid.status_code == 400
    assert "not in this contest" in text(refused)
    assert theirs.title not in text(refused) and theirs.thumb_key not in text(refused)  # nothing of theirs shown
    assert saved(session, contest) == []


def test_a_forged_entry_field_is_refused(org, session, contest, judged):
    response = post(org, winners_url(contest), entry=["1; DROP TABLE"], add="")
    assert response.status_code == 400 and "Reload the page" in text(response)


def test_more_candidates_on_request(org, session, contest, judged, monkeypatch):
    monkeypatch.setattr("wle.web.winners.CANDIDATES", 5)
    few = text(org.get(winners_url(contest)))
    more = text(org.get(winners_url(contest, "?candidates=10")))
    assert "candidates=10" in few
    assert len(rows_of(more)) == 10


# --- Exports -------------------------------------------------------------------------------------


@pytest.fixture
def chosen(org, session, contest, judged):
    a, b = judged[3].id, judged[0].id
    post(org, winners_url(contest), entry=[str(a), str(b)],
         **{f"place-{a}": "1", f"place-{b}": "2", f"note-{b}": "=HYPERLINK(1)"})
    return judged[3], judged[0]


def test_the_csv_opens_cyrillic_in_spreadsheets(org, contest, chosen):
    response = org.get(winners_url(contest, "/export?format=csv"))

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="{contest.slug}-winners.csv"' in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines[0] == ["place", "title", "author", "commons_url", "score", "note"]
    assert lines[1][:3] == ["1", chosen[0].title, "Автор 3"]
    assert lines[2][5] == "'=HYPERLINK(1)"  # never a formula


def test_the_json_and_wikitext_exports(org, contest, chosen):
    data = json.loads(org.get(winners_url(contest, "/export?format=json")).get_data())
    wikitext = org.get(winners_url(contest, "/export?format=wikitext"))

    assert [w["author"] for w in data["winners"]] == ["Автор 3", "Автор 0"]
    raw = org.get(winners_url(contest, "/export?format=json")).get_data()
    assert "Автор 3".encode() in raw  # readable in any editor, not \\u-escaped
    assert wikitext.mimetype == "text/plain"
    body = wikitext.get_data(as_text=True)
    assert body.startswith("<gallery>") and f"{chosen[0].title}|1st place — [[User:Автор 3|Автор 3]]" in body
    # Exports are read outside the site: an absolute thumbnail on Commons, never a page behind a login.
    name = chosen[0].title.removeprefix("File:").replace(" ", "_")
    assert data["winners"][0]["thumbnail"] == (
        f"https://commons.wikimedia.org/wiki/Special:FilePath/{name}?width=330")


@pytest.mark.parametrize("language, first", [
    ("kk", "1-орын — [[User:Автор 3|Автор 3]]"), ("ru", "Место 1 — [[User:Автор 3|Автор 3]]"),
    ("kk@latin", "1-oryn — [[User:Автор 3|Автор 3]]"),
])
def test_the_wikitext_speaks_the_contests_language_with_english_as_an_option(
        org, session, contest, chosen, language, first):
    contest.language = language
    session.commit()

    page = text(org.get(winners_url(contest)))
    own = org.get(winners_url(contest, "/export?format=wikitext")).get_data(as_text=True)
    english = org.get(winners_url(contest, "/export?format=wikitext&language=en")).get_data(as_text=True)

    assert f"{chosen[0].title}|{first}" in own
    assert f"{chosen[0].title}|1st place — " in english and f"{chosen[1].title}|2nd place — " in english
    assert "format=wikitext&amp;language=en" in page


def test_an_unknown_export_format_is_a_clear_400(org, contest, chosen):
    response = org.get(winners_url(contest, "/export?format=xlsx"))
    assert response.status_code == 400 and "csv, json or wikitext" in text(response)


def test_the_page_links_the_exports_once_a_list_is_saved(org, contest, judged):
    assert "/winners/export" not in text(org.get(winners_url(contest)))
    a = judged[0].id
    post(org, winners_url(contest), entry=[str(a)], **{f"place-{a}": "1"})
    html = text(org.get(winners_url(contest)))
    for kind in ("csv", "json", "wikitext"):
        assert f"/winners/export?format={kind}" in html


# --- Publishing, and the public page ---------------------------------------------------------------


def test_publishing_needs_a_saved_list(org, session, contest, judged):
    post(org, winners_url(contest, "/publish"))
    assert "Set the winners before publishing them." in text(org.get(winners_url(contest)))
    assert session.get(WinnersPage, contest.id) is None or not session.get(WinnersPage, contest.id).published


def test_the_public_page_credits_the_authors_and_names_no_juror(app, org, session, contest, chosen, settings):
    anonymous = app.test_client()
    assert anonymous.get(f"/winners/{contest.slug}").status_code == 404  # not published yet

    first = post(org, winners_url(contest, "/publish"))
    again = post(org, winners_url(contest, "/publish"))

    assert first.status_code == again.status_code == 302
    assert audit_actions(session, contest).count("winners.publish") == 1  # the second press changed nothing
    page = anonymous.get(f"/winners/{contest.slug}")
    html = text(page)
    assert page.status_code == 200
    assert "Автор 3" in html and "Автор 0" in html
    assert html.index("Автор 3") < html.index("Автор 0")
    assert "=HYPERLINK(1)" in html  # the note, as text
    for juror in JURORS + ("Our Organizer",):
        assert juror not in html
    assert "/media/" not in html  # the logged-in thumbnails are not used here
    assert f"/winners/{contest.slug}/{chosen[0].thumb_key}/grid.webp" in html
    # Each picture and title links to its page on Commons; the date names the contest's zone.
    assert html.count(f'href="{chosen[0].page_url}"') == 2 and html.count(f'href="{chosen[1].page_url}"') == 2
    assert "(Asia/Almaty)" in html and "+0500" not in html
    organizer_view = text(org.get(winners_url(contest)))
    assert "The public winners page is published" in organizer_view


def test_the_public_pictures_are_only_the_published_winners(app, org, session, contest, chosen, settings, judged):
    for entry in judged:
        path = thumbnail_path(settings.media_dir, entry.thumb_key, "grid")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF....WEBP")
    anonymous = app.test_client()
    winner, loser = chosen[0], judged[1]

    def picture(entry):
        return anonymous.get(f"/winners/{contest.slug}/{entry.thumb_key}/grid.webp").status_code

    assert picture(winner) == 404  # not published yet
    post(org, winners_url(contest, "/publish"))
    assert picture(winner) == 200 and picture(loser) == 404
    assert anonymous.get(f"/winners/{contest.slug}/{winner.thumb_key}/huge.webp").status_code == 404
    assert anonymous.get(f"/winners/{contest.slug}/../secret/grid.webp").status_code == 404
    other = make_contest(session, "wle-other")
    assert anonymous.get(f"/winners/{other.slug}/{winner.thumb_key}/grid.webp").status_code == 404

    post(org, winners_url(contest, "/unpublish"))
    assert picture(winner) == 404
    assert anonymous.get(f"/winners/{contest.slug}").status_code == 404


def test_an_unknown_contest_and_an_unpublished_one_look_the_same(app, contest):
    anonymous = app.test_client()
    unknown, unpublished = anonymous.get("/winners/no-such-contest"), anonymous.get(f"/winners/{contest.slug}")
    assert unknown.status_code == unpublished.status_code == 404
    assert "No winners are published at this address." in text(unknown)
    assert "No winners are published at this address." in text(unpublished)


def test_changes_to_the_list_show_on_the_published_page(app, org, session, contest, chosen, judged):
    post(org, winners_url(contest, "/publish"))
    c = judged[6].id
    post(org, winners_url(contest), entry=[str(c)], **{f"place-{c}": "1"})
    html = text(app.test_client().get(f"/winners/{contest.slug}"))
    assert "Автор 6" in html and "Автор 3" not in html


def test_only_the_contests_organizers_choose_and_publish(app, session, contest, judged):
    stranger = User(username="Stranger", wiki_sub="77")
    session.add(stranger)
    session.commit()
    client = log_in(app.test_client(), stranger)
    a = judged[0].id
    assert client.get(winners_url(contest)).status_code == 403
    assert post(client, winners_url(contest), entry=[str(a)], **{f"place-{a}": "1"}).status_code == 403
    assert post(client, winners_url(contest, "/publish")).status_code == 403
    assert client.get(winners_url(contest, "/export?format=csv")).status_code == 403
    assert saved(session, contest) == []
