from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from paylinks import permissions
from paylinks.admin import display as ui
from paylinks.admin.filters import MerchantFilter
from paylinks.models import Merchant, User


def actor(request: HttpRequest) -> User:
    """The signed-in person behind a console request (the admin site guarantees one)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionError("The console needs a signed-in person.")
    return user


def back_to_change_page(request: HttpRequest, obj: Model) -> HttpResponse:
    """Where a detail action ends: the object's page again. Unfold's dialogs post through
    htmx, which follows an ``HX-Redirect`` header rather than a 302."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


#: The event console.js answers by reading the object's page again and swapping it in.
REFRESH_EVENT = "paylinks:refresh"


def refresh_in_place(request: HttpRequest, obj: Model) -> HttpResponse:
    """Where a detail action ends when its result should show without a reload: the
    dialog's htmx request gets ``204`` and an ``HX-Trigger`` event naming the object's
    page, which console.js fetches and swaps in (result, messages and timeline included).
    A plain form POST (no JavaScript) is redirected to the page as before."""
    if not request.headers.get("HX-Request"):
        return back_to_change_page(request, obj)
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
    return HttpResponse(status=204, headers={"HX-Trigger": json.dumps({REFRESH_EVENT: url})})


class ServiceRejected(Exception):
    """A service refused a change the form had accepted (last owner, duplicate member...).

    Raised from ``save_model``; :class:`ConsoleAdmin` rolls the request back and shows
    the form again with the service's messages on the fields they name.
    """

    def __init__(self, error: ValidationError) -> None:
        super().__init__(error)
        self.error = error


class ConsoleAdmin:
    """Behaviour every console page shares.

    - An object outside the person's merchants answers 404, never a redirect to the
      home page with "perhaps it was deleted" (which would confirm that it exists).
    - A ``ValidationError`` from a service becomes a form error, never a 500.
    - A page about one object shows its times in that object's merchant's zone (support
      staff, who see every merchant, read each payment in its merchant's hours).
    """

    empty_value_display = "—"

    def zone_merchant(self, obj: Model) -> Merchant | None:
        """The merchant whose reporting zone an object's page uses (None: the console's)."""
        return None

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is not None:
            ui.show_times_of(self.zone_merchant(obj))
        return obj

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponse:
        raise Http404(f"There is no {opts.verbose_name} here.")

    def get_object_or_404(self, request: HttpRequest, object_id: str) -> Any:
        obj = self.get_object(request, unquote(str(object_id)))
        if obj is None:
            raise Http404("Not found.")
        return obj

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(  # type: ignore[misc]
                request, object_id, form_url, extra_context
            )
        except ServiceRejected as rejected:
            # The first attempt was rolled back with its transaction. Validate the same
            # POST again, this time with the service's objections as form errors.
            request._service_errors = rejected.error  # type: ignore[attr-defined]
            return super().changeform_view(  # type: ignore[misc]
                request, object_id, form_url, extra_context
            )

    def get_form(
        self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)  # type: ignore[misc]
        found: ValidationError | None = getattr(request, "_service_errors", None)
        if found is None:
            return form_class
        error: ValidationError = found

        class FormWithServiceErrors(form_class):  # type: ignore[misc,valid-type]
            def clean(self) -> Any:
                data = super().clean()
                targets = error.error_dict if hasattr(error, "error_dict") else {None: error}
                for field, problems in targets.items():
                    self.add_error(field if field in self.fields else None, problems)
                return data

        return FormWithServiceErrors

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)  # type: ignore[misc]
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(request.path.removesuffix("delete/") + "change/")


class MerchantScopedAdmin(ConsoleAdmin):
    """Base for every merchant-owned model in the console.

    Every queryset, foreign-key choice and autocomplete answer is limited to the
    merchants the signed-in person belongs to (support staff and superusers see all).
    Writing needs owner or manager at the object's merchant; support staff never write.
    ``merchant_path`` is the lookup from the model to its merchant.
    """

    merchant_path = "merchant"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)  # type: ignore[misc]
        merchants = permissions.visible_merchants(request.user)
        return qs.filter(**{f"{self.merchant_path}__in": merchants})

    def merchant_of(self, obj: Model) -> Merchant:
        target: Any = obj
        for part in self.merchant_path.split("__"):
            target = getattr(target, part)
        return target

    def sees_several_merchants(self, request: HttpRequest) -> bool:
        return permissions.visible_merchants(request.user)[:2].count() > 1

    def zone_merchant(self, obj: Model) -> Merchant | None:
        return self.merchant_of(obj)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # A list filtered to one merchant reads in that merchant's hours, its date filter too.
        chosen = request.GET.get(MerchantFilter.parameter_name, "")
        if chosen.isascii() and chosen.isdigit():
            ui.show_times_of(permissions.visible_merchants(request.user).filter(pk=chosen).first())
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    # Someone who sees one merchant needs no merchant column or filter in the lists.
    def get_list_display(self, request: HttpRequest) -> list[str]:
        columns = list(super().get_list_display(request))  # type: ignore[misc]
        if "merchant" in columns and not self.sees_several_merchants(request):
            columns.remove("merchant")
        return columns

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        filters = list(super().get_list_filter(request))  # type: ignore[misc]
        if MerchantFilter in filters and not self.sees_several_merchants(request):
            filters.remove(MerchantFilter)
        return filters

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.can_enter_console(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is None:
            return permissions.can_enter_console(request.user)
        return permissions.can_view(request.user, self.merchant_of(obj))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return permissions.writable_merchants(request.user).exists()

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is None:
            return permissions.writable_merchants(request.user).exists()
        return permissions.can_write(request.user, self.merchant_of(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Merchant:
            kwargs["queryset"] = permissions.writable_merchants(request.user)
        elif hasattr(db_field.related_model, "merchant"):
            kwargs["queryset"] = db_field.related_model._default_manager.filter(
                merchant__in=permissions.visible_merchants(request.user)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
