import { describe, expect, it } from "vitest";

import { decimalSeparator, displayPlaces, exponentOf, formatMinor, mentionsCode, minorToMajorString } from "@/lib/money";

// Intl output uses narrow/no-break spaces in some locales: compare with plain spaces.
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, " ");

describe("formatMinor", () => {
  it.each([
    [1250, "USD", "en-US", 2, "$12.50"],
    [1250, "EUR", "de-DE", 2, "12,50 €"],
    [1250, "EUR", "fr-FR", 2, "12,50 €"],
    [1250, "EUR", "en-IE", 2, "€12.50"],
    [123456789, "USD", "en-US", 2, "$1,234,567.89"],
    [123456789, "EUR", "de-DE", 2, "1.234.567,89 €"],
    [1500, "JPY", "en-US", 0, "¥1,500"],
    [1500, "JPY", "ja-JP", 0, "￥1,500"],
    [50, "JPY", "en-US", 0, "¥50"],
    [1230, "KWD", "en-US", 3, "KWD 1.230"],
    [7000, "ISK", "en-US", 0, "ISK 70"],
    [2500, "GBP", "en-GB", 2, "£25.00"],
    [5, "USD", "en-US", 2, "$0.05"],
  ])("%i %s in %s", (minor, currency, locale, decimals, expected) => {
    expect(plain(formatMinor(minor, currency, locale, decimals))).toBe(expected);
  });

  it("never shows decimals for zero-decimal currencies, even without the API's hint", () => {
    expect(formatMinor(1500, "JPY", "en-US")).toBe("¥1,500");
    expect(plain(formatMinor(13000, "VND", "vi-VN"))).toBe("13.000 ₫");
  });

  it("is exact for large amounts (no floating point)", () => {
    expect(minorToMajorString(99999999, "USD")).toBe("999999.99");
    expect(minorToMajorString(5, "USD")).toBe("0.05");
    expect(minorToMajorString(1230, "KWD")).toBe("1.230");
    expect(minorToMajorString(1500, "JPY")).toBe("1500");
  });

  it("falls back to the ISO code when the currency or locale is unusable", () => {
    expect(formatMinor(1250, "XYZ1", "en-US")).toBe("12.50 XYZ1");
  });

  it("knows exponents and display places", () => {
    expect([exponentOf("usd"), exponentOf("JPY"), exponentOf("BHD"), exponentOf("ISK")]).toEqual([2, 0, 3, 2]);
    expect([displayPlaces("ISK"), displayPlaces("EUR"), displayPlaces("EUR", 2), displayPlaces("JPY", 0)]).toEqual([0, 2, 2, 0]);
  });

  it("says when a formatted amount already names its code", () => {
    expect(mentionsCode("CHF 12.50", "CHF")).toBe(true);
    expect(mentionsCode("$12.50", "USD")).toBe(false);
  });

  it("finds a locale's decimal separator", () => {
    expect(decimalSeparator("en-US")).toBe(".");
    expect(decimalSeparator("de-DE")).toBe(",");
  });
});
