/**
 * POST /pay/<slug>/cancel/confirm: the cancel page's buttons. Closes the checkout the
 * customer left (with the token from the cancel address: the API does nothing without
 * it), then 303s back to the cancel page, which says what happened — or, for "Cancel it
 * and try again", to the link's page. Only a POST from this site's own page cancels.
 */

import { type NextRequest, NextResponse } from "next/server";

import { cancelPayment, forwardedHeaders } from "@/lib/api";
import { isSlug } from "@/lib/config";
import { sameOrigin } from "@/lib/origin";
import { CANCEL_COOKIE, type CancelOutcome, encodeCancelOutcome } from "@/lib/request";

const MAX_BODY = 4 * 1024;
const PAID = ["succeeded", "partially_refunded", "refunded"];

type Params = { params: Promise<{ slug: string }> };

export async function POST(request: NextRequest, { params }: Params): Promise<NextResponse> {
  const { slug } = await params;
  if (!isSlug(slug)) return plain(404, "This payment link does not exist.");
  if (!sameOrigin(request)) return plain(403, "Cancel the payment from its page.");
  if (Number(request.headers.get("content-length") ?? 0) > MAX_BODY) return plain(413, "The form was too large.");
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return plain(400, "The form could not be read. Please try again.");
  }
  const paymentId = text(form.get("payment"), 64);
  const token = text(form.get("token"), 128);
  const retry = form.get("then") === "retry";

  const result = await cancelPayment(paymentId, token, forwardedHeaders(request.headers));
  let outcome: CancelOutcome;
  if (!result.ok) outcome = result.error.code === "not_found" ? "unknown" : "error";
  else if (PAID.includes(result.data.status)) outcome = "paid";
  else outcome = result.data.status === "pending" ? "unknown" : "canceled";

  const page = `/pay/${slug}`;
  if (retry && outcome === "canceled") return seeOther(page);
  const query = new URLSearchParams({ payment: paymentId, token });
  const response = seeOther(`${page}/cancel?${query}`);
  response.cookies.set(CANCEL_COOKIE, encodeCancelOutcome(paymentId, outcome), {
    httpOnly: true,
    sameSite: "lax",
    secure: request.nextUrl.protocol === "https:",
    path: "/pay",
    maxAge: 60,
  });
  return response;
}

export async function GET(_request: NextRequest, { params }: Params): Promise<NextResponse> {
  // Someone opened the form's address: opening an address never cancels anything.
  const { slug } = await params;
  return seeOther(isSlug(slug) ? `/pay/${slug}` : "/");
}

function text(value: FormDataEntryValue | null, limit: number): string {
  return typeof value === "string" ? value.slice(0, limit) : "";
}

function seeOther(location: string): NextResponse {
  return new NextResponse(null, { status: 303, headers: { Location: location, "Cache-Control": "no-store" } });
}

function plain(status: number, message: string): NextResponse {
  return new NextResponse(message, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
  });
}
