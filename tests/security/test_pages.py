"""Every page, as the strict Content-Security-Policy needs it and as an attacker would like it not
to be: each GET route of the URL map is rendered (as a site admin who is also a juror, over a
world full of hostile text from Commons) and read with an HTML parser.

A page fails on: a script, style sheet, font or image from another origin; an inline script or an
inline event handler (``on…=``) — a ``<script type="application/json">`` data block is allowed, as
no browser runs it and the policy need not allow it, but it must hold JSON and nothing else; an inline style (the policy has no 'unsafe-inline' for styles);
a ``javascript:`` link; a POST form without its CSRF token; hostile text that reached the markup
unescaped.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from wle.commons import CommonsClient
from wle.eligibility import check_contest
from wle.sync import begin_sync, upsert_entries

from tests.fake_api import Answer, FakeAPI, recorded
from tests.security.conftest import ESCAPED_MARK, HOSTILE_UPLOADER, log_in, routes, url_for_rule

ROOT = Path(__file__).resolve().parents[2]
# The attributes through which a page loads something (rather than links to it).
ASSET_ATTRIBUTES = {
    ("script", "src"), ("link", "href"), ("img", "src"), ("img", "srcset"), ("source", "src"),
    ("source", "srcset"), ("video", "src"), ("video", "poster"), ("audio", "src"), ("track", "src"),
    ("iframe", "src"), ("embed", "src"), ("object", "data"), ("input", "src"), ("image", "href"), ("use", "href"),
}
LINK_ATTRIBUTES = {("a", "href"), ("area", "href"), ("form", "action"), ("button", "formaction")}


def same_origin(url: str) -> bool:
    """A path on this site (or the test client's own host); nothing with a scheme or another host."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return parts.scheme in ("http", "https") and parts.netloc == "localhost"
    return not url.startswith("//")


class PageReader(HTMLParser):
    """Collects what a page must not have."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.script: dict | None = None  # the attributes and text of the <script> being read
        self.open_post_form: list[str] | None = None  # the names of its inputs so far

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>: an inline event handler")
            if name == "style":
                self.problems.append(f"<{tag} style=…>: an inline style")
            if (tag, name) in ASSET_ATTRIBUTES:
                for url in value.split(","):  # srcset: "url 2x, url 3x"
                    url = url.strip().split(" ")[0]
                    if url and not same_origin(url):
                        self.problems.append(f"<{tag} {name}={value!r}>: loaded from another origin")
            if (tag, name) in LINK_ATTRIBUTES and value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                self.problems.append(f"<{tag} {name}={value!r}>: a script URL")
        if tag == "script":
            self.script = {"type": (dict(attrs).get("type") or "").lower(), "text": ""}
        if tag == "style":
            self.problems.append("<style>: an inline style sheet")
        if tag == "meta" and dict(attrs).get("http-equiv", "").lower() == "refresh":
            self.problems.append("<meta http-equiv=refresh>")
        if tag == "form" and (dict(attrs).get("method") or "get").lower() == "post":
            self.open_post_form = []
        if tag == "input" and self.open_post_form is not None:
            self.open_post_form.append(dict(attrs).get("name") or "")

    def handle_endtag(self, tag):
        if tag == "script" and self.script is not None:
            self.check_script_body(**self.script)
            self.script = None
        if tag == "form" and self.open_post_form is not None:
            if "csrf_token" not in self.open_post_form:
                self.problems.append("a POST form without its csrf_token field")
            self.open_post_form = None

    def handle_data(self, data):
        if self.script is not None:
            self.script["text"] += data

    def check_script_body(self, type: str, text: str):
        if not text.strip():
            return
        if type != "application/json":
            self.problems.append(f"an inline script: {text.strip()[:60]!r}")
            return
        try:
            json.loads(text)
        except ValueError:
            self.problems.append(f"a JSON data block that is not JSON: {text.strip()[:60]!r}")


def problems_of(html: str) -> list[str]:
    reader = PageReader()
    reader.feed(html)
    reader.close()
    # Hostile text that reached the markup as markup (the parser would also see its handler).
    for raw in ("<script>alert", "<img src=x onerror", '<b class="x">'):
        if raw in html:
            reader.problems.append(f"unescaped hostile text: {raw}")
    return reader.problems


def rendered_pages(app, world):
    """(url, response) for every GET route, for the contest "ours", as the site admin."""
    client = log_in(app.test_client(), world.admin)
    for _endpoint, _method, rule in routes(app, {"GET"}):
        url = url_for_rule(rule, world.values(world.ours))
        yield url, client.get(url, follow_redirects=True)


# --- The checks of the reader itself ------------------------------------------------------------


@pytest.mark.parametrize("html, problem", [
    ('<script src="https://cdn.example.org/x.js"></script>', "another origin"),
    ('<script src="//cdn.example.org/x.js"></script>', "another origin"),
    ('<link rel="stylesheet" href="https://fonts.googleapis.com/css">', "another origin"),
    ('<img src="https://upload.wikimedia.org/x.jpg">', "another origin"),
    ('<img srcset="/a.webp 1x, https://evil.example/b.webp 2x">', "another origin"),
    ("<script>alert(1)</script>", "inline script"),
    ('<script type="text/javascript">alert(1)</script>', "inline script"),
    # Hostile text breaking out of a data block: the block is cut short, and a script follows.
    ('<script type="application/json">{"t": "</script><script>alert(1)</script>"}</script>', "not JSON"),
    ('<script type="application/json">{"t": "</script><script>alert(1)</script>"}</script>', "inline script"),
    ('<button onclick="go()">', "event handler"),
    ('<div style="color: red">', "inline style"),
    ("<style>p{}</style>", "inline style sheet"),
    ('<a href="javascript:alert(1)">', "script URL"),
    ('<form method="post"><input name="x"></form>', "csrf_token"),
])
def test_the_reader_finds_each_kind_of_problem(html, problem):
    assert any(problem in found for found in problems_of(html))


def test_the_reader_accepts_what_the_pages_may_hold():
    assert problems_of(
        '<script src="/static/js/status.js" defer></script><link rel="stylesheet" href="/static/css/style.css">'
        '<img src="/media/abc/grid.webp"><a href="https://commons.wikimedia.org/wiki/File:X.jpg">Commons</a>'
        '<form method="post"><input name="csrf_token" type="hidden" value="t"></form>'
        '<script type="application/json" id="data">{"title": "\\u003cscript\\u003e"}</script>'
    ) == []


# --- Every page ----------------------------------------------------------------------------------


def test_every_page_loads_only_its_own_assets_and_runs_no_inline_code(app, world):
    found = []
    seen_html = 0
    for url, response in rendered_pages(app, world):
        assert response.status_code < 500, f"{url} crashed"
        if response.mimetype != "text/html":
            continue
        seen_html += 1
        found += [f"{url}: {problem}" for problem in problems_of(response.get_data(as_text=True))]
    assert seen_html >= 10  # the walk reached the pages, not only redirects and JSON
    assert not found, "\n".join(found)


def test_hostile_text_from_commons_is_shown_escaped(app, world):
    """Title, description, licence, author and credit (extmetadata), the uploader's name, and the
    site list's names are shown as text wherever they are shown."""
    pages = dict(rendered_pages(app, world))
    slug, pageid = world.ours.slug, world.entries[world.ours.slug].pageid
    entry_page = pages[f"/contests/{slug}/entries/{pageid}"].get_data(as_text=True)
    assert entry_page.count(ESCAPED_MARK) >= 5  # title, description, licence, author, credit
    assert 'href="javascript:' not in entry_page  # the licence and page links are dropped, not shown
    review = pages[f"/contests/{slug}/review"].get_data(as_text=True)
    assert ESCAPED_MARK in review
    statistics = pages[f"/contests/{slug}/statistics"].get_data(as_text=True)
    assert "Eve&lt;script&gt;alert(2)" in statistics
    for url, response in pages.items():
        if response.mimetype == "text/html":
            assert problems_of(response.get_data(as_text=True)) == [], url


def test_exports_holding_hostile_text_are_never_served_as_html(app, world):
    holding = []
    for url, response in rendered_pages(app, world):
        body = response.get_data(as_text=True)
        if response.mimetype != "text/html" and ("<script>" in body or HOSTILE_UPLOADER in body):
            holding.append(url)
            assert response.mimetype in ("application/json", "text/csv", "text/plain"), url
            assert response.headers["X-Content-Type-Options"] == "nosniff", url
    assert len(holding) >= 2  # the statistics' JSON and wikitext at least


# --- The static files --------------------------------------------------------------------------

CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)""", re.IGNORECASE)
CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*['"]?([^'")\s;]+)""", re.IGNORECASE)
JS_URL = re.compile(r"""["'](https?:)?//[^"']+["']""")
SVG_NAMESPACE = "http://www.w3.org/2000/svg"  # a name, not something fetched


