"""Logging in and out: with a Wikimedia account (OAuth 1.0a through ``mwoauth``), or in local mode.

The OAuth handshake: ``POST /login`` asks the wiki for a request token, keeps it in this browser's
session and sends the browser to the wiki; the wiki sends it back to ``/oauth-callback``, which
trades the token for an access token, asks the wiki who this is (a JWT that ``mwoauth`` checks:
signature, issuer, audience, nonce, time) and logs the user in. The request token is used once: it
leaves the session before anything else happens, so a replayed or forged callback finds nothing to
complete and ends on a clear page with no login.

Local mode (no OAuth consumer configured) logs anyone in by a typed username, for trying the
platform out on one's own machine: it is refused unless both the server's listening address and
the visitor are loopback, and it never exists in production (``Settings`` refuses to start).
"""

from __future__ import annotations

import ipaddress
import logging

import mwoauth
import requests
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from .. import __version__
from ..auth import LoginRefused, PeopleError, add_person, normalize_username, user_from_identity
from . import db, settings
from .access import current_user, safe_next

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

PENDING = "oauth_request_token"  # the session key of the request token between /login and the callback
NEXT = "login_next"


class LoginFailed(Exception):
    """The handshake with the wiki did not end in a trustworthy identity; str() tells the person why."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.status = status


class LocalLoginForm(FlaskForm):
    username = StringField(_l("Wikimedia username"), validators=[InputRequired(_l("Type a username.")), Length(max=255)])


class LoginForm(FlaskForm):
    """The "Log in with Wikimedia" button: a POST with a CSRF token, so no other site can start it."""


def after_login_target() -> str:
    return url_for("contests.index")


# --- The login page ----------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(target or after_login_target())
    if settings().local_mode:
        return local_login(target)
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form, next=target)
    try:
        redirect_url, token = handshaker().initiate()
    except requests.RequestException as error:
        log.warning("OAuth initiate could not reach the wiki: %s", error)
        return failed(_("Wikimedia could not be reached to start the login. Try again in a moment."), 502)
    except (mwoauth.OAuthException, KeyError, TypeError, ValueError) as error:
        log.error("The wiki refused to start an OAuth login (check WLE_OAUTH_KEY and WLE_OAUTH_SECRET): %s", error)
        return failed(_("Wikimedia refused to start the login for this site. Tell the site's operator: "
                        "its Wikimedia login may be misconfigured."), 502)
    session[PENDING] = [token.key, token.secret]
    session[NEXT] = target
    return redirect(redirect_url)


def handshaker() -> mwoauth.Handshaker:
    """mwoauth's client for the configured wiki. The callback is "oob": the wiki sends the browser to
    the callback URL registered with the consumer (on Wikimedia, that is the only callback allowed
    unless the consumer was registered to accept others)."""
    config = settings()
    return mwoauth.Handshaker(
        config.oauth_url,
        mwoauth.ConsumerToken(config.oauth_key, config.oauth_secret),
        callback="oob",
        user_agent=f"WLE-Jury/{__version__} ({config.contact.strip()}) python-requests/{requests.__version__}",
    )


@bp.get("/oauth-callback")
def oauth_callback():
    pending = session.pop(PENDING, None)  # used once, whatever happens next
    target = safe_next(session.pop(NEXT, None))
    if settings().local_mode:
        return failed(_("Wikimedia login is not configured on this server."), 404)
    try:
        user = identified_user(complete_handshake(pending))
    except LoginFailed as error:
        return failed(str(error), error.status)
    except LoginRefused as error:
        db().rollback()
        return failed(str(error), 403)
    start_session(user)
    return redirect(target or after_login_target())


def identified_user(identity: dict):
    """The user of the identity, stored. Two first logins of one account at the same moment
    collide on the unique sub or name; the second then finds what the first stored."""
    try:
        user = user_from_identity(db(), identity)
        db().commit()
    except IntegrityError:
        db().rollback()
        user = user_from_identity(db(), identity)
        db().commit()
    return user


def complete_handshake(pending: list[str] | None) -> dict:
    """The identity the wiki vouches for, or LoginFailed with what went wrong."""
    if "oauth_verifier" not in request.args:
        raise LoginFailed(_("The login was cancelled: Wikimedia did not authorize it. You are not logged in."), 400)
    if not pending:
        raise LoginFailed(
            _("This login link was already used, has expired, or was not started in this browser. "
              "Start again from the login page."),
            400,
        )
    if request.args.get("oauth_token") != pending[0]:
        raise LoginFailed(_("This login answer does not belong to the login started in this browser. "
                            "Start again from the login page."), 400)
    client = handshaker()
    try:
        access = client.complete(mwoauth.RequestToken(*pending), request.query_string)
        return client.identify(access)
    except requests.RequestException as error:
        log.warning("OAuth completion could not reach the wiki: %s", error)
        raise LoginFailed(_("Wikimedia could not be reached to finish the login. Try again in a moment."), 502)
    except (mwoauth.OAuthException, KeyError, TypeError, ValueError) as error:
        # mwoauth reads the wiki's answers loosely: a refused token shows up as a missing key.
        log.warning("OAuth login refused: %s: %s", type(error).__name__, error)
        raise LoginFailed(_("Wikimedia did not confirm this login (the token was refused or the identity "
                            "could not be verified). You are not logged in; start again from the login page."))


# --- Local mode --------------------------------------------------------------------------------


def local_login(target: str | None):
    if not is_loopback_request():
        return failed(
            _("Local mode (login without a password) only works on this machine's loopback address "
              "(127.0.0.1). To serve others, configure Wikimedia login (WLE_OAUTH_KEY and WLE_OAUTH_SECRET)."),
            403,
        )
    form = LocalLoginForm()
    problem = None
    if form.validate_on_submit():
        try:
            name = normalize_username(form.username.data)
        except PeopleError as error:
            problem = str(error)
        else:
            user = add_person(db(), name)
            db().commit()
            start_session(user)
            return redirect(target or after_login_target())
    status = 400 if request.method == "POST" else 200
    return render_template("auth/local_login.html", form=form, problem=problem, next=target), status


def is_loopback_request() -> bool:
    """Whether the server listens on a loopback address and the visitor comes from one.

    ``SERVER_NAME`` is the address the server is bound to, as werkzeug's server and gunicorn set it
    (gunicorn falls back to the Host header only on a Unix socket, where the visitor then has no IP
    address and fails the second test). A server bound to 0.0.0.0 is refused even for a visitor on
    127.0.0.1: anyone on the network could reach it too.
    """
    server = request.environ.get("SERVER_ADDR") or request.environ.get("SERVER_NAME", "")
    return is_loopback_address(server) and is_loopback_address(request.remote_addr or "")


def is_loopback_address(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- Sessions ----------------------------------------------------------------------------------


def start_session(user) -> None:
    """A fresh session for the user: nothing from before the login survives it (session fixation)."""
    session.clear()
    login_user(user)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def failed(message: str, status: int):
    """A login that did not happen: a clear page; the session gained nothing (whoever was logged in
    before stays so: a forged link must not be able to log people out either)."""
    return render_template("auth/failed.html", message=message, status=status), status


@bp.app_context_processor
def login_helpers() -> dict:
    return {"local_mode": settings().local_mode}
