/** Helpers the server pages share: the link (read once per request), locale, nonce. */

import { headers } from "next/headers";
import { cache } from "react";

import { forwardedHeaders, getLink, type Result } from "./api";
import { pickLocale } from "./locale";
import { LINK_HEADER, LINK_MISSING, NONCE_HEADER, readLinkHeader } from "./request";
import type { PublicLink } from "./types";

/** The link as proxy.ts read it for this request, or read now when it could not. */
export const loadLink = cache(async (slug: string): Promise<Result<PublicLink>> => {
  const h = await headers();
  if (h.get(LINK_HEADER) === LINK_MISSING) {
    return { ok: false, error: { code: "not_found", message: "This payment link does not exist.", field: null, status: 404 } };
  }
  const fromProxy = readLinkHeader(h.get(LINK_HEADER));
  if (fromProxy && fromProxy.slug === slug) return { ok: true, data: fromProxy, status: 200 };
  return getLink(slug, forwardedHeaders(h));
});

export async function requestContext(): Promise<{ locale: string; nonce: string | null; forward: Record<string, string> }> {
  const h = await headers();
  return {
    locale: pickLocale(h.get("accept-language")),
    nonce: h.get(NONCE_HEADER),
    forward: forwardedHeaders(h),
  };
}
