"""The application factory: the one place that wires settings, extensions and blueprints."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from .config import Settings
from .web import babel, csrf, register, security, select_locale
from .web.access import login_manager

ROOT = Path(__file__).resolve().parent.parent  # templates/ and static/ live beside the package


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings.check_secret_key()  # before anything is signed with it
    app = Flask(
        "wle",
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(Path(settings.instance_dir).resolve()),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        WLE=settings,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        WTF_CSRF_TIME_LIMIT=None,  # a form left open for a day of judging still posts
    )
    security.init_app(app, settings)  # headers, cookie flags, rate limits
    babel.init_app(app, locale_selector=select_locale)  # Babel() ignores a selector given without an app
    csrf.init_app(app)
    login_manager.init_app(app)
    register(app)
    return app
