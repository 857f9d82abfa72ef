"""50 jurors voting at once: is every vote stored exactly once, with no server error, and how fast?

Prepares, in a PostgreSQL database of its own (created, then dropped), a contest of 10,000
entries (thumbnails marked made: the API only sends their addresses, so no image is needed) and a
rating round with quorum 3 and 50 jurors, through the organizers' own functions (``create_round``,
``set_jurors``, ``open_round``: 30,000 tasks). Starts the real app under gunicorn (several
worker processes) on a free loopback port, and lets 50 simulated jurors (one thread and one HTTP
session each) log in through the local-mode login form, with its CSRF token, then all start at the
same moment and loop: save a vote (``POST …/tasks/<id>/vote`` with ``X-CSRFToken``), get the next
entry (``GET …/next``). Each juror stops after ``--votes`` votes or ``--seconds``, whichever comes
first; gunicorn is stopped at the end. All traffic stays on 127.0.0.1.

Then checks, in the database: every acknowledged vote is stored, nothing else is, no task is
duplicated and every entry still has exactly ``quorum`` tasks; and that no answer was a 5xx.
Prints votes per second and the latency percentiles of "save a vote and get the next entry".

The API's rate limit (per juror) is raised for the run: it guards against a runaway script,
and here the question is what the server can carry, not where the limit is. The simulated jurors
run on the same machine as the server and take some of its CPU.

Not a test: run it by hand,

    python bench/load.py [--jurors 50] [--entries 10000] [--quorum 3] [--votes 100] [--seconds 60]
                         [--workers 2×CPUs+1] [--database-url postgresql://postgres@127.0.0.1:5432/test]

Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jury import (
    DEFAULT_SERVER,
    make_contest,
    percentiles,
    postgres_database,
    seed_entries,
)

from wle.db import session_factory
from wle.models import User
from wle.models.jury import RATING, Task
from wle.rounds import RoundForm, create_round, open_round, set_jurors

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class LoadTestError(Exception):
    """The server or the setup did not behave; the message says how."""


# -- the data ---------------------------------------------------------------------------------------

def seed(url: str, entries: int, jurors: int, quorum: int) -> tuple[int, list[str]]:
    """The contest, its entries and the open round, made as an organizer would; returns the round's
    id and the jurors' usernames."""
    session = session_factory(url)()
    organizer = User(username="Bench Organizer", is_admin=True)
    session.add(organizer)
    contest = make_contest(session)
    seed_entries(session, contest, entries)
    session.commit()
    round_ = create_round(session, contest, organizer, RoundForm(kind=RATING, quorum=quorum))
    names = [f"Juror {n}" for n in range(jurors)]
    set_jurors(session, round_, organizer, names)
    tasks = open_round(session, round_, organizer)
    session.commit()
    round_id = round_.id
    session.close()
    print(f"Seeded {entries:,} entries and a rating round with quorum {quorum}: {jurors} jurors, {tasks:,} tasks")
    return round_id, names


# -- the server ---------------------------------------------------------------------------------

def local_session() -> requests.Session:
    """An HTTP session that ignores proxy settings from the environment: everything goes to 127.0.0.1."""
    session = requests.Session()
    session.trust_env = False
    return session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_server(url: str, workers: int, instance: str, log_path: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("WLE_")}
    env.update(WLE_DATABASE_URL=url, WLE_SECRET_KEY=secrets.token_urlsafe(48), WLE_INSTANCE_DIR=instance,
               WLE_RATE_LIMIT_API="1000 per second", WLE_RATE_LIMIT_LOGIN="1000 per minute")
    with open(log_path, "w") as log:  # the child keeps its own copy of the file descriptor
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers), "--bind", f"{HOST}:{port}",
             "--timeout", "60", "wle.app:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    base = f"http://{HOST}:{port}"
    try:
        wait_until_up(server, base, log_path)
    except BaseException:  # never leave a server behind, whatever stopped us
        stop_server(server)
        raise
    return server, base


