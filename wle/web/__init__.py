"""The web layer: thin blueprints that parse a request, call into ``wle`` and render."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from ..config import Settings
from ..db import session_factory

LANGUAGES = ("en", "kk", "ru")

csrf = CSRFProtect()


def select_locale() -> str:
    if not has_request_context():  # the CLI: an app context, no request
        return "en"
    return request.accept_languages.best_match(LANGUAGES) or "en"


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
        session.rollback()  # whatever the view did not commit is dropped
        session.close()


def register(app: Flask) -> None:
    from . import api, auth, contests, errors, health, media, people, review, statistics

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
    errors.register(app)
