"""The page layout in a real browser, in Kazakh (the longest labels): the header on a desktop
(1366×900) and on a phone's judging page (390×844), the contest page's live refresh after a
sync, and the ranking grid's tile sizes. Screenshots go to $WLE_TEST_SCREENSHOTS when it is set."""

from __future__ import annotations

from tests.browser.test_jury_flow import (  # noqa: F401  (contest_with_a_round, ranking_round: fixtures)
    JUROR, ORGANIZER, SLUG, contest_with_a_round, log_in, ranking_round, screenshot,
)

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def boxes(page, selector: str) -> list[dict]:
    return [element.bounding_box() for element in page.query_selector_all(selector) if element.is_visible()]


def one_row(page, selector: str) -> bool:
    """Whether the visible elements sit side by side on one line (their vertical centres agree)."""
    centres = [box["y"] + box["height"] / 2 for box in boxes(page, selector)]
    return len(centres) > 1 and max(centres) - min(centres) < 8


def test_the_header_is_one_row_on_a_desktop_in_kazakh(browser, live_server, contest_with_a_round):
    page = browser.new_context(viewport=DESKTOP, locale="kk-KZ").new_page()
    log_in(page, live_server, ORGANIZER, f"/contests/{SLUG}")
    assert page.get_attribute("html", "lang") == "kk"
    screenshot(page, "layout-header-desktop-kk")

    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 64, header  # one row: brand, menu, language, name, log out
    assert one_row(page, ".site-header .brand, .site-header nav a, .user-menu select, .user-name, "
                         ".user-menu button[type=submit]:not(.no-script)")
    assert page.locator(".user-name").bounding_box()["width"] > 40  # the name is not squeezed to a column


def test_the_phone_judging_page_keeps_the_header_to_one_thin_row(browser, live_server, contest_with_a_round):
    _contest, round_ = contest_with_a_round
    page = browser.new_context(viewport=PHONE, locale="kk-KZ", has_touch=True, is_mobile=True).new_page()
    log_in(page, live_server, JUROR, f"/jury/rounds/{round_.id}")
    page.wait_for_selector(".judge img")
    screenshot(page, "layout-header-phone-judging-kk")

    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 48, header  # the picture gets the height
    assert one_row(page, ".site-header .brand, .user-menu select, .user-menu button[type=submit]:not(.no-script)")
    assert page.locator(".judge").bounding_box()["y"] <= 100  # header and local-mode note: two thin lines
    assert page.locator(".user-menu button[type=submit]:not([hidden])").last.is_visible()  # "Log out" stays


def test_the_contest_page_refreshes_its_figures_and_syncs_when_a_sync_ends(browser, live_server, session):
    from wle.auth import add_organizer
    from wle.models import SyncRun, utcnow
    from tests.factories import make_contest
    from tests.web.conftest import make_entries

    contest = make_contest(session, "wle-live")
    add_organizer(session, contest, ORGANIZER, actor="test")
    run = SyncRun(contest_id=contest.id, started_by=ORGANIZER, state="running", started_at=utcnow(),
                  heartbeat_at=utcnow())
    session.add(run)
    session.commit()
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, live_server, ORGANIZER, f"/contests/{contest.slug}")
    assert page.locator("#last-syncs .state").first.inner_text().lower() == "running"
    assert page.locator("[data-live-field=entries]").inner_text() == "0"

    make_entries(session, contest, 3)  # the worker's sync ends: three entries by one uploader
    run.state, run.finished_at, run.added, run.files_seen = "done", utcnow(), 3, 3
    session.commit()

    page.wait_for_function("() => document.querySelector('#last-syncs .state').textContent.trim().toLowerCase() === 'done'",
                           timeout=15_000)
    assert page.locator("[data-live-field=entries]").inner_text() == "3"
    assert page.locator("[data-live-field=uploaders]").inner_text() == "1"
    assert page.locator("#last-syncs td.num").first.inner_text() == "3"


def test_the_new_contest_form_takes_the_browsers_zone_searches_zones_and_fills_the_slug(
        browser, live_server, session):
    from datetime import date

    from wle.models import User

    session.add(User(username="Ada Admin", is_admin=True))
    session.commit()
    page = browser.new_context(viewport=DESKTOP, timezone_id="Asia/Almaty").new_page()
    log_in(page, live_server, "Ada Admin", "/contests/new")
    screenshot(page, "contest-new-desktop")

    assert page.locator("select[name=timezone]").input_value() == "Asia/Almaty"  # the browser's, not UTC
    page.get_by_label("Name").fill("Wiki Loves Earth 2026 в Казахстане")
    assert page.locator("input[name=slug]").input_value() == "wiki-loves-earth-2026-v-kazahstane"
    page.get_by_label("Search the time zones").fill("mosc")
    assert page.locator("select[name=timezone]").input_value() == "Europe/Moscow"
    assert f"{date.today().year}" in page.locator("input[name=slug]").get_attribute("placeholder")
    page.locator("input[name=slug]").fill("my-own")
    page.get_by_label("Name").fill("Another name")
    assert page.locator("input[name=slug]").input_value() == "my-own"  # typed by hand: kept


def tile_width(page) -> float:
    return page.locator(".rank-tile").first.bounding_box()["width"]


def test_the_juror_chooses_the_tile_size_and_opens_any_tile_large(browser, live_server, ranking_round):
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, live_server, JUROR, f"/jury/rounds/{ranking_round.id}")
    page.wait_for_selector(".rank-tile img")

    assert tile_width(page) >= 220  # medium by default: no longer ~155 px on a 1366 px screen
    page.get_by_label("Tile size").select_option("large")
    assert tile_width(page) >= 360
    screenshot(page, "ranking-large-tiles")
    page.get_by_label("Tile size").select_option("small")
    assert tile_width(page) < 200

    page.reload()  # the choice is kept in this browser
    page.wait_for_selector(".rank-tile img")
    assert page.get_by_label("Tile size").input_value() == "small" and tile_width(page) < 200

    third = page.locator(".rank-tile").nth(2)
    third.get_by_role("button", name="Show it large").click()
    assert page.locator("#judge-full").is_visible()
    assert page.locator("#judge-full-image").get_attribute("src") == third.get_attribute("data-full")

    phone = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True).new_page()
    log_in(phone, live_server, JUROR, f"/jury/rounds/{ranking_round.id}")
    phone.wait_for_selector(".rank-tile img")
    phone.get_by_label("Tile size").select_option("large")
    assert tile_width(phone) >= 340  # one picture per row, the width of the phone
    phone.locator(".rank-tile").first.get_by_role("button", name="Show it large").tap()
    assert phone.locator("#judge-full").is_visible()


def test_the_audit_log_reads_as_sentences_in_kazakh(browser, live_server, contest_with_a_round):
    page = browser.new_context(viewport=DESKTOP, locale="kk-KZ").new_page()
    log_in(page, live_server, ORGANIZER, f"/contests/{SLUG}/log")
    screenshot(page, "audit-log-kk")
    table = page.locator("table.audit-log").inner_text()
    assert "Кезеңді ашты (№1)." in table and "Кезең жасады (№1)." in table
    assert "Бағалау, 1–5 жұлдыз" in table or "1–5" in table  # the kind of round in words, not "rating"
    for code in ("round.open", "round.create", "None", "[[", "user_id", "rating", "source:"):
        assert code not in table
