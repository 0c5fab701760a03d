import type { Metadata } from "next";
import { cookies } from "next/headers";
import { notFound } from "next/navigation";

import { Shell } from "@/components/Shell";
import { type Shown, StatusBody, StatusView } from "@/components/StatusView";
import { Unavailable } from "@/components/Unavailable";
import { getCheckoutStatus } from "@/lib/api";
import { CHECKOUTS_COOKIE, publicPart, readCheckouts } from "@/lib/checkouts";
import { isToken } from "@/lib/config";
import { safeRedirectUrl } from "@/lib/redirect";
import { requestContext } from "@/lib/page";

type Props = {
  params: Promise<{ slug: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
};

export const metadata: Metadata = { title: "Payment status" };

export default async function SuccessPage({ params, searchParams }: Props) {
  const { slug } = await params;
  const raw = (await searchParams).session_id;
  const sessionId = typeof raw === "string" ? raw : "";
  if (!isToken(sessionId)) notFound();
  const { locale, nonce, forward } = await requestContext();
  const result = await getCheckoutStatus(sessionId, forward);
  if (!result.ok) {
    if (result.error.code === "not_found") notFound();
    return (
      <Shell>
        <Unavailable message={result.error.message} retryHref={`/pay/${encodeURIComponent(slug)}/success?session_id=${sessionId}`} />
      </Shell>
    );
  }
  const status = result.data;
  if (status.link.slug !== slug) notFound();
  const owner = readCheckouts((await cookies()).get(CHECKOUTS_COOKIE)?.value).includes(sessionId);
  // Someone else's success URL: the amount and the status, nothing more.
  const shown: Shown = owner ? status : publicPart(status);
  const redirect =
    owner && status.after_payment.type === "redirect" && status.status === "succeeded"
      ? safeRedirectUrl(status.after_payment.url)
      : null;
  return (
    <Shell merchant={status.merchant} nonce={nonce}>
      {redirect ? <meta httpEquiv="refresh" content={`5;url=${redirect}`} /> : null}
      {owner ? (
        <StatusView initial={shown} sessionId={sessionId} slug={slug} locale={locale} owner />
      ) : (
        <StatusBody shown={shown} slug={slug} locale={locale} owner={false} />
      )}
    </Shell>
  );
}
