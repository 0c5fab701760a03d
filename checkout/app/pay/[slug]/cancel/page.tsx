import type { Metadata } from "next";
import { cookies } from "next/headers";

import { Shell } from "@/components/Shell";
import { isSlug, isToken } from "@/lib/config";
import { loadLink, requestContext } from "@/lib/page";
import { CANCEL_COOKIE, readCancelOutcome } from "@/lib/request";

type Props = {
  params: Promise<{ slug: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
};

export const metadata: Metadata = { title: "Payment not completed" };

const one = (value: string | string[] | undefined): string => (typeof value === "string" ? value : "");

/**
 * Where the hosted checkout sends a customer who left it. Opening this page changes
 * nothing (link previews and prefetchers open addresses too): the customer's button posts
 * to ./confirm, which closes the checkout — freeing a limited link's place — and comes
 * back here to say what happened.
 */
export default async function CancelPage({ params, searchParams }: Props) {
  const { slug } = await params;
  const query = await searchParams;
  const paymentId = one(query.payment);
  const token = one(query.token);
  const { nonce } = await requestContext();
  const link = isSlug(slug) ? await loadLink(slug) : null;
  const merchant = link?.ok ? link.data.merchant : null;
  const outcome = readCancelOutcome((await cookies()).get(CANCEL_COOKIE)?.value, paymentId);
  const back = isSlug(slug) ? `/pay/${slug}` : null;
  const canCancel = back !== null && isToken(paymentId) && isToken(token);

  return (
    <Shell merchant={merchant} nonce={nonce}>
      <section className="card state" aria-labelledby="cancel-title" data-state={outcome ?? "left"}>
        {outcome === "paid" ? (
          <>
            <h1 id="cancel-title">This payment was already made</h1>
            <p>It went through before you left the checkout, so there is nothing to cancel.</p>
          </>
        ) : outcome === "canceled" ? (
          <>
            <h1 id="cancel-title">Payment canceled</h1>
            <p>You left the checkout. Nothing was charged.</p>
          </>
        ) : outcome === "unknown" ? (
          <>
            <h1 id="cancel-title">This checkout could not be canceled here</h1>
            <p>If you did not finish paying, nothing is charged: an unfinished checkout closes by itself.</p>
          </>
        ) : (
          <>
            <h1 id="cancel-title">You left the checkout</h1>
            <p>Your payment was not completed.</p>
            {outcome === "error" ? (
              <p className="form-error" role="alert">
                Canceling did not work just now. Please try again.
              </p>
            ) : null}
          </>
        )}
        {canCancel && (outcome === null || outcome === "error") ? (
          <form method="post" action={`${back}/cancel/confirm`} className="pay-form">
            <input type="hidden" name="payment" value={paymentId} />
            <input type="hidden" name="token" value={token} />
            <button className="pay-button" type="submit" name="then" value="retry">
              Cancel it and try again
            </button>
            <button className="secondary-button" type="submit" name="then" value="stay">
              Cancel payment
            </button>
          </form>
        ) : back && outcome !== "paid" ? (
          <p>
            <a className="pay-button as-link" href={back}>
              Go back and try again
            </a>
          </p>
        ) : null}
      </section>
    </Shell>
  );
}
