import { describe, expect, it } from "vitest";

import { type AmountRules, checkAmount, splitNumber } from "@/lib/amount";

// Intl output uses narrow/no-break spaces in some locales: compare with plain spaces.
const plainText = (text: string) => text.replace(/[\u00a0\u202f]/g, " ");

// Rules exactly as the API sends them for a link (currency_exponent, currency_decimals,
// currency_step, from paylinks/money.py): the page has no currency table of its own.
const eur: AmountRules = { currency: "EUR", exponent: 2, decimals: 2, step: 1, min: 500, max: 50000, locale: "en-IE", decimalSeparator: "." };
const eurDe: AmountRules = { ...eur, locale: "de-DE", decimalSeparator: "," };
const jpy: AmountRules = { currency: "JPY", exponent: 0, decimals: 0, step: 1, min: 50, max: 1000000, locale: "ja-JP", decimalSeparator: "." };
const kwd: AmountRules = { currency: "KWD", exponent: 3, decimals: 3, step: 10, min: 200, max: 100000, locale: "en-US", decimalSeparator: "." };
const isk: AmountRules = { currency: "ISK", exponent: 2, decimals: 0, step: 100, min: 7000, max: 10000000, locale: "en-US", decimalSeparator: "." };

describe("checkAmount", () => {
  it.each([
    ["12.50", 1250, "12.5"],
    ["12.5", 1250, "12.5"],
    ["12", 1200, "12"],
    [" 12.00 ", 1200, "12"],
    ["500", 50000, "500"],
    ["5", 500, "5"],
    ["012.50", 1250, "12.5"],
  ])("accepts %j in EUR", (typed, minor, major) => {
    expect(checkAmount(typed, eur)).toEqual({ ok: true, minor, major });
  });

  it("reads the customer's own notation", () => {
    expect(checkAmount("12,50", eurDe)).toMatchObject({ ok: true, minor: 1250 });
    expect(checkAmount("1.234,50", { ...eurDe, max: 9999999 })).toMatchObject({ ok: true, minor: 123450 });
    expect(checkAmount("1,234.50", { ...eur, max: 9999999 })).toMatchObject({ ok: true, minor: 123450 });
    expect(checkAmount("12,50", eur)).toMatchObject({ ok: true, minor: 1250 }); // a lone comma + 2 digits
    expect(checkAmount("1,500", { ...eur, max: 9999999 })).toMatchObject({ ok: true, minor: 150000 });
  });

  it.each([
    ["", "Enter the amount you want to pay."],
    ["1e9", "plain number"],
    ["-5", "plain number"],
    ["+5", "plain number"],
    ["12.345", "at most 2 decimal places"],
    ["12.", "plain number"],
    [".", "plain number"],
    ["1,2,3", "plain number"],
    ["NaN", "plain number"],
    ["Infinity", "plain number"],
    ["0x10", "plain number"],
    ["12 abc", "plain number"],
    ["4", "The least you can pay here is €5.00."],
    ["4.99", "The least you can pay here is €5.00."],
    ["500.01", "The most you can pay here is €500.00."],
    ["99999999999999999999", "The most you can pay here"],
    ["9".repeat(40), "plain number"],
  ])("rejects %j in EUR", (typed, message) => {
    const result = checkAmount(typed, eur);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(message);
  });

  it("keeps zero-decimal currencies whole", () => {
    expect(checkAmount("1500", jpy)).toEqual({ ok: true, minor: 1500, major: "1500" });
    const result = checkAmount("1500.5", jpy);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/no fractional part/);
  });

  it("keeps three-decimal currencies on Stripe's step of 10", () => {
    expect(checkAmount("1.230", kwd)).toMatchObject({ ok: true, minor: 1230 });
    const result = checkAmount("1.235", kwd);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(plainText(result.message)).toBe("KWD amounts must be a multiple of KWD 0.010.");
  });

  it("takes the step from the API, not from the currency's code", () => {
    // The same KWD amount passes when the API says every minor unit is allowed.
    expect(checkAmount("1.235", { ...kwd, step: 1 })).toMatchObject({ ok: true, minor: 1235 });
  });

  it("converts whole krónur to ISK's two-decimal minor units", () => {
    expect(checkAmount("70", isk)).toEqual({ ok: true, minor: 7000, major: "70" });
    expect(checkAmount("70.5", isk).ok).toBe(false);
    const tooSmall = checkAmount("69", isk);
    expect(tooSmall.ok).toBe(false);
    if (!tooSmall.ok) expect(plainText(tooSmall.message)).toBe("The least you can pay here is ISK 70.");
  });

  it("checks a currency it has never heard of purely from the API's values", () => {
    // A hypothetical code with a three-decimal minor unit and a step of 5: nothing in the
    // page knows "QQQ", so every answer below comes from the rules passed in.
    const qqq: AmountRules = { currency: "QQQ", exponent: 3, decimals: 3, step: 5, min: 1000, max: 99995, locale: "en-US", decimalSeparator: "." };
    expect(checkAmount("12.345", qqq)).toEqual({ ok: true, minor: 12345, major: "12.345" });
    expect(checkAmount("12.5", qqq)).toEqual({ ok: true, minor: 12500, major: "12.5" });
    const offStep = checkAmount("12.347", qqq);
    expect(offStep.ok).toBe(false);
    if (!offStep.ok) expect(plainText(offStep.message)).toBe("QQQ amounts must be a multiple of QQQ 0.005.");
    const tooPrecise = checkAmount("12.3455", qqq);
    expect(tooPrecise.ok).toBe(false);
    if (!tooPrecise.ok) expect(tooPrecise.message).toBe("QQQ amounts have at most 3 decimal places.");
    const tooSmall = checkAmount("0.995", qqq);
    expect(tooSmall.ok).toBe(false);
    if (!tooSmall.ok) expect(plainText(tooSmall.message)).toBe("The least you can pay here is QQQ 1.000.");
    // Typed in de-DE notation, shown with the API's places in that locale.
    const tooBig = checkAmount("100,000", { ...qqq, locale: "de-DE", decimalSeparator: "," });
    expect(tooBig.ok).toBe(false);
    if (!tooBig.ok) expect(plainText(tooBig.message)).toBe("The most you can pay here is 99,995 QQQ.");
    // Fewer typed places than the minor unit holds, as the API may say (like ISK).
    const whole: AmountRules = { ...qqq, decimals: 1, step: 100 };
    expect(checkAmount("12.3", whole)).toEqual({ ok: true, minor: 12300, major: "12.3" });
    const result = checkAmount("12.34", whole);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toBe("QQQ amounts have at most 1 decimal place.");
  });

  it("never reads more typed places than the exponent holds", () => {
    // An API answer with more decimals than its exponent must not turn 12.345 into 12345 cents.
    const result = checkAmount("12.345", { ...eur, decimals: 3, max: 9999999 });
    expect(result.ok).toBe(false);
  });
});

describe("splitNumber", () => {
  it("splits digits and separators", () => {
    expect(splitNumber("1 234,5", ",")).toEqual({ whole: "1234", fraction: "5" });
    expect(splitNumber("1'234.50")).toEqual({ whole: "1234", fraction: "50" });
    expect(splitNumber("12..5")).toBeNull();
  });
});
