"""The migrations: one line of history, up and down on every database, and in step with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from wle import migrate
from wle.db import engine_for, normalize_url
from wle.models import Base

from tests.conftest import POSTGRES_URL


def test_the_history_is_one_line():
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert [r.revision for r in script.walk_revisions()][-1] == "0001"


def test_the_migrated_schema_matches_the_models(database_url):
    with engine_for(database_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_down_to_nothing_and_up_again(tmp_path):
    urls = [f"sqlite:///{tmp_path / 'updown.sqlite3'}"]
    if POSTGRES_URL:
        urls.append(_fresh_postgres_database("wle_test_updown"))
    for url in urls:
        migrate.upgrade(url)
        assert migrate.is_current(url)
        migrate.downgrade(url, "base")
        assert not migrate.is_current(url)
        migrate.upgrade(url)
        assert migrate.is_current(url)
        engine_for(url).dispose()
    if POSTGRES_URL:
        _drop_postgres_database("wle_test_updown")


def _fresh_postgres_database(name: str) -> str:
    _drop_postgres_database(name)
    _admin_sql(f'CREATE DATABASE "{name}"')
    return normalize_url(POSTGRES_URL).rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(name: str) -> None:
    _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_sql(statement: str) -> None:
    admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(statement))
    admin.dispose()
