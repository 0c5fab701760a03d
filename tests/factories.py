"""factory_boy factories for the domain. Tests build exactly the data they need."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from paylinks.models import Membership, Merchant, Payment, PaymentLink, Role, User

PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


class MerchantFactory(DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Merchant {n}")
    slug = factory.Sequence(lambda n: f"merchant-{n}")
    default_currency = "USD"


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Role.OWNER


class PaymentLinkFactory(DjangoModelFactory):
    class Meta:
        model = PaymentLink

    merchant = factory.SubFactory(MerchantFactory)
    title = factory.Sequence(lambda n: f"Link {n}")
    currency = "USD"
    amount = 1250


class PaymentFactory(DjangoModelFactory):
    class Meta:
        model = Payment

    link = factory.SubFactory(PaymentLinkFactory)
    merchant = factory.SelfAttribute("link.merchant")
    amount = factory.SelfAttribute("link.amount")
    currency = factory.SelfAttribute("link.currency")
    gateway = "sandbox"
    gateway_session_id = factory.Sequence(lambda n: f"cs_test_{n:08d}")
    customer_email = ""
    # As the services keep it: the e-mail's search hash beside the e-mail.
