/**
 * Runs before every request (Next 16's "proxy", formerly middleware):
 *
 * - a fresh nonce and a strict Content-Security-Policy on every page response;
 * - the visitor cookie (an opaque random id) the page uses to count visits once;
 * - for the link page, the link is read here, once, so the response can carry the right
 *   HTTP status (409/410 for sold-out/expired/inactive links; a page cannot set its own
 *   status in the App Router) and the page renders from the same answer;
 * - the browser's API calls and merchant logos are rewritten to Django at run time (the
 *   API address comes from PAYLINKS_API_URL when the server starts, not when it is built),
 *   carrying the customer's address as server.mjs established it;
 * - a method a route does not take is a 405.
 */

import { type NextRequest, NextResponse } from "next/server";

import { apiUrl, isSlug, mediaOrigins } from "./lib/config";
import { gatewayOrigins, makeNonce, originOf, pageCsp, STATIC_ASSET_CSP } from "./lib/csp";
import { CLOSED_STATUS } from "./lib/errors";
import { forwardedHeaders, getLink } from "./lib/api";
import { FORM_COOKIE, LINK_HEADER, LINK_MISSING, NONCE_HEADER, FORM_HEADER, VISITOR_COOKIE, VISITOR_HEADER, newVisitorId, isVisitorId } from "./lib/request";

const LINK_PAGE = /^\/pay\/([^/]+)\/?$/;
/** The Route Handlers the pages' forms post to. */
const POST_ROUTE = /^\/pay\/[^/]+\/(?:checkout|cancel\/confirm)\/?$/;
const VISITOR_MAX_AGE = 60 * 60 * 24 * 365;

export async function proxy(request: NextRequest): Promise<NextResponse> {
  const { pathname } = request.nextUrl;

  if (pathname.startsWith("/api/v1/public/") || pathname.startsWith("/media/")) {
    // Django sees the customer as the one address server.mjs established, never a list a
    // client wrote (Django believes exactly one hop: this page).
    const headers = new Headers(request.headers);
    headers.delete("x-forwarded-for");
    for (const [name, value] of Object.entries(forwardedHeaders(request.headers))) headers.set(name, value);
    const target = new URL(`${pathname}${request.nextUrl.search}`, `${apiUrl()}/`);
    const response = NextResponse.rewrite(target, { request: { headers } });
    response.headers.set("Content-Security-Policy", STATIC_ASSET_CSP);
    return response;
  }

  // Pages are read (GET, HEAD); only the forms' targets take a POST. Anything else is a
  // 405 here rather than a page rendered for a PUT or Next.js failing on the method.
  const allowed = POST_ROUTE.test(pathname) ? ["GET", "HEAD", "POST"] : ["GET", "HEAD"];
  if (!allowed.includes(request.method)) {
    return new NextResponse("Method Not Allowed\n", {
      status: 405,
      headers: {
        Allow: allowed.join(", "),
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Security-Policy": STATIC_ASSET_CSP,
        "Cache-Control": "no-store",
      },
    });
  }

  const nonce = makeNonce();
  const csp = pageCsp({
    nonce,
    dev: process.env.NODE_ENV === "development",
    // Product images are loaded through /media/ on this origin; the API's own origin too,
    // for deployments that point image addresses straight at Django.
    imgSrc: [...mediaOrigins(), ...(originOf(apiUrl()) ? [originOf(apiUrl()) as string] : [])],
    formAction: gatewayOrigins(apiUrl(), process.env.PAYLINKS_GATEWAY_ORIGINS),
  });

  const headers = new Headers(request.headers);
  // Nothing from the outside may pose as what this proxy hands to the page.
  for (const name of [NONCE_HEADER, LINK_HEADER, FORM_HEADER, VISITOR_HEADER]) headers.delete(name);
  headers.set(NONCE_HEADER, nonce);
  headers.set("Content-Security-Policy", csp);

  let visitor = request.cookies.get(VISITOR_COOKIE)?.value;
  const newVisitor = !isVisitorId(visitor);
  if (newVisitor) visitor = newVisitorId();
  headers.set(VISITOR_HEADER, visitor as string);

  // Next.js answers a 500 for a dynamic segment holding a %-escape that decodes to no
  // text ("/pay/%ff"). Such an address names nothing here: show the not-found page.
  if (safeDecode(pathname) === null) {
    const response = NextResponse.rewrite(new URL("/not-found", request.url), { request: { headers } });
    response.headers.set("Content-Security-Policy", csp);
    return response;
  }

  let status = 200;
  let clearForm = false;
  const match = LINK_PAGE.exec(pathname);
  if (match && (request.method === "GET" || request.method === "HEAD")) {
    const slug = safeDecode(match[1] as string);
    if (slug !== null && isSlug(slug)) {
      const result = await getLink(slug, forwardedHeaders(request.headers));
      if (result.ok) {
        const encoded = encodeURIComponent(JSON.stringify(result.data));
        // A link with a huge description is read again by the page rather than carried here.
        if (encoded.length <= 64 * 1024) headers.set(LINK_HEADER, encoded);
        status = CLOSED_STATUS[result.data.state] ?? 200;
      } else if (result.error.code === "not_found") {
        headers.set(LINK_HEADER, LINK_MISSING);
        status = 404;
      } else {
        status = 503;
      }
    } else {
      status = 404;
    }
    const form = request.cookies.get(FORM_COOKIE)?.value;
    if (form) {
      headers.set(FORM_HEADER, form.slice(0, 2048));
      clearForm = true;
    }
  }

  const response = NextResponse.next({ request: { headers }, status });
  response.headers.set("Content-Security-Policy", csp);
  if (newVisitor) {
    response.cookies.set(VISITOR_COOKIE, visitor as string, {
      httpOnly: true,
      sameSite: "lax",
      secure: request.nextUrl.protocol === "https:",
      path: "/",
      maxAge: VISITOR_MAX_AGE,
    });
  }
  if (clearForm) response.cookies.set(FORM_COOKIE, "", { path: "/pay", maxAge: 0 });
  return response;
}

function safeDecode(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
