"""The book shop: Wagtail pages whose Buy buttons are Paylinks payment links.

Tree: a ``ShopHomePage`` per merchant (the site's root) -> ``CatalogPage`` -> ``BookPage``.
Every page below a shop home belongs to that home's merchant. A book page owns one
payment link: ``storefront.links`` creates it and keeps it in step through
``paylinks.services.links`` whenever the page is published, unpublished or deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.fields import RichTextField
from wagtail.models import Collection, Locale, Page
from wagtail.search import index

from paylinks import money
from paylinks.models import LinkState, Merchant, PaymentLink
from paylinks.selectors.links import with_state

from .forms import BookPageForm


class BookFormat(models.TextChoices):
    HARDCOVER = "hardcover", "Hardcover"
    PAPERBACK = "paperback", "Paperback"
    EBOOK = "ebook", "E-book"
    AUDIOBOOK = "audiobook", "Audiobook"


class BookCategory(models.Model):
    """A shelf of one merchant's shop (a snippet, edited in /cms/ under Snippets)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)

    panels = [FieldPanel("merchant"), FieldPanel("name"), FieldPanel("slug")]

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "book categories"
        constraints = [
            models.UniqueConstraint(fields=["merchant", "slug"], name="category_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name


class ShopEditors(models.Model):
    """The Wagtail group whose members edit one merchant's shop (``storefront.editors``)."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="+")
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="+")
    collection = models.OneToOneField(Collection, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name_plural = "shop editors"

    def __str__(self) -> str:
        return self.group.name


class ShopHomePage(Page):
    """A merchant's shop: the site's root page. Only superusers choose its merchant."""

    merchant = models.OneToOneField(Merchant, on_delete=models.PROTECT, related_name="shop")
    tagline = models.CharField(max_length=200, blank=True)
    intro = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = [
        *Page.content_panels,
        FieldPanel("merchant", permission="superuser"),
        FieldPanel("tagline"),
        FieldPanel("intro"),
    ]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["storefront.CatalogPage"]
    template = "storefront/shop_home_page.html"

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context.update(shop_context(self))
        context["offers"] = offers(books_for_sale(self)[:8])
        context["categories"] = categories_of(self.merchant)
        return context


class CatalogPage(Page):
    """Every book of the shop, with search (Wagtail search) and a category filter."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["storefront.ShopHomePage"]
    subpage_types = ["storefront.BookPage"]
    template = "storefront/catalog_page.html"

    @property
    def merchant(self) -> Merchant | None:
        shop = ShopHomePage.objects.ancestor_of(self).select_related("merchant").first()
        return shop.merchant if shop else None

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context.update(shop_context(self))
        context.update(catalog_listing(self, request.GET))
        return context


class BookPage(Page):
    """A book for sale. Its Buy button is the page's payment link (``storefront.links``)."""

    author = models.CharField(max_length=120)
    cover = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = RichTextField(blank=True, features=["bold", "italic", "link", "ol", "ul"])
    book_format = models.CharField(
        "format", max_length=12, choices=BookFormat.choices, default=BookFormat.PAPERBACK
    )
    edition = models.CharField(max_length=80, blank=True, help_text="e.g. 2nd edition, 2019")
    currency = models.CharField(max_length=3, choices=money.CURRENCY_CHOICES, default="USD")
    price = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="What a copy costs. With “pay what you like”: the least a customer pays "
        "(empty: the currency's minimum).",
    )
    pay_what_you_like = models.BooleanField(
        "pay what you like",
        default=False,
        help_text="Customers choose the amount (at least the price above).",
    )
    stock_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Copies for sale; the book shows “sold out” after that many are paid. "
        "Empty: no limit.",
    )
    categories = ParentalManyToManyField(BookCategory, blank=True, related_name="books")
    payment_link = models.ForeignKey(
        PaymentLink,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty: publishing creates one. A chosen link is kept in step with this "
        "page from then on (title, price, stock).",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("author"),
        FieldPanel("cover"),
        FieldPanel("description"),
        MultiFieldPanel(
            [
                FieldPanel("book_format"),
                FieldPanel("edition"),
                FieldPanel("categories", widget=forms.CheckboxSelectMultiple),
            ],
            heading="Edition",
        ),
        MultiFieldPanel(
            [
                FieldPanel("currency"),
                FieldPanel("price"),
                FieldPanel("pay_what_you_like"),
                FieldPanel("stock_limit"),
                FieldPanel("payment_link"),
            ],
            heading="Selling",
        ),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("author"),
        index.SearchField("description"),
        index.FilterField("book_format"),
    ]
    base_form_class = BookPageForm
    parent_page_types = ["storefront.CatalogPage"]
    subpage_types: list[str] = []
    template = "storefront/book_page.html"

    @property
    def shop(self) -> ShopHomePage | None:
        return ShopHomePage.objects.ancestor_of(self).select_related("merchant").first()

    @property
    def merchant(self) -> Merchant | None:
        shop = self.shop
        return shop.merchant if shop else None

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.price is None and not self.pay_what_you_like:
            errors["price"] = "Enter the price, or let customers pay what they like."
        elif self.price is not None:
            try:
                money.validate_minor(self.price, self.currency)
            except money.MoneyError as exc:
                errors["price"] = str(exc)
        if errors:
            raise ValidationError(errors)

    def price_label(self) -> str:
        if self.pay_what_you_like:
            if self.price:
                return f"Pay what you like, from {money.format_money(self.price, self.currency)}"
            return f"Pay what you like in {self.currency}"
        return money.format_money(self.price or 0, self.currency)

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context.update(shop_context(self))
        context["offer"] = book_offer(self)
        return context


