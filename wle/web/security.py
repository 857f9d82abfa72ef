"""The platform's defences at the HTTP layer, wired into the app by ``init_app``:

- headers on every answer (pages, JSON, thumbnails, static files, errors): a strict
  Content-Security-Policy (this site's own scripts, styles, images and fonts only; no inline script
  or style, no plugins, no framing by other sites), ``nosniff``, a referrer policy that tells other
  sites nothing, a permissions policy, and HSTS in production;
- the session cookie: HttpOnly and SameSite=Lax always, Secure in production (``Settings``);
- rate limits (Flask-Limiter) on the login, per visitor's address, and on the JSON API, per user.
  They are counted in Redis when there is one, so that every web process shares the count; while
  Redis is down they are counted in each process's memory, and nothing else changes;
- the visitor's address behind trusted reverse proxies (``WLE_TRUSTED_PROXIES``);
- no whole number larger than a database integer gets in (in the URL's ``<int:…>`` parts, in query
  and form fields): it would crash the query it is put in, where it can only ever mean "nothing".

CSRF protection is Flask-WTF's ``CSRFProtect`` (``wle.web.csrf``): forms carry the token in a
hidden field; scripts send it in the ``X-CSRFToken`` header, reading it from the
``<meta name="csrf-token">`` of every page.
"""

from __future__ import annotations

import math
import re
import time
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, make_response, request, session
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many
from redis.exceptions import RedisError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from ..config import ConfigError, Settings
from . import errors

LIMITER = "wle_limiter"  # the app's Limiter, in app.extensions
LOGIN_ENDPOINTS = {"auth.login": "POST", "auth.oauth_callback": "GET"}  # starting a login, finishing one
API_PREFIX = "/api/v1/"
HSTS = "max-age=31536000"  # a year; not includeSubDomains: other sites may share the domain
PERMISSIONS = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
# Connecting to Redis must not hold a request up for long when it is down: the limits then fall
# back to memory.
REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
MAX_DATABASE_INTEGER = 2**31 - 1  # PostgreSQL's integer: the type of every id column here
WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*")


def init_app(app: Flask, settings: Settings) -> None:
    app.config.update(
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        # Not sent with other sites' forms and scripts; still sent when the wiki sends the browser
        # back to /oauth-callback (a top-level GET).
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if settings.trusted_proxies:
        # The visitor's address and the scheme only. The host stays the Host header, which the
        # proxy passes on (Flask-WTF compares it with the Referer of every POST over HTTPS).
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)
    app.url_map.converters["int"] = DatabaseInteger  # before the blueprints add their routes
    app.before_request(refuse_numbers_no_database_holds)
    headers = security_headers(settings)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    app.extensions[LIMITER] = make_limiter(app, settings)
    app.register_error_handler(RateLimitExceeded, too_many_requests)


# --- Headers -----------------------------------------------------------------------------------


def content_security_policy(settings: Settings) -> str:
    """Everything from this site only; forms may also lead to the wiki of the OAuth login (the
    login button posts here, and the answer sends the browser on to the wiki)."""
    form_targets = ["'self'"]
    if not settings.local_mode:
        form_targets.append(origin(settings.oauth_url))
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self'",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": " ".join(form_targets),
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(settings: Settings) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",  # for browsers that do not know frame-ancestors
        "Referrer-Policy": "same-origin",  # links to Commons do not tell it which page (or entry) led there
        "Permissions-Policy": PERMISSIONS,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",  # other sites cannot embed the thumbnails
    }
    if settings.env == "production":
        headers["Strict-Transport-Security"] = HSTS
    return headers


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# --- Numbers ---------------------------------------------------------------------------------


class DatabaseInteger(IntegerConverter):
    """``<int:…>`` up to what a database integer holds: a larger number matches no route (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_DATABASE_INTEGER, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def refuse_numbers_no_database_holds() -> None:
    """400 for a query or form field holding a whole number no id column holds (views read ids
    and counts with ``type=int``, which takes any size, and PostgreSQL refuses it in the query)."""
    for name, value in request.values.items(multi=True):
        if len(value) > 9 and WHOLE_NUMBER.fullmatch(value) and too_large(value.strip()):
            abort(400, _("The field %(name)s holds a number far too large to name anything here.", name=name[:40]))


def too_large(number: str) -> bool:
    # Python refuses to read numbers of thousands of digits; any number of 20 is too large anyway.
    return len(number.lstrip("+-")) > 20 or abs(int(number)) > MAX_DATABASE_INTEGER


# --- Rate limits -------------------------------------------------------------------------------


def make_limiter(app: Flask, settings: Settings) -> Limiter:
    """One limiter per app (tests build many apps; each counts on its own)."""
    login, api = checked_limit("rate_limit_login", settings), checked_limit("rate_limit_api", settings)
    limiter = Limiter(
        key_func=visitor_address,
        application_limits=[
            ApplicationLimit(limit_provider=login, key_function=visitor_address,
                             scope=lambda endpoint: f"login:{endpoint}", exempt_when=is_not_login_attempt),
            ApplicationLimit(limit_provider=api, key_function=api_caller, scope="api",
                             exempt_when=is_not_api_request),
        ],
        storage_uri=settings.redis_url or "memory://",
        storage_options=REDIS_OPTIONS if settings.redis_url else {},
        strategy="sliding-window-counter",  # no burst of twice the limit where two windows meet
        key_prefix="wle-rate-limit",
        in_memory_fallback_enabled=True,
        swallow_errors=True,  # a failure of the counting itself never fails the request
        headers_enabled=False,  # Retry-After on a 429 is enough, and costs no extra Redis call per request
    )
    limiter.init_app(app)
    return limiter


def checked_limit(name: str, settings: Settings) -> str:
    value = getattr(settings, name)
    try:
        if parse_many(value):
            return value
    except ValueError:
        pass
    raise ConfigError(f"WLE_{name.upper()} must be rate limits such as \"30 per second; 600 per minute\", "
                      f"not {value!r}")


def visitor_address() -> str:
    return request.remote_addr or "unknown"


def api_caller() -> str:
    """The logged-in user (people behind one address each get their own count), else the address.

    Read from the signed session, not the database: counting must work while the database is down.
    """
    user_id = session.get("_user_id")
    return f"user:{user_id}" if user_id else f"address:{visitor_address()}"


def is_not_login_attempt() -> bool:
    return LOGIN_ENDPOINTS.get(request.endpoint or "") != request.method


def is_not_api_request() -> bool:
    return not request.path.startswith(API_PREFIX)


def too_many_requests(_error: RateLimitExceeded):
    """429, with how long to wait in words and in Retry-After."""
    wait = seconds_to_wait()
    if is_not_login_attempt():
        message = ngettext("Too many requests in a short time. Wait %(num)d second and try again.",
                           "Too many requests in a short time. Wait %(num)d seconds and try again.", wait)
    else:
        message = ngettext("Too many login attempts from your address. Wait %(num)d second and try again.",
                           "Too many login attempts from your address. Wait %(num)d seconds and try again.", wait)
    response = make_response(errors.respond(429, message))
    response.headers["Retry-After"] = str(wait)
    return response


def seconds_to_wait() -> int:
    breached = current_app.extensions[LIMITER].current_limit
    if breached is None:
        return 60
    try:
        return max(1, math.ceil(breached.reset_at - time.time()))
    except RedisError:  # the count's store failed just now: the limit's whole window is a safe answer
        return breached.limit.get_expiry()
