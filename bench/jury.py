"""How fast is a juror's vote and their next entry in a big round, and how long does its tally take?

Seeds, in a PostgreSQL database of its own (created, then dropped), one open rating round of
100,000 entries judged by 100 jurors with quorum 11: 1,100,000 tasks, of which 1,000,000 already
carry a vote (each juror has about 1,000 entries left). The rows go in with COPY, then ANALYZE.
Then, in one process and through the domain functions the web API calls:

- ``vote()`` and its commit, for a random juror's next open task;
- ``next_tasks()`` (1 entry, and the 6 the juror's page prefetches) and ``progress()``;
- "save a vote and get the next entry" as ``POST …/vote`` then ``GET …/next`` do it (vote,
  commit, progress, next tasks, progress);
- ``tally.results()`` over the whole round.

Not a test: run it by hand,

    python bench/jury.py [--entries 100000] [--votes 1000000] [--jurors 100] [--samples 1000]
                         [--database-url postgresql://postgres@127.0.0.1:5432/test]

``--database-url`` names the server (its database part is ignored: the benchmark makes its own).
The seeding helpers here are shared with ``bench/load.py`` and ``bench/page_bytes.py``.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wle import migrate, tally, voting
from wle.contests import ContestForm, create_contest
from wle.db import engine_for, normalize_url, session_factory
from wle.models import Entry, User
from wle.models.jury import OPEN, RATING, Round, RoundJuror, Task
from wle.rounds import order_key

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
START = datetime(2025, 6, 1, tzinfo=UTC)
END = datetime(2025, 7, 1, tzinfo=UTC)


# -- a database of our own ------------------------------------------------------------------------

@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh, migrated database on the server, dropped at the end whatever happens."""
    name = f"wle_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalize_url(server_url).rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


# -- seeding ----------------------------------------------------------------------------------------

