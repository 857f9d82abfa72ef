"""How many bytes does a juror download for the judging page, leaving its pictures aside?

Seeds a small open rating round in a temporary SQLite database, logs a juror in through the
local-mode form (Flask's test client: no server, no network), renders their judging page and
fetches every same-origin stylesheet and script it links to, as a browser would on a first visit
(nothing cached). Prints each one's size as sent and gzip-compressed (level 6, what a reverse
proxy typically applies), the total, and the JSON the page then exchanges per entry: the answer
to a vote and to ``next`` (1 entry, and the prefetch the page asks for when its queue runs low).

Not a test: run it by hand,

    python bench/page_bytes.py
"""

from __future__ import annotations

import gzip
import re
import secrets
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jury import ENTRY_COLUMNS, entry_rows, make_contest

from wle import migrate
from wle.app import create_app
from wle.config import Settings
from wle.db import engine_for, session_factory
from wle.models import Entry, User
from wle.models.jury import RATING
from wle.rounds import RoundForm, create_round, open_round, set_jurors
from wle.web.judging import PREFETCH

ENTRIES = 60
JUROR = "Juror 0"
ASSET = re.compile(r'<(?:link[^>]*rel="stylesheet"[^>]*href|script[^>]*src)="([^"]+)"')
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class PageError(Exception):
    """The page could not be fetched as a juror would; the message says what answered."""


def seed(url: str) -> int:
    """A contest of ENTRIES entries and an open rating round judged by three jurors; returns its id."""
    session = session_factory(url)()
    organizer = User(username="Bench Organizer", is_admin=True)
    session.add(organizer)
    contest = make_contest(session)
    session.execute(insert(Entry), [dict(zip(ENTRY_COLUMNS, row)) for row in entry_rows(contest.id, ENTRIES)])
    round_ = create_round(session, contest, organizer, RoundForm(kind=RATING, quorum=1))
    set_jurors(session, round_, organizer, [JUROR, "Juror 1", "Juror 2"])
    open_round(session, round_, organizer)
    session.commit()
    round_id = round_.id
    session.close()
    return round_id


def fetch(client, path: str, **kwargs) -> bytes:
    response = client.open(path, **kwargs)
    if response.status_code != 200:
        raise PageError(f"{kwargs.get('method', 'GET')} {path} answered {response.status_code}")
    return response.get_data()


def log_in(client) -> None:
    form = fetch(client, "/login").decode()
    token = CSRF_FIELD.search(form)
    if token is None:
        raise PageError("the login page has no CSRF token: is local mode off?")
    response = client.post("/login", data={"username": JUROR, "csrf_token": token.group(1)})
    if response.status_code != 302:
        raise PageError(f"logging in answered {response.status_code}, not a redirect")


def same_origin_assets(html: str) -> list[str]:
    """The page's stylesheets and scripts served by the platform itself (no scheme, no host)."""
    paths = []
    for address in ASSET.findall(html):
        parts = urlsplit(address.replace("&amp;", "&"))
        if not parts.scheme and not parts.netloc and address not in paths:
            paths.append(address)
    return paths


def row(label: str, data: bytes) -> tuple[int, int]:
    raw, packed = len(data), len(gzip.compress(data, compresslevel=6))
    print(f"  {label:<52} {raw:>9,} {packed:>9,}")
    return raw, packed


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        migrate.upgrade(url)
        round_id = seed(url)
        app = create_app(Settings(database_url=url, instance_dir=folder, secret_key=secrets.token_urlsafe(48)))
        client = app.test_client()
        log_in(client)
        page_path = f"/jury/rounds/{round_id}"
        html = fetch(client, page_path)
        print("The judging page of a rating round, first visit, without its pictures (bytes):")
        print(f"  {'':<52} {'as sent':>9} {'gzip':>9}")
        totals = [row(f"{page_path} (HTML, with {PREFETCH} entries inlined)", html)]
        for path in same_origin_assets(html.decode()):
            totals.append(row(path, fetch(client, path)))
        print(f"  {'total':<52} {sum(r for r, _ in totals):>9,} {sum(p for _, p in totals):>9,}")

        token = CSRF_META.search(html.decode()).group(1)
        api = f"/api/v1/jury/rounds/{round_id}"
        first = client.get(f"{api}/next?limit=1").get_json()["tasks"][0]["task"]
        print("Then per entry judged (JSON):")
        row("POST …/vote (answer)", fetch(client, f"{api}/tasks/{first}/vote", method="POST",
                                           json={"value": 4}, headers={"X-CSRFToken": token}))
        row("GET …/next?limit=1", fetch(client, f"{api}/next?limit=1"))
        row(f"GET …/next?limit={PREFETCH + 1} (the page's refill)", fetch(client, f"{api}/next?limit={PREFETCH + 1}"))
        engine_for(url).dispose()


if __name__ == "__main__":
    main()
