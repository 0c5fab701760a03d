/**
 * The checkouts this browser started, kept in an httpOnly cookie: the success page shows
 * the payment id and the merchant's after-payment message only to the browser that paid.
 * Anyone else holding a success URL sees the amount and the status, nothing more.
 */

import type { CheckoutStatus } from "./types";

/** The part of a checkout's status anyone may see; the exponent is needed to show the amount. */
export type PublicStatus = Pick<CheckoutStatus, "status" | "processing" | "amount" | "currency" | "currency_exponent" | "currency_decimals">;

export function publicPart(status: CheckoutStatus): PublicStatus {
  const { status: state, processing, amount, currency, currency_exponent, currency_decimals } = status;
  return { status: state, processing, amount, currency, currency_exponent, currency_decimals };
}

export const CHECKOUTS_COOKIE = "paylinks_checkouts";
const MAX_KEPT = 10;
const ID = /^[A-Za-z0-9_-]{1,255}$/;

export function readCheckouts(value: string | undefined): string[] {
  if (!value) return [];
  return value.split(".").filter((id) => ID.test(id)).slice(0, MAX_KEPT);
}

export function addCheckout(value: string | undefined, sessionId: string): string {
  const kept = readCheckouts(value).filter((id) => id !== sessionId);
  return [sessionId, ...kept].slice(0, MAX_KEPT).join(".");
}
