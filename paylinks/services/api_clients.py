"""Merchant API clients: created, renamed, re-scoped, rotated and revoked by owners.

Each ``ApiClient`` wraps one allauth OAuth client (``allauth.idp.oidc.models.Client``)
that may use the client-credentials grant only. The secret is generated here, handed
back once, and stored only as allauth stores it: hashed with Django's password hasher
(``Client.set_secret`` -> ``make_password``). Every change is in the audit log.

Revocation takes effect at once: the allauth client is deleted, which deletes every
access token it was issued (their hashes are what the API looks a token up by), so a
token that has not expired yet is refused on its next request. Rotating the secret also
ends the tokens issued with the old one: a rotated secret is usually a leaked secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.models import Client, Token
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from paylinks import permissions
from paylinks.models import ApiClient, ApiScope, Merchant, User

from .audit import audit_record

NAME_MAX = 100


@dataclass(frozen=True)
class IssuedSecret:
    """A client and its secret, as shown to its owner exactly once."""

    api_client: ApiClient
    client_id: str
    client_secret: str


def _require_owner(actor: User, merchant: Merchant) -> None:
    if not permissions.can_manage_team(actor, merchant):
        raise PermissionDenied("Only the merchant's owners manage its API clients.")


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the client a name, e.g. “Shop backend”."})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": f"A name has at most {NAME_MAX} characters."})
    return name


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = [scope for scope in ApiScope.values if scope in set(scopes)]
    unknown = set(scopes) - set(ApiScope.values)
    if unknown:
        raise ValidationError({"scopes": f"Unknown scope(s): {', '.join(sorted(unknown))}."})
    if not chosen:
        raise ValidationError({"scopes": "Choose at least one scope."})
    return chosen


@transaction.atomic
def api_client_create(
    *, merchant: Merchant, actor: User, name: str, scopes: Iterable[str]
) -> IssuedSecret:
    """A new client for ``merchant`` that may request ``scopes``; returns its secret."""
    _require_owner(actor, merchant)
    name, chosen = _clean_name(name), _clean_scopes(list(scopes))
    secret = get_adapter().generate_client_secret()
    client = Client(
        name=name,
        type=Client.Type.CONFIDENTIAL,
        owner=None,
        skip_consent=True,
        redirect_uris="",
        response_types="",
    )
    client.set_grant_types([Client.GrantType.CLIENT_CREDENTIALS])
    client.set_scopes(chosen)
    client.set_default_scopes(chosen)
    client.set_secret(secret)
    client.save()
    api_client = ApiClient.objects.create(
        merchant=merchant, oauth_client=client, client_id=client.id, name=name, created_by=actor
    )
    audit_record(
        actor=actor,
        action="api_client.created",
        obj=api_client,
        merchant=merchant,
        changes={"name": [None, name], "scopes": [None, chosen], "client_id": [None, client.id]},
    )
    return IssuedSecret(api_client=api_client, client_id=client.id, client_secret=secret)


def _locked(api_client: ApiClient) -> tuple[ApiClient, Client]:
    locked = ApiClient.objects.select_for_update().select_related("merchant").get(pk=api_client.pk)
    client = None
    if locked.revoked_at is None and locked.oauth_client_id is not None:
        client = Client.objects.select_for_update().filter(pk=locked.oauth_client_id).first()
    if client is None:
        raise ValidationError("This API client was revoked: create a new one instead.")
    return locked, client


@transaction.atomic
def api_client_update(
    *,
    api_client: ApiClient,
    actor: User,
    name: str | None = None,
    scopes: Iterable[str] | None = None,
) -> ApiClient:
    """Rename a client or change its scopes. Narrower scopes apply to tokens already
    issued too (the API checks a token's scopes against the client's current ones)."""
    _require_owner(actor, api_client.merchant)
    locked, client = _locked(api_client)
    changes: dict[str, list[object]] = {}
    if name is not None and (name := _clean_name(name)) != locked.name:
        changes["name"] = [locked.name, name]
        locked.name = client.name = name
    if scopes is not None:
        chosen = _clean_scopes(list(scopes))
        if chosen != client.get_scopes():
            changes["scopes"] = [client.get_scopes(), chosen]
            client.set_scopes(chosen)
            client.set_default_scopes(chosen)
    if changes:
        client.save()
        locked.save(update_fields=["name"])
        audit_record(
            actor=actor,
            action="api_client.updated",
            obj=locked,
            merchant=locked.merchant,
            changes=changes,
        )
    return locked


@transaction.atomic
def api_client_rotate_secret(*, api_client: ApiClient, actor: User) -> IssuedSecret:
    """A new secret for the client; the old one and every token issued stop working now."""
    _require_owner(actor, api_client.merchant)
    locked, client = _locked(api_client)
    secret = get_adapter().generate_client_secret()
    client.set_secret(secret)
    client.save(update_fields=["secret"])
    ended, _ = Token.objects.filter(client=client).delete()
    locked.secret_rotated_at = timezone.now()
    locked.save(update_fields=["secret_rotated_at"])
    audit_record(
        actor=actor,
        action="api_client.secret_rotated",
        obj=locked,
        merchant=locked.merchant,
        changes={"tokens_ended": [None, ended]},
    )
    return IssuedSecret(api_client=locked, client_id=client.id, client_secret=secret)


@transaction.atomic
def api_client_revoke(*, api_client: ApiClient, actor: User) -> ApiClient:
    """End the client for good: its secret and every token it holds stop working now."""
    _require_owner(actor, api_client.merchant)
    locked, client = _locked(api_client)
    tokens = Token.objects.filter(client=client).count()
    client.delete()  # deletes its tokens too (Token.client cascades)
    locked.oauth_client = None
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["oauth_client", "revoked_at"])
    audit_record(
        actor=actor,
        action="api_client.revoked",
        obj=locked,
        merchant=locked.merchant,
        changes={"revoked": [False, True], "tokens_ended": [None, tokens]},
    )
    return locked
