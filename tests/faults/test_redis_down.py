"""Redis down: organizers still browse their contest; starting a sync says the queue is
unreachable and leaves no run stuck as queued; once Redis is back, work resumes.

The app reaches the real Redis through a door of our own, a TCP port that forwards to it while
open and refuses connections while closed, so that the same app, with the same settings and
connection pool, sees Redis go away and come back. A real ``wle worker`` does the work after.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import threading
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import DATABASES, REDIS_URL
from tests.factories import make_contest
from tests.fake_commons import CATEGORY, FakeCommons, make_files
from tests.faults.support import WLE, free_port, wle_env
from tests.web.conftest import csrf_token, log_in
from wle.app import create_app
from wle.models import Entry, SyncRun, User
from wle.models.sync import DONE, FAILED, QUEUED

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="set WLE_TEST_REDIS_URL to run the fault tests with Redis (.ci/run does)"),
    pytest.mark.parametrize("database_url", DATABASES[-1:], indirect=True),  # Redis is the subject: one is enough
]


class Door:
    """A local TCP port that forwards to ``target`` while open and refuses connections while closed."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []

    def open(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def close(self) -> None:
        """Stop listening and cut every connection, as a Redis that went down does."""
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread: the port closes now
        except OSError:
            pass
        self._listener.close()
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def door():
    real = urlsplit(REDIS_URL)
    door = Door((real.hostname or "127.0.0.1", real.port or 6379))
    door.open()
    yield door
    door.close()


def runs(session, contest) -> list[SyncRun]:
    session.expire_all()
    return session.scalars(select(SyncRun).where(SyncRun.contest_id == contest.id).order_by(SyncRun.id)).all()


def press_sync(client, contest) -> str:
    token = csrf_token(client, f"/contests/{contest.slug}")
    return client.post(f"/contests/{contest.slug}/sync", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)


def test_with_redis_down_organizers_browse_syncs_are_refused_clearly_and_work_resumes_after(
        settings, session, door):
    with FakeCommons(make_files(12)) as commons:
        database = urlsplit(REDIS_URL).path or "/0"
        settings = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{door.port}{database}",
                                       commons_api_url=commons.url)
        app = create_app(settings)
        app.config.update(TESTING=True)
        organizer = User(username="Organizer", wiki_sub="77", is_admin=True)
        session.add(organizer)
        contest = make_contest(session, categories=(CATEGORY,))
        client = log_in(app.test_client(), organizer)
        assert client.get("/readyz").get_json()["checks"]["redis"] == "ok"  # the pool holds a connection now

        door.close()  # Redis goes down
        page = client.get(f"/contests/{contest.slug}")
        assert page.status_code == 200
        assert "The job queue (Redis) is unreachable" in page.get_data(as_text=True)
        assert client.get(f"/contests/{contest.slug}/entries").status_code == 200
        assert client.get(f"/api/v1/contests/{contest.slug}/status").status_code == 200
        assert client.get("/readyz").status_code == 503

        html = press_sync(client, contest)
        assert "The sync could not be queued: the job queue (Redis) is unreachable; tell the operator." in html
        [refused] = runs(session, contest)
        assert refused.state == FAILED and refused.state != QUEUED
        assert refused.error.startswith("The job queue (Redis) is unreachable")

        door.open()  # Redis is back
        assert client.get("/readyz").status_code == 200
        assert "The sync was queued" in press_sync(client, contest)
        queued = runs(session, contest)[-1]
        assert queued.state == QUEUED and queued.job_id

        worker = subprocess.run([WLE, "worker", "--burst"], env=wle_env(settings), capture_output=True, text=True,
                                timeout=120)
        assert worker.returncode == 0, worker.stderr
    done = runs(session, contest)[-1]
    assert (done.id, done.state, done.added) == (queued.id, DONE, 12)
    assert len(session.scalars(select(Entry).where(Entry.contest_id == contest.id)).all()) == 12
