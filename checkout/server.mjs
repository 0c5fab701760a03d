// The checkout page's HTTP server: what `next start` does, plus two things it cannot.
//
// 1. The customer's address. Next.js keeps a client's own X-Forwarded-For and only adds
//    the socket's address when there is none (base-server: `x-forwarded-for ??=
//    socket.remoteAddress`), and it exposes the socket to nothing else. So under
//    `next start` every customer chooses the address the page reports to Django, and
//    a new one per request dodged Django's per-IP rate limits. Here the header is
//    replaced, before Next.js sees the request, by the address this server received the
//    request from (or, with CHECKOUT_TRUSTED_PROXIES=N, the address the N-th of the
//    operator's own proxies in front of it saw). The page forwards that one address to
//    Django, which believes one hop (PAYLINKS_TRUSTED_PROXIES=1). X-Real-IP, Forwarded
//    and, with no trusted proxy, the other X-Forwarded-* headers from outside are dropped.
//
// 2. Odd methods. Next.js builds a WHATWG Request for every request, and the Fetch spec
//    forbids TRACE, TRACK and CONNECT: those answered 500 on every route. They, and any
//    method the page has no use for, are answered 405 here.
//
// 3. A few seconds' cache of the link page (lib/page-cache.mjs): /pay/<slug> is rendered
//    once per slug and language every CHECKOUT_PAGE_CACHE_SECONDS (5; 0: off), and the
//    visits in between are answered from memory with a fresh CSP nonce, idempotency key
//    and visitor cookie each, and counted as the page counts them (docs/decisions.md).
//
// Usage (what `npm start`, the Procfile and the tests run, after `next build`):
//   HOST=127.0.0.1 PORT=3000 PAYLINKS_API_URL=http://127.0.0.1:8000 node server.mjs

import { randomBytes, randomUUID } from "node:crypto";
import { createServer, request as httpRequest } from "node:http";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";

import { bareAddress, clientAddress, trustedProxyCount } from "./lib/client-address.mjs";
import { PageCache, cacheKey, cacheSeconds, entryFrom, personalise, slugOfKey, visitorOf, VISITOR_COOKIE } from "./lib/page-cache.mjs";

const METHODS = ["GET", "HEAD", "POST", "OPTIONS"];
const ALLOW = METHODS.join(", ");
const FROM_OUTSIDE = ["x-real-ip", "forwarded", "true-client-ip", "x-client-ip", "cf-connecting-ip"];
const FORWARDED_DETAILS = ["x-forwarded-host", "x-forwarded-proto", "x-forwarded-port"];
const REFUSED_HEADERS = {
  Allow: ALLOW,
  "Content-Type": "text/plain; charset=utf-8",
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
};

const hostname = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 3000);
const trusted = trustedProxyCount(process.env.CHECKOUT_TRUSTED_PROXIES);
const apiUrl = (process.env.PAYLINKS_API_URL || "http://127.0.0.1:8000").replace(/\/+$/, "");
const cache = new PageCache(cacheSeconds(process.env.CHECKOUT_PAGE_CACHE_SECONDS) * 1000);
// This server asks itself for the page it caches; the header proves a request is that one
// (a secret of this process), so no one outside chooses the address a render reports.
const RENDER_HEADER = "x-paylinks-page-render";
const RENDER_SECRET = randomBytes(24).toString("hex");
const VISITOR_MAX_AGE = 60 * 60 * 24 * 365;
const gzip = promisify(gzipCallback);
// With the token Django shares (PAYLINKS_CHECKOUT_TOKEN), visits answered from the cache
// are counted in batches (POST /api/v1/internal/views) rather than one request each.
const checkoutToken = process.env.PAYLINKS_CHECKOUT_TOKEN || "";
const BATCH_MAX = 200;
const BATCH_MS = 250;
// Visits waiting to be counted, at most: past it (Django unreachable for long, or slower
// than the page for long) new visits go uncounted rather than growing the process.
const BACKLOG_MAX = 500_000;
let backlogFullReported = false;
let batch = [];
let batchTimer = null;
let batchFailureReported = false;
let batchSending = null;
// A client without cookies is a new visitor on every request, and a cached page costs
// Django nothing: so counted visits are capped per customer address, as Django caps the
// page's reads (PAYLINKS_RATE_PUBLIC_IP, 300/min): past the cap the page is still served.
const COUNTS_PER_MINUTE = Number(process.env.CHECKOUT_VISITS_PER_MINUTE || 300);
let countWindow = 0;
let countsByAddress = new Map();

