"""A real OAuth 1.0a provider with Wikimedia's paths, served on loopback, for the login tests.

It is built on oauthlib's provider endpoints and speaks what MediaWiki's OAuth extension speaks,
at the same addresses under ``/w/index.php``:

- ``?title=Special:OAuth/initiate``  — a request token (RequestTokenEndpoint);
- ``?title=Special:OAuth/authenticate`` (and ``/authorize``) — where the user approves: here
  ``wiki_user`` has approved, or ``denies`` is set and the user cancels (AuthorizationEndpoint);
  the browser is sent to the consumer's registered callback with ``oauth_verifier`` — or, when
  cancelled, with no verifier and ``oauth_problem=user_refused``;
- ``?title=Special:OAuth/token``     — the access token for token + verifier (AccessTokenEndpoint);
- ``?title=Special:OAuth/identify``  — a JWT signed HS256 with the consumer secret, like
  Wikimedia's: ``iss`` (the wiki's canonical server), ``sub``, ``aud`` (the consumer key),
  ``username``, ``editcount``, ``registered``, ``groups``, ``blocked``, ``confirmed_email``,
  ``nonce`` (the request's), ``iat``, ``exp`` (ResourceEndpoint).

The consumer is registered with callback "oob" allowed only: like a Wikimedia consumer without
"callback as prefix", the wiki redirects to the registered callback URL. Knobs for the bad cases:
``issuer`` (sign another iss), ``identity_lifetime`` (negative: an expired identity),
``signing_secret`` (sign with another key), ``denies``,
``wiki_user`` (who is logged in on the wiki, blocked or not).

Usage: ``with OAuthProvider(callback="http://localhost/oauth-callback") as wiki: wiki.index_url``.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import jwt
from oauthlib.oauth1 import (
    AccessTokenEndpoint,
    AuthorizationEndpoint,
    RequestTokenEndpoint,
    RequestValidator,
    ResourceEndpoint,
)
from oauthlib.oauth1.rfc5849.errors import OAuth1Error
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class WikiUser:
    """A wiki account, as Special:OAuth/identify describes it."""

    sub: str
    username: str
    blocked: bool = False
    editcount: int = 1234
    groups: list[str] = field(default_factory=lambda: ["*", "user", "autoconfirmed"])
    registered: str = "20150101000000"
    confirmed_email: bool = True


@dataclass
class Token:
    key: str
    secret: str
    callback: str = "oob"
    verifier: str | None = None
    user: WikiUser | None = None


class WikiValidator(RequestValidator):
    """oauthlib's questions, answered from in-memory stores of one consumer and its tokens."""

    def __init__(self, consumer_key: str, consumer_secret: str, callback: str):
        super().__init__()
        self.consumer_key, self.consumer_secret, self.callback = consumer_key, consumer_secret, callback
        self.request_tokens: dict[str, Token] = {}
        self.access_tokens: dict[str, Token] = {}
        self.nonces: set[tuple] = set()
        self.approving: WikiUser | None = None  # who is approving the authorization in progress

    # The defaults insist on HTTPS and on 20-30 character keys.
    enforce_ssl = False
    client_key_length = request_token_length = access_token_length = (16, 64)
    nonce_length = verifier_length = (16, 64)
    dummy_client = "dummy-client-0000000000"
    dummy_request_token = "dummy-request-token-0000"
    dummy_access_token = "dummy-access-token-00000"

    def validate_client_key(self, client_key, request):
        return client_key == self.consumer_key

    def get_client_secret(self, client_key, request):
        return self.consumer_secret if client_key == self.consumer_key else "dummy-secret"

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request, request_token=None,
                                     access_token=None):
        seen = (client_key, timestamp, nonce, request_token, access_token)
        if seen in self.nonces:
            return False
        self.nonces.add(seen)
        return True

    def validate_redirect_uri(self, client_key, redirect_uri, request):
        return redirect_uri == "oob"  # the consumer may not choose its callback (no "prefix" allowed)

    def validate_requested_realms(self, client_key, realms, request):
        return True

    def get_default_realms(self, client_key, request):
        return []

    def save_request_token(self, token, request):
        self.request_tokens[token["oauth_token"]] = Token(token["oauth_token"], token["oauth_token_secret"],
                                                          request.redirect_uri)

    # --- Authorization ---

    def verify_request_token(self, token, request):
        return token in self.request_tokens and self.request_tokens[token].verifier is None

    def get_realms(self, token, request):
        return []

    def verify_realms(self, token, realms, request):
        return True

    def get_redirect_uri(self, token, request):
        return self.callback  # the registered callback, as MediaWiki does for "oob"

    def save_verifier(self, token, verifier, request):
        stored = self.request_tokens[token]
        stored.verifier = verifier["oauth_verifier"]
        stored.user = self.approving

    # --- Access token ---

    def validate_request_token(self, client_key, token, request):
        return client_key == self.consumer_key and token in self.request_tokens

    def get_request_token_secret(self, client_key, token, request):
        stored = self.request_tokens.get(token)
        return stored.secret if stored else "dummy-secret"

    def validate_verifier(self, client_key, token, verifier, request):
        stored = self.request_tokens.get(token)
        return stored is not None and stored.verifier is not None and secrets.compare_digest(stored.verifier, verifier)

    def validate_realms(self, client_key, token, request, uri=None, realms=None):
        return True

    def save_access_token(self, token, request):
        approved = self.request_tokens[request.resource_owner_key]  # spent just after, below
        self.access_tokens[token["oauth_token"]] = Token(token["oauth_token"], token["oauth_token_secret"],
                                                         user=approved.user)

    def invalidate_request_token(self, client_key, request_token, request):
        del self.request_tokens[request_token]

    # --- Protected resources (identify) ---

    def validate_access_token(self, client_key, token, request):
        return client_key == self.consumer_key and token in self.access_tokens

    def get_access_token_secret(self, client_key, token, request):
        stored = self.access_tokens.get(token)
        return stored.secret if stored else "dummy-secret"


