/**
 * POST /pay/<slug>/checkout: the "Pay" form's target. Without JavaScript the browser posts
 * the form here and is sent on with a 303 to the hosted checkout (or back to the page with
 * its error); the enhanced form posts the same data asking for JSON.
 */

import { type NextRequest, NextResponse } from "next/server";

import { createCheckout, forwardedHeaders } from "@/lib/api";
import { addCheckout, CHECKOUTS_COOKIE } from "@/lib/checkouts";
import { isSlug } from "@/lib/config";
import type { CustomerError } from "@/lib/errors";
import { sameOrigin } from "@/lib/origin";
import { encodeFlash, FORM_COOKIE } from "@/lib/request";

const MAX_BODY = 16 * 1024;

type Params = { params: Promise<{ slug: string }> };

export async function POST(request: NextRequest, { params }: Params): Promise<NextResponse> {
  const { slug } = await params;
  const wantsJson = (request.headers.get("accept") ?? "").includes("application/json");
  // Relative: behind `next start` request.url names the server's own host (localhost),
  // which need not be the host the customer used.
  const page = `/pay/${encodeURIComponent(slug)}`;
  const fail = (error: CustomerError, fields: { email?: string; amount?: string; quantity?: string } = {}) =>
    wantsJson ? jsonError(error) : backToPage(page, slug, error, fields);

  if (!isSlug(slug)) {
    return fail({ code: "not_found", message: "This payment link does not exist.", field: null, status: 404 });
  }
  if (!sameOrigin(request)) {
    return fail({ code: "forbidden", message: "Start the payment from the payment page.", field: null, status: 403 });
  }
  if (Number(request.headers.get("content-length") ?? 0) > MAX_BODY) {
    return fail({ code: "payload_too_large", message: "The form was too large.", field: null, status: 413 });
  }
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return fail({ code: "invalid_request", message: "The form could not be read. Please try again.", field: null, status: 400 });
  }
  const email = text(form.get("email"), 254).trim();
  const amount = text(form.get("amount"), 32).trim();
  const quantity = text(form.get("quantity"), 6).trim();
  const key = text(form.get("idempotency_key"), 100);
  const body: { email?: string; amount?: string; quantity?: string } = {};
  if (email) body.email = email;
  if (form.has("amount")) body.amount = amount;
  // Passed on as typed: the API checks it against the link and computes the total.
  if (form.has("quantity")) body.quantity = quantity;

  const result = await createCheckout(slug, body, key, forwardedHeaders(request.headers));
  if (!result.ok) return fail(result.error, { email, amount, quantity });

  const target = result.data.checkout_url;
  if (!/^https?:\/\//.test(target)) {
    return fail({ code: "unavailable", message: "Payments are not available right now.", field: null, status: 502 });
  }
  const response = wantsJson
    ? NextResponse.json({ checkout_url: target, session_id: result.data.session_id }, { status: result.status })
    : NextResponse.redirect(target, 303);
  response.cookies.set(CHECKOUTS_COOKIE, addCheckout(request.cookies.get(CHECKOUTS_COOKIE)?.value, result.data.session_id), {
    httpOnly: true,
    sameSite: "lax",
    secure: request.nextUrl.protocol === "https:",
    path: "/pay",
    maxAge: 60 * 60 * 24,
  });
  response.headers.set("Cache-Control", "no-store");
  return response;
}

function text(value: FormDataEntryValue | null, limit: number): string {
  return typeof value === "string" ? value.slice(0, limit) : "";
}

function jsonError(error: CustomerError): NextResponse {
  const status = error.status >= 400 && error.status < 600 ? error.status : 503;
  return NextResponse.json(
    { error: { code: error.code, message: error.message, field: error.field } },
    { status, headers: { "Cache-Control": "no-store" } },
  );
}

function backToPage(
  page: string,
  slug: string,
  error: CustomerError,
  fields: { email?: string; amount?: string; quantity?: string },
): NextResponse {
  const response = new NextResponse(null, { status: 303, headers: { Location: page } });
  response.cookies.set(
    FORM_COOKIE,
    encodeFlash({
      slug,
      email: fields.email ?? "",
      amount: fields.amount ?? "",
      quantity: fields.quantity ?? "",
      field: error.field,
      message: error.message,
    }),
    { httpOnly: true, sameSite: "lax", path: "/pay", maxAge: 60 },
  );
  response.headers.set("Cache-Control", "no-store");
  return response;
}

export async function GET(_request: NextRequest, { params }: Params): Promise<NextResponse> {
  // Someone opened the form's address: send them to the page itself.
  const { slug } = await params;
  return new NextResponse(null, { status: 303, headers: { Location: `/pay/${encodeURIComponent(slug)}` } });
}
