"""The sandbox's hosted checkout page: TEST MODE, Stripe's test cards, no JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.views.decorators.http import require_http_methods

from paylinks import money

from . import branding, engine
from .forms import CardForm, CustomerFields, SepaForm
from .models import SandboxPaymentIntent, SandboxSession


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def returns_to_checkout(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let this page's forms hand the customer back to the public checkout page.

    Browsers apply ``form-action`` to the redirects a form submission follows, so the
    strict ``'self'`` policy would stop the 303 to ``/pay/<slug>/success`` on the
    checkout page's origin (``PUBLIC_CHECKOUT_URL``, or wherever this session was told
    to return). Everything else in the policy stays as strict as on every public page.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, session_id: str) -> HttpResponse:
        response = view(request, session_id)
        origins = {_origin(settings.PUBLIC_CHECKOUT_URL)}
        session = SandboxSession.objects.filter(pk=session_id[:80]).only("success_url").first()
        if session is not None:
            origins.add(_origin(session.success_url))
        allowed = sorted(o for o in origins if o)
        response._csp_config = {  # type: ignore[attr-defined]
            **settings.SECURE_CSP,
            "form-action": [CSP.SELF, *allowed],
            # The one nonce'd <style> carrying the merchant's brand colour (base.html).
            "style-src": [CSP.SELF, CSP.NONCE],
        }
        return response

    return wrapped


def _closed(
    request: HttpRequest, session: SandboxSession | None, status: int = 410
) -> HttpResponse:
    brand = branding.for_session(session) if session is not None else None
    return render(
        request, "sandbox/closed.html", {"session": session, "brand": brand}, status=status
    )


def _context(session: SandboxSession, method: str, form: CustomerFields, error: str = "") -> dict:
    return {
        "brand": branding.for_session(session),
        "session": session,
        "method": method,
        "form": form,
        "error": error,
        "amount": money.format_money(session.amount_total, session.currency),
        "unit_amount": money.format_money(
            session.amount_total // max(1, session.quantity), session.currency
        ),
        "checkout_url": reverse("sandbox:checkout", args=[session.id]),
    }


def _customer(form: CustomerFields) -> engine.Customer:
    data = form.cleaned_data
    return engine.Customer(
        email=data["email"],
        name=data.get("name", ""),
        phone=data.get("phone", ""),
        address=form.address(),
    )


@require_http_methods(["GET", "POST"])
@returns_to_checkout
def checkout(request: HttpRequest, session_id: str) -> HttpResponse:
    session = SandboxSession.objects.filter(pk=session_id[:80]).first()
    if session is None:
        return _closed(request, None, status=404)
    if session.status == SandboxSession.Status.OPEN and session.expires_at <= timezone.now():
        session = engine.expire(session.id)
    if session.status != SandboxSession.Status.OPEN:
        return _closed(request, session)
    method = request.POST.get("method") or request.GET.get("method") or "card"
    method = method if method in ("card", "sepa") else "card"
    form_class = SepaForm if method == "sepa" else CardForm
    if request.method == "GET":
        intent = SandboxPaymentIntent.objects.filter(session=session).first()
        error = intent.last_error_message if intent and request.GET.get("retry") else ""
        form = form_class(session=session)
        return render(request, "sandbox/checkout.html", _context(session, method, form, error))

    form = form_class(request.POST, session=session)
    if not form.is_valid():
        return render(request, "sandbox/checkout.html", _context(session, method, form), status=400)
    try:
        if isinstance(form, SepaForm):
            attempt = engine.pay_with_sepa(
                session.id, iban=form.instrument, last4=form.last4, customer=_customer(form)
            )
        else:
            assert isinstance(form, CardForm) and form.instrument is not None
            attempt = engine.pay_with_card(
                session.id, card=form.instrument, last4=form.last4, customer=_customer(form)
            )
    except engine.SandboxError:
        session.refresh_from_db()
        return _closed(request, session)
    return _after(request, session, attempt, method)


def _after(
    request: HttpRequest, session: SandboxSession, attempt: engine.Attempt, method: str
) -> HttpResponse:
    if attempt.result in ("succeeded", "processing"):
        return HttpResponseRedirect(engine.success_url(session), status=303)
    if attempt.result == "requires_action":
        return HttpResponseRedirect(reverse("sandbox:authenticate", args=[session.id]), status=303)
    fresh = SepaForm(session=session) if method == "sepa" else CardForm(session=session)
    fresh.initial["email"] = session.customer_email
    return render(
        request,
        "sandbox/checkout.html",
        _context(session, method, fresh, attempt.message),
        status=402,
    )


@require_http_methods(["GET", "POST"])
@returns_to_checkout
def authenticate(request: HttpRequest, session_id: str) -> HttpResponse:
    session = SandboxSession.objects.filter(pk=session_id[:80]).first()
    if session is None:
        return _closed(request, None, status=404)
    intent = SandboxPaymentIntent.objects.filter(session=session).first()
    waiting = intent is not None and intent.status == SandboxPaymentIntent.Status.REQUIRES_ACTION
    if session.status != SandboxSession.Status.OPEN or not waiting:
        if session.status == SandboxSession.Status.OPEN:
            return HttpResponseRedirect(reverse("sandbox:checkout", args=[session.id]), status=303)
        return _closed(request, session)
    if request.method == "GET":
        context = {
            "brand": branding.for_session(session),
            "session": session,
            "amount": money.format_money(session.amount_total, session.currency),
            "last4": intent.last4 if intent else "",
        }
        return render(request, "sandbox/authenticate.html", context)
    try:
        attempt = engine.finish_authentication(
            session.id, passed=request.POST.get("outcome") == "complete"
        )
    except engine.SandboxError:
        session.refresh_from_db()
        return _closed(request, session)
    return _after(request, session, attempt, "card")
