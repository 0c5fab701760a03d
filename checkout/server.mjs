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
// Usage (what `npm start`, the Procfile and the tests run, after `next build`):
//   HOST=127.0.0.1 PORT=3000 PAYLINKS_API_URL=http://127.0.0.1:8000 node server.mjs

import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

import { clientAddress, trustedProxyCount } from "./lib/client-address.mjs";

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
  handle(req, res).catch((error) => {
    console.error("checkout page: unhandled error", error);
    if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
    res.end();
  });
});
// CONNECT never reaches the request handler; without this Node just drops the socket.
server.on("connect", (_req, socket) => {
  socket.end(`HTTP/1.1 405 Method Not Allowed\r\nAllow: ${ALLOW}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
});

server.listen(port, hostname, () => {
  console.log(`checkout page ready on http://${hostname}:${port} (trusting ${trusted} proxies)`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
