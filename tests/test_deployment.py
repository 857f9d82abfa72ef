"""docker-compose.yml validates with Debian's docker-compose (or `docker compose`) and holds what a
deployment needs: every service, health checks, the media volume, migrations before the rest, and
no start without the secrets."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {
    "WLE_SECRET_KEY": "a-long-random-test-secret",
    "WLE_CONTACT": "ops@example.org",
    "WLE_OAUTH_KEY": "consumer-key",
    "WLE_OAUTH_SECRET": "consumer-secret",
    "POSTGRES_PASSWORD": "database-password",
}
APP_SERVICES = {"migrate", "web", "worker", "scheduler"}
ONE_SHOT = {"migrate"}  # runs and exits: nothing to check the health of


def compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    pytest.fail("Neither docker-compose nor `docker compose` is installed: tests/run.sh installs Debian's "
                "docker-compose (apt-get install docker-compose).", pytrace=False)


def compose(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    # An empty --env-file: a developer's own .env must not make the test pass or fail.
    empty = tmp_path / "empty.env"
    empty.write_text("")
    command = [*compose_command(), "--env-file", str(empty), "-f", str(ROOT / "docker-compose.yml"), *args]
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env}
    return subprocess.run(command, env=clean, capture_output=True, text=True, timeout=60, cwd=tmp_path)


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> dict:
    """The file as docker-compose reads it, with the required settings given (read once: it is slow)."""
    tmp_path = tmp_path_factory.mktemp("compose")
    quiet = compose("config", "-q", env=REQUIRED, tmp_path=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    shown = compose("config", env=REQUIRED, tmp_path=tmp_path)
    assert shown.returncode == 0, shown.stderr
    return yaml.safe_load(shown.stdout)


def test_the_compose_file_validates_and_has_every_service(config):
    assert set(config["services"]) == APP_SERVICES | {"postgres", "redis"}


def test_every_long_running_service_has_a_health_check(config):
    for name, service in config["services"].items():
        if name in ONE_SHOT:
            assert service["restart"] == "no"
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert "/healthz" in " ".join(config["services"]["web"]["healthcheck"]["test"])
    assert config["services"]["worker"]["healthcheck"]["test"][-2:] == ["jobs.healthcheck", "worker"]
    assert config["services"]["scheduler"]["healthcheck"]["test"][-2:] == ["jobs.healthcheck", "scheduler"]


def test_the_app_runs_in_production_on_postgresql_redis_and_the_media_volume(config):
    assert {"media", "postgres", "redis"} <= set(config["volumes"])
    for name in APP_SERVICES:
        service = config["services"][name]
        env = service["environment"]
        assert env["WLE_ENV"] == "production"
        assert env["WLE_DATABASE_URL"] == "postgresql://wle:database-password@postgres:5432/wle"
        assert env["WLE_REDIS_URL"] == "redis://redis:6379/0"
        assert env["WLE_SECRET_KEY"] == REQUIRED["WLE_SECRET_KEY"]
        assert any(volume.startswith("media:/data/media") for volume in service["volumes"])
    assert "gunicorn" in config["services"]["web"]["command"]
    assert config["services"]["worker"]["command"] == "wle worker"
    assert config["services"]["scheduler"]["command"] == "wle scheduler"


def test_migrations_run_before_the_web_the_workers_and_the_scheduler(config):
    assert config["services"]["migrate"]["command"] == "wle db upgrade"
    for name in APP_SERVICES - ONE_SHOT:
        depends = config["services"][name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["postgres"] == {"condition": "service_healthy"}
        assert depends["redis"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("missing", ["WLE_SECRET_KEY", "POSTGRES_PASSWORD", "WLE_OAUTH_KEY"])
def test_it_refuses_to_start_without_a_secret(tmp_path, missing):
    env = {name: value for name, value in REQUIRED.items() if name != missing}
    result = compose("config", "-q", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr


def test_the_env_example_names_every_required_setting():
    example = (ROOT / ".env.example").read_text()
    for name in REQUIRED:
        assert f"{name}=" in example
