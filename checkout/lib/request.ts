/** What proxy.ts hands to the pages, and how the pages read it. */

import type { PublicLink } from "./types";

export const NONCE_HEADER = "x-nonce";
export const LINK_HEADER = "x-paylinks-link";
/** LINK_HEADER's value when the API said the link does not exist. */
export const LINK_MISSING = "404";
export const FORM_HEADER = "x-paylinks-form";
export const VISITOR_HEADER = "x-paylinks-visitor";
export const VISITOR_COOKIE = "paylinks_visitor";
/** A short-lived cookie carrying a no-JS form's error back to the page after a 303. */
export const FORM_COOKIE = "paylinks_form";

export function newVisitorId(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function isVisitorId(value: string | undefined): value is string {
  return typeof value === "string" && /^[0-9a-f]{48}$/.test(value);
}

export function readLinkHeader(value: string | null): PublicLink | null {
  if (!value) return null;
  try {
    const link = JSON.parse(decodeURIComponent(value)) as PublicLink;
    return link && typeof link === "object" && typeof link.slug === "string" ? link : null;
  } catch {
    return null;
  }
}

export interface FormFlash {
  slug: string;
  email: string;
  amount: string;
  /** The quantity the customer posted (links with a quantity). */
  quantity?: string;
  field: "amount" | "email" | "quantity" | null;
  message: string;
}

export function encodeFlash(flash: FormFlash): string {
  return encodeURIComponent(JSON.stringify(flash)).slice(0, 2048);
}

export function readFlash(value: string | null | undefined, slug: string): FormFlash | null {
  if (!value) return null;
  try {
    const flash = JSON.parse(decodeURIComponent(value)) as Partial<FormFlash>;
    if (flash.slug !== slug) return null;
    return {
      slug,
      email: String(flash.email ?? "").slice(0, 254),
      amount: String(flash.amount ?? "").slice(0, 32),
      quantity: String(flash.quantity ?? "").slice(0, 6),
      field: flash.field === "amount" || flash.field === "email" || flash.field === "quantity" ? flash.field : null,
      message: String(flash.message ?? "").slice(0, 500),
    };
  } catch {
    return null;
  }
}

/**
 * A short-lived cookie carrying the outcome of the cancel form's POST back to the cancel
 * page after its 303: "<payment id>.<outcome>", shown only for that same payment.
 */
export const CANCEL_COOKIE = "paylinks_cancel";
export const CANCEL_OUTCOMES = ["canceled", "paid", "unknown", "error"] as const;
export type CancelOutcome = (typeof CANCEL_OUTCOMES)[number];

export function encodeCancelOutcome(paymentId: string, outcome: CancelOutcome): string {
  return `${paymentId}.${outcome}`;
}

export function readCancelOutcome(value: string | undefined, paymentId: string): CancelOutcome | null {
  if (!value || !paymentId) return null;
  const dot = value.lastIndexOf(".");
  const outcome = value.slice(dot + 1) as CancelOutcome;
  return value.slice(0, dot) === paymentId && CANCEL_OUTCOMES.includes(outcome) ? outcome : null;
}