function mayCount(address) {
  const window = Math.floor(Date.now() / 60000);
  if (window !== countWindow || countsByAddress.size > 100000) {
    countWindow = window;
    countsByAddress = new Map();
  }
  const used = countsByAddress.get(address) ?? 0;
  countsByAddress.set(address, used + 1);
  return used < COUNTS_PER_MINUTE;
}
// A production build only (`next build` first); `npm run dev` is for development.
process.env.NODE_ENV = "production";
process.env.NEXT_TELEMETRY_DISABLED ??= "1";

const { default: next } = await import("next");
const app = next({ dev: false, dir: fileURLToPath(new URL(".", import.meta.url)), hostname, port });
await app.prepare();
const handle = app.getRequestHandler();

let reported = false;

const server = createServer((req, res) => {
  if (!METHODS.includes(req.method ?? "")) {
    res.writeHead(405, REFUSED_HEADERS);
    res.end("Method Not Allowed\n");
    return;
  }
  const render = req.headers[RENDER_HEADER];
  delete req.headers[RENDER_HEADER];
  if (render === RENDER_SECRET) {
    // The cache's own render of a customer's request: its address is already settled.
    handle(req, res).catch((error) => failed(res, error));
    return;
  }
  const forwarded = req.headers["x-forwarded-for"];
  if (forwarded && !trusted && !reported) {
    reported = true;
    console.warn(
      "checkout page: a request arrived with X-Forwarded-For, which is ignored (CHECKOUT_TRUSTED_PROXIES=0): " +
        "every customer counts as the address connecting here. If a reverse proxy of yours is in front of " +
        "this server, set CHECKOUT_TRUSTED_PROXIES=1; if not, a client wrote the header and nothing changes.",
    );
  }
  req.headers["x-forwarded-for"] = clientAddress(
    req.socket.remoteAddress,
    Array.isArray(forwarded) ? forwarded.join(",") : forwarded,
    trusted,
  );
  for (const name of FROM_OUTSIDE) delete req.headers[name];
  if (!trusted) for (const name of FORWARDED_DETAILS) delete req.headers[name];
  const key = cache.ttlMs > 0 ? cacheKey(req.method, req.url, req.headers) : null;
  if (key) {
    servePage(req, res, key).catch((error) => failed(res, error));
    return;
  }
  handle(req, res).catch((error) => failed(res, error));
});

function failed(res, error) {
  console.error("checkout page: unhandled error", error);
  if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
  res.end();
}

/** The link page from the cache, rendered first when it has no fresh copy. */
async function servePage(req, res, key) {
  let entry = cache.get(key, Date.now());
  if (!entry) {
    const running = cache.renders.get(key);
    if (running) {
      await running.catch(() => undefined);
      entry = cache.get(key, Date.now());
    }
  }
  if (!entry) {
    // This customer's own render: answered exactly as rendered (its cookie, its count).
    const rendering = renderPage(req);
    cache.renders.set(key, rendering);
    let rendered;
    try {
      rendered = await rendering;
    } finally {
      cache.renders.delete(key);
    }
    const fresh = entryFrom(rendered.status, rendered.headers, rendered.body, Date.now(), cache.ttlMs);
    if (fresh) cache.set(key, fresh);
    await send(req, res, rendered.status, rendered.headers, rendered.body);
    return;
  }
  const page = personalise(entry, randomBytes(16).toString("base64"), randomUUID());
  const headers = page.headers;
  let visitor = visitorOf(req.headers.cookie);
  if (!visitor) {
    visitor = randomBytes(24).toString("hex");
    const secure = trusted && req.headers["x-forwarded-proto"] === "https" ? "; Secure" : "";
    headers.push(["Set-Cookie", `${VISITOR_COOKIE}=${visitor}; Path=/; Max-Age=${VISITOR_MAX_AGE}; HttpOnly; SameSite=lax${secure}`]);
  }
  await send(req, res, page.status, headers, page.body);
  // Counted after the answer, as the page does (after()): a slow count never delays it.
  if (entry.active && req.method === "GET") recordView(slugOfKey(key), visitor, req.headers["x-forwarded-for"]);
}