def wait_until_up(server: subprocess.Popen, base: str, log_path: str, seconds: float = 60) -> None:
    probe = local_session()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise LoadTestError(f"gunicorn exited with status {server.returncode}; see {log_path}")
        try:
            if probe.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or its workers are still starting
            pass
        time.sleep(0.2)
    raise LoadTestError(f"gunicorn did not answer /healthz within {seconds:.0f} s; see {log_path}")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# -- a juror ------------------------------------------------------------------------------------

@dataclass
class Juror:
    name: str
    base: str
    round_id: int
    statuses: Counter = field(default_factory=Counter)
    acknowledged: list[int] = field(default_factory=list)  # task ids whose vote the server confirmed
    steps: list[float] = field(default_factory=list)  # seconds for "save a vote and get the next entry"
    errors: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.http = local_session()
        self.api = f"{self.base}/api/v1/jury/rounds/{self.round_id}"

    def log_in(self) -> None:
        """Through the local-mode form, as a person would; then the page gives the token for the API."""
        form = self.http.get(f"{self.base}/login", timeout=30)
        token = CSRF_FIELD.search(form.text)
        if form.status_code != 200 or token is None:
            raise LoadTestError(f"{self.name}: the login page answered {form.status_code} without a CSRF token")
        done = self.http.post(f"{self.base}/login", data={"username": self.name, "csrf_token": token.group(1)},
                              allow_redirects=False, timeout=30)
        if done.status_code != 302:
            raise LoadTestError(f"{self.name}: logging in answered {done.status_code}, not a redirect")
        page = self.http.get(f"{self.base}/jury/rounds/{self.round_id}", timeout=30)
        token = CSRF_META.search(page.text)
        if page.status_code != 200 or token is None:
            raise LoadTestError(f"{self.name}: the judging page answered {page.status_code} without a CSRF token")
        self.http.headers["X-CSRFToken"] = token.group(1)

    def call(self, method: str, url: str, **kwargs) -> requests.Response | None:
        try:
            response = self.http.request(method, url, timeout=60, **kwargs)
        except requests.RequestException as error:
            self.statuses["no answer"] += 1
            self.errors.append(f"{method} {url}: {error}")
            return None
        self.statuses[response.status_code] += 1
        if response.status_code != 200 and len(self.errors) < 5:
            self.errors.append(f"{method} {url}: {response.status_code} {response.text[:200]}")
        return response

    def judge(self, start: threading.Barrier, votes: int, deadline_seconds: float) -> None:
        rng = random.Random(self.name)
        start.wait()
        deadline = time.monotonic() + deadline_seconds
        answer = self.call("GET", f"{self.api}/next?limit=1")
        tasks = answer.json()["tasks"] if answer is not None and answer.status_code == 200 else []
        while tasks and len(self.acknowledged) < votes and time.monotonic() < deadline:
            task_id = tasks[0]["task"]
            started = time.perf_counter()
            saved = self.call("POST", f"{self.api}/tasks/{task_id}/vote", json={"value": rng.randint(1, 5)})
            if saved is None or saved.status_code != 200:
                return
            self.acknowledged.append(task_id)
            answer = self.call("GET", f"{self.api}/next?limit=1")
            if answer is None or answer.status_code != 200:
                return
            self.steps.append(time.perf_counter() - started)
            tasks = answer.json()["tasks"]


def run_jurors(base: str, round_id: int, names: list[str], votes: int, seconds: float) -> tuple[list[Juror], float]:
    jurors = [Juror(name, base, round_id) for name in names]
    for juror in jurors:  # one after another: logging in is not what is measured
        juror.log_in()
    start = threading.Barrier(len(jurors) + 1)
    threads = [threading.Thread(target=j.judge, args=(start, votes, seconds), daemon=True) for j in jurors]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(seconds + 120)
    if any(thread.is_alive() for thread in threads):
        raise LoadTestError("some jurors were still waiting for an answer 2 minutes after the deadline")
    return jurors, time.perf_counter() - started


# -- the checks and the figures -------------------------------------------------------------------

