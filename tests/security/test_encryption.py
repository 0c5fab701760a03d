"""Customer data at rest: encrypted, strict about keys, and rotatable."""

from __future__ import annotations

import threading
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction

from paylinks.crypto import DecryptionError
from paylinks.models import Payment

from ..auth.conftest import enrol_totp, totp_code
from ..factories import PaymentFactory

pytestmark = pytest.mark.django_db

EMAIL = "ada.lovelace@example.test"


def raw(column: str, table: str = "paylinks_payment") -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def test_the_database_holds_no_plaintext_customer_data(acme) -> None:
    PaymentFactory(
        link__merchant=acme,
        customer_email=EMAIL,
        customer_name="Ada Lovelace",
        customer_phone="+4512345678",
    )
    for column in ("customer_email", "customer_name", "customer_phone"):
        (value,) = raw(column)
        assert value.startswith("gAAAAA")  # a Fernet token
        assert "Ada" not in value and "@" not in value and "12345678" not in value
    assert Payment.objects.get().customer_email == EMAIL


def test_blank_fields_are_stored_blank_and_filled_ones_encrypted(acme) -> None:
    PaymentFactory(link__merchant=acme, customer_email=EMAIL, customer_name="", customer_phone="")
    assert raw("customer_name") == [""] and raw("customer_phone") == [""]
    assert raw("customer_email")[0].startswith("gAAAAA")
    payment = Payment.objects.get()
    stored = (payment.customer_email, payment.customer_name, payment.customer_phone)
    assert stored == (EMAIL, "", "")


def test_a_wrong_key_fails_loudly_instead_of_returning_ciphertext(acme, settings) -> None:
    PaymentFactory(link__merchant=acme, customer_email=EMAIL)
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionError, match=r"paylinks\.Payment\.customer_email"):
        Payment.objects.get()


def test_a_missing_key_is_refused(acme, settings) -> None:
    from django.core.exceptions import ImproperlyConfigured

    PaymentFactory(link__merchant=acme, customer_email=EMAIL)
    settings.FIELD_ENCRYPTION_KEY = []
    with pytest.raises(ImproperlyConfigured, match="empty"):
        Payment.objects.get()


def test_the_database_check_catches_a_wrong_key_before_any_customer_does(acme, settings) -> None:
    from django.core.checks import run_checks

    PaymentFactory(link__merchant=acme, customer_email=EMAIL)
    assert not [e for e in run_checks(databases=["default"]) if e.id == "paylinks.E005"]
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    assert [e.id for e in run_checks(databases=["default"]) if e.id.startswith("paylinks")] == [
        "paylinks.E005"
    ]


def test_the_database_check_reads_an_encrypted_value_behind_newer_blank_ones(
    acme, settings
) -> None:
    from django.core.checks import run_checks

    PaymentFactory(link__merchant=acme, customer_email=EMAIL)
    PaymentFactory.create_batch(2, link__merchant=acme, customer_email="")
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    assert "paylinks.E005" in [e.id for e in run_checks(databases=["default"])]


def test_rotate_keys_round_trips(acme, settings) -> None:
    old = settings.FIELD_ENCRYPTION_KEY[0]
    PaymentFactory.create_batch(3, link__merchant=acme, customer_email=EMAIL, customer_name="Ada")
    before = raw("customer_email")
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [new, old]
    call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    after = raw("customer_email")
    assert set(after).isdisjoint(before)
    # Only the new key is needed from now on, and every value survived.
    settings.FIELD_ENCRYPTION_KEY = [new]
    assert {p.customer_email for p in Payment.objects.all()} == {EMAIL}
    assert {p.customer_name for p in Payment.objects.all()} == {"Ada"}
    # Blank fields were left blank, not encrypted by the rotation.
    assert set(raw("customer_phone")) == {""}
    # Running it again is harmless.
    call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert {p.customer_email for p in Payment.objects.all()} == {EMAIL}


def test_rotate_keys_refuses_data_no_key_can_read(acme, settings) -> None:
    PaymentFactory(link__merchant=acme, customer_email=EMAIL)
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="does not decrypt"):
        call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rotate_keys_does_not_lose_a_write_made_while_it_runs(acme, settings) -> None:
    """rotate_keys writes back every encrypted column of a row it read: a customer name
    recorded between its read and its write must not be overwritten with the old blank."""
    payment = PaymentFactory(link__merchant=acme, customer_email=EMAIL, customer_name="")
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEY]
    locked, go = threading.Event(), threading.Event()

    def sync_records_the_name() -> None:  # what payment_sync does, holding the row
        try:
            with transaction.atomic():
                row = Payment.objects.select_for_update().get(pk=payment.pk)
                row.customer_name = "Ada Lovelace"
                row.save()
                locked.set()
                go.wait(10)
        finally:
            connections.close_all()

    def rotate() -> None:
        try:
            call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
        finally:
            connections.close_all()

    writer = threading.Thread(target=sync_records_the_name)
    writer.start()
    assert locked.wait(10)
    rotator = threading.Thread(target=rotate)
    rotator.start()
    time.sleep(0.5)  # the rotation reaches the locked row and waits for it
    go.set()
    writer.join(10)
    rotator.join(20)

    assert Payment.objects.get(pk=payment.pk).customer_name == "Ada Lovelace"


def test_rotate_keys_re_encrypts_mfa_secrets_so_staff_still_sign_in(alice, settings) -> None:
    """The documented rotation ends by removing the old key: the TOTP secrets and
    recovery-code seeds allauth keeps must have been re-encrypted by then."""
    secret, codes = enrol_totp(alice)
    old = settings.FIELD_ENCRYPTION_KEY[0]
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [new, old]
    call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEY = [new]
    totp = Authenticator.objects.get(user=alice, type=Authenticator.Type.TOTP)
    assert TOTP(totp).validate_code(totp_code(secret))
    recovery = Authenticator.objects.get(user=alice, type=Authenticator.Type.RECOVERY_CODES)
    assert RecoveryCodes(recovery).get_unused_codes() == codes
