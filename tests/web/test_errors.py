"""Error pages: friendly HTML for people, JSON for the API, and no internals in either."""

from __future__ import annotations

import dataclasses

from wle.app import create_app


def test_an_unknown_address_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "There is nothing at this address" in response.get_data(as_text=True)


def test_api_errors_are_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


def test_a_too_large_request_is_a_413_page(client):
    response = client.post("/contests/new", data={"name": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "larger than this site accepts" in response.get_data(as_text=True)


def test_a_crash_shows_a_friendly_500_without_its_details(settings):
    app = create_app(dataclasses.replace(settings))  # not in testing mode: errors are handled, not raised

    @app.get("/boom")
    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "An unexpected error happened" in html and "hunter2" not in html
    api = client.get("/api/v1/boom")
    assert api.status_code == 500 and "hunter2" not in api.get_data(as_text=True)
    assert api.get_json()["error"] == "Something went wrong"


def test_a_403_page_exists(app):
    from flask import abort

    @app.get("/forbidden")
    def forbidden():
        abort(403)

    response = app.test_client().get("/forbidden")
    assert response.status_code == 403
    assert "not allowed" in response.get_data(as_text=True)
