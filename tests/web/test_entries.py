"""The entries grid (filters, counts, keyset paging) and the page of one entry."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest

from wle.models.entry import THUMB_DONE, THUMB_FAILED, THUMB_PENDING

from tests.factories import utc
from tests.web.conftest import make_entries, make_entry

TILE = re.compile(r'href="/contests/[^/]+/entries/(\d+)"')


def tiles(html: str) -> list[int]:
    return [int(pageid) for pageid in TILE.findall(html)]


def link(html: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return html_lib.unescape(match.group(1)) if match else None


def walk(client, url: str) -> list[list[int]]:
    """Follow the "older" links from ``url`` to the end; the page ids of each page."""
    pages = []
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(tiles(html))
        url = link(html, "next")
    return pages


@pytest.fixture
def seeded(session, contest):
    """130 present entries (7 pending, 5 failed), several sharing an upload time, and 4 gone."""
    start = utc(2025, 6, 20)
    present = [
        make_entry(session, contest, uploaded_at=start + timedelta(minutes=i // 3), thumb_state=THUMB_DONE)
        for i in range(130)
    ]
    for entry in present[:7]:
        entry.thumb_state = THUMB_PENDING
    for entry in present[7:12]:
        entry.thumb_state = THUMB_FAILED
        entry.thumb_error = "The file is not an image we can read (HTML error page)."
    gone = make_entries(session, contest, 4, gone_at=utc(2025, 7, 20), gone_reason="deleted")
    session.commit()
    newest_first = lambda entries: [e.pageid for e in sorted(entries, key=lambda e: (e.uploaded_at, e.id), reverse=True)]
    return {
        "present": newest_first(present),
        "pending": newest_first(present[:7]),
        "failed": newest_first(present[7:12]),
        "gone": newest_first(gone),
    }


def test_the_grid_pages_through_every_entry_once_newest_first(client, contest, seeded):
    pages = walk(client, f"/contests/{contest.slug}/entries")

    assert [len(page) for page in pages] == [60, 60, 10]
    assert [pageid for page in pages for pageid in page] == seeded["present"]


@pytest.mark.parametrize("shown", ["pending", "failed", "gone"])
def test_each_filter_shows_its_entries(client, contest, seeded, shown):
    pages = walk(client, f"/contests/{contest.slug}/entries?show={shown}")
    assert pages == [seeded[shown]]


def test_the_filters_show_their_counts(client, contest, seeded):
    html = client.get(f"/contests/{contest.slug}/entries").get_data(as_text=True)
    for shown, label, n in (("present", "All present", 130), ("failed", "Thumbnail failed", 5),
                            ("pending", "Thumbnail pending", 7), ("gone", "Gone", 4)):
        assert re.search(rf'show={shown}"[^>]*>\s*{label} <span class="count">{n}</span>', html), shown


def test_the_newer_link_leads_back_to_the_same_page(client, contest, seeded):
    first = client.get(f"/contests/{contest.slug}/entries").get_data(as_text=True)
    assert link(first, "prev") is None
    second = client.get(link(first, "next")).get_data(as_text=True)

    back = client.get(link(second, "prev")).get_data(as_text=True)

    assert tiles(back) == tiles(first)
    assert link(back, "prev") is None


def test_pending_and_failed_thumbnails_show_a_placeholder_with_the_state(client, contest, seeded):
    html = client.get(f"/contests/{contest.slug}/entries?show=failed").get_data(as_text=True)
    assert html.count('class="placeholder placeholder-failed">thumbnail failed<') == 5
    assert "<img" not in html
    done = client.get(f"/contests/{contest.slug}/entries").get_data(as_text=True)
    assert re.search(r'<img src="/media/[0-9a-f]{32}/grid\.webp"', done)


def test_bad_paging_input_falls_back_to_the_first_page(client, contest, seeded):
    for query in ("after=abc", "after=999999", "before=-5", "after=", "before=1e9"):
        response = client.get(f"/contests/{contest.slug}/entries?{query}")
        assert response.status_code == 200
        assert tiles(response.get_data(as_text=True)) == seeded["present"][:60]


def test_an_unknown_filter_is_a_clear_400(client, contest):
    response = client.get(f"/contests/{contest.slug}/entries?show=<b>everything</b>")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Unknown filter &lt;b&gt;everything&lt;/b&gt;" in html


def test_an_empty_contest_has_an_empty_grid(client, contest):
    response = client.get(f"/contests/{contest.slug}/entries")
    assert response.status_code == 200
    assert "No entries here." in response.get_data(as_text=True)


# --- One entry ------------------------------------------------------------------------------


def test_the_entry_page_shows_all_its_metadata(client, session, contest):
    entry = make_entry(
        session, contest, pageid=4242, title="File:Charyn Canyon.jpg", uploader="Aigerim",
        uploaded_at=utc(2025, 6, 20, 19, 30), reuploaded=True, last_uploaded_at=utc(2025, 6, 25, 3, 0),
        width=6000, height=4000, size=12_345_678, sha1="a" * 40, date_taken="2025-06-01 10:00",
        latitude=43.35123, longitude=79.07456, categories=["Charyn Canyon", "Lakes of Kazakhstan"],
        thumb_state=THUMB_DONE,
    )
    session.commit()

    response = client.get(f"/contests/{contest.slug}/entries/4242")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<a href="https://commons.wikimedia.org/wiki/File:Nature_4242.jpg" rel="noopener noreferrer">File:Charyn Canyon.jpg</a>' in html
    assert "Aigerim" in html
    assert "Jun 21, 2025, 12:30:00\u202fAM" in html  # 19:30 UTC is half past midnight in Almaty
    assert "Re-uploaded since" in html
    assert "6,000 × 4,000 px" in html and "24.0 MP" in html and "12.3 MB" in html and "12,345,678 bytes" in html
    assert "image/jpeg" in html and "a" * 40 in html
    assert '<a href="https://creativecommons.org/licenses/by-sa/4.0" rel="noopener noreferrer">CC BY-SA 4.0</a>' in html
    assert "A lake in the mountains." in html and "2025-06-01 10:00" in html
    assert "43.35123, 79.07456" in html
    assert "Charyn Canyon</li>" in html
    assert f'<img src="/media/{entry.thumb_key}/view.webp"' in html


def test_hostile_metadata_is_shown_as_text(client, session, contest):
    make_entry(
        session, contest, pageid=666, title='File:<img src=x onerror="alert(1)">.jpg',
        description="<script>alert('pwned')</script>\nSecond line", license="<b>CC0</b>",
        license_url="javascript:alert(1)", page_url="javascript:alert(2)", categories=["<i>Cat</i>"],
        thumb_state=THUMB_FAILED, thumb_error="<script>boom()</script>",
    )
    session.commit()

    html = client.get(f"/contests/{contest.slug}/entries/666").get_data(as_text=True)

    assert "<script>" not in html and "<img src=x" not in html and "javascript:" not in html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;CC0&lt;/b&gt;" in html and "&lt;i&gt;Cat&lt;/i&gt;" in html
    grid = client.get(f"/contests/{contest.slug}/entries").get_data(as_text=True)
    assert "<img src=x" not in grid and "&lt;img src=x" in grid


def test_a_gone_entry_says_why(client, session, contest):
    make_entry(session, contest, pageid=777, gone_at=utc(2025, 7, 20), gone_reason="left_category")
    session.commit()
    html = client.get(f"/contests/{contest.slug}/entries/777").get_data(as_text=True)
    assert "no longer in the contest&#39;s categories" in html


def test_an_unknown_entry_is_a_404(client, session, contest):
    response = client.get(f"/contests/{contest.slug}/entries/123456")
    assert response.status_code == 404
    assert "no entry with the page id 123456" in response.get_data(as_text=True)
