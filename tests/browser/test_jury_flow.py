"""The jury in a real browser: a juror judges a rating round with the keyboard only, an organizer
closes it, advances and publishes the winners, and the public page shows them.

The contest's entries and their thumbnails are made here (small JPEGs from Pillow, through the real
thumbnail writer), so no MediaWiki is needed. Screenshots go to $WLE_TEST_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from wle import rounds
from wle.auth import add_organizer
from wle.models import Entry
from wle.models.jury import CLOSED, RATING, Round, Task
from wle.rounds import RoundForm
from wle.thumbnails import write_thumbnails

from tests.factories import make_contest

SLUG = "wle-2025-kz"
JUROR = "Jan Juror"
ORGANIZER = "Olga Organizer"
MIN_VIEW = 0.3  # s: a little more than the page's pause after an entry appears (juror.js MIN_VIEW_MS)
# (width, height, colour, uploader) of each entry: landscape and portrait pictures.
PICTURES = [
    (4000, 3000, (46, 125, 50), "Aigerim Photographer"),
    (3000, 4000, (21, 101, 192), "Bolat Photographer"),
    (4000, 3000, (198, 40, 40), "Aigerim Photographer"),
    (4000, 2250, (245, 124, 0), "Dana Photographer"),
    (3000, 4000, (106, 27, 154), "Bolat Photographer"),
]


def jpeg(width: int, height: int, colour: tuple[int, int, int], label: str) -> bytes:
    """A small picture with a shape on it, scaled down from the entry's real size."""
    scale = 1600 / max(width, height)
    size = (round(width * scale), round(height * scale))
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4), fill=(250, 250, 250))
    draw.text((20, 20), label, fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


@pytest.fixture
def contest_with_a_round(session, settings):
    """A synced contest (entries and thumbnails made here), its organizer, and round 1 open."""
    contest = make_contest(session, SLUG)
    start = datetime(2025, 6, 20, 9, 0, tzinfo=timezone.utc)
    for i, (width, height, colour, uploader) in enumerate(PICTURES, start=1):
        key = secrets.token_hex(16)
        write_thumbnails(settings.media_dir, key, jpeg(width, height, colour, f"entry {i}"))
        moment = start + timedelta(minutes=i)
        session.add(Entry(
            contest_id=contest.id, pageid=9_100 + i, title=f"File:Steppe lake {i}.jpg", uploader=uploader,
            uploaded_at=moment, last_uploaded_at=moment, width=width, height=height, size=3_000_000,
            mime="image/jpeg", sha1=secrets.token_hex(20), license="CC BY-SA 4.0", credit="Own work",
            description=f"A lake in the steppe, number {i}", categories=["Lakes of Kazakhstan"],
            file_url=f"https://upload.wikimedia.org/wikipedia/commons/1/1{i}/Steppe_lake_{i}.jpg",
            page_url=f"https://commons.wikimedia.org/wiki/File:Steppe_lake_{i}.jpg",
            thumb_key=key, thumb_state="done",
        ))
    session.flush()
    add_organizer(session, contest, ORGANIZER, actor="test")
    organizer = rounds.user_by_name(session, ORGANIZER)
    round_ = rounds.create_round(session, contest, organizer, RoundForm(kind=RATING, quorum=1, name="First look"))
    rounds.set_jurors(session, round_, organizer, [JUROR])
    rounds.open_round(session, round_, organizer)
    session.commit()
    return contest, round_


def screenshot(page, name: str) -> None:
    folder = os.environ.get("WLE_TEST_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def log_in(page, base: str, username: str, next_path: str) -> None:
    """The local mode login form, with the keyboard: the name field has the focus."""
    page.goto(f"{base}/login?next={next_path}")
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'username'")
    page.keyboard.type(username)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}{next_path}")


def swipe(page, from_x: float, to_x: float, y: float) -> None:
    """A one-finger horizontal swipe, through the browser's touch input (Chrome DevTools Protocol)."""
    cdp = page.context.new_cdp_session(page)
    steps = 8
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": from_x, "y": y}]})
    for step in range(1, steps + 1):
        x = from_x + (to_x - from_x) * step / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def shown(page) -> int:
    return int(page.get_attribute("#judge-picture", "data-task"))


def save_state(page) -> str:
    return page.get_attribute("#save-state", "data-state")


def press(page, key: str) -> None:
    time.sleep(MIN_VIEW)
    page.keyboard.press(key)


def picture_is_on_screen(page) -> bool:
    """Right after a key press: the entry's picture is already loaded and decoded, not on its way."""
    return page.evaluate("""() => {
        const img = document.querySelector('#judge-picture img');
        return !!img && img.complete && img.naturalWidth > 0;
    }""")


def wait_saved(page, done: int) -> None:
    page.wait_for_function("done => document.getElementById('save-state').dataset.state === 'saved'"
                           " && document.getElementById('judge-done-count').textContent === String(done)", arg=done)


def votes(session, round_) -> dict[int, int | None]:
    session.expire_all()
    return dict(session.execute(select(Task.id, Task.value).where(Task.round_id == round_.id)).all())


def test_a_jury_from_judging_to_published_winners(browser, live_server, session, contest_with_a_round):
    contest, round_ = contest_with_a_round
    base = live_server
    judging = f"/jury/rounds/{round_.id}"

    # --- The juror, on a phone first: the page fits, the buttons are big enough for a thumb ---
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                device_scale_factor=2)
    page = phone.new_page()
    log_in(page, base, JUROR, judging)
    page.wait_for_selector("#judge-picture img")
    layout = page.evaluate("""() => {
        const box = e => e.getBoundingClientRect();
        const picture = box(document.querySelector('#judge-picture img'));
        const buttons = [...document.querySelectorAll('.judge-actions .button')].map(box);
        const parts = ['.judge', '.judge-bar', '.judge-stage', '.judge-actions', '.judge-title', '#save-state',
                       '#judge-picture img', '.judge-actions .button'];
        const everything = parts.flatMap(s => [...document.querySelectorAll(s)]).map(box);
        return {
            overflow: Math.max(...everything.map(b => b.right)) - window.innerWidth,
            height: window.innerHeight,
            picture: {top: picture.top, bottom: picture.bottom, width: picture.width, height: picture.height},
            smallest: Math.min(...buttons.map(b => b.height)),
            lowest: Math.max(...buttons.map(b => b.bottom)),
        };
    }""")
    screenshot(page, "juror-phone")
    assert layout["overflow"] <= 0, layout  # nothing wider than the screen
    assert layout["lowest"] <= layout["height"], layout  # every button on screen without scrolling
    assert layout["smallest"] >= 44, layout  # touch targets
    assert layout["picture"]["width"] >= 370 or layout["picture"]["height"] >= 380, layout  # as large as fits
    # A finger swiping left skips the entry (touch events, as a phone's screen sends them).
    first = shown(page)
    swipe(page, from_x=330, to_x=60, y=(layout["picture"]["top"] + layout["picture"]["bottom"]) / 2)
    page.wait_for_function(f"() => document.querySelector('#judge-picture').dataset.task !== '{first}'")
    page.wait_for_function("() => document.getElementById('save-state').dataset.state === 'saved'")
    session.expire_all()
    assert session.get(Task, first).skipped_seq == 1
    phone.close()

    # --- The juror at a desktop, with the keyboard only, in Kazakh (the browser's language) ---
    desktop = browser.new_context(viewport={"width": 1280, "height": 800}, locale="kk-KZ")
    page = desktop.new_page()
    requested, console = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: console.append(message.text))
    log_in(page, base, JUROR, judging)
    page.wait_for_selector("#judge-picture img")
    assert page.get_attribute("html", "lang") == "kk"
    data = json.loads(page.text_content("#judge-data"))
    a, b, c, d, e = (task["task"] for task in data["tasks"])
    assert shown(page) == a
    # The next entries' pictures were fetched before any key was pressed.
    page.wait_for_function("() => [...document.querySelectorAll('#judge-picture img')].every(i => i.complete)")
    for task in data["tasks"][1:]:
        assert any(url.endswith(task["images"]["view"]["url"]) or url.endswith(task["images"]["grid"]["url"])
                   for url in requested), f"entry {task['task']} was not prefetched"
    screenshot(page, "juror-desktop")

    page.keyboard.press("?")
    assert page.is_visible("#judge-help")
    screenshot(page, "juror-keys")
    page.keyboard.press("?")
    assert not page.is_visible("#judge-help")

    page.keyboard.press("f")
    page.wait_for_selector("#judge-full", state="visible")
    assert page.get_attribute("#judge-full-image", "src") == data["tasks"][0]["images"]["view"]["url"]
    page.wait_for_function("() => document.getElementById('judge-full-image').complete")
    screenshot(page, "juror-full-size")
    page.keyboard.press("Escape")
    page.wait_for_selector("#judge-full", state="hidden")

    # A double key press: one vote, and the page moves on once.
    time.sleep(MIN_VIEW)
    page.keyboard.press("4")
    page.keyboard.press("4")
    assert shown(page) == b
    assert picture_is_on_screen(page)
    wait_saved(page, 1)

    press(page, "s")  # skip: b comes back at the end
    assert shown(page) == c and picture_is_on_screen(page)
    press(page, "2")
    assert shown(page) == d
    press(page, "ArrowLeft")  # back, and change the vote
    assert shown(page) == c
    assert "2 ★" in page.text_content("#judge-current-vote")
    press(page, "5")
    assert shown(page) == d
    press(page, "3")
    assert shown(page) == e
    wait_saved(page, 3)
    assert votes(session, round_) == {a: 4, b: None, c: 5, d: 3, e: None}

    # The connection fails twice: the vote waits, is shown as not saved, and is sent again.
    failures = []

    def fail_twice(route):
        if len(failures) < 2:
            failures.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/tasks/*/vote", fail_twice)
    page.wait_for_function(f"() => document.querySelector('#judge-picture').dataset.task === '{e}'")
    press(page, "1")
    page.wait_for_function("() => document.getElementById('save-state').dataset.state === 'waiting'")
    assert "әлі сақталмады" in page.text_content("#save-state")  # "not saved yet", in Kazakh
    screenshot(page, "juror-not-saved")
    page.wait_for_function("() => document.getElementById('save-state').dataset.state === 'saved'", timeout=15_000)
    assert len(failures) == 2
    page.unroute("**/tasks/*/vote")
    assert shown(page) == b  # the skipped entry, back at the end

    # The last vote cannot be sent, and the tab is reloaded: the vote was kept and is sent then.
    page.route("**/tasks/*/vote", lambda route: route.abort())
    press(page, "4")
    page.wait_for_function("() => document.getElementById('save-state').dataset.state === 'waiting'")
    kept = page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('wle.jury.outbox.'))"
                         ".map(k => JSON.parse(localStorage.getItem(k)))")
    assert kept == [[{"kind": "vote", "task": b, "value": 4, "fresh": True}]]
    assert votes(session, round_)[b] is None
    page.unroute("**/tasks/*/vote")
    page.reload()
    page.wait_for_selector("#judge-done", state="visible")
    wait_saved(page, 5)
    assert page.text_content("#judge-total-count") == "5"
    screenshot(page, "juror-done")
    assert not [text for text in console if "Content Security Policy" in text], console
    seen = page.content() + " ".join(requested)
    for secret in ("Steppe", "Steppe_lake", "Photographer", "wikimedia.org", "A lake in the steppe"):
        assert secret not in seen, f"the juror's page shows {secret!r}"
    assert votes(session, round_) == {a: 4, b: 4, c: 5, d: 3, e: 1}
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('wle.jury.outbox.')).length") == 0

    # After the reload the page knows no earlier votes: going back asks the server, vote by vote.
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => document.querySelector('#judge-picture').dataset.task === '{b}'")
    assert "4 ★" in page.text_content("#judge-current-vote")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => document.querySelector('#judge-picture').dataset.task === '{e}'")
    press(page, "2")  # changed; on to the next one, and past the last back to "done"
    assert shown(page) == b
    press(page, "ArrowRight")
    page.wait_for_selector("#judge-done", state="visible")
    wait_saved(page, 5)
    assert votes(session, round_)[e] == 2
    desktop.close()

    # --- The organizer closes the round, advances, and publishes the winners ---
    office = browser.new_context(viewport={"width": 1280, "height": 900})
    page = office.new_page()
    log_in(page, base, ORGANIZER, f"/contests/{SLUG}/rounds/1")
    page.get_by_role("link", name="Close the round…").click()
    page.get_by_role("button", name="Close the round").click()
    page.wait_for_url(f"{base}/contests/{SLUG}/rounds/1/results")
    session.expire_all()
    assert session.get(Round, round_.id).state == CLOSED

    # Advance: round 2 takes round 1's best three.
    page.goto(f"{base}/contests/{SLUG}/rounds/1")
    page.get_by_role("link", name="Create the next round").click()
    page.get_by_label("Name", exact=True).fill("Finalists")
    page.get_by_label("Jurors per entry (quorum)").fill("1")
    page.get_by_label("The best N places").check()
    page.get_by_label("Threshold").fill("3")
    page.get_by_role("button", name="Create the round").click()
    page.wait_for_url(f"{base}/contests/{SLUG}/rounds/2")
    screenshot(page, "organizer-round-2")
    second = session.scalar(select(Round).where(Round.contest_id == contest.id, Round.number == 2))
    assert second is not None and second.selection["kept"] == 3

    page.goto(f"{base}/contests/{SLUG}/winners")
    page.get_by_role("button", name="Save the list").click()
    page.get_by_role("button", name="Publish the winners").click()
    screenshot(page, "organizer-winners")
    office.close()

    # --- Anyone sees the winners, credited to their authors ---
    public = browser.new_context()
    page = public.new_page()
    page.goto(f"{base}/winners/{SLUG}")
    screenshot(page, "public-winners")
    places = page.locator(".public-winners .winner")
    assert places.count() >= 3
    best = session.get(Task, c).entry  # the only 5
    first = places.nth(0).text_content()
    assert best.title.removeprefix("File:") in first and best.uploader in first
    assert JUROR not in page.content()  # no juror is named
    public.close()


@pytest.fixture
def ranking_round(session, settings):
    """A ranking round of twelve entries, in which the juror places their best four."""
    contest = make_contest(session, "wle-ranking")
    start = datetime(2025, 6, 20, 9, 0, tzinfo=timezone.utc)
    for i in range(1, 13):
        key = secrets.token_hex(16)
        colour = ((i * 53) % 256, (i * 97) % 256, (i * 151) % 256)
        write_thumbnails(settings.media_dir, key, jpeg(4000, 3000, colour, f"entry {i}"))
        moment = start + timedelta(minutes=i)
        session.add(Entry(
            contest_id=contest.id, pageid=9_200 + i, title=f"File:Ranked {i}.jpg", uploader="Someone",
            uploaded_at=moment, last_uploaded_at=moment, width=4000, height=3000, size=3_000_000,
            mime="image/jpeg", sha1=secrets.token_hex(20), license="CC BY-SA 4.0", credit="Own work",
            file_url=f"https://upload.wikimedia.org/x/Ranked_{i}.jpg", thumb_key=key, thumb_state="done",
            page_url=f"https://commons.wikimedia.org/wiki/File:Ranked_{i}.jpg", categories=[],
        ))
    session.flush()
    organizer = rounds.user_by_name(session, ORGANIZER)
    round_ = rounds.create_round(session, contest, organizer, RoundForm(kind="ranking", quorum=1, rank_top=4))
    rounds.set_jurors(session, round_, organizer, [JUROR])
    rounds.open_round(session, round_, organizer)
    session.commit()
    return round_


def grid_order(page) -> list[int]:
    return [int(task) for task in page.eval_on_selector_all(".rank-tile", "tiles => tiles.map(t => t.dataset.task)")]


def test_a_ranking_by_keys_and_by_dragging(browser, live_server, session, ranking_round):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    log_in(page, live_server, JUROR, f"/jury/rounds/{ranking_round.id}")
    ids = grid_order(page)
    assert len(ids) == 12 and page.locator(".rank-tile.unplaced").count() == 8
    assert page.get_attribute("#save-state", "data-state") == "unsaved"

    # Keys: select with the arrows, move with Shift+arrow, and by typing a place number.
    page.locator(".rank-tile").first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowLeft")
    assert grid_order(page)[:3] == [ids[0], ids[2], ids[1]]
    page.keyboard.press("1")
    page.wait_for_function(f"() => document.querySelector('.rank-tile').dataset.task === '{ids[2]}'")
    page.keyboard.press("End")
    page.keyboard.press("4")
    page.keyboard.press("Enter")  # the place now, without waiting
    assert grid_order(page)[:5] == [ids[2], ids[0], ids[1], ids[11], ids[3]]
    # Enter picks an entry up; the plain arrows then move it; Enter puts it down.
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    assert grid_order(page)[:4] == [ids[2], ids[0], ids[11], ids[1]]

    # Drag with the mouse: the seventh entry onto the first place.
    seventh, first = page.locator(".rank-tile").nth(6).bounding_box(), page.locator(".rank-tile").first.bounding_box()
    dragged = grid_order(page)[6]
    page.mouse.move(seventh["x"] + seventh["width"] / 2, seventh["y"] + seventh["height"] / 2)
    page.mouse.down()
    page.mouse.move(first["x"] + 10, first["y"] + first["height"] / 2, steps=12)
    page.mouse.up()
    order = grid_order(page)
    assert order[:5] == [dragged, ids[2], ids[0], ids[11], ids[1]]
    assert page.text_content(".rank-tile:first-child .rank-place") == "1"
    assert page.locator(".rank-tile.unplaced").count() == 8

    page.wait_for_function("() => document.getElementById('save-state').dataset.state === 'saved'")
    screenshot(page, "juror-ranking")
    session.expire_all()
    saved = dict(session.execute(select(Task.id, Task.value).where(Task.round_id == ranking_round.id)).all())
    assert [saved[task] for task in order] == [1, 2, 3, 4] + [0] * 8

    page.reload()
    assert grid_order(page)[:4] == order[:4]
    assert page.get_attribute("#save-state", "data-state") == "saved"
    context.close()
