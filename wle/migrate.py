"""Schema migrations with Alembic, driven from code so that ``wle db upgrade`` works anywhere."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .db import engine_for


class SchemaOutOfDate(RuntimeError):
    """The database is behind the code's migrations; the message says what to run."""

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


def is_current(database_url: str) -> bool:
    """Whether the database is at every head of the migrations."""
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    with engine_for(database_url).connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


def ensure_current(database_url: str) -> None:
    """Make sure the schema is current before a command uses the database.

    The embedded SQLite database sets itself up (it is for trying the platform out); a server
    database is migrated only on purpose, by ``wle db upgrade``.
    """
    if is_current(database_url):
        return
    if database_url.startswith("sqlite"):
        upgrade(database_url)
        return
    raise SchemaOutOfDate("The database schema is not up to date: run `wle db upgrade` first.")
