from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from paylinks.models import User

from . import display as ui
from .site import site


@admin.register(User, site=site)
class UserAdmin(DjangoUserAdmin, ModelAdmin):
    """People on the platform: for platform operators (superusers) only."""

    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    ordering = ["email"]
    list_display = [
        "person",
        "merchants",
        "support",
        "operator",
        "active",
        "last_seen",
    ]
    list_display_links = ["person"]
    list_filter = ["is_support", "is_superuser", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    search_help_text = "Search by e-mail address or name"
    empty_value_display = "—"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__merchant")

    @display(description="Person", header=True, ordering="email")
    def person(self, obj: User) -> list[str]:
        name = obj.get_full_name()
        return [name or obj.email, obj.email if name else ""]

    @display(description="Merchants")
    def merchants(self, obj: User) -> str:
        roles = [
            f"{m.merchant.name} ({m.get_role_display().lower()})" for m in obj.memberships.all()
        ]
        return ", ".join(roles) or "—"

    @display(description="Support staff", boolean=True, ordering="is_support")
    def support(self, obj: User) -> bool:
        return obj.is_support

    @display(description="Platform operator", boolean=True, ordering="is_superuser")
    def operator(self, obj: User) -> bool:
        return obj.is_superuser

    @display(description="Active", boolean=True, ordering="is_active")
    def active(self, obj: User) -> bool:
        return obj.is_active

    @display(description="Last signed in", ordering="last_login")
    def last_seen(self, obj: User) -> str:
        return ui.nowrap(ui.when(obj.last_login)) if obj.last_login else "Never"

    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Name", {"fields": ["first_name", "last_name"]}),
        ("Access", {"fields": ["is_active", "is_support", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal = []

    def has_module_permission(self, request):
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)
