"""What static/js/rounds.js adds to the organizers' pages, in a real browser: the kind of round
showing or hiding "top N", the live preview of a selection rule, and ordering the winners by
buttons, keys and dragging; and the public page's pictures, served without login."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from wle import rounds, voting
from wle.auth import add_organizer
from wle.models import Entry, User
from wle.models.jury import Task, Winner
from wle.rounds import RoundForm
from wle.thumbnails import write_thumbnails

from tests.browser.test_jury_flow import jpeg, log_in, screenshot
from tests.factories import make_contest

SLUG = "wle-organizer-js"
ORGANIZER = "Olga Organizer"
JURORS = ("Alice", "Bob")
# Yes votes (of two) of each entry, in upload order: places 1–2, 3–5, 6.
YES = [2, 1, 2, 1, 0, 1]


@pytest.fixture
def closed_round(session, settings):
    """A closed yes/no round of six entries with thumbnails, and the contest's organizer."""
    contest = make_contest(session, SLUG)
    start = datetime(2025, 6, 20, 9, 0, tzinfo=timezone.utc)
    entries = []
    for i in range(len(YES)):
        key = secrets.token_hex(16)
        write_thumbnails(settings.media_dir, key, jpeg(4000, 3000, (40 * i, 120, 200 - 30 * i), f"entry {i}"))
        moment = start + timedelta(minutes=i)
        entries.append(Entry(
            contest_id=contest.id, pageid=9_300 + i, title=f"File:Meadow {i}.jpg", uploader=f"Author {i}",
            uploaded_at=moment, last_uploaded_at=moment, width=4000, height=3000, size=3_000_000,
            mime="image/jpeg", sha1=secrets.token_hex(20), license="CC BY-SA 4.0", credit="Own work",
            file_url=f"https://upload.wikimedia.org/x/Meadow_{i}.jpg", thumb_key=key, thumb_state="done",
            page_url=f"https://commons.wikimedia.org/wiki/File:Meadow_{i}.jpg", categories=[],
        ))
    session.add_all(entries)
    session.flush()
    add_organizer(session, contest, ORGANIZER, actor="test")
    round_ = rounds.create_round(session, contest, "test", RoundForm(kind="yesno", quorum=2))
    rounds.set_jurors(session, round_, "test", JURORS)
    rounds.open_round(session, round_, "test")
    yes = {e.id: n for e, n in zip(entries, YES)}
    for juror_number, name in enumerate(JURORS):
        uid = session.scalar(select(User.id).where(User.username == name))
        for task in session.scalars(select(Task).where(Task.round_id == round_.id, Task.user_id == uid)):
            voting.vote(session, uid, task.id, int(juror_number < yes[task.entry_id]))
    rounds.close_round(session, round_, "test")
    session.commit()
    return contest, entries


def test_the_new_round_form_hides_top_n_and_previews_the_rule(browser, live_server, closed_round):
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    log_in(page, live_server, ORGANIZER, f"/contests/{SLUG}/rounds/new")

    top_n = page.get_by_label("Ranking rounds: each juror orders only their best")
    assert not top_n.is_visible()  # a later round is a rating round by default
    page.get_by_label("Kind of round").select_option("ranking")
    assert top_n.is_visible()
    page.get_by_label("Kind of round").select_option("yesno")
    assert not top_n.is_visible()

    output = page.locator("[data-preview-output]")
    page.get_by_label("The best N places").check()
    page.get_by_label("Threshold").fill("1")  # inside the tie of places 1–2: both go on
    page.wait_for_function("() => document.querySelector('[data-preview-output]').textContent.includes('2 of 6')")
    page.get_by_label("Chosen by at least k jurors").check()  # k = 1: everyone with a yes
    page.wait_for_function("() => document.querySelector('[data-preview-output]').textContent.includes('5 of 6')")
    page.get_by_label("Threshold").fill("1.5")
    page.wait_for_function("() => document.querySelector('[data-preview-output]').classList.contains('is-error')")
    assert "whole number" in output.text_content()
    screenshot(page, "organizer-new-round")