def static_files(pattern: str) -> list[Path]:
    return sorted((ROOT / "static").rglob(pattern))


def test_style_sheets_import_and_load_nothing_from_elsewhere():
    sheets = static_files("*.css")
    assert sheets
    for sheet in sheets:
        text = sheet.read_text()
        for url in CSS_URL.findall(text) + CSS_IMPORT.findall(text):
            assert same_origin(url) and not url.startswith("data:"), f"{sheet.name}: {url}"


def test_scripts_fetch_nothing_from_elsewhere():
    scripts = static_files("*.js")
    assert scripts
    for script in scripts:
        for match in JS_URL.finditer(script.read_text()):
            assert match.group(0).strip("\"'") == SVG_NAMESPACE, f"{script.name}: {match.group(0)}"


# --- From Commons' own answer to the pages -------------------------------------------------------

HOSTILE_EXTMETADATA = {
    # extmetadata values are HTML: markup in them is real markup, escaped text is entities.
    "ImageDescription": '&lt;script&gt;alert("desc")&lt;/script&gt;<img src=x onerror=alert(1)> A lake',
    "Artist": '<a href="//commons.wikimedia.org/wiki/User:Eve">Eve &lt;script&gt;alert("artist")&lt;/script&gt;</a>',
    "LicenseShortName": 'CC BY-SA 4.0 &lt;script&gt;alert("licence")&lt;/script&gt;',
    "LicenseUrl": "javascript:alert(5)",
    "Credit": '<span onmouseover="alert(6)">Own work &lt;script&gt;alert("credit")&lt;/script&gt;</span>',
}


