"""Fixtures shared by every test: settings, a migrated database (SQLite, and PostgreSQL when
``WLE_TEST_DATABASE_URL`` is set), the app built by the real factory, and a session."""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text

from wle import migrate
from wle.config import Settings
from wle.db import engine_for, normalize_url, session_factory
from wle.models import Base

POSTGRES_URL = os.environ.get("WLE_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("WLE_TEST_REDIS_URL", "")
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
DEAD_API = "http://127.0.0.1:9/w/api.php"  # nothing listens on the discard port


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """One migrated SQLite file, copied for each test: migrating once is much faster."""
    path = tmp_path_factory.mktemp("template") / "wle.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    engine_for(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database():
    """A database of our own on the PostgreSQL server, migrated once, dropped at the end."""
    name = f"wle_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalize_url(POSTGRES_URL).rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    yield url
    engine_for(url).dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "wle.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        engine_for(f"sqlite:///{path}").dispose()
        return
    url = request.getfixturevalue("postgres_database")
    yield url
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine_for(url).begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        media_dir=str(tmp_path / "media"),
        instance_dir=str(tmp_path / "instance"),
        contact="wle-tests@example.org",
        commons_api_url=DEAD_API,
        secret_key="test-secret",
    )


@pytest.fixture
def session(settings):
    session = session_factory(settings.database_url)()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def app(settings):
    from wle.app import create_app

    app = create_app(settings)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
