import type { NextConfig } from "next";

import { STATIC_ASSET_CSP, STATIC_SECURITY_HEADERS } from "./lib/csp";

// The browser's API calls (/api/v1/public/*) and merchant logos (/media/*) are rewritten
// to Django in proxy.ts rather than here: rewrites in this file are fixed when the app is
// built, while proxy.ts reads PAYLINKS_API_URL when the server runs.
const nextConfig: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  images: { unoptimized: true },
  async headers() {
    return [
      { source: "/:path*", headers: STATIC_SECURITY_HEADERS },
      // Pages get a per-request nonce CSP from proxy.ts; the files it skips get a closed one.
      { source: "/_next/static/:path*", headers: [{ key: "Content-Security-Policy", value: STATIC_ASSET_CSP }] },
      { source: "/favicon.ico", headers: [{ key: "Content-Security-Policy", value: STATIC_ASSET_CSP }] },
    ];
  },
};

export default nextConfig;
