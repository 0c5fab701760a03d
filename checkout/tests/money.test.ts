import { describe, expect, it } from "vitest";

import { decimalSeparator, formatMinor, mentionsCode, minorToMajorString, payLabel } from "@/lib/money";

// Intl output uses narrow/no-break spaces in some locales: compare with plain spaces.
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, " ");

// Exponent and display places exactly as the API sends them (currency_exponent,
// currency_decimals, from paylinks/money.py): the page has no currency table.
describe("formatMinor", () => {
  it.each([
    [1250, "USD", "en-US", 2, 2, "$12.50"],
    [1250, "EUR", "de-DE", 2, 2, "12,50 €"],
    [1250, "EUR", "fr-FR", 2, 2, "12,50 €"],
    [1250, "EUR", "en-IE", 2, 2, "€12.50"],
    [123456789, "USD", "en-US", 2, 2, "$1,234,567.89"],
    [123456789, "EUR", "de-DE", 2, 2, "1.234.567,89 €"],
    [1500, "JPY", "en-US", 0, 0, "¥1,500"],
    [1500, "JPY", "ja-JP", 0, 0, "￥1,500"],
    [50, "JPY", "en-US", 0, 0, "¥50"],
    [1230, "KWD", "en-US", 3, 3, "KWD 1.230"],
    [7000, "ISK", "en-US", 2, 0, "ISK 70"],
    [17500, "HUF", "en-US", 2, 2, "HUF 175.00"],
    [2500, "GBP", "en-GB", 2, 2, "£25.00"],
    [5, "USD", "en-US", 2, 2, "$0.05"],
  ])("%i %s in %s (exponent %i, places %i)", (minor, currency, locale, exponent, places, expected) => {
    expect(plain(formatMinor(minor, currency, locale, { exponent, places }))).toBe(expected);
  });

  it("shows the exponent's places when the API sends no display places", () => {
    expect(formatMinor(1500, "JPY", "en-US", { exponent: 0 })).toBe("¥1,500");
    expect(plain(formatMinor(13000, "VND", "vi-VN", { exponent: 0, places: null }))).toBe("13.000 ₫");
    expect(formatMinor(1250, "USD", "en-US", { exponent: 2 })).toBe("$12.50");
  });

  it("shows a currency it has never heard of purely from the API's values", () => {
    // A hypothetical code with a three-decimal minor unit: nothing in the page knows "QQQ".
    expect(plain(formatMinor(12345, "QQQ", "en-US", { exponent: 3, places: 3 }))).toBe("QQQ 12.345");
    expect(plain(formatMinor(12345, "QQQ", "de-DE", { exponent: 3, places: 3 }))).toBe("12,345 QQQ");
    // The same code shown with fewer places than its minor unit, as the API says (like ISK).
    expect(plain(formatMinor(12000, "QQQ", "en-US", { exponent: 3, places: 0 }))).toBe("QQQ 12");
    // And a code the page's Intl data would show with 2 places, told otherwise by the API.
    expect(plain(formatMinor(1500, "XTS", "en-US", { exponent: 0, places: 0 }))).toBe("XTS 1,500");
    expect(minorToMajorString(12345, 3)).toBe("12.345");
  });

  it("is exact for large amounts (no floating point)", () => {
    expect(minorToMajorString(99999999, 2)).toBe("999999.99");
    expect(minorToMajorString(5, 2)).toBe("0.05");
    expect(minorToMajorString(1230, 3)).toBe("1.230");
    expect(minorToMajorString(1500, 0)).toBe("1500");
    expect(minorToMajorString(7000, 2)).toBe("70.00");
  });

  it("falls back to the ISO code when the currency or locale is unusable", () => {
    expect(formatMinor(1250, "XYZ1", "en-US", { exponent: 2, places: 2 })).toBe("12.50 XYZ1");
  });

  it("refuses an exponent that is not one, rather than show a wrong amount", () => {
    for (const exponent of [-1, 1.5, Number.NaN, 21]) {
      expect(() => formatMinor(1250, "USD", "en-US", { exponent })).toThrow(RangeError);
    }
  });

  it("ignores display places the exponent cannot hold", () => {
    expect(formatMinor(1250, "USD", "en-US", { exponent: 2, places: 3 })).toBe("$12.50");
    expect(formatMinor(1250, "USD", "en-US", { exponent: 2, places: -1 })).toBe("$12.50");
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

describe("a checkout status amount", () => {
  it("is formatted with the places the status answer sends, as the link page does", () => {
    const status = (value: number, currency: string, exponent: number, places: number) =>
      plain(formatMinor(value, currency, "en-US", { exponent, places }));
    expect(status(7000, "ISK", 2, 0)).toBe("ISK 70");
    expect(status(2500, "USD", 2, 2)).toBe("$25.00");
    expect(status(1500, "JPY", 0, 0)).toBe("¥1,500");
    expect(status(1230, "KWD", 3, 3)).toBe("KWD 1.230");
    expect(status(17500, "HUF", 2, 2)).toBe("HUF 175.00");
  });
});

describe("payLabel", () => {
  it.each([
    [4500, "USD", "en-US", 2, 2, "Pay $45.00 USD"],
    [1250, "EUR", "de-DE", 2, 2, "Pay 12,50 € EUR"],
    [500, "JPY", "en-US", 0, 0, "Pay ¥500 JPY"],
    [12340, "KWD", "en-US", 3, 3, "Pay KWD 12.340"],
  ])("%i %s in %s", (minor, currency, locale, exponent, places, expected) => {
    expect(plain(payLabel(minor, currency, locale, { exponent, places }))).toBe(expected);
  });
});
