"""The console's "secret shown once" flow, shared by API clients and webhook endpoints.

A thing that carries a secret (an API client's client secret, an endpoint's signing
secret) is added through the admin's add form or given a new secret by a "Rotate secret"
action; either way the secret appears exactly once, in the answer to the request that
made it: never in a message, a cookie, a redirect or a log, and the page is
``Cache-Control: no-store``. Actions that change such a thing ask first, on a
confirmation page that posts back to the action.

``SecretShownOnce`` holds that flow for a ``ModelAdmin``; the admin says what its page
shows (``secret_page``) and who may add for which merchant (``issuing_merchants``). One
template each: ``console/secret_once.html`` and ``console/confirm.html``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin.utils import quote
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from paylinks.models import Merchant

SHOWN_ONCE_TEMPLATE = "console/secret_once.html"
CONFIRM_TEMPLATE = "console/confirm.html"


@dataclass(frozen=True)
class Credential:
    """One line of the page: a label and its value, shown in monospace.

    ``key`` marks the value with a ``data-<key>`` attribute (what scripts and tests look
    for); ``copy`` is the label of a "Copy" button beside it (none when empty)."""

    label: str
    value: str
    key: str = ""
    copy: str = ""


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    icon: str


@dataclass(frozen=True)
class SecretPage:
    """What the page says about one issued secret."""

    obj: Model
    title: str
    heading: str
    lead: str
    credentials: list[Credential]
    usage: str  # the line above the example
    example: str  # shown as code, with the secret itself left out
    links: list[Link] = field(default_factory=list)


class SecretShownOnce:
    """For a ``ModelAdmin`` whose add form, and whose rotate action, issue a secret.

    ``save_model`` stores what the service issued with ``remember_issued``; the add view
    then answers with the secret page instead of the usual redirect. A rotate action
    answers with ``secret_response(..., created=False)``.
    """

    admin_site: Any
    opts: Any

    # --- what the admin says ----------------------------------------------------------
    def secret_page(self, request: HttpRequest, issued: Any, *, created: bool) -> SecretPage:
        raise NotImplementedError

    def issuing_merchants(self, request: HttpRequest) -> QuerySet[Merchant]:
        """The merchants the person may add one for."""
        raise NotImplementedError

    # --- the add form -----------------------------------------------------------------
    def sole_merchant(self, request: HttpRequest) -> Merchant | None:
        """The one merchant the person may add for; None when there are several (the
        form then asks) or none."""
        merchants = list(self.issuing_merchants(request)[:2])
        return merchants[0] if len(merchants) == 1 else None

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if db_field.name == "merchant" and formfield is not None:
            # A plain choice of the person's own merchants: no "add another" pop-up.
            formfield.widget = getattr(formfield.widget, "widget", formfield.widget)
        return formfield

    @staticmethod
    def remember_issued(request: HttpRequest, issued: Any) -> None:
        request._issued_secret = issued  # type: ignore[attr-defined]

    def response_add(self, request: HttpRequest, obj: Model, post_url_continue: Any = None) -> Any:
        issued = getattr(request, "_issued_secret", None)
        if issued is None:
            return super().response_add(request, obj, post_url_continue)  # type: ignore[misc]
        return self.secret_response(request, issued, created=True)

    # --- the pages --------------------------------------------------------------------
    def secret_response(self, request: HttpRequest, issued: Any, *, created: bool) -> HttpResponse:
        page = self.secret_page(request, issued, created=created)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": page.title,
            "original": page.obj,
            "page": page,
            "done_url": self.change_url(page.obj),
        }
        response = TemplateResponse(request, SHOWN_ONCE_TEMPLATE, context)
        response["Cache-Control"] = "no-store"
        return response

    def confirm_response(
        self, request: HttpRequest, obj: Model, *, title: str, body: str, button: str,
        variant: str = "", detail: Credential | None = None, back_url: str = "",
    ) -> TemplateResponse:  # fmt: skip
        """The page an action shows before it acts: ``button`` posts back to it."""
        return confirm_response(
            self, request, obj, title=title, body=body, button=button, variant=variant,
            detail=detail, back_url=back_url or self.change_url(obj),
        )  # fmt: skip

    def change_url(self, obj: Model) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[quote(obj.pk)]
        )


def confirm_response(
    model_admin: Any, request: HttpRequest, obj: Model, *, title: str, body: str, button: str,
    back_url: str, variant: str = "", detail: Credential | None = None,
) -> TemplateResponse:  # fmt: skip
    """A confirmation page for any console action (``detail``: one more line under the
    question, such as the client ID)."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "body": body,
        "button": button,
        "variant": variant,
        "detail": detail,
        "original": obj,
        "back_url": back_url,
    }
    return TemplateResponse(request, CONFIRM_TEMPLATE, context)
