/** What the customer is told when the API (or the network) says no. Pure: used on both sides. */

export type Field = "amount" | "email" | "quantity" | null;

export interface CustomerError {
  code: string;
  message: string;
  /** The form field the message belongs to, if any. */
  field: Field;
  /** The HTTP status the API answered (0 when it could not be reached). */
  status: number;
}

const GENERIC: Record<string, string> = {
  not_found: "This payment link does not exist.",
  expired: "This payment link has expired.",
  inactive: "This payment link is not active.",
  sold_out: "This payment link is sold out.",
  places_held: "All places are being paid for right now. Nothing was charged; try again in a few minutes.",
  too_many_checkouts: "You already have checkouts open for this link. Finish or cancel one, or try again later.",
  invalid_amount: "Check the amount.",
  invalid_quantity: "Check the quantity.",
  quantity_unavailable: "Fewer are left than you asked for: choose a smaller quantity.",
  invalid_email: "Enter a valid e-mail address.",
  rate_limited: "Too many attempts from your connection. Please wait a minute and try again.",
  gateway_unavailable: "The payment provider could not start the checkout. Please try again.",
  unavailable: "Payments are not available right now. Please try again in a moment.",
  link_closing: "This payment link closes too soon to start a payment. Please ask the merchant for a new link.",
  idempotency_conflict: "This checkout was already started. Reload the page to start a new one.",
};

const FIELDS: Record<string, Field> = {
  invalid_amount: "amount",
  invalid_email: "email",
  invalid_quantity: "quantity",
  quantity_unavailable: "quantity",
};

/** Codes whose server message is written for customers and worth showing as is. */
const SHOW_SERVER_MESSAGE = new Set([
  "invalid_amount",
  "invalid_quantity",
  "quantity_unavailable",
  "invalid_email",
  "inactive",
  "sold_out",
  "places_held",
  "too_many_checkouts",
  "gateway_unavailable",
  "link_closing",
  "expired",
]);

/**
 * Turn an API response (status + parsed JSON body, or null when the body was not JSON)
 * into a message for the customer. Unknown codes and non-JSON answers (a proxy's HTML
 * error page, a 500) become a generic "not available" message, never raw text.
 */
export function toCustomerError(status: number, body: unknown): CustomerError {
  const error =
    body && typeof body === "object" && "error" in body && body.error && typeof body.error === "object"
      ? (body.error as { code?: unknown; message?: unknown })
      : null;
  let code = typeof error?.code === "string" ? error.code : "";
  const serverMessage = typeof error?.message === "string" ? error.message.slice(0, 500) : "";
  if (status === 429) code = "rate_limited";
  if (!code || (!GENERIC[code] && !["invalid_request", "invalid_json", "payload_too_large"].includes(code))) {
    code = status === 404 ? "not_found" : "unavailable";
  }
  if (["invalid_request", "invalid_json", "payload_too_large"].includes(code)) {
    return { code, message: "Something in the form was not accepted. Check it and try again.", field: null, status };
  }
  const message = SHOW_SERVER_MESSAGE.has(code) && serverMessage ? serverMessage : (GENERIC[code] as string);
  return { code, message, field: FIELDS[code] ?? null, status };
}

/** The link states that close the page, and the HTTP status their page answers with. */
export const CLOSED_STATUS: Record<string, number> = {
  not_found: 404,
  expired: 410,
  inactive: 410,
  sold_out: 409,
  places_held: 409,
};

/** "3 minutes": when a held place comes back, from the API's retry_after (seconds). */
export function minutesText(seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** What the page says while every place of a link is held by an unpaid checkout. */
export function placesHeldText(retryAfter: number | null | undefined): string {
  if (typeof retryAfter !== "number" || !Number.isFinite(retryAfter) || retryAfter <= 0) {
    return "Every place left is being paid for right now. Nothing was charged. A place comes back if a payment does not go through: try again later.";
  }
  return `Every place left is being paid for right now. Nothing was charged. Try again in ${minutesText(retryAfter)}, when unfinished checkouts give their places back.`;
}
