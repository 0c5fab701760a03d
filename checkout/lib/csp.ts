/** The Content Security Policy and the other security headers, in one place. */

export interface CspOptions {
  nonce: string;
  dev?: boolean;
  /** Extra image sources (e.g. a CDN that serves merchant logos). */
  imgSrc?: string[];
  /** Where the "Pay" form's 303 may lead: the gateway's hosted checkout origins. */
  formAction?: string[];
}

/**
 * A strict, nonce-based policy for HTML pages, as Next.js documents it: scripts run only
 * with this response's nonce ('strict-dynamic' lets them load Next's chunks); no eval in
 * production; the page can't be framed; the browser may only talk to this origin; forms
 * may post here and go on to the gateway's hosted checkout (a 303 from our own handler).
 */
export function pageCsp({ nonce, dev = false, imgSrc = [], formAction = [] }: CspOptions): string {
  const directives: Record<string, string[]> = {
    "default-src": ["'self'"],
    "script-src": ["'self'", `'nonce-${nonce}'`, "'strict-dynamic'", ...(dev ? ["'unsafe-eval'"] : [])],
    // Development injects styles without a nonce (hot reload); production has only files
    // and the one nonce'd <style> that carries the merchant's brand colour.
    "style-src": dev ? ["'self'", "'unsafe-inline'"] : ["'self'", `'nonce-${nonce}'`],
    "img-src": ["'self'", "data:", ...imgSrc],
    "font-src": ["'self'"],
    "connect-src": ["'self'", ...(dev ? ["ws:"] : [])],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    // A plain-HTML "Pay" posts here; the 303 that follows goes to the hosted checkout,
    // and browsers check that redirect against form-action too.
    "form-action": ["'self'", ...formAction],
    "frame-ancestors": ["'none'"],
    "frame-src": ["'none'"],
    "worker-src": ["'none'"],
    "manifest-src": ["'self'"],
  };
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(" ")}`)
    .join("; ");
}

/** For responses that are not pages (JSON, files): nothing may run or frame them. */
export const STATIC_ASSET_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

export const STATIC_SECURITY_HEADERS = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  { key: "Cross-Origin-Resource-Policy", value: "same-origin" },
  {
    key: "Permissions-Policy",
    value: "camera=(), microphone=(), geolocation=(), browsing-topics=(), payment=()",
  },
];

/** A fresh nonce: 128 random bits, base64. */
export function makeNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

/** The origin of a URL ("https://a.example:8443"), or null for anything that is not http(s). */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.origin : null;
  } catch {
    return null;
  }
}

/**
 * The hosted checkout origins a form may be redirected to: Stripe Checkout, the Django
 * app (the sandbox gateway's page lives there), and any listed in PAYLINKS_GATEWAY_ORIGINS.
 */
export function gatewayOrigins(apiUrl: string, extra: string | undefined): string[] {
  const origins = ["https://checkout.stripe.com", originOf(apiUrl)];
  for (const item of (extra || "").split(/[\s,]+/)) origins.push(originOf(item));
  return [...new Set(origins.filter((o): o is string => o !== null))];
}
