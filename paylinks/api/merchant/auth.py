"""Who is calling: allauth's OAuth 2.0 access tokens, checked per request.

``ClientTokenAuthentication`` is allauth's DRF integration
(``allauth.idp.oidc.contrib.rest_framework``) with two things allauth does not do:

- the signing keys are parsed once per process (``paylinks.auth.oidc``): allauth parses
  the PEM on every request, which costs more than the rest of a request together;
- the token, its allauth client, the client's Paylinks record and its merchant come
  from one query, and a token whose client was revoked (or whose row is gone) is refused
  even while its signature and ``exp`` are still good. That is what makes revocation
  take effect at once.

``HasScope`` is allauth's ``TokenPermission``, checking the operation's scope against the
token's scopes *and* the client's current ones, so narrowing a client applies at once.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import jwt
from allauth.idp.oidc.contrib.rest_framework.authentication import TokenAuthentication
from allauth.idp.oidc.contrib.rest_framework.permissions import TokenPermission
from allauth.idp.oidc.internal.scope import is_scope_granted
from allauth.idp.oidc.models import Token
from django.conf import settings
from rest_framework.request import Request

from paylinks.api.errors import InsufficientScope, InvalidToken
from paylinks.api.throttles import _Throttle
from paylinks.auth.oidc import verification_keys
from paylinks.models import ApiClient, PaymentLink
from paylinks.selectors.api_clients import access_token_and_link, access_token_lookup

BEARER_HINT = "Send an access token as: Authorization: Bearer <token>."


_SEGMENT = re.compile(r"[A-Za-z0-9_-]{1,2048}")


def _kid(token: str) -> str | None:
    """The ``kid`` of the token's header, only to pick the key PyJWT then verifies with.

    (``jwt.get_unverified_header`` would check and decode the whole token a second time,
    in Python, a character at a time: a fifth of a read's CPU.)
    """
    head = token.partition(".")[0]
    if not _SEGMENT.fullmatch(head):
        return None
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, RecursionError):  # binascii.Error, UnicodeDecodeError, JSONDecodeError:
        # all ValueErrors; a deeply nested header is a RecursionError
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


def _claims(token: str) -> dict[str, Any] | None:
    """The token's claims when its signature, ``exp`` and issuer are good, else None."""
    try:
        kid = _kid(token)
        key = verification_keys().get(kid) if kid is not None else None
        if key is None:
            return None
        return jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            issuer=str(settings.SITE_URL),
            options={"verify_aud": False, "require": ["exp", "iat", "client_id"]},
        )
    except jwt.PyJWTError:
        return None


class ClientTokenAuthentication(TokenAuthentication):
    """``link_id``: a view that reads one link gets it from the token's own statement
    (``link``, None for no such link of the token's merchant; ``read_link`` says the
    lookup ran): one round trip where there would be two."""

    def __init__(self, link_id: str | None = None) -> None:
        self.link_id = link_id
        self.link: PaymentLink | None = None
        self.read_link = False

    def authenticate(self, request: Request) -> tuple[None, Token] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            raise InvalidToken(BEARER_HINT)
        claims = _claims(value)
        if claims is None or claims.get("token_use") != "access":
            raise InvalidToken("The access token is not valid, or it has expired.")
        if self.link_id is None:
            token = access_token_lookup(value)
        else:
            token, self.link = access_token_and_link(value, self.link_id)
            self.read_link = token is not None
        api_client = _api_client(token)
        if token is None or api_client is None or claims["client_id"] != api_client.client_id:
            raise InvalidToken("The access token has been revoked.")
        return None, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="Paylinks API"'


def _api_client(token: Token | None) -> ApiClient | None:
    if token is None or token.client is None:
        return None
    api_client: ApiClient | None = getattr(token.client, "paylinks_api_client", None)
    if api_client is None or not api_client.is_active:
        return None
    return api_client


def api_client_of(request: Request) -> ApiClient:
    """The client a request authenticated as (the view's permission check ran first)."""
    api_client = _api_client(request.auth if isinstance(request.auth, Token) else None)
    if api_client is None:
        raise InvalidToken("The access token has been revoked.")
    return api_client


class HasScope(TokenPermission):
    """The scope named by the view's ``required_scope``, granted to the token and still
    allowed to its client."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, Token):
            return False  # DRF answers 401: no credentials were sent
        scope = view.required_scope
        allowed = token.client.get_scopes() if token.client else []
        if not (is_scope_granted(scope, token, request.method) and scope in allowed):
            raise InsufficientScope(scope)
        return True


def link_read_with_token(request: Request, link_id: str) -> tuple[bool, PaymentLink | None]:
    """(True, the link or None) when authentication already read link ``link_id``."""
    authenticator = request.successful_authenticator
    if (
        isinstance(authenticator, ClientTokenAuthentication)
        and authenticator.read_link
        and authenticator.link_id == link_id
    ):
        return True, authenticator.link
    return False, None


class ApiClientThrottle(_Throttle):
    """``PAYLINKS_RATE_API_CLIENT`` requests per client, whichever address they come from."""

    scope = "api_client"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request.auth
        if not isinstance(token, Token) or not token.client_id:
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.client_id}
