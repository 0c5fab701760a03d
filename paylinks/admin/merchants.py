from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.widgets import (
    UnfoldAdminColorInputWidget,
    UnfoldAdminEmailInputWidget,
    UnfoldAdminSelect2Widget,
    UnfoldAdminTextareaWidget,
)

from paylinks import permissions
from paylinks.models import Membership, Merchant, Role
from paylinks.services import merchants as merchant_services
from paylinks.services.notification_prefs import membership_set_notifications

from . import display as ui
from .filters import MerchantFilter
from .mixins import ConsoleAdmin, MerchantScopedAdmin, ServiceRejected, actor
from .site import site

ROLE_VARIANTS: dict[str, str] = {
    Role.OWNER: "success",
    Role.MANAGER: "info",
    Role.VIEWER: "default",
}

ROLE_HELP = (
    "Owners manage the team and the merchant's settings. Managers create and change "
    "payment links. Viewers see everything and change nothing."
)


def zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone, with what its clock says today: "Europe/Copenhagen (UTC+01:00)"."""
    now = timezone.now()
    choices = []
    for name in sorted(zoneinfo.available_timezones()):
        offset = now.astimezone(zoneinfo.ZoneInfo(name)).strftime("%z")
        label = f"{name.replace('_', ' ')} (UTC{offset[:3]}:{offset[3:]})"
        choices.append((name, label))
    return choices


class MerchantForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=zone_choices,
        widget=UnfoldAdminSelect2Widget(),
        help_text="Every date and time in the console, in exports and in analytics "
        '(when "today" starts) is in this zone.',
    )

    class Meta:
        model = Merchant
        fields = [
            "name",
            "slug",
            "brand_color",
            "logo",
            "default_currency",
            "timezone",
            "support_email",
            "inactive_message",
        ]
        widgets = {
            "brand_color": UnfoldAdminColorInputWidget(),
            "inactive_message": UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        }
        help_texts = {
            "brand_color": "Buttons and accents on your payment pages.",
            "logo": "Shown at the top of your payment pages. PNG, JPEG, WebP or GIF, "
            "at least 128 px high.",
            "default_currency": "Preselected when you create a payment link.",
            "support_email": "Customers who need help with a payment write here.",
        }


@admin.register(Merchant, site=site)
class MerchantAdmin(ConsoleAdmin, ModelAdmin):
    """A merchant's own settings: owners edit, other members read."""

    form = MerchantForm
    list_display = ["name", "default_currency", "timezone", "support_email", "created"]
    search_fields = ["name", "slug"]
    readonly_fields = ["merchant_id", "created_at"]
    fieldsets = [
        ("Business", {"fields": [("name", "merchant_id")]}),
        ("Payment pages", {"fields": [("brand_color", "logo"), "inactive_message"]}),
        ("Defaults", {"fields": [("default_currency", "timezone"), "support_email"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Merchant]:
        return (
            super().get_queryset(request).filter(pk__in=permissions.visible_merchants(request.user))
        )

    def zone_merchant(self, obj: Model) -> Merchant | None:
        return obj  # type: ignore[return-value]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.can_enter_console(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is None:
            return permissions.can_enter_console(request.user)
        return permissions.can_view(request.user, obj)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is None:
            return permissions.owned_merchants(request.user).exists()
        return permissions.can_manage_team(request.user, obj)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:  # a platform operator creating a merchant
            return [(None, {"fields": ["name", "slug", "default_currency", "timezone"]})]
        return self.fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return [] if obj is None else self.readonly_fields

    @display(description="Merchant ID")
    def merchant_id(self, obj: Merchant) -> str:
        return obj.slug

    @display(description="Created", ordering="created_at")
    def created(self, obj: Merchant) -> str:
        return ui.nowrap(ui.when(obj.created_at))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Most people belong to one merchant: "Merchant settings" is then that merchant.
        merchants = list(self.get_queryset(request)[:2])
        if len(merchants) == 1 and not request.GET:
            url = reverse("admin:paylinks_merchant_change", args=[quote(merchants[0].pk)])
            return HttpResponseRedirect(url)
        extra_context = {"title": "Merchant settings", **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        merchant = self.get_object_or_404(request, object_id)
        title = f"Settings · {merchant.name}"
        if not self.has_change_permission(request, merchant):
            title += " (only owners can change these)"
        extra_context = {"title": title, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Merchant, form: Any, change: bool) -> None:
        try:
            if not change:
                created = merchant_services.merchant_create(
                    **{f: form.cleaned_data[f] for f in form.cleaned_data if f != "created_at"}
                )
                vars(obj).update(vars(created))
                return
            changes = {
                f: form.cleaned_data[f]
                for f in form.changed_data
                if f in merchant_services.MERCHANT_FIELDS
            }
            if changes.get("logo") is False:  # "clear" ticked on the file input
                changes["logo"] = ""
            saved = merchant_services.merchant_update(merchant=obj, actor=actor(request), **changes)
        except ValidationError as exc:
            raise ServiceRejected(exc) from exc
        vars(obj).update(vars(saved))


class MembershipForm(forms.ModelForm):
    email = forms.EmailField(
        label="E-mail address",
        required=False,
        widget=UnfoldAdminEmailInputWidget(attrs={"placeholder": "name@example.com"}),
    )

    class Meta:
        model = Membership
        fields = ["merchant", "role"]
        help_texts = {"role": ROLE_HELP}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "email" not in self.fields:
            return
        if self.instance.pk:
            self.fields["email"].disabled = True
            self.fields["email"].initial = self.instance.user.email
            if "merchant" in self.fields:
                self.fields["merchant"].disabled = True
        else:
            self.fields["email"].required = True
            self.fields["email"].help_text = (
                "Someone without a Paylinks account gets an e-mail inviting them to "
                "choose a password."
            )


class NotificationsForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["notify_payments", "notify_failures"]


@admin.register(Membership, site=site)
class MembershipAdmin(MerchantScopedAdmin, ModelAdmin):
    """The team: owners add people, change roles and remove members."""

    form = MembershipForm
    list_display = ["member", "role_badge", "merchant", "joined"]
    list_display_links = ["member"]
    list_filter = ["role", MerchantFilter]
    list_filter_submit = True
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    search_help_text = "Search by e-mail address or name"
    list_select_related = ["user", "merchant"]
    fields = ["email", "merchant", "role"]
    radio_fields = {"role": admin.VERTICAL}
    ordering = ["merchant__name", "user__email"]
    actions_detail = ["notifications"]

    # --- payment e-mails: each member for themself, owners for anyone -------------------
    def has_notifications_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        if object_id is None:
            return False
        membership = self.get_object_or_404(request, object_id)
        return membership.user_id == request.user.pk or permissions.can_manage_team(
            request.user, membership.merchant
        )

    @action(description="Payment e-mails", icon="mail", url_path="notifications",
            permissions=["notifications"])  # fmt: skip
    def notifications(self, request: HttpRequest, object_id: str) -> HttpResponse:
        membership = self.get_object_or_404(request, object_id)
        if not self.has_notifications_permission(request, object_id):
            raise PermissionDenied
        form = NotificationsForm(request.POST or None, instance=membership)
        if request.method == "POST" and form.is_valid():
            membership_set_notifications(
                membership=membership,
                actor=actor(request),
                notify_payments=form.cleaned_data["notify_payments"],
                notify_failures=form.cleaned_data["notify_failures"],
            )
            messages.success(request, "Payment e-mails saved.")
            return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Payment e-mails for {membership.user.email} at {membership.merchant.name}",
            "original": membership,
            "form": form,
            "back_url": reverse("admin:paylinks_membership_change", args=[quote(membership.pk)]),
        }
        return TemplateResponse(request, "console/team/notifications.html", context)

    @display(description="Member", ordering="user__email", header=True)
    def member(self, obj: Membership) -> list[str]:
        user = obj.user
        name = user.get_full_name()
        initials = "".join(part[0] for part in (name or user.email).split()[:2]).upper()
        return [name or user.email, user.email if name else "", initials[:2]]

    @display(description="Role", label=ROLE_VARIANTS, ordering="role")
    def role_badge(self, obj: Membership) -> tuple[str, str]:
        return obj.role, obj.get_role_display()

    @display(description="Member since", ordering="created_at")
    def joined(self, obj: Membership) -> str:
        return ui.day(obj.created_at)

    @display(description="Role")
    def role_label(self, obj: Membership) -> str:
        return ui.badge(obj.get_role_display(), ROLE_VARIANTS[obj.role])

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        if obj is not None and not self.has_change_permission(request, obj):
            return ["member_email", "merchant", "role_label", "joined"]
        if obj is None and self._only_owned_merchant(request) is not None:
            return ["email", "role"]  # nothing to choose: the team is the owner's merchant
        return self.fields

    def _only_owned_merchant(self, request: HttpRequest) -> Merchant | None:
        owned = list(permissions.owned_merchants(request.user)[:2])
        return owned[0] if len(owned) == 1 else None

    @display(description="E-mail address")
    def member_email(self, obj: Membership) -> str:
        return obj.user.email

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return permissions.owned_merchants(request.user).exists()

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is None:
            return permissions.owned_merchants(request.user).exists()
        return permissions.can_manage_team(request.user, self.merchant_of(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_change_permission(request, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        owned = list(permissions.owned_merchants(request.user)[:2])
        if len(owned) == 1:
            initial.setdefault("merchant", owned[0].pk)
        return initial

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "merchant":
            kwargs["queryset"] = permissions.owned_merchants(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "merchant" and formfield is not None:
            formfield.widget = getattr(formfield.widget, "widget", formfield.widget)
        return formfield

    # --- page titles in team words ----------------------------------------------------
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(request, {"title": "Team", **(extra_context or {})})

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {"title": "Add a team member", **(extra_context or {})}
        return super().add_view(request, form_url, extra_context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        membership = self.get_object_or_404(request, object_id)
        title = f"{membership.user.email} at {membership.merchant.name}"
        return super().change_view(
            request, object_id, form_url, {"title": title, **(extra_context or {})}
        )

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        membership = self.get_object_or_404(request, object_id)
        title = f"Remove {membership.user.email} from {membership.merchant.name}?"
        return super().delete_view(request, object_id, {"title": title, **(extra_context or {})})

    # --- writes go through the services -------------------------------------------------
    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        try:
            if change:
                saved = merchant_services.membership_change_role(
                    membership=obj, actor=actor(request), role=form.cleaned_data["role"]
                )
            else:
                merchant = form.cleaned_data.get("merchant") or self._only_owned_merchant(request)
                if merchant is None:
                    raise PermissionDenied("Choose the merchant to add this person to.")
                saved = merchant_services.membership_add(
                    merchant=merchant,
                    actor=actor(request),
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
        except ValidationError as exc:
            raise ServiceRejected(exc) from exc
        vars(obj).update(vars(saved))

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        merchant_services.membership_remove(membership=obj, actor=actor(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset:
            try:
                merchant_services.membership_remove(membership=membership, actor=actor(request))
            except ValidationError as exc:
                messages.error(request, f"{membership.user.email}: {' '.join(exc.messages)}")

    def message_user(self, request: HttpRequest, message: str, *args: Any, **kwargs: Any) -> None:
        # Django's "The membership “…” was deleted successfully." reads like a database log.
        if "deleted successfully" in str(message):
            message = "Removed from the team."
        super().message_user(request, message, *args, **kwargs)
