/** The Next server's calls to the Django public API. Server-side only. */

import { bareAddress } from "./client-address.mjs";
import { apiUrl, isSlug, isToken } from "./config";
import { type CustomerError, toCustomerError } from "./errors";
import type { CheckoutCreated, CheckoutStatus, PublicLink } from "./types";

export type Result<T> = { ok: true; data: T; status: number } | { ok: false; error: CustomerError };

const TIMEOUT_MS = 10_000;

/**
 * Headers passed on to Django so its rate limits see the customer, not this server: the
 * one address the customer's request came from, which server.mjs put in X-Forwarded-For
 * in place of whatever the client sent (see there). Django believes exactly this one hop
 * (PAYLINKS_TRUSTED_PROXIES=1). Should a list arrive anyway, only its right-most entry —
 * the one a server wrote — is passed on, never a client's.
 */
export function forwardedHeaders(incoming: Headers): Record<string, string> {
  const entries = (incoming.get("x-forwarded-for") ?? "").split(",");
  const address = bareAddress(entries[entries.length - 1]);
  return address ? { "X-Forwarded-For": address } : {};
}

async function call<T>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Result<T>> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl()}${path}`, {
      method: init.method ?? "GET",
      headers: {
        Accept: "application/json",
        ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...init.headers,
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      cache: "no-store",
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    console.error(`Paylinks API ${path.split("/").slice(0, 5).join("/")} unreachable:`, (error as Error).message);
    return { ok: false, error: toCustomerError(0, null) };
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.ok && body && typeof body === "object") {
    return { ok: true, data: body as T, status: response.status };
  }
  return { ok: false, error: toCustomerError(response.status, body) };
}

const notFound: Result<never> = {
  ok: false,
  error: { code: "not_found", message: "This payment link does not exist.", field: null, status: 404 },
};

export function getLink(slug: string, headers: Record<string, string> = {}): Promise<Result<PublicLink>> {
  if (!isSlug(slug)) return Promise.resolve(notFound);
  return call<PublicLink>(`/api/v1/public/links/${slug}`, { headers });
}

export function createCheckout(
  slug: string,
  body: { email?: string; amount?: string; quantity?: string },
  idempotencyKey: string,
  headers: Record<string, string> = {},
): Promise<Result<CheckoutCreated>> {
  if (!isSlug(slug)) return Promise.resolve(notFound);
  const key: Record<string, string> = /^[A-Za-z0-9_-]{16,100}$/.test(idempotencyKey)
    ? { "Idempotency-Key": idempotencyKey }
    : {};
  return call<CheckoutCreated>(`/api/v1/public/links/${slug}/checkout`, {
    method: "POST",
    body,
    headers: { ...headers, ...key },
  });
}

export function getCheckoutStatus(
  sessionId: string,
  headers: Record<string, string> = {},
): Promise<Result<CheckoutStatus>> {
  if (!isToken(sessionId)) {
    return Promise.resolve({
      ok: false,
      error: { code: "not_found", message: "This checkout does not exist.", field: null, status: 404 },
    });
  }
  return call<CheckoutStatus>(`/api/v1/public/checkout/${sessionId}`, { headers });
}

export type CancelResult = { payment_id: string; status: string; link: string };

/** Close a checkout the customer left. `token` comes from the cancel address Paylinks gave
 * the gateway: without it (or with someone else's) the API answers 404 and does nothing. */
export function cancelPayment(
  paymentId: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<Result<CancelResult>> {
  if (!isToken(paymentId) || paymentId.length > 32 || !isToken(token) || token.length > 100) {
    return Promise.resolve({
      ok: false,
      error: { code: "not_found", message: "This payment does not exist.", field: null, status: 404 },
    });
  }
  return call(`/api/v1/public/payments/${paymentId}/cancel`, { method: "POST", body: { token }, headers });
}

export function recordView(
  slug: string,
  visitor: string,
  headers: Record<string, string> = {},
): Promise<Result<{ recorded: boolean }>> {
  return call(`/api/v1/public/links/${slug}/views`, { method: "POST", body: { visitor }, headers });
}
