"use client";

import { useEffect, useRef, useState } from "react";

import { publicPart, type PublicStatus } from "@/lib/checkouts";
import { formatWhen } from "@/lib/dates";
import { formatMinor, mentionsCode } from "@/lib/money";
import { safeRedirectUrl } from "@/lib/redirect";
import type { CheckoutStatus, PaymentStatus } from "@/lib/types";

const FINAL: ReadonlySet<PaymentStatus> = new Set(["succeeded", "failed", "expired", "canceled", "partially_refunded", "refunded"]);
const PAID: ReadonlySet<PaymentStatus> = new Set(["succeeded", "partially_refunded", "refunded"]);
const POLL_MS = 2000;
const SLOW_POLL_MS = 5000;
const GIVE_UP_MS = 15 * 60 * 1000;
/** After a payment succeeds, the payer's page keeps asking this long for the receipt to go out. */
const RECEIPT_WAIT_MS = 60 * 1000;

export type Shown = PublicStatus &
  Partial<
    Pick<
      CheckoutStatus,
      "payment_intent_id" | "after_payment" | "failure" | "link" | "merchant" | "completed_at" | "receipt_sent" | "quantity"
    >
  >;

interface Props {
  initial: Shown;
  sessionId: string;
  slug: string;
  locale: string;
  /** Whether this browser started the checkout: only then are the payment id and the merchant's message shown. */
  owner: boolean;
}

const STATUS_TEXT: Record<PaymentStatus, string> = {
  pending: "Pending",
  succeeded: "Succeeded",
  failed: "Failed",
  expired: "Expired",
  canceled: "Canceled",
  partially_refunded: "Partially refunded",
  refunded: "Refunded",
};

export function statusKind(s: Pick<Shown, "status" | "processing">): "paid" | "processing" | "confirming" | "failed" {
  if (PAID.has(s.status)) return "paid";
  if (s.status === "pending") return s.processing ? "processing" : "confirming";
  return "failed";
}