def copy_rows(session, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """PostgreSQL's COPY through the session's own connection (same transaction): the fastest way in."""
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def make_contest(session, slug: str = "bench-2025"):
    contest = create_contest(session, ContestForm(
        slug=slug, name="Benchmark 2025", categories=["Bench 2025"], starts_at=START.replace(tzinfo=None),
        ends_at=END.replace(tzinfo=None)))
    session.flush()
    return contest


ENTRY_COLUMNS = ("contest_id", "pageid", "title", "uploader", "uploaded_at", "reuploaded", "last_uploaded_at",
                 "width", "height", "size", "mime", "sha1", "license", "credit", "categories", "file_url", "page_url",
                 "thumb_key", "thumb_state", "first_seen_at", "last_seen_at")


def entry_rows(contest_id: int, count: int) -> Iterator[tuple]:
    """Eligible entries (own work, 12 MP or more, inside the window, thumbnails made), by 1 uploader in 10."""
    rng = random.Random(contest_id)
    for n in range(count):
        uploaded = START + timedelta(seconds=rng.randint(0, 29 * 86400))
        width, height = rng.choice(((4000, 3000), (3000, 4000), (6000, 4000)))
        yield (contest_id, 1_000_000 + n, f"File:Bench {n}.jpg", f"Uploader {n % max(1, count // 10)}", uploaded,
               False, uploaded, width, height, 5_000_000, "image/jpeg", f"{n:040x}", "CC BY-SA 4.0", "Own work", '["Bench 2025"]',
               "https://upload.test/f.jpg", "https://commons.test/wiki/F", f"{n:032x}", "done", START, START)


def seed_entries(session, contest, count: int) -> list[int]:
    copy_rows(session, "entries", ENTRY_COLUMNS, entry_rows(contest.id, count))
    return list(session.scalars(select(Entry.id).where(Entry.contest_id == contest.id).order_by(Entry.id)))


def seed_jurors(session, count: int, prefix: str = "Juror") -> list[int]:
    session.execute(insert(User), [{"username": f"{prefix} {n}"} for n in range(count)])
    return list(session.scalars(select(User.id).where(User.username.like(f"{prefix} %")).order_by(User.id)))


def seed_voted_round(session, contest, entries: list[int], jurors: list[int], quorum: int, votes: int) -> Round:
    """An open rating round whose tasks go round-robin over the jurors (entry i gets jurors i … i+quorum−1);
    the first `votes` tasks in (juror, entry) order of each juror's walk carry a vote."""
    round_ = Round(contest_id=contest.id, number=1, name="Round 1", kind=RATING, quorum=quorum, state=OPEN,
                   selection={"source": "bench"}, opened_at=START)
    session.add(round_)
    session.flush()
    session.execute(insert(RoundJuror), [{"round_id": round_.id, "user_id": u} for u in jurors])
    copy_rows(session, "round_entries", ("round_id", "entry_id", "added_at"), ((round_.id, e, START) for e in entries))
    tasks = len(entries) * quorum
    share = votes / tasks  # the same part of every juror's tasks is done
    rng = random.Random(round_.id)

    def rows():
        done_by = {u: 0 for u in jurors}
        given_by = {u: 0 for u in jurors}
        for i, entry in enumerate(entries):
            for k in range(quorum):
                user = jurors[(i + k) % len(jurors)]
                given_by[user] += 1
                voted = done_by[user] < share * given_by[user]
                if voted:
                    done_by[user] += 1
                yield (round_.id, user, entry, rng.randint(1, 5) if voted else None, START if voted else None, 0,
                       order_key(round_.id, user, entry), START)

    copy_rows(session, "tasks", ("round_id", "user_id", "entry_id", "value", "voted_at", "skipped_seq", "order_key",
                                 "created_at"), rows())
    return round_


# -- measuring --------------------------------------------------------------------------------------

def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99 and max, in milliseconds (nearest-rank percentiles)."""
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000

    return {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": ordered[-1] * 1000}


def show(label: str, samples: Sequence[float]) -> None:
    p = percentiles(samples)
    print(f"  {label:<48} p50 {p['p50']:7.2f}  p90 {p['p90']:7.2f}  p99 {p['p99']:7.2f}  max {p['max']:7.2f} ms"
          f"  (n={len(samples)})")


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def measure_voting(url: str, round_id: int, jurors: list[int], samples: int) -> None:
    session = session_factory(url)()
    rng = random.Random(7)
    times: dict[str, list[float]] = {k: [] for k in ("vote", "next1", "next6", "progress", "both")}
    for _ in range(samples):
        user = rng.choice(jurors)
        tasks, elapsed = timed(voting.next_tasks, session, user, round_id, limit=1)
        times["next1"].append(elapsed)
        if not tasks:
            continue
        started = time.perf_counter()
        voting.vote(session, user, tasks[0].id, rng.randint(1, 5), round_id=round_id)
        session.commit()
        times["vote"].append(time.perf_counter() - started)
        _, elapsed = timed(voting.progress, session, user, round_id)
        times["progress"].append(elapsed)
        _, elapsed = timed(voting.next_tasks, session, user, round_id, limit=6)
        times["next6"].append(elapsed)
        session.commit()
        # What the API does for one juror's step: POST …/vote, then GET …/next.
        user = rng.choice(jurors)
        task = voting.next_tasks(session, user, round_id, limit=1)
        session.commit()
        if not task:
            continue
        started = time.perf_counter()
        voting.vote(session, user, task[0].id, rng.randint(1, 5), round_id=round_id)
        session.commit()
        voting.progress(session, user, round_id)
        voting.next_tasks(session, user, round_id, limit=1)
        voting.progress(session, user, round_id)
        session.commit()
        times["both"].append(time.perf_counter() - started)
    print("Latency, one process, domain functions (milliseconds):")
    show("vote() + commit", times["vote"])
    show("next_tasks(limit=1)", times["next1"])
    show("next_tasks(limit=6)", times["next6"])
    show("progress()", times["progress"])
    show("save vote + next entry (the API's calls)", times["both"])
    session.close()


def measure_tally(url: str, round_id: int, runs: int = 3) -> None:
    session = session_factory(url)()
    round_ = session.get(Round, round_id)
    took = []
    for _ in range(runs):
        standings, elapsed = timed(tally.results, session, round_)
        took.append(elapsed)
        session.rollback()
    scored = sum(1 for s in standings if s.tally.votes)
    print(f"tally.results(): {len(standings):,} entries ({scored:,} with votes): "
          f"best {min(took):.2f} s, median {statistics.median(took):.2f} s over {runs} runs")
    session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--jurors", type=int, default=100)
    parser.add_argument("--quorum", type=int, default=0, help="jurors per entry (default: enough to leave "
                        "about 10%% of the tasks open)")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--database-url", default=os.environ.get("WLE_BENCH_DATABASE_URL", DEFAULT_SERVER))
    args = parser.parse_args()
    quorum = args.quorum or max(1, math.ceil(args.votes * 1.1 / args.entries))
    if args.entries * quorum < args.votes:
        parser.error(f"{args.entries} entries with quorum {quorum} cannot hold {args.votes} votes")
    if quorum > args.jurors:
        parser.error(f"quorum {quorum} needs at least as many jurors (--jurors {args.jurors})")

    with postgres_database(args.database_url) as url:
        session = session_factory(url)()
        started = time.perf_counter()
        contest = make_contest(session)
        entries = seed_entries(session, contest, args.entries)
        jurors = seed_jurors(session, args.jurors)
        round_ = seed_voted_round(session, contest, entries, jurors, quorum, args.votes)
        session.commit()
        round_id = round_.id
        counted = session.execute(select(func.count(), func.count(Task.value)).where(Task.round_id == round_id)).one()
        session.close()
        with engine_for(url).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
        print(f"Seeded {args.entries:,} entries, {args.jurors} jurors, quorum {quorum}: {counted[0]:,} tasks, "
              f"{counted[1]:,} votes, in {time.perf_counter() - started:.1f} s (COPY, then ANALYZE)")
        measure_voting(url, round_id, jurors, args.samples)
        measure_tally(url, round_id)


if __name__ == "__main__":
    main()
