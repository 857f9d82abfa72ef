"""Alembic environment: the URL comes from the caller (``wle db upgrade``), never from an ini file."""

from alembic import context

from wle.db import engine_for
from wle.models import Base

config = context.config


def run_migrations_online() -> None:
    engine = engine_for(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,  # SQLite can only change a table by rebuilding it
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
