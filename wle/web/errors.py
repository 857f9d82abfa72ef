"""Error pages: a friendly page for people, a small JSON object for ``/api/`` clients.

Nothing about the inside of the application (tracebacks, exception text) reaches the page:
only messages written for people, such as the description given to ``abort(404, ...)``.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound

from ..contests import ContestNotFound

TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    413: _l("Too large"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}
EXPLANATIONS = {
    400: _l("The request could not be understood. Go back and check what was sent."),
    403: _l("You are not allowed to see or do this."),
    404: _l("There is nothing at this address. It may have been mistyped, or what it showed is gone."),
    405: _l("This address does not accept this kind of request."),
    413: _l("What was sent is larger than this site accepts."),
    429: _l("Too many requests in a short time. Wait a moment and try again."),
    500: _l("An unexpected error happened on our side; it has been logged. Try again in a moment."),
}


def register(app: Flask) -> None:
    for code in TITLES:
        app.register_error_handler(code, http_error)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(ContestNotFound, contest_not_found)


def http_error(error: HTTPException):
    code = error.code or 500
    if isinstance(error, InternalServerError) or code >= 500:
        message = EXPLANATIONS[500]  # never the exception's own text
    elif error.description and error.description != type(error).description:
        message = error.description  # a message written for people by the view that aborted
    else:
        message = EXPLANATIONS.get(code, TITLES[400])
    return respond(code, message)


def csrf_error(_error: CSRFError):
    return respond(
        400,
        _(
            "This form could not be accepted: its security token is missing or has expired. "
            "Go back, reload the page and try again."
        ),
    )


def contest_not_found(_error: ContestNotFound):
    return http_error(NotFound(_("There is no such contest. It may have been mistyped.")))


def respond(code: int, message: str):
    title = TITLES.get(code) or TITLES[500 if code >= 500 else 400]
    if request.path.startswith("/api/"):
        return jsonify({"status": code, "error": str(title), "message": str(message)}), code
    try:
        return render_template("error.html", code=code, title=title, message=message), code
    except Exception:
        # The page itself failed, e.g. the database is down and the page asks who is logged in:
        # a bare page still says what happened (never how), instead of the server's own.
        current_app.logger.exception("The error page could not be rendered; a bare one was sent")
        return BARE_PAGE.format(title=escape(str(title)), message=escape(str(message))), code


BARE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{message}</p></body></html>
"""
