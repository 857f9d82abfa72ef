"""The security headers are on every kind of answer: pages, JSON, thumbnails, static files,
redirects and every error; the Content-Security-Policy is strict."""

from __future__ import annotations

import dataclasses

import pytest

from wle.app import create_app
from wle.web.security import content_security_policy

from tests.security.conftest import log_in, routes, url_for_rule

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
PRODUCTION = dict(env="production", secret_key="s" * 48, oauth_key="consumer-key", oauth_secret="consumer-secret",
                  oauth_url="https://meta.wikimedia.org/w/index.php")


def policy_of(response) -> dict[str, list[str]]:
    directives = {}
    for directive in response.headers["Content-Security-Policy"].split(";"):
        name, *values = directive.split()
        directives[name] = values
    return directives


def assert_secured(response, what: str) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{what}: {name} is {response.headers.get(name)!r}"
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), what
    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"], what
    assert policy["frame-ancestors"] == ["'none'"], what


def test_every_get_route_answers_with_the_headers(app, world):
    client = log_in(app.test_client(), world.admin)
    kinds = set()
    for _endpoint, _method, rule in routes(app, {"GET"}):
        url = url_for_rule(rule, world.values(world.ours))
        response = client.get(url)
        assert_secured(response, url)
        kinds.add(response.mimetype)
    assert {"text/html", "application/json", "image/webp", "text/css"} <= kinds


def test_errors_and_redirects_carry_the_headers_too(app, world, settings):
    @app.get("/test-crash")
    def crash():
        raise RuntimeError("a bug")

    app.config.update(PROPAGATE_EXCEPTIONS=False)  # answer 500 as in production, not raise in the test
    anonymous = app.test_client()
    admin = log_in(app.test_client(), world.admin)
    answers = {
        "404 page": admin.get("/no-such-page"),
        "404 JSON": admin.get("/api/v1/no-such-thing"),
        "405": admin.get("/logout"),
        "401 JSON": anonymous.get("/api/v1/me"),
        "redirect to the login": anonymous.get("/"),
        "CSRF refusal": admin.post("/logout"),
        "413": admin.post("/contests/new", data={"name": "x" * (3 * 1024 * 1024)}),
        "500": admin.get("/test-crash"),
    }
    assert [answers[name].status_code for name in answers] == [404, 404, 405, 401, 302, 400, 413, 500]
    for name, response in answers.items():
        assert_secured(response, name)
    assert "a bug" not in answers["500"].get_data(as_text=True)


def test_the_policy_allows_no_inline_script_or_style_and_nothing_from_elsewhere(settings):
    policy = dict(directive.split(" ", 1) for directive in content_security_policy(settings).split("; "))

    for directive in ("script-src", "style-src", "img-src", "font-src", "connect-src"):
        assert policy[directive] == "'self'", directive
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"  # local mode: no wiki to go to
    for value in policy.values():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(value.split())


def test_forms_may_lead_to_the_oauth_wiki_and_nowhere_else(settings):
    with_wikimedia = dataclasses.replace(settings, oauth_key="k", oauth_secret="s",
                                         oauth_url="https://meta.wikimedia.org/w/index.php")

    policy = content_security_policy(with_wikimedia)

    assert "form-action 'self' https://meta.wikimedia.org;" in policy


def test_hsts_only_in_production(settings):
    development = create_app(settings).test_client().get("/healthz")
    production = create_app(dataclasses.replace(settings, **PRODUCTION)).test_client().get("/healthz")

    assert "Strict-Transport-Security" not in development.headers
    assert production.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert_secured(production, "production")


@pytest.mark.parametrize("url", ["/login", "/api/v1/openapi.json", "/static/js/status.js"])
def test_anonymous_answers_carry_the_headers(client, url):  # (a client not logged in)
    assert_secured(client.get(url), url)
