import { describe, expect, it } from "vitest";

import { safeRedirectUrl } from "@/lib/redirect";

describe("safeRedirectUrl", () => {
  it("keeps ordinary web addresses", () => {
    expect(safeRedirectUrl("https://shop.example/thanks?o=1")).toBe("https://shop.example/thanks?o=1");
    expect(safeRedirectUrl("http://localhost:8080/paid")).toBe("http://localhost:8080/paid");
  });

  it("refuses addresses that lead somewhere other than they read", () => {
    for (const url of [
      "https://shop.example@evil.example/",
      "https://user:pass@shop.example/",
      "https://shop.example\\@evil.example/",
      "https:/\\evil.example",
      "https://shop.example/\u0001",
      "javascript:alert(1)",
      "data:text/html,x",
      "//evil.example",
      "not a url",
    ]) {
      expect(safeRedirectUrl(url)).toBeNull();
    }
  });
});
