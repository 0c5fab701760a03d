// A few seconds' cache of the rendered link page, in front of Next.js (server.mjs).
//
// Rendering /pay/<slug> in Node costs ~20 ms of CPU, and the page was rendered afresh for
// every visit. The link behind it may be a few seconds old (the API decides expiry, sold
// out and the amount again when the customer pays), so server.mjs renders a page once per
// slug and Accept-Language every PAGE_CACHE_SECONDS and answers the visits in between
// from memory. What must differ between two customers' copies is made fresh per answer:
//
// - the CSP nonce: a page rendered for one answer carries that answer's 128-bit nonce in
//   its header, its <script>/<style> tags and its RSC payload; every copy served from the
//   cache has each occurrence replaced by a new random nonce (and the header with it), so
//   no two answers share one, as before;
// - the pay form's idempotency key (a random UUID per render): replaced the same way, so
//   two customers never share a key;
// - the visitor cookie (set when missing) and the visit count (server.mjs records it as
//   the page does, after answering).
//
// Never cached: anything but GET/HEAD of /pay/<slug> without a query string, a request
// carrying the no-JS form's error cookie (the page shows that customer's error), and any
// answer but 200 (active link), 404, 409 or 410.

export const LINK_PAGE = /^\/pay\/([A-Za-z0-9_-]{1,64})\/?$/;
export const VISITOR_COOKIE = "paylinks_visitor";
export const FORM_COOKIE = "paylinks_form";
const CACHEABLE_STATUS = new Set([200, 404, 409, 410]);
/** Headers that belong to one answer, not to the page. */
const PER_ANSWER = new Set(["set-cookie", "content-length", "content-encoding", "date", "connection", "keep-alive", "transfer-encoding", "vary"]);
const NONCE_IN_CSP = /'nonce-([A-Za-z0-9+/=]{16,})'/;
const KEY_IN_FORM = /name="idempotency_key" value="([0-9a-f-]{36})"/;

/** Seconds a rendered page is reused (CHECKOUT_PAGE_CACHE_SECONDS; 0 turns the cache off). */
export function cacheSeconds(value) {
  if (value === undefined || value === null || value === "") return 5;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 60) : 5;
}

function cookieValue(header, name) {
  for (const part of String(header || "").split(";")) {
    const index = part.indexOf("=");
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

export function visitorOf(cookieHeader) {
  const value = cookieValue(cookieHeader, VISITOR_COOKIE);
  return typeof value === "string" && /^[0-9a-f]{48}$/.test(value) ? value : null;
}

/** The cache key of a request (slug and language), or null when it must be rendered. */
export function cacheKey(method, url, headers) {
  if (method !== "GET" && method !== "HEAD") return null;
  if (typeof url !== "string" || url.includes("?") || url.includes("%")) return null;
  const match = LINK_PAGE.exec(url);
  if (!match) return null;
  if (cookieValue(headers.cookie, FORM_COOKIE)) return null;
  const language = String(headers["accept-language"] || "").slice(0, 200);
  return `${match[1]}\n${language}`;
}

export function slugOfKey(key) {
  return key.slice(0, key.indexOf("\n"));
}

/**
 * A cache entry from one rendered answer, or null when it cannot be reused: not a
 * cacheable status, or a page whose per-answer values cannot all be found (a nonce in the
 * CSP header; on an active link's page, the form's idempotency key).
 */
export function entryFrom(status, headers, body, now, ttlMs) {
  if (!CACHEABLE_STATUS.has(status)) return null;
  const csp = headerValue(headers, "content-security-policy");
  const nonce = NONCE_IN_CSP.exec(csp || "")?.[1];
  if (!nonce) return null;
  const active = status === 200;
  const key = KEY_IN_FORM.exec(body)?.[1] ?? null;
  if (active && !key) return null;
  const kept = headers.filter(([name]) => !PER_ANSWER.has(name.toLowerCase()));
  return { status, headers: kept, body, nonce, key, active, expires: now + ttlMs };
}

function headerValue(headers, wanted) {
  for (const [name, value] of headers) if (name.toLowerCase() === wanted) return value;
  return null;
}

/** This answer's copy of an entry: every old nonce and key replaced by fresh ones. */
export function personalise(entry, nonce, key) {
  let body = entry.body.split(entry.nonce).join(nonce);
  if (entry.key && key) body = body.split(entry.key).join(key);
  const headers = entry.headers.map(([name, value]) => [name, value.split(entry.nonce).join(nonce)]);
  return { status: entry.status, headers, body };
}

/** A small LRU map of entries that expire. */
export class PageCache {
  constructor(ttlMs, maxEntries = 500) {
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
    this.entries = new Map();
    this.renders = new Map();
  }

  get(key, now) {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expires <= now) {
      this.entries.delete(key);
      return null;
    }
    return entry;
  }

  set(key, entry) {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value);
  }
}
