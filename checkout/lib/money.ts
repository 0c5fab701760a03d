/**
 * Money on the page: amounts arrive from the API as integers in the currency's minor unit
 * and are shown with Intl.NumberFormat in the customer's locale.
 *
 * This module knows no currency rules: paylinks/money.py owns them and the API sends them
 * beside every amount. `currency_exponent` converts minor units to major ones (USD 2,
 * JPY 0, KWD 3, ISK 2); `currency_decimals` is the number of places a person sees and
 * types (ISK 0: Stripe keeps krónur in two-decimal minor units, people write whole ones).
 */

/** How to read and show an amount in minor units, as the API describes its currency. */
export interface MinorUnits {
  /** The API's `currency_exponent`: decimal places of the minor unit. */
  exponent: number;
  /** The API's `currency_decimals`: places a person sees (ISK 0). The exponent when absent. */
  places?: number | null;
}

const MAX_EXPONENT = 20;

function checkedExponent(exponent: number): number {
  // A wrong exponent would show a wrong amount (12.50 as 1,250): refuse rather than guess.
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > MAX_EXPONENT) {
    throw new RangeError(`Not a currency exponent: ${exponent}`);
  }
  return exponent;
}

/** 1250 minor units with exponent 2 -> "12.50": exact decimal text, no floating point. */
export function minorToMajorString(minor: number, exponent: number): string {
  const places = checkedExponent(exponent);
  const negative = minor < 0;
  const digits = String(Math.abs(Math.trunc(minor))).padStart(places + 1, "0");
  const whole = places ? digits.slice(0, -places) : digits;
  const fraction = places ? digits.slice(-places) : "";
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(locale: string, currency: string, places: number): Intl.NumberFormat {
  const key = `${locale}|${currency}|${places}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.NumberFormat(locale, {
      style: "currency",
      currency,
      minimumFractionDigits: places,
      maximumFractionDigits: places,
    });
    if (formatters.size > 500) formatters.clear();
    formatters.set(key, found);
  }
  return found;
}

/** Places to show: the API's `places` when given and sensible, else the exponent. */
function placesFor(units: MinorUnits): number {
  const exponent = checkedExponent(units.exponent);
  const { places } = units;
  return typeof places === "number" && Number.isInteger(places) && places >= 0 && places <= exponent ? places : exponent;
}

/**
 * An amount in minor units, formatted for a locale with the API's exponent and places:
 * formatMinor(1250, "EUR", "de-DE", { exponent: 2, places: 2 }) is "12,50 €";
 * formatMinor(1500, "JPY", "en-US", { exponent: 0, places: 0 }) is "¥1,500".
 */
export function formatMinor(minor: number, currency: string, locale: string, units: MinorUnits): string {
  const code = currency.toUpperCase();
  const major = minorToMajorString(minor, units.exponent);
  const places = placesFor(units);
  try {
    // A decimal string keeps exact values (format() accepts strings since Intl.NumberFormat v3).
    return formatter(locale, code, places).format(major as unknown as number);
  } catch {
    return `${major} ${code}`;
  }
}

/** Whether a formatted amount already names its currency unambiguously by code. */
export function mentionsCode(formatted: string, currency: string): boolean {
  return formatted.toUpperCase().includes(currency.toUpperCase());
}

/** The decimal separator of a locale ("." for en-US, "," for de-DE). */
export function decimalSeparator(locale: string): string {
  try {
    const part = new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === "decimal");
    return part?.value ?? ".";
  } catch {
    return ".";
  }
}

/** The Pay button's words: "Pay $45.00 USD" (the code beside a symbol that may be ambiguous). */
export function payLabel(minor: number, currency: string, locale: string, units: MinorUnits): string {
  const text = formatMinor(minor, currency, locale, units);
  return `Pay ${text}${mentionsCode(text, currency) ? "" : ` ${currency.toUpperCase()}`}`;
}