def check(url: str, round_id: int, quorum: int, jurors: list[Juror]) -> list[str]:
    """What went wrong, as sentences; empty when every vote is stored exactly once and nothing failed."""
    problems = []
    statuses = sum((j.statuses for j in jurors), Counter())
    server_errors = {s: n for s, n in statuses.items() if isinstance(s, int) and s >= 500}
    if server_errors:
        problems.append(f"server errors: {server_errors}")
    other = {s: n for s, n in statuses.items() if s != 200 and s not in server_errors}
    if other:
        problems.append(f"answers other than 200: {other}")
    acknowledged = [task for j in jurors for task in j.acknowledged]
    if len(acknowledged) != len(set(acknowledged)):
        problems.append("a task was acknowledged twice (the script voted on an entry it had voted on)")
    session = session_factory(url)()
    stored = set(session.scalars(select(Task.id).where(Task.round_id == round_id, Task.value.is_not(None))))
    if stored != set(acknowledged):
        problems.append(f"{len(set(acknowledged) - stored)} acknowledged votes are missing and "
                        f"{len(stored - set(acknowledged))} stored votes were never acknowledged")
    duplicates = session.scalar(select(func.count()).select_from(
        select(Task.user_id, Task.entry_id).where(Task.round_id == round_id)
        .group_by(Task.user_id, Task.entry_id).having(func.count() > 1).subquery()))
    if duplicates:
        problems.append(f"{duplicates} (juror, entry) pairs have more than one task")
    per_entry = Counter(session.execute(
        select(func.count()).where(Task.round_id == round_id).group_by(Task.entry_id)).scalars())
    if set(per_entry) != {quorum}:
        problems.append(f"entries by number of tasks: {dict(per_entry)} (each should have {quorum})")
    session.close()
    for juror in jurors:
        for error in juror.errors[:2]:
            problems.append(f"{juror.name}: {error}")
    return problems


def report(jurors: list[Juror], elapsed: float, workers: int) -> None:
    votes = sum(len(j.acknowledged) for j in jurors)
    steps = [s for j in jurors for s in j.steps]
    statuses = sum((j.statuses for j in jurors), Counter())
    print(f"{len(jurors)} jurors, gunicorn with {workers} workers: {votes:,} votes in {elapsed:.1f} s = "
          f"{votes / elapsed:.0f} votes/s ({sum(statuses.values()):,} requests, answers {dict(statuses)})")
    if steps:
        p = percentiles(steps)
        print(f"save a vote and get the next entry: p50 {p['p50']:.0f} ms, p90 {p['p90']:.0f} ms, "
              f"p99 {p['p99']:.0f} ms, max {p['max']:.0f} ms (n={len(steps):,})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jurors", type=int, default=50)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--quorum", type=int, default=3)
    parser.add_argument("--votes", type=int, default=100, help="votes per juror at most")
    parser.add_argument("--seconds", type=float, default=60, help="each juror stops voting after this long")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--database-url", default=os.environ.get("WLE_BENCH_DATABASE_URL", DEFAULT_SERVER))
    args = parser.parse_args()
    if args.quorum > args.jurors:
        parser.error("the quorum cannot exceed the number of jurors")

    with postgres_database(args.database_url) as url, tempfile.TemporaryDirectory() as instance:
        round_id, names = seed(url, args.entries, args.jurors, args.quorum)
        log_path = str(Path(instance) / "gunicorn.log")
        server, base = start_server(url, args.workers, instance, log_path)
        try:
            jurors, elapsed = run_jurors(base, round_id, names, args.votes, args.seconds)
        finally:
            stop_server(server)
        report(jurors, elapsed, args.workers)
        problems = check(url, round_id, args.quorum, jurors)
        if problems:
            print("FAILED:\n  " + "\n  ".join(problems))
            print("gunicorn's log, last lines:\n" + "\n".join(Path(log_path).read_text().splitlines()[-20:]))
            return 1
        print("OK: every acknowledged vote is stored exactly once, nothing else is; no 5xx; "
              f"every entry has {args.quorum} tasks")
        return 0


if __name__ == "__main__":
    sys.exit(main())
