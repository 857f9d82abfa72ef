"""The JSON API's description: every ``/api/v1/`` route of the app is in the OpenAPI document."""

from __future__ import annotations

import re

from flask import jsonify

from wle.web.api import documented, openapi_document

METHODS = {"get", "post", "put", "patch", "delete"}


def undescribed_routes(app) -> list[str]:
    """``METHOD /path`` of each /api/v1/ route the document leaves out or leaves undocumented."""
    paths = openapi_document(app)["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = paths.get(path, {}).get(method.lower())
            if operation is None or operation.get("x-undocumented"):
                missing.append(f"{method} {rule.rule}")
    return sorted(missing)


def test_every_api_route_is_described(app):
    assert undescribed_routes(app) == [], "describe these with @documented(...) from wle.web.api"


def test_a_route_without_a_description_is_caught(app):
    @app.get("/api/v1/secret/<int:number>")
    def secret(number):
        return jsonify(number)

    @app.post("/api/v1/described")
    @documented("Something described", access="anyone")
    def described():
        return jsonify({})

    assert undescribed_routes(app) == ["GET /api/v1/secret/<int:number>"]
    operation = openapi_document(app)["paths"]["/api/v1/secret/{number}"]["get"]
    assert operation["parameters"] == [{"name": "number", "in": "path", "required": True,
                                        "schema": {"type": "integer"}}]


def test_the_document_is_served_to_anyone_and_is_well_formed(anonymous_client):
    document = anonymous_client.get("/api/v1/openapi.json").get_json()

    assert document["openapi"].startswith("3.")
    assert {"/api/v1/me", "/api/v1/openapi.json", "/api/v1/contests/{slug}/status"} <= document["paths"].keys()
    operation_ids = []
    for path, operations in document["paths"].items():
        assert path.startswith("/api/v1/")
        for method, operation in operations.items():
            assert method in METHODS
            assert operation["summary"] and operation["responses"]["200"]
            operation_ids.append(operation["operationId"])
            names = set(re.findall(r"{(\w+)}", path))
            assert {p["name"] for p in operation.get("parameters", [])} == names
            for response in operation["responses"].values():
                ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
                if ref:
                    assert ref.split("/")[-1] in document["components"]["schemas"]
    assert len(operation_ids) == len(set(operation_ids))


def test_the_docs_page_lists_the_routes(anonymous_client):
    page = anonymous_client.get("/api/docs")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "GET /api/v1/me" in html and "GET /api/v1/contests/{slug}/log" in html


def test_the_organizers_and_the_log_as_json(client, session, contest, admin):
    from wle.auth import add_organizer

    add_organizer(session, contest, "Org One", actor=admin)
    session.commit()

    organizers = client.get(f"/api/v1/contests/{contest.slug}/organizers").get_json()
    log = client.get(f"/api/v1/contests/{contest.slug}/log").get_json()

    assert organizers == [{"username": "Org One", "logged_in_before": False}]
    assert log[0]["action"] == "organizer.add" and log[0]["actor"] == "Site Admin"
    assert log[0]["details"] == {"user": "Org One", "user_id": log[0]["details"]["user_id"]}