/** The confirmation: polls the status (through this origin) until it is final, without a reload. */
export function StatusView({ initial, sessionId, slug, locale, owner }: Props) {
  const [shown, setShown] = useState<Shown>(initial);
  const [stale, setStale] = useState(false);
  const started = useRef(Date.now());

  useEffect(() => {
    const elapsed = Date.now() - started.current;
    // Final: stop, unless the payer is still waiting to hear that the receipt was sent.
    const awaitingReceipt = owner && shown.status === "succeeded" && !shown.receipt_sent && elapsed < RECEIPT_WAIT_MS;
    if (FINAL.has(shown.status) && !awaitingReceipt) return;
    let cancelled = false;
    if (elapsed > GIVE_UP_MS) {
      setStale(true);
      return;
    }
    const timer = window.setTimeout(
      async () => {
        try {
          const response = await fetch(`/api/v1/public/checkout/${encodeURIComponent(sessionId)}`, {
            headers: { Accept: "application/json" },
            cache: "no-store",
          });
          if (!response.ok) throw new Error(String(response.status));
          const next = (await response.json()) as CheckoutStatus;
          if (cancelled) return;
          setShown(owner ? next : publicPart(next));
          setStale(false);
        } catch {
          if (!cancelled) {
            setStale(true);
            // Poll again with the same state: a new object triggers the effect.
            setShown((s) => ({ ...s }));
          }
        }
      },
      elapsed > 60_000 ? SLOW_POLL_MS : POLL_MS,
    );
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [shown, sessionId, owner]);

  const kind = statusKind(shown);
  const redirect =
    owner && kind === "paid" && shown.after_payment?.type === "redirect" ? safeRedirectUrl(shown.after_payment.url) : null;
  useEffect(() => {
    if (!redirect) return;
    const timer = window.setTimeout(() => window.location.assign(redirect), 3000);
    return () => window.clearTimeout(timer);
  }, [redirect]);

  return <StatusBody shown={shown} slug={slug} locale={locale} owner={owner} stale={stale} redirect={redirect} />;
}

export function StatusBody({
  shown,
  slug,
  locale,
  owner,
  stale = false,
  redirect = null,
}: {
  shown: Shown;
  slug: string;
  locale: string;
  owner: boolean;
  stale?: boolean;
  redirect?: string | null;
}) {
  const kind = statusKind(shown);
  const amount = formatMinor(shown.amount.value, shown.currency, locale, {
    exponent: shown.currency_exponent,
    places: shown.currency_decimals,
  });
  const amountWithCode = mentionsCode(amount, shown.currency) ? amount : `${amount} ${shown.currency}`;
  const heading = {
    paid: shown.status === "refunded" ? "Payment refunded" : "Payment successful",
    processing: "Payment processing",
    confirming: "Confirming your payment…",
    failed: shown.status === "expired" ? "Checkout expired" : shown.status === "canceled" ? "Payment canceled" : "Payment failed",
  }[kind];
  const message = owner && shown.after_payment?.type === "message" ? shown.after_payment.message : null;
  const when = owner && kind === "paid" ? formatWhen(shown.completed_at, locale) : null;

  return (
    <section className={`card status status-${kind}`} aria-labelledby="status-title" data-status={shown.status} data-kind={kind}>
      <div className="status-icon" aria-hidden="true">
        {kind === "paid" ? "✓" : kind === "failed" ? "✕" : ""}
      </div>
      <h1 id="status-title">{heading}</h1>
      <div role="status" aria-live="polite" className="status-live">
        {kind === "processing" ? (
          <p data-testid="processing">
            Your payment is processing. Bank payments can take a little while to settle; this page updates by itself.
          </p>
        ) : null}
        {kind === "confirming" ? <p>We are waiting for the payment provider to confirm. This page updates by itself.</p> : null}
        {kind === "paid" && shown.status === "succeeded" ? <p>Thank you! Your payment was received.</p> : null}
        {kind === "failed" ? (
          <p>
            {owner && shown.failure?.message ? `${shown.failure.message} ` : ""}
            Nothing was charged.
          </p>
        ) : null}
        {stale ? <p className="hint">Checking again…</p> : null}
      </div>
      <dl className="facts">
        {owner && shown.link ? (
          <div>
            <dt>Item</dt>
            <dd data-testid="status-item">{itemLabel(shown.link.title, shown.quantity)}</dd>
          </div>
        ) : null}
        <div>
          <dt>Amount</dt>
          <dd data-testid="status-amount">{amountWithCode}</dd>
        </div>
        <div>
          <dt>Currency</dt>
          <dd>{shown.currency}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd data-testid="status-text">{STATUS_TEXT[shown.status] ?? shown.status}{kind === "processing" ? " (processing)" : ""}</dd>
        </div>
        {when ? (
          <div>
            <dt>Date</dt>
            <dd data-testid="status-date">{when}</dd>
          </div>
        ) : null}
        {owner && shown.payment_intent_id ? (
          <div>
            <dt>Payment ID</dt>
            <dd>
              <code data-testid="payment-id">{shown.payment_intent_id}</code>
            </dd>
          </div>
        ) : null}
      </dl>
      {owner && kind === "paid" && shown.receipt_sent ? (
        <p className="receipt-note" data-testid="receipt-sent">
          A receipt was sent to the e-mail address you gave.
        </p>
      ) : null}
      {message ? (
        <p className="merchant-message" data-testid="merchant-message">
          {message}
        </p>
      ) : null}
      {redirect ? (
        <p className="redirect-note">
          Taking you back to <a href={redirect}>{hostOf(redirect)}</a>…
        </p>
      ) : null}
      {kind === "failed" ? (
        <p>
          <a className="pay-button as-link" href={`/pay/${encodeURIComponent(slug)}`}>
            Try again
          </a>
        </p>
      ) : null}
    </section>
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** What was bought: "2 × Moby-Dick", or the title alone for one. */
export function itemLabel(title: string, quantity: number | undefined): string {
  return quantity && quantity !== 1 ? `${quantity} × ${title}` : title;
}
