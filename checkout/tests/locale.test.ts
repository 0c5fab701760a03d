import { describe, expect, it } from "vitest";

import { DEFAULT_LOCALE, pickLocale } from "@/lib/locale";
import { gatewayOrigins, pageCsp } from "@/lib/csp";
import { addCheckout, readCheckouts } from "@/lib/checkouts";

describe("pickLocale", () => {
  it.each([
    ["de-DE,de;q=0.9,en;q=0.8", "de-DE"],
    ["fr;q=0.5, ja-JP", "ja-JP"],
    ["*", DEFAULT_LOCALE],
    ["", DEFAULT_LOCALE],
    [null, DEFAULT_LOCALE],
    ["en-GB;q=0", DEFAULT_LOCALE],
    ["<script>,de", "de"],
    ["x".repeat(5000), DEFAULT_LOCALE],
  ])("%j -> %s", (header, expected) => {
    expect(pickLocale(header)).toBe(expected);
  });
});

describe("pageCsp", () => {
  it("is strict in production", () => {
    const csp = pageCsp({ nonce: "abc", formAction: ["https://checkout.stripe.com"] });
    expect(csp).toContain("script-src 'self' 'nonce-abc' 'strict-dynamic'");
    expect(csp).toContain("style-src 'self' 'nonce-abc'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("form-action 'self' https://checkout.stripe.com");
    expect(csp).not.toContain("unsafe");
  });

  it("allows eval only in development", () => {
    expect(pageCsp({ nonce: "abc", dev: true })).toContain("'unsafe-eval'");
  });

  it("lets the form lead to the gateway's hosted checkout", () => {
    expect(gatewayOrigins("http://127.0.0.1:8000/", "https://pay.example.com/x, javascript:alert(1)")).toEqual([
      "https://checkout.stripe.com",
      "http://127.0.0.1:8000",
      "https://pay.example.com",
    ]);
  });
});

describe("checkouts cookie", () => {
  it("keeps the latest sessions this browser started, and only ids", () => {
    let value = "";
    for (let n = 0; n < 12; n++) value = addCheckout(value, `cs_test_${n}`);
    const kept = readCheckouts(value);
    expect(kept).toHaveLength(10);
    expect(kept[0]).toBe("cs_test_11");
    expect(readCheckouts("cs_a.<script>.cs_b")).toEqual(["cs_a", "cs_b"]);
  });
});