/** Render the page through Next.js (this same server, asked with the secret header). */
function renderPage(req) {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, [RENDER_HEADER]: RENDER_SECRET, "accept-encoding": "identity" };
    const inner = httpRequest({ host: "127.0.0.1", port: server.address().port, path: req.url, method: req.method, headers }, (answer) => {
      const chunks = [];
      answer.on("data", (chunk) => chunks.push(chunk));
      answer.on("end", () => {
        const pairs = [];
        for (let i = 0; i < answer.rawHeaders.length; i += 2) pairs.push([answer.rawHeaders[i], answer.rawHeaders[i + 1]]);
        resolve({ status: answer.statusCode ?? 500, headers: pairs, body: Buffer.concat(chunks).toString("utf8") });
      });
      answer.on("error", reject);
    });
    inner.on("error", reject);
    inner.end();
  });
}

const HOP_BY_HOP = new Set(["content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive", "date", "vary"]);

async function send(req, res, status, headers, body) {
  let payload = Buffer.from(body, "utf8");
  const out = headers.filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()));
  out.push(["Vary", "Accept-Encoding"]);
  if (payload.length > 1024 && /\bgzip\b/.test(String(req.headers["accept-encoding"] || ""))) {
    payload = await gzip(payload);
    out.push(["Content-Encoding", "gzip"]);
  }
  out.push(["Content-Length", String(payload.length)]);
  res.writeHead(status, out.flat());
  res.end(req.method === "HEAD" ? undefined : payload);
}

function recordView(slug, visitor, forwardedFor) {
  const entries = String(forwardedFor || "").split(",");
  const address = bareAddress(entries[entries.length - 1]);
  if (!mayCount(address ?? "")) return;
  if (checkoutToken) {
    if (batch.length >= BACKLOG_MAX) {
      if (!backlogFullReported) console.error(`checkout page: ${BACKLOG_MAX} visits waiting to be counted; new ones are not counted`);
      backlogFullReported = true;
      return;
    }
    batch.push({ slug, visitor });
    if (batch.length >= BATCH_MAX && !batchSending) flushViews();
    else batchTimer ??= setTimeout(flushViews, BATCH_MS);
    return;
  }
  fetch(`${apiUrl}/api/v1/public/links/${slug}/views`, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json", ...(address ? { "X-Forwarded-For": address } : {}) },
    body: JSON.stringify({ visitor }),
    signal: AbortSignal.timeout(5000),
  })
    .then((answer) => answer.arrayBuffer())
    .catch(() => undefined);
}
// CONNECT never reaches the request handler; without this Node just drops the socket.
server.on("connect", (_req, socket) => {
  socket.end(`HTTP/1.1 405 Method Not Allowed\r\nAllow: ${ALLOW}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
});

server.listen(port, hostname, () => {
  console.log(`checkout page ready on http://${hostname}:${port} (trusting ${trusted} proxies)`);
});
/** Send the waiting visits (up to five times BATCH_MAX at once), one batch at a time: batches in
 * parallel would only wait for each other's locks on the same counters in Django. */
function flushViews() {
  clearTimeout(batchTimer);
  batchTimer = null;
  if (batchSending) return batchSending.then(flushViews);
  const views = batch.splice(0, BATCH_MAX * 5);
  if (!views.length) return Promise.resolve();
  batchSending = fetch(`${apiUrl}/api/v1/internal/views`, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json", Authorization: `Bearer ${checkoutToken}` },
    body: JSON.stringify({ views }),
    signal: AbortSignal.timeout(30000),
  })
    .then(async (answer) => {
      await answer.arrayBuffer();
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    })
    .catch((error) => {
      // Counts are best effort, as the page's own were: say so once, never retry forever.
      if (!batchFailureReported) console.error(`checkout page: ${views.length} visits not counted:`, error.message);
      batchFailureReported = true;
    })
    .finally(() => {
      batchSending = null;
      if (batch.length) batchTimer ??= setTimeout(flushViews, 0);
    });
  return batchSending;
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    // Every waiting visit, a batch at a time (a failed batch is dropped, so this ends).
    const drain = () => (batch.length || batchSending ? Promise.resolve(flushViews()).then(drain) : Promise.resolve());
    drain().finally(() => process.exit(0));
  });
}
