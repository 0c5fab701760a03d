"""Payment links: creation rules, states, slugs and the audit trail they leave."""

from __future__ import annotations

import math
import string
from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from paylinks.models import AuditEntry, LinkState, PaymentLink, PaymentStatus
from paylinks.models.links import new_slug
from paylinks.selectors.links import link_state, with_state
from paylinks.services.links import (
    payment_link_activate,
    payment_link_create,
    payment_link_deactivate,
    payment_link_update,
)

from ..factories import PaymentFactory, PaymentLinkFactory

pytestmark = pytest.mark.django_db


def create(merchant, actor, **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("title", "Signed first edition")
    kwargs.setdefault("currency", "USD")
    kwargs.setdefault("amount", 2500)
    return payment_link_create(merchant=merchant, actor=actor, **kwargs)


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


class TestCreate:
    def test_owner_creates_a_fixed_price_link(self, acme, alice) -> None:
        link = create(acme, alice)
        assert link.pk and link.merchant == acme and link.created_by == alice
        assert link.public_url.endswith(f"/pay/{link.slug}")
        entry = AuditEntry.objects.get(action="link.created")
        assert entry.actor_email == alice.email and entry.object_id == str(link.pk)

    def test_viewer_cannot_create(self, acme, victor) -> None:
        with pytest.raises(PermissionDenied):
            create(acme, victor)
        assert not PaymentLink.objects.exists()

    def test_member_of_another_merchant_cannot_create(self, acme, bob) -> None:
        with pytest.raises(PermissionDenied):
            create(acme, bob)

    def test_support_staff_cannot_create(self, acme, sam) -> None:
        with pytest.raises(PermissionDenied):
            create(acme, sam)

    @pytest.mark.parametrize(
        ("kwargs", "field", "words"),
        [
            ({"amount": 49}, "amount", "smallest amount"),
            ({"amount": 100_000_000}, "amount", "largest amount"),
            ({"currency": "KWD", "amount": 1255}, "amount", "multiple of 0.010"),
            ({"currency": "XXX"}, "currency", "not a currency"),
            ({"amount": None}, "amount", "Enter the amount"),
            ({"expires_at": timezone.now() - timedelta(minutes=1)}, "expires_at", "in the past"),
            ({"after_payment": "redirect", "redirect_url": ""}, "redirect_url", "web address"),
            (
                {"after_payment": "redirect", "redirect_url": "javascript:alert(1)"},
                "redirect_url",
                "http",
            ),
            (
                {"after_payment": "redirect", "redirect_url": "ftp://files.example"},
                "redirect_url",
                "http",
            ),
            # Addresses that read as the merchant's shop but lead elsewhere.
            (
                {"after_payment": "redirect", "redirect_url": "https://shop.example@evil.example/"},
                "redirect_url",
                "user name or password",
            ),
            (
                {"after_payment": "redirect", "redirect_url": "https://u:p@shop.example/thanks"},
                "redirect_url",
                "user name or password",
            ),
            (
                {
                    "after_payment": "redirect",
                    "redirect_url": "https://shop.example\\@evil.example/",
                },
                "redirect_url",
                "backslash",
            ),
            (
                {"after_payment": "redirect", "redirect_url": "https:/\\evil.example/"},
                "redirect_url",
                "",
            ),
            (
                {"after_payment": "redirect", "redirect_url": "https://shop.example/\x01thanks"},
                "redirect_url",
                "invisible or control characters",
            ),
            (
                {"after_payment": "redirect", "redirect_url": "https://shop.example/\u202ethanks"},
                "redirect_url",
                "invisible or control characters",
            ),
            (
                {"after_payment": "redirect", "redirect_url": "data:text/html,<script>x</script>"},
                "redirect_url",
                "http",
            ),
            ({"payment_limit": 0}, "payment_limit", ""),
            ({"metadata": {"k": 5}}, "metadata", "text"),
            ({"metadata": {f"k{i}": "v" for i in range(48)}}, "metadata", "at most 47"),
            ({"metadata": {"paylinks_payment": "x"}}, "metadata", "Paylinks' own"),
        ],
    )
    def test_bad_input_is_a_field_error(self, acme, alice, kwargs, field, words) -> None:
        with pytest.raises(ValidationError) as exc:
            create(acme, alice, **kwargs)
        assert field in errors_of(exc)
        assert words in " ".join(errors_of(exc)[field])
        assert not PaymentLink.objects.exists()

    def test_a_refused_redirect_is_refused_even_when_not_redirecting(self, acme, alice) -> None:
        # A link showing a message keeps its redirect address for later: it must be safe too.
        with pytest.raises(ValidationError) as exc:
            create(acme, alice, redirect_url="https://shop.example@evil.example/")
        assert list(errors_of(exc)) == ["redirect_url"]
        assert len(errors_of(exc)["redirect_url"]) == 1

    @pytest.mark.parametrize(
        "url",
        [
            "https://shop.example/thanks?order=1&ref=a@b",
            "https://shop.example/thanks#done",
            "http://localhost:8080/paid",
            "HTTPS://SHOP.EXAMPLE/",
            "https://bücher.example/danke",
            "https://shop.example/path%40with%5Cescapes",
        ],
    )
    def test_ordinary_redirect_addresses_are_accepted(self, acme, alice, url) -> None:
        link = create(acme, alice, after_payment="redirect", redirect_url=url)
        assert link.redirect_url == url

    def test_customer_chooses_with_range(self, acme, alice) -> None:
        link = create(
            acme,
            alice,
            amount=None,
            amount_type="customer",
            custom_amount_min=500,
            custom_amount_max=50000,
            custom_amount_preset=2000,
        )
        assert link.amount is None
        assert (link.effective_min, link.effective_max) == (500, 50000)

    def test_customer_chooses_without_range_uses_currency_limits(self, acme, alice) -> None:
        link = create(acme, alice, currency="JPY", amount=None, amount_type="customer")
        assert (link.effective_min, link.effective_max) == (50, 99_999_999)

    def test_customer_chooses_min_above_max(self, acme, alice) -> None:
        with pytest.raises(ValidationError) as exc:
            create(
                acme,
                alice,
                amount=None,
                amount_type="customer",
                custom_amount_min=5000,
                custom_amount_max=1000,
            )
        assert "at least the minimum" in errors_of(exc)["custom_amount_max"][0]

    def test_preset_outside_range(self, acme, alice) -> None:
        with pytest.raises(ValidationError) as exc:
            create(
                acme,
                alice,
                amount=None,
                amount_type="customer",
                custom_amount_min=500,
                custom_amount_preset=100,
            )
        assert "custom_amount_preset" in errors_of(exc)

    def test_database_refuses_a_fixed_link_without_amount(self, acme) -> None:
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            PaymentLink.objects.create(merchant=acme, title="x", currency="USD", amount=None)


class TestSlug:
    def test_slug_is_at_least_128_bits_and_url_safe(self) -> None:
        slug = new_slug()
        alphabet = set(string.ascii_letters + string.digits + "-_")
        assert set(slug) <= alphabet
        assert len(slug) * math.log2(64) >= 128

    def test_slugs_do_not_repeat_and_look_random(self) -> None:
        slugs = [new_slug() for _ in range(20000)]
        assert len(set(slugs)) == len(slugs)
        counts = Counter("".join(slugs))
        # 64 symbols evenly used: each within 10% of its expected share.
        expected = sum(counts.values()) / 64
        assert len(counts) == 64
        assert all(abs(n - expected) / expected < 0.1 for n in counts.values())
        # Shannon entropy per character close to the 6-bit maximum.
        total = sum(counts.values())
        entropy = -sum(n / total * math.log2(n / total) for n in counts.values())
        assert entropy > 5.99

    def test_slug_is_unique_in_the_database(self, acme) -> None:
        from django.db import IntegrityError, transaction

        first = PaymentLinkFactory(merchant=acme)
        with pytest.raises(IntegrityError), transaction.atomic():
            PaymentLinkFactory(merchant=acme, slug=first.slug)

    def test_every_link_gets_its_own_slug(self, acme, alice) -> None:
        slugs = {create(acme, alice).slug for _ in range(25)}
        assert len(slugs) == 25


class TestStates:
    def test_active(self, acme) -> None:
        link = PaymentLinkFactory(merchant=acme)
        assert link_state(link) == LinkState.ACTIVE

    def test_expired(self, acme) -> None:
        link = PaymentLinkFactory(merchant=acme, expires_at=timezone.now() - timedelta(seconds=1))
        assert link_state(link) == LinkState.EXPIRED

    def test_not_yet_expired(self, acme) -> None:
        link = PaymentLinkFactory(merchant=acme, expires_at=timezone.now() + timedelta(hours=1))
        assert link_state(link) == LinkState.ACTIVE

    def test_inactive_wins_over_expired(self, acme) -> None:
        link = PaymentLinkFactory(
            merchant=acme, is_active=False, expires_at=timezone.now() - timedelta(days=1)
        )
        assert link_state(link) == LinkState.INACTIVE

    def test_sold_out_counts_completed_payments_only(self, acme) -> None:
        link = PaymentLinkFactory(merchant=acme, payment_limit=2)
        PaymentFactory(link=link, status=PaymentStatus.SUCCEEDED)
        PaymentFactory(link=link, status=PaymentStatus.FAILED)
        PaymentFactory(link=link, status=PaymentStatus.PENDING)
        assert link_state(link) == LinkState.ACTIVE
        PaymentFactory(link=link, status=PaymentStatus.REFUNDED)
        assert link_state(link) == LinkState.SOLD_OUT

    def test_database_annotation_agrees_with_the_model(self, acme) -> None:
        now = timezone.now()
        links = [
            PaymentLinkFactory(merchant=acme),
            PaymentLinkFactory(merchant=acme, is_active=False),
            PaymentLinkFactory(merchant=acme, expires_at=now - timedelta(hours=1)),
            PaymentLinkFactory(merchant=acme, payment_limit=1),
        ]
        PaymentFactory(link=links[3], status=PaymentStatus.SUCCEEDED)
        annotated = {link.pk: link.state for link in with_state(PaymentLink.objects.all(), now)}
        assert annotated == {link.pk: link_state(link, now) for link in links}
        assert sorted(annotated.values()) == sorted(LinkState.values)


class TestUpdate:
    def test_manager_updates_and_the_change_is_audited(self, acme, mallory) -> None:
        link = create(acme, mallory)
        payment_link_update(link=link, actor=mallory, amount=3000, title="Second edition")
        link.refresh_from_db()
        assert (link.amount, link.title) == (3000, "Second edition")
        entry = AuditEntry.objects.get(action="link.updated")
        assert entry.changes["amount"] == [2500, 3000]

    def test_currency_is_fixed_once_a_payment_exists(self, acme, alice) -> None:
        link = create(acme, alice)
        PaymentFactory(link=link)
        with pytest.raises(ValidationError) as exc:
            payment_link_update(link=link, actor=alice, currency="EUR")
        assert "currency" in errors_of(exc)

    def test_editing_an_expired_link_without_touching_expiry_is_allowed(self, acme, alice) -> None:
        link = create(acme, alice, expires_at=timezone.now() + timedelta(hours=1))
        PaymentLink.objects.filter(pk=link.pk).update(
            expires_at=timezone.now() - timedelta(hours=1)
        )
        payment_link_update(link=link, actor=alice, title="Renamed")
        with pytest.raises(ValidationError):
            payment_link_update(
                link=link, actor=alice, expires_at=timezone.now() - timedelta(minutes=5)
            )

    def test_viewer_cannot_update(self, acme, alice, victor) -> None:
        link = create(acme, alice)
        with pytest.raises(PermissionDenied):
            payment_link_update(link=link, actor=victor, title="Nope")

    def test_unknown_field_is_a_programming_error(self, acme, alice) -> None:
        link = create(acme, alice)
        with pytest.raises(TypeError):
            payment_link_update(link=link, actor=alice, merchant_id=999)

    def test_deactivate_with_message_then_activate(self, acme, alice) -> None:
        link = create(acme, alice)
        payment_link_deactivate(link=link, actor=alice, message="Back in spring.")
        link.refresh_from_db()
        assert not link.is_active and link.effective_inactive_message == "Back in spring."
        payment_link_activate(link=link, actor=alice)
        link.refresh_from_db()
        assert link.is_active
        assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
            "link.created",
            "link.deactivated",
            "link.activated",
        ]

    def test_inactive_link_falls_back_to_merchant_message(self, acme, alice) -> None:
        link = create(acme, alice)
        payment_link_deactivate(link=link, actor=alice)
        link.refresh_from_db()
        assert link.effective_inactive_message == acme.inactive_message
