"""The JSON API under ``/api/v1/``, and its OpenAPI 3 description.

Each API view carries its own description, next to its code, through ``@documented(...)``; the
document at ``/api/v1/openapi.json`` is built from the app's URL map, so it lists exactly the
routes that exist (a test fails if one lacks a description). Authentication is the browser's
session cookie, as for the pages; requests that change something also send the CSRF token
(``X-CSRFToken``), which every page carries in its forms.
"""

from __future__ import annotations

import re
from typing import Callable

from flask import Blueprint, current_app, jsonify, render_template

from .. import __version__
from ..audit import contest_log
from ..auth import organizers
from ..contests import get_contest
from . import db
from .access import current_user, login_required, organizer_required, roles_of

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PREFIX = "/api/v1/"
# Werkzeug converters and the OpenAPI type of their values.
CONVERTER_TYPES = {"int": "integer", "float": "number", "default": "string", "string": "string", "path": "string"}
RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")

ERROR = {"$ref": "#/components/schemas/Error"}
STANDARD_RESPONSES = {
    "400": {"description": "The request cannot be done as sent; the message says why.",
            "content": {"application/json": {"schema": ERROR}}},
    "401": {"description": "Not logged in.", "content": {"application/json": {"schema": ERROR}}},
    "403": {"description": "Logged in, but without the role this needs.", "content": {"application/json": {"schema": ERROR}}},
    "404": {"description": "No such contest (or other object).", "content": {"application/json": {"schema": ERROR}}},
    "409": {"description": "Not done: it needs a confirmation, or the object's state does not allow it; the message "
                           "says why.", "content": {"application/json": {"schema": ERROR}}},
}


def documented(summary: str, *, access: str, schema: dict | None = None, description: str = "",
               responses: tuple[str, ...] = ("401", "403")) -> Callable:
    """Describe an API view for the OpenAPI document.

    ``access`` says who may call it, in words ("anyone", "logged in", "organizers of the contest");
    ``schema`` is the JSON schema of a successful answer; ``responses`` are the standard error
    answers it can give.
    """

    def attach(view: Callable) -> Callable:
        view.openapi = {
            "summary": summary,
            "description": (description + "\n\n" if description else "") + f"Access: {access}.",
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": schema or {"type": "object"}}}},
                **{code: STANDARD_RESPONSES[code] for code in responses},
            },
        }
        return view

    return attach


def openapi_document(app) -> dict:
    """The OpenAPI 3 document of every ``/api/v1/`` route of ``app``.

    A route whose view has no ``@documented`` description still appears, marked undocumented, so
    that the test of the document names it.
    """
    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "openapi", None)
        path = RULE_ARGUMENT.sub(lambda m: "{" + m["name"] + "}", rule.rule)
        parameters = [
            {"name": m["name"], "in": "path", "required": True,
             "schema": {"type": CONVERTER_TYPES.get(m["converter"] or "default", "string")}}
            for m in RULE_ARGUMENT.finditer(rule.rule)
        ]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = {"operationId": rule.endpoint.replace(".", "_") + ("" if method == "GET" else "_" + method.lower())}
            operation.update(doc or {"summary": "UNDOCUMENTED", "x-undocumented": True, "responses": {}})
            if parameters:
                operation["parameters"] = parameters
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "WLE Jury API",
            "version": __version__,
            "description": __doc__.strip(),
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["status", "error", "message"],
                    "properties": {
                        "status": {"type": "integer"},
                        "error": {"type": "string"},
                        "message": {"type": "string", "description": "For people, in their language."},
                    },
                },
            },
        },
        "security": [{"session": []}],
    }


# --- The routes of this blueprint ------------------------------------------------------------

ROLES = {
    "type": "object",
    "properties": {
        "admin": {"type": "boolean"},
        "organizer": {"type": "array", "items": {"type": "string"}, "description": "Slugs of contests."},
        "juror": {"type": "array", "description": "The rounds the user judges now.", "items": {
            "type": "object", "properties": {"contest": {"type": "string"}, "round": {"type": "integer"}}}},
    },
}


@bp.get("/me")
@documented("The logged-in user and their roles", access="logged in", responses=("401",),
            schema={"type": "object", "properties": {"username": {"type": "string"}, "roles": ROLES}})
@login_required
def me():
    return jsonify({"username": current_user.username, "roles": roles_of(current_user)})


@bp.get("/openapi.json")
@documented("This document", access="anyone", responses=())
def openapi():
    return jsonify(openapi_document(current_app))


@bp.get("/contests/<slug>/organizers")
@documented(
    "The organizers of a contest",
    access="organizers of the contest and site admins",
    responses=("401", "403", "404"),
    schema={"type": "array", "items": {"type": "object", "properties": {
        "username": {"type": "string"},
        "logged_in_before": {"type": "boolean", "description": "False for someone added by name who never logged in."},
    }}},
)
@organizer_required
def contest_organizers(slug: str):
    session = db()
    people = organizers(session, get_contest(session, slug))
    return jsonify([{"username": u.username, "logged_in_before": u.wiki_sub is not None} for u in people])


@bp.get("/contests/<slug>/log")
@documented(
    "The contest's audit log, newest first (the last 200 changes)",
    access="organizers of the contest and site admins",
    responses=("401", "403", "404"),
    schema={"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
        "actor": {"type": "string"}, "action": {"type": "string"}, "details": {"type": "object"},
    }}},
)
@organizer_required
def contest_audit_log(slug: str):
    session = db()
    lines = contest_log(session, get_contest(session, slug).id)
    return jsonify([
        {"id": line.id, "at": line.created_at.isoformat(), "actor": line.actor_name, "action": line.action,
         "details": line.details}
        for line in lines
    ])


# --- The documentation page --------------------------------------------------------------------

docs = Blueprint("api_docs", __name__)


@docs.get("/api/docs")
def api_docs():
    """The API's routes for people, from the same document."""
    return render_template("api/docs.html", document=openapi_document(current_app))
