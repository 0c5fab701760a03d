import type { Metadata } from "next";
import { cookies, headers } from "next/headers";
import { notFound } from "next/navigation";
import { after } from "next/server";

import { AmountText } from "@/components/AmountText";
import { ClosedLink, closedTitle } from "@/components/ClosedLink";
import { PayForm } from "@/components/PayForm";
import { Shell } from "@/components/Shell";
import { Unavailable } from "@/components/Unavailable";
import { recordView } from "@/lib/api";
import { mediaOrigins } from "@/lib/config";
import { imageAlt, productImage } from "@/lib/image";
import { decimalSeparator, formatMinor, minorToMajorString, payLabel } from "@/lib/money";
import { loadLink, requestContext } from "@/lib/page";
import { FORM_HEADER, readFlash, VISITOR_COOKIE, VISITOR_HEADER, isVisitorId } from "@/lib/request";
import type { PublicLink } from "@/lib/types";

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug } = await params;
  const result = await loadLink(slug);
  if (!result.ok) return { title: result.error.code === "not_found" ? "Payment link not found" : "Checkout unavailable" };
  const link = result.data;
  if (link.state !== "active") return { title: closedTitle(link) };
  return { title: `Pay ${link.merchant.name} – ${link.title}` };
}

export default async function LinkPage({ params }: Props) {
  const { slug } = await params;
  const result = await loadLink(slug);
  const { locale, nonce, forward } = await requestContext();
  if (!result.ok) {
    if (result.error.code === "not_found") notFound();
    return (
      <Shell>
        <Unavailable message={result.error.message} retryHref={`/pay/${encodeURIComponent(slug)}`} />
      </Shell>
    );
  }
  const link = result.data;
  if (link.state !== "active") {
    return (
      <Shell merchant={link.merchant} nonce={nonce}>
        <ClosedLink link={link} />
      </Shell>
    );
  }

  const h = await headers();
  const visitor = (await cookies()).get(VISITOR_COOKIE)?.value ?? h.get(VISITOR_HEADER) ?? undefined;
  if (isVisitorId(visitor)) {
    // Counted after the response is sent: a slow or failing count never delays the page.
    after(() => recordView(link.slug, visitor, forward).then(() => undefined));
  }
  const flash = readFlash(h.get(FORM_HEADER), link.slug);
  const custom = link.amount_type === "customer" ? link.custom_amount : null;
  // The currency's rules, all from the API (paylinks/money.py owns them).
  const units = { exponent: link.currency_exponent, places: link.currency_decimals };
  const image = productImage(link.image_url, link.image_width, link.image_height, mediaOrigins());

  return (
    <Shell merchant={link.merchant} nonce={nonce}>
      <section className="card checkout" aria-labelledby="link-title">
        {/* What is bought on the left, paying on the right on wide screens; one column on phones. */}
        <div className="checkout-item">
          {image ? (
            // A server-rendered <img> with its size reserved: no JavaScript, no layout shift.
            // eslint-disable-next-line @next/next/no-img-element -- the merchant's own file, served by Django
            <img
              className="product-image"
              src={image.src}
              alt={imageAlt(link.title)}
              width={image.width}
              height={image.height}
              decoding="async"
              fetchPriority="high"
              data-testid="product-image"
            />
          ) : null}
          <h1 id="link-title">{link.title}</h1>
          {link.description ? <p className="description">{link.description}</p> : null}
          {link.amount ? (
            <p className="amount">
              <AmountText
                minor={link.amount.value}
                currency={link.currency}
                locale={locale}
                units={units}
                testId="amount"
              />
            </p>
          ) : null}
        </div>
        <div className="checkout-pay">
          <PayForm
            slug={link.slug}
            idempotencyKey={crypto.randomUUID()}
            locale={locale}
            decimalSeparator={decimalSeparator(locale)}
            currency={link.currency}
            exponent={link.currency_exponent}
            decimals={link.currency_decimals}
            step={link.currency_step}
            custom={
              custom
                ? {
                    min: custom.min.value,
                    max: custom.max.value,
                    minText: formatMinor(custom.min.value, link.currency, locale, units),
                    maxText: formatMinor(custom.max.value, link.currency, locale, units),
                    preset: custom.preset ? presetText(custom.preset.value, link.currency_exponent, link.currency_decimals, locale) : "",
                  }
                : null
            }
            quantity={quantityOf(link, locale)}
            payLabel={
              link.amount
                ? payLabel(link.amount.value * (link.quantity?.min ?? 1), link.currency, locale, units)
                : "Pay"
            }
            flash={flash}
          />
        </div>
      </section>
    </Shell>
  );
}

/** A fixed price bought in a quantity: its range (no more than the units left) and unit price. */
function quantityOf(link: PublicLink, locale: string) {
  if (!link.quantity || !link.amount) return null;
  const units = { exponent: link.currency_exponent, places: link.currency_decimals };
  const left = typeof link.units_left === "number" ? link.units_left : link.quantity.max;
  return {
    min: link.quantity.min,
    max: Math.max(link.quantity.min, Math.min(link.quantity.max, left)),
    unit: link.amount.value,
    unitText: formatMinor(link.amount.value, link.currency, locale, units),
  };
}

/** The preset amount as a person would type it in this locale ("12,50" in de-DE). */
function presetText(minor: number, exponent: number, decimals: number, locale: string): string {
  try {
    return new Intl.NumberFormat(locale, {
      useGrouping: false,
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    }).format(minorToMajorString(minor, exponent) as unknown as number);
  } catch {
    return minorToMajorString(minor, exponent);
  }
}
