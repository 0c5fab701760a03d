import { describe, expect, it } from "vitest";

import { CLOSED_STATUS, minutesText, placesHeldText, toCustomerError } from "@/lib/errors";

const body = (code: string, message: string) => ({ error: { code, message } });

describe("toCustomerError", () => {
  it("keeps the server's message for amount errors, on the amount field", () => {
    const error = toCustomerError(400, body("invalid_amount", "Choose an amount between 5.00 EUR and 500.00 EUR."));
    expect(error).toEqual({
      code: "invalid_amount",
      message: "Choose an amount between 5.00 EUR and 500.00 EUR.",
      field: "amount",
      status: 400,
    });
  });

  it("puts e-mail errors on the e-mail field", () => {
    expect(toCustomerError(400, body("invalid_email", "Enter a valid e-mail address.")).field).toBe("email");
  });

  it("shows the merchant's inactive message", () => {
    const error = toCustomerError(410, body("inactive", "Registration is closed."));
    expect([error.code, error.message, error.field]).toEqual(["inactive", "Registration is closed.", null]);
  });

  it("explains rate limits whatever the body says", () => {
    expect(toCustomerError(429, null).code).toBe("rate_limited");
    expect(toCustomerError(429, body("throttled", "Request was throttled.")).message).toMatch(/wait a minute/);
  });

  it("never passes through unknown or technical messages", () => {
    expect(toCustomerError(500, "<html>Traceback…</html>")).toMatchObject({ code: "unavailable", field: null });
    expect(toCustomerError(0, null).code).toBe("unavailable");
    expect(toCustomerError(418, body("teapot", "SELECT * FROM …")).message).not.toMatch(/SELECT/);
    expect(toCustomerError(400, body("invalid_request", "Unknown field(s): x.")).message).toMatch(/not accepted/);
    expect(toCustomerError(404, { detail: "x" }).code).toBe("not_found");
  });

  it("maps gateway trouble to a retryable message", () => {
    const error = toCustomerError(503, body("gateway_unavailable", "The payment provider could not start the checkout. Please try again."));
    expect(error.code).toBe("gateway_unavailable");
    expect(error.message).toMatch(/try again/);
  });

  it("says a link that closes too soon needs a new link, not a retry", () => {
    const error = toCustomerError(409, body("link_closing", "This payment link closes in a few minutes, too soon to start a payment. Please ask the merchant for a new link."));
    expect(error.code).toBe("link_closing");
    expect(error.message).toMatch(/new link/);
    expect(error.message).not.toMatch(/try again/);
    expect(toCustomerError(409, body("link_closing", "")).message).toMatch(/new link/);
  });

  it("answers closed links with their HTTP statuses", () => {
    expect(CLOSED_STATUS).toEqual({ not_found: 404, expired: 410, inactive: 410, sold_out: 409, places_held: 409 });
  });

  it("says when a held place comes back instead of 'sold out'", () => {
    const message = "All places are being paid for right now. Nothing was charged; try again in 24 minutes, when unfinished checkouts give their places back.";
    const error = toCustomerError(409, { error: { code: "places_held", message, retry_after: 1440 } });
    expect(error).toEqual({ code: "places_held", message, field: null, status: 409 });
    expect(toCustomerError(409, body("places_held", "")).message).toMatch(/being paid for/);
    expect(toCustomerError(409, body("places_held", "")).message).not.toMatch(/sold out/);
  });

  it("tells a client holding its share of places to finish one first", () => {
    const error = toCustomerError(409, body("too_many_checkouts", "You already have 2 checkouts open for this link. Finish or cancel one, or try again in 30 minutes."));
    expect(error.code).toBe("too_many_checkouts");
    expect(error.message).toMatch(/30 minutes/);
  });
});

describe("placesHeldText", () => {
  it("rounds the wait up to whole minutes", () => {
    expect(minutesText(1)).toBe("1 minute");
    expect(minutesText(60)).toBe("1 minute");
    expect(minutesText(61)).toBe("2 minutes");
    expect(minutesText(24 * 60)).toBe("24 minutes");
    expect(placesHeldText(1440)).toMatch(/Try again in 24 minutes/);
  });

  it("gives no time when none is known", () => {
    for (const unknown of [null, undefined, 0, -5, Number.NaN]) {
      const text = placesHeldText(unknown);
      expect(text).toMatch(/try again later/);
      expect(text).not.toMatch(/minute/);
    }
  });
});
