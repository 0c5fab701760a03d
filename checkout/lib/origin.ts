/** Whether a form post comes from this site's own pages (the forms' CSRF defence). */

import type { NextRequest } from "next/server";

/** Browsers send Origin (and Sec-Fetch-Site) on form posts; a post from another site is refused. */
export function sameOrigin(request: NextRequest): boolean {
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  if (site && !["same-origin", "none"].includes(site)) return false;
  if (!origin || origin === "null") return !site || site === "same-origin" || site === "none";
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
