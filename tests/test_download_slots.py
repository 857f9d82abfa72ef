"""Tests for wle.download_slots: the limit holds across threads and processes; leases expire.

Redis tests use the server at WLE_TEST_REDIS_URL (default redis://127.0.0.1:6379/15). They
are skipped when that default is unreachable, and fail when the variable is set but Redis
is down: a CI that asks for Redis must get it.
"""

import logging
import multiprocessing
import os
import threading
import time
import uuid

import pytest
import redis

from wle.download_slots import DownloadSlots, SlotTimeout

REDIS_URL = os.environ.get("WLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
HOLD_SECONDS = 0.05


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as error:
        if "WLE_TEST_REDIS_URL" in os.environ:
            pytest.fail(f"WLE_TEST_REDIS_URL is set but Redis at {REDIS_URL} is unreachable: {error}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield client
    client.close()


@pytest.fixture
def slot_name(redis_client):
    name = f"wle:test:download-slots:{uuid.uuid4().hex}"
    yield name
    redis_client.delete(name)


@pytest.fixture
def local_name():
    return f"test-download-slots-{uuid.uuid4().hex}"


class Gauge:
    """Counts holders inside the slots and remembers the most there ever were at once."""

    def __init__(self, current, peak, total, lock):
        self.current, self.peak, self.total, self.lock = current, peak, total, lock

    def hold(self, seconds=HOLD_SECONDS):
        with self.lock:
            self.current.value += 1
            self.total.value += 1
            self.peak.value = max(self.peak.value, self.current.value)
        time.sleep(seconds)
        with self.lock:
            self.current.value -= 1


def shared_gauge(context):
    return Gauge(context.Value("i", 0), context.Value("i", 0), context.Value("i", 0), context.Lock())


# --- without Redis: one process, many threads ---------------------------------------------


def test_local_limit_holds_across_threads(local_name):
    slots = DownloadSlots(limit=2, name=local_name)
    gauge = shared_gauge(multiprocessing.get_context())

    def worker():
        for _ in range(3):
            with slots.acquire(timeout=10):
                gauge.hold()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert gauge.total.value == 18
    assert gauge.peak.value == 2


def test_local_slots_of_one_name_are_shared_by_every_instance(local_name):
    first, second = DownloadSlots(limit=1, name=local_name), DownloadSlots(limit=1, name=local_name)

    with first.acquire():
        with pytest.raises(SlotTimeout):
            with second.acquire(timeout=0.1):
                pass


def test_local_slots_of_one_name_cannot_disagree_on_the_limit(local_name):
    DownloadSlots(limit=2, name=local_name)

    with pytest.raises(ValueError, match="already exist .* with limit 2"):
        DownloadSlots(limit=3, name=local_name)


def test_local_timeout_raises_with_a_clear_message(local_name):
    slots = DownloadSlots(limit=1, name=local_name)

    with slots.acquire():
        started = time.monotonic()
        with pytest.raises(SlotTimeout, match=r"no download slot free after 0.2 s \(at most 1 downloads"):
            with slots.acquire(timeout=0.2):
                pass
        assert 0.15 <= time.monotonic() - started < 2


def test_local_slot_is_released_when_the_download_fails(local_name):
    slots = DownloadSlots(limit=1, name=local_name)

    with pytest.raises(RuntimeError):
        with slots.acquire():
            raise RuntimeError("connection reset")

    with slots.acquire(timeout=0.1):
        pass


@pytest.mark.parametrize("options", [{"limit": 0}, {"limit": -1}, {"lease_seconds": 0}])
def test_nonsense_settings_are_refused(options):
    with pytest.raises(ValueError):
        DownloadSlots(**options)


# --- with Redis: many processes -------------------------------------------------------------


def hold_slots_in_another_process(url, name, gauge, rounds):
    client = redis.Redis.from_url(url)
    slots = DownloadSlots(client, limit=2, name=name)
    for _ in range(rounds):
        with slots.acquire(timeout=30):
            gauge.hold()


def crash_while_holding_a_slot(url, name, lease_seconds):
    slots = DownloadSlots(redis.Redis.from_url(url), limit=2, name=name, lease_seconds=lease_seconds)
    with slots.acquire():
        os._exit(1)  # die mid-download: no finally block runs, nothing is released


@pytest.mark.redis
def test_redis_limit_holds_across_processes(redis_client, slot_name):
    context = multiprocessing.get_context("spawn")  # fresh interpreters, as RQ workers are
    gauge = shared_gauge(context)
    workers = [
        context.Process(target=hold_slots_in_another_process, args=(REDIS_URL, slot_name, gauge, 4))
        for _ in range(5)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert [worker.exitcode for worker in workers] == [0] * 5
    assert gauge.total.value == 20
    assert gauge.peak.value == 2
    assert redis_client.zcard(slot_name) == 0


@pytest.mark.redis
def test_redis_lease_of_a_crashed_holder_is_reclaimed(redis_client, slot_name):
    context = multiprocessing.get_context("spawn")
    crashed = context.Process(target=crash_while_holding_a_slot, args=(REDIS_URL, slot_name, 1.0))
    crashed.start()
    crashed.join(timeout=30)
    assert crashed.exitcode == 1
    slots = DownloadSlots(redis_client, limit=2, name=slot_name, lease_seconds=30)

    with slots.acquire(timeout=1):  # the other slot, held by a live worker throughout
        with pytest.raises(SlotTimeout):  # one slot is still leased to the dead worker
            with slots.acquire(timeout=0.1):
                pass
        with slots.acquire(timeout=5):  # until its lease runs out
            assert redis_client.zcard(slot_name) == 2


@pytest.mark.redis
def test_redis_timeout_raises_with_a_clear_message(redis_client, slot_name):
    slots = DownloadSlots(redis_client, limit=1, name=slot_name)

    with slots.acquire():
        started = time.monotonic()
        with pytest.raises(SlotTimeout, match=r"no download slot free after 0.2 s \(at most 1 downloads"):
            with slots.acquire(timeout=0.2):
                pass
        assert 0.15 <= time.monotonic() - started < 2


@pytest.mark.redis
def test_redis_slot_is_released_when_the_download_fails(redis_client, slot_name):
    slots = DownloadSlots(redis_client, limit=1, name=slot_name)

    with pytest.raises(RuntimeError):
        with slots.acquire():
            assert redis_client.zcard(slot_name) == 1
            raise RuntimeError("connection reset")

    assert redis_client.zcard(slot_name) == 0


@pytest.mark.redis
def test_redis_key_expires_with_the_last_lease(redis_client, slot_name):
    slots = DownloadSlots(redis_client, limit=2, name=slot_name, lease_seconds=30)

    with slots.acquire():
        assert 0 < redis_client.pttl(slot_name) <= 30_000


@pytest.mark.redis
def test_redis_lease_running_out_during_a_download_is_logged(redis_client, slot_name, caplog):
    slots = DownloadSlots(redis_client, limit=2, name=slot_name, lease_seconds=0.1)

    with caplog.at_level(logging.WARNING, logger="wle.download_slots"):
        with slots.acquire():
            time.sleep(0.3)

    assert "lease" in caplog.text and "ran out" in caplog.text
