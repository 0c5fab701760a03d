"""Reads for the merchant API's clients and tokens."""

from __future__ import annotations

from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.models import Token
from django.db.models import QuerySet
from django.utils import timezone

from paylinks.fastsql import CompiledQuery
from paylinks.models import ApiClient, Merchant


def access_token_lookup(value: str) -> Token | None:
    """The live access token with this value, with its client, the client's Paylinks
    record and merchant, in one query; None when it expired or was revoked.

    allauth keeps only the hash of each token it issued (JWTs too); revoking a client
    deletes the rows, so a token that still verifies cryptographically is refused here.
    """
    if not value or len(value) > 8192:
        return None
    token = _ACCESS_TOKEN.first(get_adapter().hash_token(value))
    if token is None or token.expires_at is None or token.expires_at <= timezone.now():
        return None
    return token


# Every merchant API request runs this; its SQL (a four-table join) is built once per
# process (paylinks/fastsql.py, docs/scaling.md).
_ACCESS_TOKEN = CompiledQuery(
    lambda token_hash: (
        Token.objects.select_related("client__paylinks_api_client__merchant")
        .filter(type=Token.Type.ACCESS_TOKEN, hash=token_hash)
        .order_by()
    )[:1]
)


def api_clients_of(merchants: QuerySet[Merchant]) -> QuerySet[ApiClient]:
    return ApiClient.objects.filter(merchant__in=merchants).select_related(
        "merchant", "oauth_client"
    )