def test_the_winners_are_ordered_by_buttons_keys_and_dragging(browser, live_server, session, closed_round):
    _contest, entries = closed_round
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    log_in(page, live_server, ORGANIZER, f"/contests/{SLUG}/winners")

    def listed() -> list[tuple[str, str]]:
        """(title, place) of the rows in the list, in page order."""
        return page.eval_on_selector_all(
            "[data-winners-list] tr[data-winner-row]",
            "rows => rows.map(r => [r.querySelector('.result-title').textContent,"
            " r.querySelector('.place-input').value])")

    def titles() -> list[str]:
        return [title for title, _place in listed()]

    # Prefilled: the round's six in its strict order (the ties broken by the earlier upload).
    assert [int(re.search(r"\d+", t).group()) for t in titles()] == [0, 2, 1, 3, 5, 4]
    page.locator("[data-winners-list] tr").nth(1).get_by_role("button", name="Move up").click()
    assert titles()[:2] == ["File:Meadow 2.jpg", "File:Meadow 0.jpg"]
    assert [place for _t, place in listed()] == ["1", "2", "3", "4", "5", "6"]

    # Alt+↓ on the focused row's note moves it down, keeping the focus.
    note = page.get_by_label("Note for File:Meadow 2.jpg")
    note.fill("Grand prix")
    note.press("Alt+ArrowDown")
    note.press("Alt+ArrowDown")
    assert titles()[:3] == ["File:Meadow 0.jpg", "File:Meadow 1.jpg", "File:Meadow 2.jpg"]
    assert page.evaluate("() => document.activeElement.name") == f"note-{entries[2].id}"

    # Off the list and back on, at its end.
    def row_of(title: str):
        return page.locator("tr[data-winner-row]", has_text=title)

    row_of("File:Meadow 4.jpg").get_by_role("button", name="Take off the list").click()
    row_of("File:Meadow 5.jpg").get_by_role("button", name="Take off the list").click()
    assert len(listed()) == 4 and row_of("File:Meadow 5.jpg").locator(".place-input").input_value() == ""
    row_of("File:Meadow 5.jpg").get_by_role("button", name="Add to the list").click()
    assert listed()[-1] == ["File:Meadow 5.jpg", "5"]

    # Drag the last row onto the first.
    last, first = (page.locator("[data-winners-list] tr[data-winner-row]").nth(i) for i in (4, 0))
    last.drag_to(first)
    assert titles()[0] == "File:Meadow 5.jpg"
    assert [place for _t, place in listed()] == ["1", "2", "3", "4", "5"]
    screenshot(page, "organizer-winners-ordered")

    page.get_by_role("button", name="Save the list").click()
    page.wait_for_selector("text=The winners list was saved (5 entries).")
    session.expire_all()
    saved = [(w.place, w.entry_id, w.note) for w in session.scalars(select(Winner).order_by(Winner.place))]
    by_title = {e.title: e.id for e in entries}
    assert [(p, e) for p, e, _n in saved] == [
        (n + 1, by_title[title]) for n, title in enumerate(titles())]
    assert {e: note for _p, e, note in saved}[by_title["File:Meadow 2.jpg"]] == "Grand prix"


def test_the_public_page_shows_its_pictures_without_login(browser, live_server, session, closed_round):
    contest, entries = closed_round
    for place, entry in enumerate(entries[:3], start=1):
        session.add(Winner(contest_id=contest.id, entry_id=entry.id, place=place))
    session.commit()
    office = browser.new_context().new_page()
    log_in(office, live_server, ORGANIZER, f"/contests/{SLUG}/winners")
    office.get_by_role("button", name="Publish the winners").click()
    office.wait_for_selector("text=The winners are published.")

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server}/winners/{SLUG}")
    page.wait_for_function("() => [...document.querySelectorAll('.public-winners img')]"
                           ".every(img => img.complete && img.naturalWidth > 0)")
    assert page.locator(".public-winners img").count() == 3
    screenshot(page, "public-winners-pictures")
