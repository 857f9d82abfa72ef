"""What the fault tests share: comparing end states, waiting, and real processes to start and kill."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from wle.config import Settings
from wle.models import Entry

WLE = str(Path(sys.executable).with_name("wle"))
# Columns that differ between two contests holding the same files, or between two runs by nature.
NOT_COMPARED = {"id", "contest_id", "thumb_key", "first_seen_at", "last_seen_at", "last_seen_sync_id"}


# The thumbnail jobs' progress: not the sync's doing (they run after it, at their own pace).
THUMBNAIL_PROGRESS = {"thumb_state", "thumb_error", "thumb_claimed_at", "thumb_claimed_by"}


def entry_state(session, contest_id: int, leave_out: set[str] = frozenset()) -> dict[int, dict]:
    """The contest's entries by page id, each as its stored values: what two runs must agree on."""
    session.expire_all()
    entries = session.scalars(select(Entry).where(Entry.contest_id == contest_id))
    return {
        entry.pageid: {column.name: getattr(entry, column.key) for column in Entry.__table__.columns
                       if column.name not in NOT_COMPARED | leave_out}
        for entry in entries
    }


def wait_until(condition: Callable[[], object], timeout: float, what: str, every: float = 0.1):
    """Poll ``condition`` until it returns something true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wle_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a ``wle`` process reads its settings from."""
    return {
        **os.environ,
        "WLE_DATABASE_URL": settings.database_url,
        "WLE_MEDIA_DIR": settings.media_dir,
        "WLE_INSTANCE_DIR": settings.instance_dir,
        "WLE_COMMONS_API_URL": settings.commons_api_url,
        "WLE_CONTACT": settings.contact,
        "WLE_REDIS_URL": settings.redis_url,
        "WLE_SECRET_KEY": settings.secret_key,
        **extra,
    }


def start_wle(settings: Settings, *args: str, log: Path) -> subprocess.Popen:
    """``wle ARGS`` in a session of its own, its output in ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen([WLE, *args], env=wle_env(settings), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (RQ's work horse runs in a process group of its own)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL a process and everything below it, as when a machine or a container dies."""
    for pid in [process.pid, *descendants(process.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)


def stop(process: subprocess.Popen) -> None:
    """End a process we started, and its children, whatever state it is in."""
    if process.poll() is None:
        kill_hard(process)