# --- what the shop's pages show -------------------------------------------------------------
@dataclass(frozen=True)
class Offer:
    """Whether and where a customer can buy a book right now."""

    book: BookPage
    url: str  # the link's pay page ("" when it cannot be bought)
    state: str  # a LinkState value, or "unavailable" (no link yet)
    remaining: int | None  # copies left when the stock is limited

    @property
    def buyable(self) -> bool:
        return self.state == LinkState.ACTIVE

    @property
    def sold_out(self) -> bool:
        return self.state == LinkState.SOLD_OUT

    @property
    def few_left(self) -> bool:
        return self.buyable and self.remaining is not None and self.remaining <= 3


def offers(books: Iterable[BookPage]) -> list[Offer]:
    """Each book with its link's state, in one query for all of their links."""
    books = list(books)
    link_ids = [b.payment_link_id for b in books if b.payment_link_id]
    links = {link.pk: link for link in with_state(PaymentLink.objects.filter(pk__in=link_ids))}
    result = []
    for book in books:
        link = links.get(book.payment_link_id) if book.payment_link_id else None
        if link is None:
            result.append(Offer(book, "", "unavailable", None))
            continue
        remaining = None
        if link.payment_limit is not None:
            remaining = max(link.payment_limit - link.completed_count, 0)  # type: ignore[attr-defined]
        state = link.state  # type: ignore[attr-defined]
        url = link.public_url if state == LinkState.ACTIVE else ""
        result.append(Offer(book, url, state, remaining))
    return result


def book_offer(book: BookPage) -> Offer:
    return offers([book])[0]


def books_for_sale(shop: Page) -> QuerySet[BookPage]:
    return (
        BookPage.objects.live()
        .descendant_of(shop)
        .select_related("cover")
        .order_by("-first_published_at", "-pk")
    )


def categories_of(merchant: Merchant) -> QuerySet[BookCategory]:
    return BookCategory.objects.filter(merchant=merchant, books__live=True).distinct()


def catalog_listing(catalog: CatalogPage, params: QueryDict) -> dict[str, Any]:
    """The catalogue's books: ``?q=`` searches (Wagtail search), ``?category=`` filters."""
    query = params.get("q", "").strip()[:100]
    slug = params.get("category", "").strip()[:80]
    merchant = catalog.merchant
    categories = categories_of(merchant) if merchant else BookCategory.objects.none()
    category = next((c for c in categories if c.slug == slug), None) if slug else None
    books = BookPage.objects.live().descendant_of(catalog).select_related("cover")
    if category is not None:
        books = books.filter(categories=category)
    books = books.order_by("title")
    found: Iterable[BookPage] = books
    if query:
        hits = {page.pk for page in BookPage.objects.live().descendant_of(catalog).search(query)}
        found = [book for book in books if book.pk in hits]
    return {
        "offers": offers(found),
        "query": query,
        "category": category,
        "categories": categories,
    }


def shop_context(page: Page) -> dict[str, Any]:
    """The shop's name and addresses, for every page's header."""
    shop = (
        page if isinstance(page, ShopHomePage) else ShopHomePage.objects.ancestor_of(page).first()
    )
    if shop is None:
        return {}
    catalog = CatalogPage.objects.live().child_of(shop).first()
    return {
        "shop": shop,
        "shop_name": shop.title,
        "home_url": shop.url,
        "catalog_url": catalog.url if catalog else "",
    }


def tree_root() -> Page:
    """Wagtail's tree root, with the default locale pages need. Wagtail's migrations make
    both; a database emptied since (``flush``, as transactional tests do) gets them here."""
    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    return Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
