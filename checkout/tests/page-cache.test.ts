import { describe, expect, it } from "vitest";

import { PageCache, cacheKey, cacheSeconds, entryFrom, personalise, slugOfKey, visitorOf } from "../lib/page-cache.mjs";

const NONCE = "q7Ew0FzZb2yXz3tHfTn1Rg==";
const KEY = "0b7f3c5e-1d2a-4e8b-9c6f-7a1b2c3d4e5f";
const CSP = `default-src 'self'; script-src 'self' 'nonce-${NONCE}' 'strict-dynamic'; style-src 'self' 'nonce-${NONCE}'`;
const BODY =
  `<style nonce="${NONCE}">:root{--brand:#00695c}</style><form><input type="hidden" name="idempotency_key" value="${KEY}"></form>` +
  `<script nonce="${NONCE}">self.__next_f.push([1,"{\\"nonce\\":\\"${NONCE}\\",\\"idempotencyKey\\":\\"${KEY}\\"}"])</script>`;
const HEADERS: [string, string][] = [
  ["Content-Security-Policy", CSP],
  ["Content-Type", "text/html; charset=utf-8"],
  ["Set-Cookie", "paylinks_visitor=" + "a".repeat(48) + "; Path=/"],
  ["Content-Length", "999"],
];

describe("cacheKey", () => {
  it("keys a link page by slug and language", () => {
    expect(cacheKey("GET", "/pay/AbC_-1", { "accept-language": "de-DE" })).toBe("AbC_-1\nde-DE");
    expect(cacheKey("HEAD", "/pay/AbC_-1/", {})).toBe("AbC_-1\n");
    expect(slugOfKey("AbC_-1\nde-DE")).toBe("AbC_-1");
  });

  it("renders everything else afresh", () => {
    expect(cacheKey("POST", "/pay/abc", {})).toBeNull();
    expect(cacheKey("GET", "/pay/abc?error=expired", {})).toBeNull();
    expect(cacheKey("GET", "/pay/abc/success", {})).toBeNull();
    expect(cacheKey("GET", "/pay/%61bc", {})).toBeNull();
    expect(cacheKey("GET", "/", {})).toBeNull();
    // The no-JS form's error comes back in this cookie: that page is this customer's own.
    expect(cacheKey("GET", "/pay/abc", { cookie: "a=1; paylinks_form=xyz" })).toBeNull();
    expect(cacheKey("GET", "/pay/abc", { cookie: "paylinks_visitor=" + "b".repeat(48) })).toBe("abc\n");
  });
});

describe("entryFrom and personalise", () => {
  it("replaces every nonce and key, in the header and the page, and drops per-answer headers", () => {
    const entry = entryFrom(200, HEADERS, BODY, 1000, 5000);
    expect(entry).not.toBeNull();
    expect(entry!.headers.map(([n]) => n)).toEqual(["Content-Security-Policy", "Content-Type"]);
    expect(entry!.expires).toBe(6000);
    const copy = personalise(entry!, "NEWNONCEnewnonce1234==", "11111111-2222-4333-8444-555555555555");
    expect(copy.body).not.toContain(NONCE);
    expect(copy.body).not.toContain(KEY);
    expect(copy.body.split("NEWNONCEnewnonce1234==").length - 1).toBe(3);
    expect(copy.body.split("11111111-2222-4333-8444-555555555555").length - 1).toBe(2);
    expect(copy.headers[0]![1]).toBe(CSP.split(NONCE).join("NEWNONCEnewnonce1234=="));
    // The entry itself is untouched for the next copy.
    expect(entry!.body).toBe(BODY);
  });

  it("keeps closed and missing links' pages, which have no form", () => {
    expect(entryFrom(410, HEADERS, "<p>expired</p>", 0, 5000)?.active).toBe(false);
    expect(entryFrom(404, HEADERS, "<p>not found</p>", 0, 5000)?.key).toBeNull();
  });

  it("refuses answers it cannot make safe or should not keep", () => {
    expect(entryFrom(503, HEADERS, BODY, 0, 5000)).toBeNull();
    expect(entryFrom(500, HEADERS, BODY, 0, 5000)).toBeNull();
    expect(entryFrom(308, HEADERS, BODY, 0, 5000)).toBeNull();
    expect(entryFrom(200, [["Content-Type", "text/html"]], BODY, 0, 5000)).toBeNull(); // no nonce
    expect(entryFrom(200, HEADERS, "<p>no form</p>", 0, 5000)).toBeNull(); // active without a key
  });
});

describe("PageCache", () => {
  it("expires entries and keeps at most maxEntries, least recently set first out", () => {
    const cache = new PageCache(5000, 2);
    const entry = entryFrom(200, HEADERS, BODY, 0, 5000)!;
    cache.set("a", entry);
    cache.set("b", entry);
    cache.set("c", entry);
    expect(cache.get("a", 0)).toBeNull();
    expect(cache.get("c", 4999)).toBe(entry);
    expect(cache.get("c", 5000)).toBeNull();
  });
});

describe("settings", () => {
  it("reads the cache seconds and the visitor cookie", () => {
    expect(cacheSeconds(undefined)).toBe(5);
    expect(cacheSeconds("0")).toBe(0);
    expect(cacheSeconds("2")).toBe(2);
    expect(cacheSeconds("600")).toBe(60);
    expect(cacheSeconds("x")).toBe(5);
    expect(visitorOf("paylinks_visitor=" + "c".repeat(48))).toBe("c".repeat(48));
    expect(visitorOf("paylinks_visitor=nope")).toBeNull();
    expect(visitorOf(undefined)).toBeNull();
  });
});
