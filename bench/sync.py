"""How many API requests, and how long, to sync a category of 10,000 files?

Serves a category of generated files from a local fake Commons (``tests/fake_commons.py``) whose
answers have the real API's shapes: 500 members per generator page, imageinfo with a thumbnail
URL for 50 files a request and ``iicontinue`` for the rest of the page, ``gcmcontinue`` between
pages. Then measures, in a fresh database:

- the listing alone (``CommonsClient.category_files``: HTTP, JSON, merging and parsing);
- a first sync (``wle.sync.run_sync``): every file stored;
- a second sync of the whole category, in which nothing changed;
- a sync of the changes, as the scheduler runs it every hour (``gcmsort=timestamp``), after 100
  files were added.

and compares the requests with the floor the API allows: one request per 50 files when thumbnail
URLs are asked for (per 500 for a bare listing). ``--latency`` delays every answer, to estimate
the time at Commons' own pace (a request for 50 files with their metadata takes it about a second).
Not a test: run it by hand,

    python bench/sync.py [--files 10000] [--latency 0]

on SQLite (a temporary file) and, if ``WLE_BENCH_DATABASE_URL`` is set (a PostgreSQL server, e.g.
postgresql://postgres@127.0.0.1:5432/test), on PostgreSQL too, in a database of its own that it
creates and drops.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_commons import CATEGORY, FakeCommons, make_files  # noqa: E402
from wle import migrate  # noqa: E402
from wle.commons import CommonsClient  # noqa: E402
from wle.contests import ContestForm, create_contest  # noqa: E402
from wle.db import engine_for, normalize_url, session_factory  # noqa: E402
from wle.sync import begin_sync, run_sync  # noqa: E402

START = datetime(2025, 6, 15, tzinfo=timezone.utc)
ADDED_LATER = 100


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        yield url
        engine_for(url).dispose()


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    name = f"wle_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalize_url(server_url).rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(label: str, step) -> tuple:
    started = time.perf_counter()
    requests, listed = step()
    return label, requests, listed, time.perf_counter() - started


def bench(database_url: str, count: int, latency: float) -> list[tuple]:
    migrate.upgrade(database_url)
    session = session_factory(database_url)()
    contest = create_contest(session, ContestForm(
        slug="bench", name="Bench", categories=[CATEGORY], starts_at=START, ends_at=START + timedelta(days=30)))
    session.commit()
    files = make_files(count, start=START)
    rows = []
    with FakeCommons(files, delay=latency) as commons:
        client = CommonsClient(commons.url, "wle-bench@example.org", thumb_width=1280)

        def listing():
            before = client.requests_made
            listed = sum(len(batch) for batch in client.category_files(CATEGORY))
            return client.requests_made - before, listed

        def sync(since: datetime | None = None):
            run = begin_sync(session, contest, "bench")
            run.since = since
            session.commit()
            run = run_sync(session, run.id, client)
            assert run.state == "done", run.error
            return run.requests, run.files_seen

        rows.append(measure("listing only", listing))
        rows.append(measure("first sync", sync))
        rows.append(measure("second sync, no change", sync))
        last_added = files[-1].added
        commons.add_files(make_files(ADDED_LATER, first_pageid=10_000_000, start=last_added + timedelta(hours=1)))
        since = last_added + timedelta(minutes=30)
        rows.append(measure(f"sync of the changes (+{ADDED_LATER})", lambda: sync(since)))
    session.close()
    return rows


def report(database: str, count: int, latency: float, rows: list[tuple]) -> None:
    floor = math.ceil(count / 50)
    print(f"\n{database}: a category of {count:,} files, {latency * 1000:.0f} ms added to each answer")
    print(f"{'step':<32}{'requests':>9}{'files':>8}{'req/file':>10}{'seconds':>9}{'files/s':>9}")
    for label, requests, listed, seconds in rows:
        print(f"{label:<32}{requests:>9,}{listed:>8,}{requests / max(listed, 1):>10.4f}{seconds:>9.2f}"
              f"{listed / seconds:>9,.0f}")
    print(f"the API's floor: {floor:,} requests ({1 / 50:.4f} per file: 50 thumbnail URLs a request; "
          f"{math.ceil(count / 500):,} for a bare listing, 500 files a request)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="files in the category (default 10,000)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer (default 0)")
    arguments = parser.parse_args()
    with sqlite_database() as url:
        report("SQLite", arguments.files, arguments.latency, bench(url, arguments.files, arguments.latency))
    server = os.environ.get("WLE_BENCH_DATABASE_URL")
    if server:
        with postgres_database(server) as url:
            report("PostgreSQL", arguments.files, arguments.latency, bench(url, arguments.files, arguments.latency))


if __name__ == "__main__":
    main()
