/**
 * Checking a customer-chosen amount in the page, before anything is sent. The server
 * checks again (paylinks/money.py) and its answer wins; this only saves a round trip and
 * gives the same kind of message right at the field.
 */

import { formatMinor } from "./money";

/** A link's currency rules as the API sends them: the page has no currency table of its own. */
export interface AmountRules {
  currency: string;
  /** Decimal places of the minor unit (the API's currency_exponent). */
  exponent: number;
  /** Places a person may type (the API's currency_decimals). */
  decimals: number;
  /** Every amount is a multiple of this many minor units (the API's currency_step). */
  step: number;
  min: number;
  max: number;
  locale: string;
  /** The locale's decimal separator; "," means "12,50" is twelve and a half. */
  decimalSeparator?: string;
}

export type AmountCheck =
  | { ok: true; minor: number; major: string }
  | { ok: false; message: string };

const MAX_INPUT = 32;

/** Split typed text into whole and fraction digits, or null when it is not a plain number. */
export function splitNumber(text: string, decimalSeparator = "."): { whole: string; fraction: string } | null {
  const raw = text.replace(/[\s\u00a0\u202f']/g, "");
  if (!raw || raw.length > MAX_INPUT || !/^[0-9.,]+$/.test(raw)) return null;
  const seps = raw.replace(/[0-9]/g, "");
  let whole = raw;
  let fraction = "";
  if (seps.length) {
    const last = raw.at(-1);
    if (last === "." || last === ",") return null;
    const lastSep = seps.at(-1) as string;
    const mixed = new Set(seps).size > 1;
    const lastIndex = raw.lastIndexOf(lastSep);
    const tail = raw.slice(lastIndex + 1);
    // Which separator marks decimals: the last one when both appear; a lone separator
    // is decimal when it is the locale's, or when it is not followed by exactly 3 digits.
    const isDecimal =
      mixed || (seps.length === 1 && (lastSep === decimalSeparator || tail.length !== 3));
    if (isDecimal) {
      whole = raw.slice(0, lastIndex);
      fraction = tail;
    }
    const groupSep = isDecimal ? (mixed ? seps[0] : null) : lastSep;
    if (groupSep) {
      if (!new RegExp(`^\\d{1,3}(\\${groupSep}\\d{3})+$`).test(whole)) return null;
      whole = whole.split(groupSep).join("");
    }
    if (!/^\d+$/.test(whole) || !/^\d*$/.test(fraction)) return null;
  }
  if (!/^\d+$/.test(whole)) return null;
  return { whole, fraction };
}

export function checkAmount(text: string, rules: AmountRules): AmountCheck {
  const currency = rules.currency.toUpperCase();
  const { exponent, step } = rules;
  // Never more typed places than the minor unit holds: 12.345 must not become 12345 cents.
  const places = Math.min(rules.decimals, exponent);
  const fmt = (minor: number) => formatMinor(minor, currency, rules.locale, { exponent, places });
  if (!text.trim()) return { ok: false, message: "Enter the amount you want to pay." };
  const parts = splitNumber(text, rules.decimalSeparator);
  if (!parts) {
    const example = places ? `12${rules.decimalSeparator === "," ? "," : "."}${"5".padEnd(places, "0")}` : "1250";
    return { ok: false, message: `Enter the amount as a plain number, like ${example}.` };
  }
  const fraction = parts.fraction.replace(/0+$/, "");
  if (fraction.length > places) {
    return {
      ok: false,
      message: places
        ? `${currency} amounts have at most ${places} decimal place${places === 1 ? "" : "s"}.`
        : `${currency} has no fractional part: enter a whole number.`,
    };
  }
  const whole = parts.whole.replace(/^0+(?=\d)/, "");
  if (whole.length > 12) return { ok: false, message: `The most you can pay here is ${fmt(rules.max)}.` };
  const minor = Number(whole + fraction.padEnd(exponent, "0"));
  if (step > 1 && minor % step) {
    return { ok: false, message: `${currency} amounts must be a multiple of ${fmt(step)}.` };
  }
  if (minor < rules.min) return { ok: false, message: `The least you can pay here is ${fmt(rules.min)}.` };
  if (minor > rules.max) return { ok: false, message: `The most you can pay here is ${fmt(rules.max)}.` };
  const major = fraction ? `${whole}.${fraction}` : whole;
  return { ok: true, minor, major };
}
