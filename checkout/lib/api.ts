/** The Next server's calls to the Django public API. Server-side only. */

import { apiUrl, isSlug, isToken } from "./config";
import { type CustomerError, toCustomerError } from "./errors";
import type { CheckoutCreated, CheckoutStatus, PublicLink } from "./types";

export type Result<T> = { ok: true; data: T; status: number } | { ok: false; error: CustomerError };

const TIMEOUT_MS = 10_000;

/**
 * Headers passed on to Django so its rate limits see the customer, not this server: the
 * X-Forwarded-For chain Next received (Next adds the socket address when there is none).
 * Django takes the right-most PAYLINKS_TRUSTED_PROXIES entries as trusted.
 */
export function forwardedHeaders(incoming: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  const xff = incoming.get("x-forwarded-for");
  if (xff && xff.length <= 1024 && /^[0-9A-Fa-f:.,\s\[\]]+$/.test(xff)) out["X-Forwarded-For"] = xff;
  return out;
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
  body: { email?: string; amount?: string },
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

export function cancelPayment(
  paymentId: string,
  headers: Record<string, string> = {},
): Promise<Result<{ payment_id: string; status: string; link: string }>> {
  if (!isToken(paymentId) || paymentId.length > 32) {
    return Promise.resolve({
      ok: false,
      error: { code: "not_found", message: "This payment does not exist.", field: null, status: 404 },
    });
  }
  return call(`/api/v1/public/payments/${paymentId}/cancel`, { method: "POST", headers });
}

export function recordView(
  slug: string,
  visitor: string,
  headers: Record<string, string> = {},
): Promise<Result<{ recorded: boolean }>> {
  return call(`/api/v1/public/links/${slug}/views`, { method: "POST", body: { visitor }, headers });
}
