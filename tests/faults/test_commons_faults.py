"""Commons misbehaving for a while: maxlag, 429, 500s, timeouts, answers cut short.

The sync waits as asked (``Retry-After``) or backs off, and continues; past the retry budget it
stops with a clear error, and a rerun ends in the same state as a run that met no fault. A real
client over real HTTP against a fake Commons answering in the real API's shapes: 600 files, a
generator page of 500 in ten requests (50 thumbnails a request) and one of 100 in two.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import DATABASES
from tests.factories import make_contest
from tests.fake_api import Answer
from tests.fake_commons import CATEGORY, FakeCommons, make_files
from tests.faults.support import entry_state
from wle.commons import CommonsClient
from wle.models.sync import DONE, FAILED
from wle.sync import begin_sync, run_sync

# The client's behaviour does not depend on the database: one is enough (PostgreSQL when there is one).
pytestmark = pytest.mark.parametrize("database_url", DATABASES[-1:], indirect=True)
FILES = 600
LISTING_REQUESTS = 12
TIMEOUT = 1.0  # the client's, in seconds: the fake's slow answer takes longer


class RealSleeps(list):
    """Sleeps for real, and remembers how long it was asked to."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(seconds)


def maxlag() -> Answer:
    # What api.php sends when its replicas lag behind more than maxlag=5 allows.
    return Answer.json({"error": {"code": "maxlag", "info": "Waiting for 10.64.16.8: 7 seconds lagged.",
                                  "host": "10.64.16.8", "lag": 7, "type": "db"}},
                       headers={"Retry-After": "1", "X-Database-Lag": "7 seconds lagged"})


def cut_short() -> Answer:
    # The connection drops halfway through an answer: fewer bytes than Content-Length announced.
    body = json.dumps({"batchcomplete": True, "query": {"pages": [{"pageid": 1, "title": "x"}] * 40}})
    return Answer(body[: len(body) // 3], headers={"Content-Type": "application/json",
                                                   "Content-Length": str(len(body))})


@pytest.fixture
def commons():
    with FakeCommons(make_files(FILES)) as fake:
        yield fake


@pytest.fixture
def reference(session, commons):
    """The entries a sync that met no fault stores."""
    contest = make_contest(session, slug="reference", categories=(CATEGORY,))
    run = begin_sync(session, contest, "test")
    session.commit()
    assert run_sync(session, run.id, CommonsClient(commons.url, "wle-tests@example.org")).state == DONE
    commons.served.clear()
    return entry_state(session, contest.id)


def sync(session, contest, client):
    run = begin_sync(session, contest, "test")
    session.commit()
    return run_sync(session, run.id, client)


def test_the_sync_waits_out_each_fault_and_continues(session, commons, reference):
    commons.fail_at(2, maxlag())
    commons.fail_at(5, Answer("Too many requests", status=429, headers={"Retry-After": "1"}))
    commons.fail_at(8, Answer("<html>Wikimedia Error</html>", status=503))  # no Retry-After: back off
    commons.fail_at(11, Answer.json({"batchcomplete": True}, delay=TIMEOUT + 1))  # no answer in time
    commons.fail_at(14, cut_short())  # the first request of the second generator page
    sleeps = RealSleeps()
    client = CommonsClient(commons.url, "wle-tests@example.org", timeout=TIMEOUT, sleep=sleeps)
    contest = make_contest(session, slug="faulty", categories=(CATEGORY,))

    run = sync(session, contest, client)

    assert (run.state, run.error, run.errors) == (DONE, None, 0)
    assert run.requests == LISTING_REQUESTS + 5  # every fault cost one request more, no listing was lost
    assert commons.served["fault"] == 5
    assert sleeps[:2] == [1.0, 1.0]  # maxlag and 429: waited as long as Commons asked
    assert len(sleeps) == 5 and all(1.0 <= wait <= 2.0 for wait in sleeps[2:])  # else 2 s, with jitter
    assert entry_state(session, contest.id) == reference


@pytest.mark.parametrize("fault, message", [
    (Answer("Service unavailable", status=500, headers={"Retry-After": "0"}),
     "Commons is unavailable: the API request generator=categorymembers, gcmtitle=Category:Images from Wiki "
     "Loves Earth 2025 in Kazakhstan failed 3 times; the last problem: HTTP 500 Internal Server Error. "
     "Try again later."),
    (Answer('{"batchcomplete": true, "query": {"pages": [{"pageid": 10', headers={"Content-Type": "application/json"}),
     "with something that is not JSON (application/json"),
], ids=["500s past the retry budget", "truncated JSON"])
def test_past_the_retry_budget_the_sync_stops_clearly_and_a_rerun_ends_in_the_same_state(
        session, commons, reference, fault, message):
    commons.fail_at(11, fault, fault, fault)  # the second generator page
    client = CommonsClient(commons.url, "wle-tests@example.org", timeout=TIMEOUT, max_tries=3)
    contest = make_contest(session, slug="faulty", categories=(CATEGORY,))

    failed = sync(session, contest, client)

    assert failed.state == FAILED and failed.errors == 1
    assert message in failed.error
    assert failed.files_seen == 500  # the first page was stored, ...
    assert all(entry["gone_at"] is None for entry in entry_state(session, contest.id).values())  # ... nothing marked gone

    commons.faults.clear()
    again = sync(session, contest, client)
    assert (again.state, again.error) == (DONE, None)
    assert entry_state(session, contest.id) == reference
