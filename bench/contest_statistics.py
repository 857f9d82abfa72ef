"""How long do a contest's statistics take, and its statistics page, for 100,000 entries?

Seeds one contest the size of a large national one into a fresh database — entries over a
month-long window (some outside it, some gone), ~10,000 uploaders with registration dates, each
file's use on the wikis, a list of 3,000 protected sites in 14 regions, the site IDs read from
the file pages — plus last year's contest with the same ID template. Then times, each several
times after a warm-up:

- ``contest_statistics()``: every figure, the daily curve, the tables;
- the statistics page, through the real app (login, view, template), as an organizer sees it.

The page must answer in under a second. Not a test: run it by hand,

    python bench/contest_statistics.py [--entries 100000]

on SQLite (a temporary file) and, if ``WLE_BENCH_DATABASE_URL`` is set (a PostgreSQL server, e.g.
postgresql://postgres@127.0.0.1:5432/test), on PostgreSQL too, in a database of its own that it
creates and drops.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wle import migrate  # noqa: E402
from wle.app import create_app  # noqa: E402
from wle.config import Settings  # noqa: E402
from wle.contests import ContestForm, create_contest  # noqa: E402
from wle.db import engine_for, normalize_url, session_factory  # noqa: E402
from wle.models import Contest, Entry, Uploader, User  # noqa: E402
from wle.models.rules import ContestRules, EntrySite, EntryWikitext, Site  # noqa: E402
from wle.models.statistics import EntryUsage  # noqa: E402
from wle.statistics import contest_statistics  # noqa: E402

TEMPLATE = "Protected area of Kazakhstan"
REGIONS = [f"Region {n}" for n in range(1, 15)]
CHUNK = 5000
# Real file pages and entries are this wordy: the statistics must not pay for it.
WIKITEXT = ("=={{int:filedesc}}==\n{{Information\n|description={{en|1=A lake in the mountains.}}\n"
            "|source={{own}}\n|author=[[User:Someone|Someone]]\n}}\n{{Location|43.1|77.2}}\n"
            f"{{{{{TEMPLATE}|KZ-00001}}}}\n{{{{Wiki Loves Earth 2025|kz}}}}\n" + "[[Category:Lakes]]\n" * 60)
DESCRIPTION = "A lake in the mountains, early in the morning, seen from the northern shore. " * 3
CATEGORIES = ["Images from Wiki Loves Earth 2025 in Kazakhstan", "Lakes of Kazakhstan", "Mountains"]
RUNS = 5


def seed(url: str, entries: int) -> str:
    """Create the contests and their data; return the big contest's slug."""
    random.seed(2025)
    session = session_factory(url)()
    admin = User(username="Bench Admin", wiki_sub="bench-1", is_admin=True)
    session.add(admin)
    big = create_contest(session, ContestForm(
        slug="bench-2025", name="Benchmark 2025", categories=["Bench 2025"], starts_at=datetime(2025, 6, 1),
        ends_at=datetime(2025, 7, 1), timezone="Asia/Almaty"))
    last_year = create_contest(session, ContestForm(
        slug="bench-2024", name="Benchmark 2024", categories=["Bench 2024"], starts_at=datetime(2024, 6, 1),
        ends_at=datetime(2024, 7, 1), timezone="Asia/Almaty"))
    for contest in (big, last_year):
        session.add(ContestRules(contest_id=contest.id, settings={"site_template": TEMPLATE}))
    session.commit()

    sites = [f"KZ-{n:05d}" for n in range(3000)]
    bulk(session, Site, [{"contest_id": big.id, "site_id": s, "name": f"Site {s}", "region": REGIONS[i % 14]}
                         for i, s in enumerate(sites)])
    uploaders = [f"Uploader {n}" for n in range(entries // 10)]
    start = big.starts_at
    bulk(session, Uploader, [
        {"name": name, "registered_at": registration(n, start), "fetched_at": start, "missing": False}
        for n, name in enumerate(uploaders)])
    seed_entries(session, big, entries, uploaders, sites, start)
    seed_entries(session, last_year, entries // 4, uploaders, sites[:1000], last_year.starts_at)
    session.close()
    return big.slug


def registration(number: int, start: datetime) -> datetime | None:
    """Three newcomers in four (as in recent years), one in twenty unknown."""
    if number % 20 == 0:
        return None
    if number % 4 == 0:
        return start - timedelta(days=random.randint(1, 3000))
    return start + timedelta(minutes=random.randint(0, 30 * 24 * 60))


def seed_entries(session, contest, count: int, uploaders: list[str], sites: list[str], start: datetime) -> None:
    """Entries over the window and a little beyond, with usage and site readings."""
    pageid_base = contest.id * 10_000_000
    for first in range(0, count, CHUNK):
        rows = []
        for n in range(first, min(first + CHUNK, count)):
            uploaded = start + timedelta(seconds=random.randint(-2 * 86400, 32 * 86400))
            rows.append({
                "contest_id": contest.id, "pageid": pageid_base + n, "title": f"File:Bench {contest.id} {n}.jpg",
                "uploader": uploaders[int(len(uploaders) * random.random() ** 3)],  # a few upload a lot
                "uploaded_at": uploaded, "reuploaded": False, "last_uploaded_at": uploaded,
                "width": random.choice((1200, 4000, 6000)), "height": random.choice((900, 3000, 4000)),
                "size": 5_000_000, "mime": "image/jpeg", "sha1": f"{pageid_base + n:040x}",
                "description": DESCRIPTION, "categories": CATEGORIES, "license": "CC BY-SA 4.0",
                "file_url": "https://upload.test/f.jpg", "page_url": "https://commons.test/wiki/F",
                "thumb_key": f"{pageid_base + n:032x}", "thumb_state": "done",
                "first_seen_at": start, "last_seen_at": start,
                "gone_at": start if n % 97 == 0 else None,
            })
        session.execute(insert(Entry), rows)
        ids = session.scalars(text(
            "SELECT id FROM entries WHERE contest_id = :c AND pageid >= :lo AND pageid < :hi ORDER BY id"
        ).bindparams(c=contest.id, lo=pageid_base + first, hi=pageid_base + first + CHUNK)).all()
        session.execute(insert(EntryUsage), [
            {"entry_id": i, "usage_count": random.choice((0, 0, 0, 1, 2)), "fetched_at": start} for i in ids])
        read = [i for i in ids if random.random() < 0.95]
        session.execute(insert(EntryWikitext), [
            {"entry_id": i, "contest_id": contest.id, "revid": 1, "wikitext": WIKITEXT, "fetched_at": start,
             "template_found": True, "malformed": []} for i in read])
        with_id = [i for i in read if random.random() < 0.9]
        session.execute(insert(EntrySite), [
            {"entry_id": i, "contest_id": contest.id,
             "site_id": random.choice(sites) if random.random() < 0.97 else f"XX-{i}"} for i in with_id])
        session.commit()


def bulk(session, model, rows: list[dict]) -> None:
    for first in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[first:first + CHUNK])
    session.commit()


def timed(function, runs: int = RUNS) -> list[tuple[float, float]]:
    """(wall, CPU) milliseconds per run, after one warm-up run.

    The CPU time of this process is the honest figure on a busy machine for SQLite, which runs
    inside it; PostgreSQL's work is in its server and shows in the wall time only.
    """
    function()
    timings = []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        timings.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
    return timings


def measure(name: str, url: str, entries: int, tmp: Path) -> None:
    started = time.perf_counter()
    migrate.upgrade(url)
    slug = seed(url, entries)
    print(f"\n{name}: seeded {entries:,} entries in {time.perf_counter() - started:.1f} s")
    if url.startswith(("postgresql", "postgres")):
        # What autovacuum does soon after a sync: table statistics, and the visibility map that
        # index-only scans need.
        with engine_for(url).connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))

    session = session_factory(url)()
    contest = session.scalar(select(Contest).where(Contest.slug == slug))
    stats = contest_statistics(session, contest)
    print(f"  {stats.uploads:,} uploads, {stats.uploaders:,} uploaders, {stats.newcomers:,} newcomers, "
          f"{stats.in_use:,} in use, {stats.sites.sites_pictured:,} sites pictured "
          f"({stats.sites.pictured_first_time:,} for the first time)")
    report("contest_statistics()", timed(lambda: contest_statistics(session, contest)))

    app = create_app(Settings(database_url=url, instance_dir=str(tmp / "instance"), secret_key="bench"))
    client = app.test_client()
    admin = session.scalar(select(User.id).where(User.username == "Bench Admin"))
    with client.session_transaction() as browser:
        browser["_user_id"], browser["_fresh"] = str(admin), True

    def page():
        response = client.get(f"/contests/{slug}/statistics")
        assert response.status_code == 200, response.status_code

    report("statistics page", timed(page))
    session.close()
    engine_for(url).dispose()


