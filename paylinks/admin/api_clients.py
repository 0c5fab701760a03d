"""API clients in the console: owners create, name, scope, rotate and revoke them.

The client secret is shown exactly once, in the answer to the request that made it
(never in a message, a cookie or a log; ``secrets.SecretShownOnce``) and stored only
hashed, by allauth. Every change goes through ``paylinks.services.api_clients`` and is
audited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.enums import ActionVariant
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget, UnfoldAdminTextInputWidget

from paylinks import permissions
from paylinks.models import ApiClient, ApiScope, Merchant
from paylinks.services import api_clients as client_services
from paylinks.services.api_clients import IssuedSecret

from . import display as ui
from .mixins import MerchantScopedAdmin, ServiceRejected, actor
from .secrets import Credential, Link, SecretPage, SecretShownOnce
from .site import site

SCOPE_HELP = {
    ApiScope.LINKS_READ: "List and read payment links, download their QR codes.",
    ApiScope.LINKS_WRITE: "Create, change, activate and deactivate payment links.",
    ApiScope.PAYMENTS_READ: "List and read payments, their timelines and refunds.",
    ApiScope.REFUNDS_WRITE: "Refund payments, in full or in part.",
    ApiScope.ANALYTICS_READ: "Read the analytics summary.",
}


def scope_choices() -> list[tuple[str, str]]:
    return [(scope.value, f"{scope.value} — {SCOPE_HELP[scope]}") for scope in ApiScope]


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=scope_choices,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text="What this client may do. Give it only what the integration needs.",
    )

    class Meta:
        model = ApiClient
        fields = ["merchant", "name"]
        widgets = {"name": UnfoldAdminTextInputWidget(attrs={"placeholder": "Shop backend"})}
        help_texts = {"name": "So your team knows what uses it, e.g. “Shop backend”."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client = self.instance.oauth_client if self.instance.pk else None
        self.fields["scopes"].initial = (
            client.get_scopes() if client else [ApiScope.LINKS_READ, ApiScope.PAYMENTS_READ]
        )


@admin.register(ApiClient, site=site)
class ApiClientAdmin(SecretShownOnce, MerchantScopedAdmin, ModelAdmin):
    form = ApiClientForm
    list_display = ["title", "status", "scope_list", "client_id_label", "merchant", "created"]
    list_display_links = ["title"]
    list_select_related = ["merchant", "oauth_client"]
    search_fields = ["name", "=client_id"]
    search_help_text = "Search by name or client ID"
    actions_detail = ["rotate_secret", "revoke"]
    readonly_fields = ["client_id_label", "status", "created", "rotated", "revoked", "docs"]

    # --- who sees and changes what: owners manage, support staff read -------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiClient]:
        qs = super().get_queryset(request)
        if permissions.sees_all_merchants(request.user):
            return qs
        return qs.filter(merchant__in=permissions.owned_merchants(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _sees_clients(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is None:
            return _sees_clients(request)
        merchant = self.merchant_of(obj)
        return permissions.sees_all_merchants(request.user) or permissions.can_manage_team(
            request.user, merchant
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return permissions.owned_merchants(request.user).exists()

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is None:
            return permissions.owned_merchants(request.user).exists()
        return obj.revoked_at is None and permissions.can_manage_team(  # type: ignore[attr-defined]
            request.user, self.merchant_of(obj)
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "merchant":
            kwargs["queryset"] = permissions.owned_merchants(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def issuing_merchants(self, request: HttpRequest) -> QuerySet[Merchant]:
        return permissions.owned_merchants(request.user)

    # --- list ---------------------------------------------------------------------------
    @display(description="Client", header=True, ordering="name")
    def title(self, obj: ApiClient) -> list[str]:
        return [obj.name, f"Created by {obj.created_by.email}" if obj.created_by else ""]

    @display(description="Client ID")
    def client_id_label(self, obj: ApiClient) -> str:
        return ui.nowrap(obj.client_id)

    @display(description="Scopes")
    def scope_list(self, obj: ApiClient) -> str:
        if obj.oauth_client is None:
            return "—"
        return ", ".join(obj.oauth_client.get_scopes())

    @display(description="Status", label={"Active": "success", "Revoked": "danger"})
    def status(self, obj: ApiClient) -> str:
        return "Active" if obj.revoked_at is None else "Revoked"

    @display(description="Created", ordering="created_at")
    def created(self, obj: ApiClient) -> str:
        return ui.nowrap(ui.when(obj.created_at))

    @display(description="Secret last rotated")
    def rotated(self, obj: ApiClient) -> str:
        return ui.when(obj.secret_rotated_at) if obj.secret_rotated_at else "Never"

    @display(description="Revoked")
    def revoked(self, obj: ApiClient) -> str:
        return ui.when(obj.revoked_at) if obj.revoked_at else "—"

    @display(description="Using it")
    def docs(self, obj: ApiClient) -> str:
        return format_html(
            "Get a token from <code>{}</code> with this client ID and its secret, then read "
            '<a class="text-primary-600" href="{}">the API documentation</a>.',
            reverse("idp:oidc:token"),
            reverse("api:docs"),
        )

    # --- form ---------------------------------------------------------------------------
    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            fields = ["name", "scopes"]
            if self.sole_merchant(request) is None:
                fields.insert(0, "merchant")
            return [(None, {"fields": fields})]
        editable = self.has_change_permission(request, obj)
        main = ["name", "scopes"] if editable else ["name", "scope_list"]
        return [
            (None, {"fields": [*main, "docs"]}),
            (
                "Record",
                {"fields": [("client_id_label", "status"), ("created", "rotated", "revoked")]},
            ),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = list(self.readonly_fields)
        if obj is not None and not self.has_change_permission(request, obj):
            fields += ["name", "scope_list"]
        return fields

    def save_model(self, request: HttpRequest, obj: ApiClient, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                saved = client_services.api_client_update(
                    api_client=obj, actor=actor(request), name=data["name"], scopes=data["scopes"]
                )
            else:
                merchant = data.get("merchant") or self.sole_merchant(request)
                if merchant is None:
                    raise PermissionDenied("Choose the merchant this client is for.")
                issued = client_services.api_client_create(
                    merchant=merchant,
                    actor=actor(request),
                    name=data["name"],
                    scopes=data["scopes"],
                )
                self.remember_issued(request, issued)
                saved = issued.api_client
        except ValidationError as exc:
            raise ServiceRejected(exc) from exc
        vars(obj).update(vars(saved))

    def secret_page(
        self, request: HttpRequest, issued: IssuedSecret, *, created: bool
    ) -> SecretPage:
        client = issued.api_client
        token_url = request.build_absolute_uri(reverse("idp:oidc:token"))
        scopes = client.oauth_client.get_scopes() if client.oauth_client else []
        return SecretPage(
            obj=client,
            title=f"{'Client created' if created else 'New secret'}: {client.name}",
            heading="Copy the secret now: it is shown only this once"
            if created
            else "The new secret, shown only this once",
            lead="Paylinks keeps only a hash of it. If it is lost, rotate the secret to get a "
            "new one.",
            credentials=[
                Credential("Client ID", issued.client_id, "client-id", "Copy the client ID"),
                Credential(
                    "Client secret", issued.client_secret, "client-secret", "Copy the client secret"
                ),
                Credential("Scopes", " ".join(scopes)),
                Credential("Token URL", token_url),
            ],
            usage="Get an access token (valid for an hour) with:",
            example=f"curl -s -u '{issued.client_id}:<secret>' \\\n"
            f"  -d grant_type=client_credentials {token_url}",
            links=[Link("API documentation", reverse("api:docs"), "menu_book")],
        )

    # --- rotate and revoke: a confirmation page, then a POST --------------------------
    def has_rotate_secret_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return self._manageable(request, object_id) is not None

    def has_revoke_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return self._manageable(request, object_id) is not None

    def _manageable(self, request: HttpRequest, object_id: Any) -> ApiClient | None:
        if object_id is None:
            return None
        client = self.get_object_or_404(request, object_id)
        return client if self.has_change_permission(request, client) else None

    @action(description="Rotate secret", icon="autorenew", url_path="rotate-secret",
            permissions=["rotate_secret"], variant=ActionVariant.WARNING)  # fmt: skip
    def rotate_secret(self, request: HttpRequest, object_id: str) -> HttpResponse:
        client = self._manageable(request, object_id)
        if client is None:
            raise PermissionDenied
        if request.method != "POST":
            return self.confirm_response(
                request,
                client,
                title=f"Rotate the secret of “{client.name}”?",
                body="A new secret is made and shown once. The old secret stops working now, "
                "and so does every access token issued with it: update your integration "
                "straight away.",
                button="Rotate secret",
                detail=Credential("Client ID", client.client_id),
            )
        issued = client_services.api_client_rotate_secret(api_client=client, actor=actor(request))
        return self.secret_response(request, issued, created=False)

    @action(description="Revoke", icon="block", url_path="revoke",
            permissions=["revoke"], variant=ActionVariant.DANGER)  # fmt: skip
    def revoke(self, request: HttpRequest, object_id: str) -> HttpResponse:
        client = self._manageable(request, object_id)
        if client is None:
            raise PermissionDenied
        if request.method != "POST":
            return self.confirm_response(
                request,
                client,
                title=f"Revoke “{client.name}”?",
                body="Its secret and every access token it holds stop working now, for good. "
                "The client stays in this list, marked revoked, for the record.",
                button="Revoke client",
                variant="danger",
                detail=Credential("Client ID", client.client_id),
            )
        client_services.api_client_revoke(api_client=client, actor=actor(request))
        messages.success(request, f"“{client.name}” is revoked: its tokens no longer work.")
        return HttpResponseRedirect(self.change_url(client))

    # --- titles ---------------------------------------------------------------------------
    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        return super().changelist_view(request, {"title": "API clients", **(extra_context or {})})

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> Any:
        extra_context = {"title": "New API client", **(extra_context or {})}
        return super().add_view(request, form_url, extra_context)


def _sees_clients(request: HttpRequest) -> bool:
    user = request.user
    return permissions.sees_all_merchants(user) or permissions.owned_merchants(user).exists()
