"""PostgreSQL restarted under load: requests in flight fail cleanly (an error page, no hang, no
traceback), the next ones succeed (the pool tests each connection before use, ``wle.db``).

The shared PostgreSQL server cannot be restarted safely from a test, so this one starts a cluster
of its own (``initdb`` and ``pg_ctl`` from /usr/lib/postgresql/*/bin, in a temporary folder, as the
``postgres`` user when run as root, since PostgreSQL refuses to run as root), serves the real app
with gunicorn against it, and stops and starts the cluster while clients keep asking for pages.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import DATABASES
from tests.factories import make_contest
from tests.faults.support import free_port, wait_until, wle_env
from tests.web.conftest import log_in, make_entries
from wle import migrate
from wle.app import create_app
from wle.db import engine_for, session_factory
from wle.models import User

# The test brings its own PostgreSQL; the shared fixtures' database is not used: take the cheapest.
pytestmark = pytest.mark.parametrize("database_url", DATABASES[:1], indirect=True)
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
CLIENTS = 6
REQUEST_TIMEOUT = 20  # seconds: far more than any page needs; reaching it means a request hung


@dataclass
class Cluster:
    bin: Path
    data: Path
    port: int
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/wle"

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.data.parent / "log"),
                  "-w", "-t", "30", *args)

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        if self.run_as:
            command = ("runuser", "-u", self.run_as, "--", *command)
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


def server_binaries() -> Path | None:
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


@pytest.fixture
def cluster():
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine to start a private cluster")
    run_as = None
    # Not under pytest's tmp_path: its parents are closed to other users, the postgres user included.
    folder = Path(tempfile.mkdtemp(prefix="wle-postgres-"))
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            pytest.skip("running as root with no `postgres` user to run a private PostgreSQL cluster as")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        run_as = "postgres"
    cluster = Cluster(binaries, folder / "data", free_port(), run_as)
    try:
        cluster._run(str(binaries / "initdb"), "-D", str(cluster.data), "-A", "trust", "-U", "postgres",
                     "-E", "UTF8", "--no-sync")
        cluster.pg_ctl("start")
    except subprocess.CalledProcessError as error:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"a private PostgreSQL cluster could not be started here: {error.stderr or error.stdout}")
    admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE wle"))
    admin.dispose()
    yield cluster
    engine_for(cluster.url).dispose()
    try:
        cluster.pg_ctl("-m", "immediate", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Outcome:
    started: float
    ended: float
    path: str
    status: int | None  # None: no answer at all
    body: str


def load(base_url: str, cookie: str, paths: list[str], stop: threading.Event, outcomes: list[Outcome]) -> None:
    """Ask for the pages one after another until ``stop`` is set, recording every answer."""
    http = requests.Session()
    http.cookies.set("session", cookie)
    while not stop.is_set():
        for path in paths:
            started = time.monotonic()
            try:
                response = http.get(base_url + path, timeout=REQUEST_TIMEOUT)
                status, body = response.status_code, response.text
            except requests.RequestException as error:
                status, body = None, repr(error)
            outcomes.append(Outcome(started, time.monotonic(), path, status, body))


def test_requests_in_flight_fail_cleanly_and_the_next_ones_succeed(settings, cluster, tmp_path):
    settings = dataclasses.replace(settings, database_url=cluster.url)
    migrate.upgrade(cluster.url)
    session = session_factory(cluster.url)()
    organizer = User(username="Organizer", wiki_sub="42", is_admin=True)
    session.add(organizer)
    contest = make_contest(session)
    pageid = make_entries(session, contest, 150)[0].pageid
    session.commit()
    session.close()
    app = create_app(settings)
    client = log_in(app.test_client(), organizer)
    client.get("/")  # the session cookie, signed with the app's secret key, as a browser holds it
    cookie = client.get_cookie("session").value

    port = free_port()
    with open(tmp_path / "gunicorn.log", "wb") as log:
        web = subprocess.Popen([GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
                                "wle.app:create_app()"], env=wle_env(settings), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    outcomes: list[Outcome] = []
    stop = threading.Event()
    # Pages, not the API: its rate limit would answer 429 to clients this eager.
    paths = [f"/contests/{contest.slug}", f"/contests/{contest.slug}/entries",
             f"/contests/{contest.slug}/entries/{pageid}", "/readyz"]
    clients = [threading.Thread(target=load, args=(base, cookie, paths, stop, outcomes)) for _ in range(CLIENTS)]
    try:
        wait_until(lambda: _answers(base + "/healthz"), 30, "gunicorn to answer")
        for thread in clients:
            thread.start()
        time.sleep(1.5)
        down = time.monotonic()
        cluster.pg_ctl("-m", "fast", "stop")  # sessions in progress are cut off
        time.sleep(1.0)
        cluster.pg_ctl("start")
        up = time.monotonic()
        time.sleep(2.0)
    finally:
        stop.set()
        for thread in clients:
            if thread.ident is not None:  # started
                thread.join(timeout=REQUEST_TIMEOUT + 5)
        web.terminate()
        web.wait(timeout=30)

    assert all(outcome.status is not None for outcome in outcomes), "a request got no answer"
    assert max(outcome.ended - outcome.started for outcome in outcomes) < 10, "a request hung"
    before = [o for o in outcomes if o.ended < down]
    during = [o for o in outcomes if o.started < up and o.ended >= down]
    after = [o for o in outcomes if o.started >= up]
    assert before and after
    assert all(o.status == 200 for o in before)
    failed = [o for o in during if o.status != 200]
    assert failed, "no request was in flight while the database was down: the test proved nothing"
    for outcome in failed:
        assert outcome.status in (500, 503), outcome
        assert "Traceback" not in outcome.body and "psycopg" not in outcome.body, outcome.body[:500]
        if outcome.path == "/readyz":
            assert '"database":"down"' in outcome.body.replace(" ", "")
        else:
            assert "Something went wrong" in outcome.body, outcome.body[:500]
    assert [o for o in after if o.status != 200] == []


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
