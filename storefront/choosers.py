"""The payment-link chooser of /cms/: only links of merchants the editor may change.

A book page also refuses a link of another merchant (``storefront.forms``); the chooser
never lists one, and answers 404 for one asked for by its id.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.chooser import ChooseResultsView, ChooseView, ChosenView
from wagtail.admin.viewsets.chooser import ChooserViewSet

from paylinks import labels, permissions
from paylinks.models import PaymentLink


def choosable_links(user: Any) -> QuerySet[PaymentLink]:
    return PaymentLink.objects.filter(
        merchant__in=permissions.writable_merchants(user)
    ).select_related("merchant")


class _ScopedList:
    request: Any

    def get_object_list(self) -> QuerySet[PaymentLink]:
        return choosable_links(self.request.user)

    @property
    def columns(self) -> list[Column]:
        return [
            *super().columns,  # type: ignore[misc]
            Column("price", label="Price", accessor=labels.price_label),
            Column("merchant", label="Merchant"),
        ]


class LinkChooseView(_ScopedList, ChooseView):
    pass


class LinkChooseResultsView(_ScopedList, ChooseResultsView):
    pass


class LinkChosenView(ChosenView):
    def get_object(self, pk: Any) -> PaymentLink:
        return choosable_links(self.request.user).get(pk=pk)


class PaymentLinkChooserViewSet(ChooserViewSet):
    model = PaymentLink
    icon = "link"
    choose_one_text = "Choose a payment link"
    choose_another_text = "Choose another payment link"
    edit_item_text = None
    per_page = 20
    choose_view_class = LinkChooseView
    choose_results_view_class = LinkChooseResultsView
    chosen_view_class = LinkChosenView


payment_link_chooser = PaymentLinkChooserViewSet("payment_link_chooser")
