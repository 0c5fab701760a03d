"""Sharing a link from the console: copy button, QR code (SVG), open the payment page."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import segno

from paylinks.qr import SVG_OPTIONS

from ..factories import PaymentLinkFactory
from .conftest import ADMIN, change_url

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}svg"


def segno_svg(text: str) -> bytes:
    """What segno itself draws for ``text``, with the console's drawing options."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, **SVG_OPTIONS)
    return buffer.getvalue()


class TestQRCode:
    def test_is_an_svg_image(self, console, alice, acme_link) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/{acme_link.pk}/qr.svg")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
        assert ET.fromstring(response.content).tag == SVG  # noqa: S314 - our own SVG

    def test_encodes_the_links_public_url(self, console, alice, acme_link) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/{acme_link.pk}/qr.svg")
        assert acme_link.public_url.endswith(acme_link.slug)
        assert response.content == segno_svg(acme_link.public_url)

    def test_each_link_gets_its_own_code(self, console, alice, acme, acme_link) -> None:
        other = PaymentLinkFactory(merchant=acme)
        client = console(alice)
        first = client.get(f"{ADMIN}/paymentlink/{acme_link.pk}/qr.svg").content
        second = client.get(f"{ADMIN}/paymentlink/{other.pk}/qr.svg").content
        assert first != second
        assert second == segno_svg(other.public_url)

    @pytest.mark.parametrize("suffix", ["qr/download/", "qr/save/"])
    def test_downloads_as_a_file(self, console, alice, acme_link, suffix) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/{acme_link.pk}/{suffix}")
        assert response["Content-Type"] == "image/svg+xml"
        assert response["Content-Disposition"].startswith("attachment;")
        assert ".svg" in response["Content-Disposition"]
        assert response.content == segno_svg(acme_link.public_url)

    def test_is_shown_on_the_link_page(self, console, alice, acme_link) -> None:
        page = console(alice).get(change_url(acme_link)).content.decode()
        assert f'src="{ADMIN}/paymentlink/{acme_link.pk}/qr.svg"' in page

    def test_viewers_can_download_it_too(self, console, victor, acme_link) -> None:
        response = console(victor).get(f"{ADMIN}/paymentlink/{acme_link.pk}/qr/save/")
        assert response.status_code == 200


class TestCopyLink:
    def test_list_has_a_copy_button_per_link(self, console, alice, acme, acme_link) -> None:
        other = PaymentLinkFactory(merchant=acme)
        page = console(alice).get(f"{ADMIN}/paymentlink/").content.decode()
        assert f'data-copy="{acme_link.public_url}"' in page
        assert f'data-copy="{other.public_url}"' in page

    def test_link_page_has_the_copy_button(self, console, alice, acme_link) -> None:
        page = console(alice).get(change_url(acme_link)).content.decode()
        assert f'data-copy="{acme_link.public_url}"' in page

    def test_row_action_answers_the_public_url(self, console, alice, acme_link) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/{acme_link.pk}/copy-link/")
        assert response["Content-Type"].startswith("text/plain")
        assert response.content.decode() == acme_link.public_url

    def test_open_goes_to_the_payment_page(self, console, alice, acme_link) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/{acme_link.pk}/open/")
        assert response.status_code == 302
        assert response["Location"] == acme_link.public_url

    def test_home_page_copy_buttons_carry_public_urls(self, console, alice, acme_link) -> None:
        page = console(alice).get("/admin/").content.decode()
        assert f'data-copy="{acme_link.public_url}"' in page
