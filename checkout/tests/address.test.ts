import { describe, expect, it } from "vitest";

import { forwardedHeaders } from "@/lib/api";
import { bareAddress, clientAddress, isIpAddress, trustedProxyCount } from "@/lib/client-address.mjs";

describe("clientAddress (server.mjs)", () => {
  it("is the socket's address whatever the client writes, with no trusted proxy", () => {
    expect(clientAddress("203.0.113.9", "1.2.3.4")).toBe("203.0.113.9");
    expect(clientAddress("203.0.113.9", "1.2.3.4, 5.6.7.8", 0)).toBe("203.0.113.9");
    expect(clientAddress("::ffff:127.0.0.1", undefined)).toBe("127.0.0.1");
    expect(clientAddress("2001:DB8::1", "9.9.9.9")).toBe("2001:db8::1");
  });

  it("believes exactly the entries the trusted proxies appended", () => {
    // nginx (10.0.0.2) appended the client it saw (198.51.100.7); the rest is the client's.
    expect(clientAddress("10.0.0.2", "6.6.6.6, 198.51.100.7", 1)).toBe("198.51.100.7");
    expect(clientAddress("10.0.0.3", "6.6.6.6, 198.51.100.7, 10.0.0.2", 2)).toBe("198.51.100.7");
    expect(clientAddress("10.0.0.2", "[2001:db8::7]:443", 1)).toBe("2001:db8::7");
    expect(clientAddress("10.0.0.2", "198.51.100.7:5123", 1)).toBe("198.51.100.7");
  });

  it("falls back to the socket when the trusted entry is not an address", () => {
    expect(clientAddress("10.0.0.2", "<script>", 1)).toBe("10.0.0.2");
    expect(clientAddress("10.0.0.2", "unknown", 1)).toBe("10.0.0.2");
  });

  it("reads CHECKOUT_TRUSTED_PROXIES strictly", () => {
    expect(trustedProxyCount(undefined)).toBe(0);
    expect(trustedProxyCount("")).toBe(0);
    expect(trustedProxyCount("2")).toBe(2);
    expect(() => trustedProxyCount("one")).toThrow(/CHECKOUT_TRUSTED_PROXIES/);
    expect(() => trustedProxyCount("-1")).toThrow();
  });

  it("knows an address when it sees one", () => {
    for (const good of ["127.0.0.1", "255.255.255.255", "::1", "2001:db8::1", "::ffff:10.0.0.1"]) {
      expect(isIpAddress(good)).toBe(true);
    }
    for (const bad of ["256.1.1.1", "1.2.3", "example.com", "", "1.2.3.4 ", "::g", "[::1]"]) {
      expect(isIpAddress(bad)).toBe(false);
    }
    expect(bareAddress(" 1.2.3.4 ")).toBe("1.2.3.4");
  });
});

describe("forwardedHeaders", () => {
  it("passes on one address: the right-most, never a client's list", () => {
    expect(forwardedHeaders(new Headers({ "x-forwarded-for": "203.0.113.9" }))).toEqual({
      "X-Forwarded-For": "203.0.113.9",
    });
    expect(forwardedHeaders(new Headers({ "x-forwarded-for": "6.6.6.6, 203.0.113.9" }))).toEqual({
      "X-Forwarded-For": "203.0.113.9",
    });
    expect(forwardedHeaders(new Headers({ "x-forwarded-for": "1.2.3.4, junk" }))).toEqual({});
    expect(forwardedHeaders(new Headers())).toEqual({});
  });
});