def hostile_answer(pageid: int) -> dict:
    """A listing answer of the API, the shape of tests/samples, for one file with hostile metadata."""
    answer = recorded("cat-imageinfo-without-commonsmetadata.json")
    page = answer["query"]["pages"][0]
    answer["query"]["pages"] = [page]
    answer.pop("continue", None)
    page["pageid"] = pageid
    page["imageinfo"][0]["extmetadata"].update(
        {name: {"value": value, "source": "commons-desc-page"} for name, value in HOSTILE_EXTMETADATA.items()})
    return answer


def test_hostile_extmetadata_read_from_the_api_is_shown_escaped(app, world, session):
    """The whole way: the API's JSON, the client's parsing, the sync's storing, every page."""
    with FakeAPI([Answer.json(hostile_answer(pageid=90))]) as api:
        [files] = list(CommonsClient(api.url, "wle-tests@example.org").category_files("Hostile"))
    run = begin_sync(session, world.ours, started_by="test")
    upsert_entries(session, world.ours, run, files)
    check_contest(session, world.ours)
    session.commit()
    client = log_in(app.test_client(), world.admin)

    entry_page = client.get(f"/contests/{world.ours.slug}/entries/90").get_data(as_text=True)
    for word in ("desc", "artist", "licence", "credit"):
        assert f'&lt;script&gt;alert(&#34;{word}&#34;)' in entry_page, word
    assert "javascript:" not in entry_page
    for url in (f"/contests/{world.ours.slug}/entries/90", f"/contests/{world.ours.slug}/entries",
                f"/contests/{world.ours.slug}/review", f"/contests/{world.ours.slug}/statistics"):
        assert problems_of(client.get(url).get_data(as_text=True)) == [], url