def report(what: str, timings: list[tuple[float, float]]) -> None:
    walls = sorted(wall for wall, _cpu in timings)
    cpus = sorted(cpu for _wall, cpu in timings)
    median = walls[len(walls) // 2]  # (this file's name hides the statistics module)
    verdict = "" if what != "statistics page" else ("  (under 1 s)" if walls[-1] < 1000 else "  TOO SLOW")
    print(f"  {what:<22} median {median:7.1f} ms   max {walls[-1]:7.1f} ms   "
          f"(CPU here: median {cpus[len(cpus) // 2]:6.1f} ms){verdict}")


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A database of our own on the given server, dropped afterwards: nothing else is touched."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="entries of the big contest (default 100,000)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        measure("SQLite", f"sqlite:///{tmp / 'bench.sqlite3'}", arguments.entries, tmp)
        postgres = os.environ.get("WLE_BENCH_DATABASE_URL", "")
        if postgres:
            with postgres_database(postgres) as url:
                measure("PostgreSQL", url, arguments.entries, tmp)
        else:
            print("\n(set WLE_BENCH_DATABASE_URL, e.g. postgresql://postgres@127.0.0.1:5432/test, to measure "
                  "PostgreSQL too; the benchmark creates and drops a database of its own there)")


if __name__ == "__main__":
    main()
