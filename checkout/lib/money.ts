/**
 * Money on the page: amounts arrive from the API as integers in the currency's minor unit
 * and are shown with Intl.NumberFormat in the customer's locale.
 *
 * The minor-unit exponent mirrors paylinks/money.py: zero-decimal and three-decimal
 * currencies, and ISK, which Stripe keeps in two-decimal minor units but people write
 * in whole krónur. The API's `currency_decimals` is the number of places a person sees
 * and types; the exponent converts minor units to major ones.
 */

export const ZERO_DECIMAL = new Set([
  "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
  "VUV", "XAF", "XOF", "XPF",
]);
export const THREE_DECIMAL = new Set(["BHD", "JOD", "KWD", "OMR", "TND"]);
/** Currencies shown with fewer places than their minor unit has. */
const DISPLAY_PLACES: Record<string, number> = { ISK: 0 };

export function exponentOf(currency: string): number {
  const code = currency.toUpperCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/** Places a person sees and types: the API's `currency_decimals` when given. */
export function displayPlaces(currency: string, apiDecimals?: number | null): number {
  if (typeof apiDecimals === "number" && Number.isInteger(apiDecimals) && apiDecimals >= 0 && apiDecimals <= 3) {
    return apiDecimals;
  }
  return DISPLAY_PLACES[currency.toUpperCase()] ?? exponentOf(currency);
}

/** "1250" minor units of USD -> "12.50": exact decimal text, no floating point. */
export function minorToMajorString(minor: number, currency: string): string {
  const exponent = exponentOf(currency);
  const negative = minor < 0;
  const digits = String(Math.abs(Math.trunc(minor))).padStart(exponent + 1, "0");
  const whole = exponent ? digits.slice(0, -exponent) : digits;
  const fraction = exponent ? digits.slice(-exponent) : "";
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

/**
 * An amount in minor units, formatted for a locale: formatMinor(1250, "EUR", "de-DE") is
 * "12,50 €"; formatMinor(1500, "JPY", "en-US") is "¥1,500".
 */
export function formatMinor(
  minor: number,
  currency: string,
  locale: string,
  apiDecimals?: number | null,
): string {
  const code = currency.toUpperCase();
  const places = displayPlaces(code, apiDecimals);
  const major = minorToMajorString(minor, code);
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
