"""The web layer: thin blueprints that parse a request, call into ``wle`` and render."""

from __future__ import annotations

from flask import Flask, current_app, g
from flask_babel import Babel
from flask_wtf import CSRFProtect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..config import Settings
from ..db import session_factory

csrf = CSRFProtect()


def select_locale() -> str:
    """The request's language: the user's choice, the session's, the browser's, English."""
    from .language import select_locale  # the languages and the switcher live there

    return select_locale()


babel = Babel()  # bound to the app, with select_locale, in create_app


def settings() -> Settings:
    return current_app.config["WLE"]


def db() -> Session:
    """The request's database session, opened on first use and closed when the request ends."""
    if "db" not in g:
        g.db = session_factory(settings().database_url)()
    return g.db


def _close_db(_exc) -> None:
    session = g.pop("db", None)
    if session is not None:
        try:
            session.rollback()  # whatever the view did not commit is dropped
        except SQLAlchemyError:
            session.invalidate()  # the database cut the connection (a restart): the pool drops it
        finally:
            session.close()


def register(app: Flask) -> None:
    from . import api, auth, contests, errors, health, judging, media, people, review, statistics
    from . import language, public, rounds, winners

    app.teardown_appcontext(_close_db)
    app.register_blueprint(csrf.exempt(health.bp))  # /healthz, /readyz: no login, no CSRF
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.docs)
    app.register_blueprint(people.bp)
    app.register_blueprint(contests.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(statistics.bp)
    app.register_blueprint(judging.bp)
    app.register_blueprint(rounds.bp)
    app.register_blueprint(winners.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(language.bp)
    errors.register(app)
