"""Reads for the merchant API's clients and tokens."""

from __future__ import annotations

from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.models import Token
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.utils import timezone

from paylinks.fastsql import CompiledQuery
from paylinks.models import ApiClient, Merchant, PaymentLink
from paylinks.selectors.links import completed_count_of


def access_token_lookup(value: str) -> Token | None:
    """The live access token with this value, with its client, the client's Paylinks
    record and merchant, in one query; None when it expired or was revoked.

    allauth keeps only the hash of each token it issued (JWTs too); revoking a client
    deletes the rows, so a token that still verifies cryptographically is refused here.
    """
    if not value or len(value) > 8192:
        return None
    return _live(_ACCESS_TOKEN.first(get_adapter().hash_token(value)))


def _live(token: Token | None) -> Token | None:
    if token is None or token.expires_at is None or token.expires_at <= timezone.now():
        return None
    return token


def access_token_and_link(value: str, slug: str) -> tuple[Token | None, PaymentLink | None]:
    """``access_token_lookup``, and in the same statement the link ``slug`` of the token's
    merchant with its ``completed_count`` (None when the merchant has no such link, so
    another merchant's link and a missing one look the same).

    A read of one link by id makes one round trip instead of two: the merchant API's
    hottest request (docs/scaling.md).
    """
    if not value or len(value) > 8192 or not slug:
        return None, None
    token = _live(_ACCESS_TOKEN_AND_LINK.first(get_adapter().hash_token(value), slug))
    if token is None:
        return None, None
    values = [getattr(token, f"{_LINK}_{name}") for name in _LINK_ATTNAMES]
    api_client = getattr(token.client, "paylinks_api_client", None) if token.client else None
    if getattr(token, f"{_LINK}_{PaymentLink._meta.pk.attname}") is None or api_client is None:
        return token, None  # no such link of this merchant (the outer join found none)
    link = PaymentLink.from_db(token._state.db, list(_LINK_ATTNAMES), values)
    link.completed_count = getattr(token, f"{_LINK}_completed_count")  # type: ignore[attr-defined]
    link.merchant = api_client.merchant  # the join's condition: the link is this merchant's
    return token, link


# Every merchant API request runs this; its SQL (a four-table join) is built once per
# process (paylinks/fastsql.py, docs/scaling.md).
_ACCESS_TOKEN = CompiledQuery(
    lambda token_hash: (
        Token.objects.select_related("client__paylinks_api_client__merchant")
        .filter(type=Token.Type.ACCESS_TOKEN, hash=token_hash)
        .order_by()
    )[:1]
)

_LINK = "requested_link"
_LINK_ATTNAMES = tuple(f.attname for f in PaymentLink._meta.concrete_fields)
_LINKS = "client__paylinks_api_client__merchant__links"
_ACCESS_TOKEN_AND_LINK = CompiledQuery(
    lambda token_hash, slug: (
        Token.objects.select_related("client__paylinks_api_client__merchant")
        .annotate(**{_LINK: FilteredRelation(_LINKS, condition=Q(**{f"{_LINKS}__slug": slug}))})
        .annotate(**{f"{_LINK}_{name}": F(f"{_LINK}__{name}") for name in _LINK_ATTNAMES})
        .annotate(**{f"{_LINK}_completed_count": completed_count_of(f"{_LINK}__id")})
        .filter(type=Token.Type.ACCESS_TOKEN, hash=token_hash)
        .order_by()
    )[:1],
    arity=2,
)


def api_clients_of(merchants: QuerySet[Merchant]) -> QuerySet[ApiClient]:
    return ApiClient.objects.filter(merchant__in=merchants).select_related(
        "merchant", "oauth_client"
    )
