import type { Metadata } from "next";

import { Shell } from "@/components/Shell";
import { cancelPayment } from "@/lib/api";
import { isSlug } from "@/lib/config";
import { loadLink, requestContext } from "@/lib/page";

type Props = {
  params: Promise<{ slug: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
};

export const metadata: Metadata = { title: "Payment canceled" };

/** The customer left the hosted checkout: close that session (freeing a limited link's place). */
export default async function CancelPage({ params, searchParams }: Props) {
  const { slug } = await params;
  const raw = (await searchParams).payment;
  const paymentId = typeof raw === "string" ? raw : "";
  const { nonce, forward } = await requestContext();
  const [canceled, link] = await Promise.all([
    paymentId ? cancelPayment(paymentId, forward) : Promise.resolve(null),
    isSlug(slug) ? loadLink(slug) : Promise.resolve(null),
  ]);
  const merchant = link?.ok ? link.data.merchant : null;
  const finished = canceled?.ok && ["succeeded", "partially_refunded", "refunded"].includes(canceled.data.status);
  const back = isSlug(slug) ? `/pay/${slug}` : null;
  return (
    <Shell merchant={merchant} nonce={nonce}>
      <section className="card state" aria-labelledby="cancel-title" data-state="canceled">
        {finished ? (
          <>
            <h1 id="cancel-title">This payment was already made</h1>
            <p>It went through before you left the checkout, so there is nothing to cancel.</p>
          </>
        ) : (
          <>
            <h1 id="cancel-title">Payment canceled</h1>
            <p>You left the checkout. Nothing was charged.</p>
          </>
        )}
        {back && !finished ? (
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
