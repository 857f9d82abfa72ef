"""The ``wle`` command as an operator types it (through click's runner, with WLE_* settings)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from wle.cli import main


@pytest.fixture
def wle(settings):
    env = {
        "WLE_DATABASE_URL": settings.database_url,
        "WLE_MEDIA_DIR": settings.media_dir,
        "WLE_INSTANCE_DIR": settings.instance_dir,
        "WLE_COMMONS_API_URL": settings.commons_api_url,
        "WLE_CONTACT": settings.contact,
        "WLE_REDIS_URL": "",
    }

    def run(*args, **extra_env):
        result = CliRunner().invoke(main, list(args), env={**env, **extra_env}, catch_exceptions=False)
        return result

    return run


def create(wle, slug="wle-2025-kz", *extra):
    return wle(
        "contest", "create", slug, "--name", "WLE 2025 Kazakhstan",
        "--category", "Images from Wiki Loves Earth 2025 in Kazakhstan", "--category", "Category:WLE extra",
        "--start", "2025-06-15T00:00:00+05:00", "--end", "2025-07-15", *extra,
    )


def test_create_then_show_json(wle):
    result = create(wle, "wle-2025-kz", "--timezone", "Asia/Almaty")
    assert result.exit_code == 0, result.output
    shown = wle("contest", "show", "wle-2025-kz", "--json")
    data = json.loads(shown.output)
    assert data["slug"] == "wle-2025-kz"
    assert data["categories"] == ["Images from Wiki Loves Earth 2025 in Kazakhstan", "WLE extra"]
    assert data["end"] == "2025-07-16T00:00:00+05:00"  # a bare end date means the end of that day
    assert (data["entries"], data["entries_gone"], data["uploaders"], data["last_sync"]) == (0, 0, 0, None)
    assert data["thumbnails"] == {"done": 0, "failed": 0, "pending": 0}


def test_a_contest_speaks_english_unless_told_its_language(wle):
    create(wle, "wle-en")
    create(wle, "wle-kk", "--language", "kk")
    assert json.loads(wle("contest", "show", "wle-en", "--json").output)["language"] == "en"
    assert json.loads(wle("contest", "show", "wle-kk", "--json").output)["language"] == "kk"
    wrong = create(wle, "wle-xx", "--language", "xx")
    assert wrong.exit_code == 2 and "'xx' is not one of" in wrong.output


def test_show_without_json_is_readable(wle):
    create(wle)
    result = wle("contest", "show", "wle-2025-kz")
    assert "entries    0 (0 gone)" in result.output and "last sync  never" in result.output


def test_bad_input_is_a_clear_error(wle):
    assert "not an ISO date" in wle("contest", "create", "x", "--name", "X", "--category", "C",
                                    "--start", "yesterday", "--end", "2025-07-15").output
    create(wle)
    again = create(wle)
    assert again.exit_code == 1 and "exists already" in again.output
    unknown = wle("contest", "show", "nope", "--json")
    assert unknown.exit_code == 1 and "No contest with the slug 'nope'" in unknown.output


def test_sync_refuses_without_an_operator_contact(wle):
    create(wle)
    result = wle("contest", "sync", "wle-2025-kz", WLE_CONTACT="")
    assert result.exit_code == 1 and "WLE_CONTACT" in result.output


def test_sync_against_an_unreachable_api_fails_clearly_and_is_recorded(wle, monkeypatch):
    monkeypatch.setattr("wle.commons.BACKOFF_BASE", 0.0)  # the retries, without the waiting
    create(wle)
    result = wle("contest", "sync", "wle-2025-kz", WLE_COMMONS_API_URL="http://127.0.0.1:9/w/api.php")
    assert result.exit_code == 1 and "Sync failed" in result.output
    data = json.loads(wle("contest", "show", "wle-2025-kz", "--json").output)
    assert data["last_sync"]["state"] == "failed" and data["last_sync"]["error"]


def test_worker_needs_redis(wle):
    result = wle("worker", "--burst")
    assert result.exit_code == 1 and "WLE_REDIS_URL" in result.output


def test_wle_run_migrates_a_fresh_instance_and_serves_the_pages(tmp_path):
    """The README's one command: `wle run` on embedded defaults (SQLite in the instance folder)."""
    port = _free_port()
    env = {**os.environ, "WLE_INSTANCE_DIR": str(tmp_path / "instance"), "WLE_CONTACT": "wle-tests@example.org"}
    for name in ("WLE_DATABASE_URL", "WLE_REDIS_URL", "WLE_MEDIA_DIR"):
        env.pop(name, None)
    server = subprocess.Popen([str(Path(sys.executable).with_name("wle")), "run", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/", timeout=2, allow_redirects=True)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "wle run did not start listening"
                time.sleep(0.2)
        assert page.status_code == 200 and "WLE Jury" in page.text
        assert (tmp_path / "instance" / "wle.sqlite3").is_file()
    finally:
        server.terminate()
        server.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_fresh_embedded_database_sets_itself_up_for_any_command(tmp_path):
    env = {"WLE_INSTANCE_DIR": str(tmp_path / "instance"), "WLE_DATABASE_URL": "", "WLE_REDIS_URL": ""}
    result = CliRunner().invoke(main, ["admin", "add", "Aigerim"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "instance" / "wle.sqlite3").is_file()


def test_a_server_database_behind_the_migrations_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("wle.migrate.is_current", lambda url: False)
    env = {"WLE_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none", "WLE_REDIS_URL": ""}
    result = CliRunner().invoke(main, ["contest", "show", "x"], env=env)
    assert result.exit_code == 1 and "wle db upgrade" in result.output


def test_help_lists_only_what_an_operator_needs(wle):
    """Flask's --env-file, --app and --debug and flask-limiter's plug-in command stay out of the help."""
    result = wle("--help")
    assert result.exit_code == 0
    for noise in ("--env-file", "--app", "limiter", "FLASK_"):
        assert noise not in result.output
    for command in ("run", "worker", "contest", "admin", "db"):
        assert f"  {command} " in result.output
    assert wle("limiter").exit_code != 0  # not a command of wle


def test_readme_one_line_command_shows_the_port():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    one_liner = next(line for line in readme.splitlines() if line.startswith("python3 -m venv"))
    assert one_liner.endswith("wle run --port 5000")