class OAuthProvider:
    """The wiki: a WSGI app on 127.0.0.1 in a thread. ``index_url`` is what WLE_OAUTH_URL names."""

    def __init__(self, callback: str, consumer_key: str | None = None, consumer_secret: str | None = None):
        self.consumer_key = consumer_key or secrets.token_hex(16)
        self.consumer_secret = consumer_secret or secrets.token_hex(20)
        self.validator = WikiValidator(self.consumer_key, self.consumer_secret, callback)
        self.request_token_endpoint = RequestTokenEndpoint(self.validator)
        self.authorization_endpoint = AuthorizationEndpoint(self.validator)
        self.access_token_endpoint = AccessTokenEndpoint(self.validator)
        self.resource_endpoint = ResourceEndpoint(self.validator)
        self.wiki_user = WikiUser(sub="4242", username="Alice")
        self.denies = False
        self.issuer: str | None = None  # None: the wiki's own canonical server
        self.identity_lifetime = 100  # seconds; negative for an identity that has expired
        self.signing_secret: str | None = None  # None: the consumer secret, as Wikimedia signs
        self.requests: list[tuple[str, str]] = []  # (title, User-Agent) of every request served
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.server_url = f"http://127.0.0.1:{self._server.server_port}"
        self.index_url = self.server_url + "/w/index.php"

    def __enter__(self) -> OAuthProvider:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # --- HTTP ---

    def wsgi(self, environ, start_response):
        request = Request(environ)
        title = request.args.get("title", "")
        self.requests.append((title, request.headers.get("User-Agent", "")))
        handler = {
            "Special:OAuth/initiate": self.initiate,
            "Special:OAuth/authenticate": self.authorize,
            "Special:OAuth/authorize": self.authorize,
            "Special:OAuth/token": self.token,
            "Special:OAuth/identify": self.identify,
        }.get(title)
        if request.path != "/w/index.php" or handler is None:
            response = Response("No such page", status=404)
        else:
            with self._lock:
                response = handler(request)
        return response(environ, start_response)

    @staticmethod
    def _oauth_args(request: Request) -> tuple:
        return request.url, request.method, request.get_data(as_text=True) or None, dict(request.headers)

    def initiate(self, request: Request) -> Response:
        headers, body, status = self.request_token_endpoint.create_request_token_response(*self._oauth_args(request))
        if status != 200:
            return Response(f"Error: {body}", status=200)  # MediaWiki answers errors as "Error: ..."
        return Response(body, status=status, headers=headers)

    def authorize(self, request: Request) -> Response:
        """The user's browser: approve (a redirect with a verifier) or cancel (a redirect without)."""
        token = request.args.get("oauth_token", "")
        if token not in self.validator.request_tokens:
            return Response("Unknown or used request token", status=400)
        if self.denies:
            self.validator.request_tokens.pop(token)
            return Response(status=302, headers={
                "Location": self.validator.callback + "?" + urlencode({"oauth_token": token,
                                                                        "oauth_problem": "user_refused"})})
        self.validator.approving = self.wiki_user
        try:
            headers, body, status = self.authorization_endpoint.create_authorization_response(
                request.url, request.method, None, dict(request.headers))
        except OAuth1Error as error:
            return Response(error.urlencoded, status=error.status_code)
        return Response(body, status=status, headers=headers)

    def token(self, request: Request) -> Response:
        headers, body, status = self.access_token_endpoint.create_access_token_response(*self._oauth_args(request))
        return Response(body, status=status, headers=headers)

    def identify(self, request: Request) -> Response:
        valid, oauth_request = self.resource_endpoint.validate_protected_resource_request(*self._oauth_args(request))
        if not valid:
            return Response('{"error": "mwoauth-invalid-authorization", "message": "The authorization '
                            'headers in your request are not valid"}', content_type="application/json")
        user = self.validator.access_tokens[oauth_request.resource_owner_key].user
        now = int(time.time())
        claims = {
            "iss": self.issuer or self.server_url,
            "sub": user.sub,
            "aud": self.consumer_key,
            "exp": now + self.identity_lifetime,
            "iat": now if self.identity_lifetime > 0 else now + 2 * self.identity_lifetime,
            "username": user.username,
            "editcount": user.editcount,
            "confirmed_email": user.confirmed_email,
            "blocked": user.blocked,
            "registered": user.registered,
            "groups": user.groups,
            "rights": ["read", "edit"],
            "grants": ["mwoauth-authonly"],
            "nonce": oauth_request.nonce,
        }
        return Response(jwt.encode(claims, self.signing_secret or self.consumer_secret, algorithm="HS256"), content_type="application/json")
