import { describe, expect, it } from "vitest";

import { parseQuantity } from "../components/QuantityInput";
import { itemLabel } from "../components/StatusView";
import { toCustomerError } from "../lib/errors";
import { readFlash, encodeFlash } from "../lib/request";

describe("parseQuantity", () => {
  it("takes whole numbers within the range", () => {
    expect(parseQuantity("2", 1, 5)).toBe(2);
    expect(parseQuantity(" 5 ", 1, 5)).toBe(5);
    expect(parseQuantity("1", 1, 5)).toBe(1);
  });
  it("refuses anything else", () => {
    for (const text of ["", "0", "6", "2.5", "-1", "1e2", "two", "9999999"]) {
      expect(parseQuantity(text, 1, 5)).toBeNull();
    }
  });
});

describe("itemLabel", () => {
  it("names the quantity when more than one was bought", () => {
    expect(itemLabel("Moby-Dick", 2)).toBe("2 × Moby-Dick");
    expect(itemLabel("Moby-Dick", 1)).toBe("Moby-Dick");
    expect(itemLabel("Moby-Dick", undefined)).toBe("Moby-Dick");
  });
});

describe("quantity errors", () => {
  it("belong to the quantity field, in the server's words", () => {
    const error = toCustomerError(400, { error: { code: "invalid_quantity", message: "Choose a quantity from 1 to 5." } });
    expect(error).toMatchObject({ field: "quantity", message: "Choose a quantity from 1 to 5." });
    const left = toCustomerError(409, { error: { code: "quantity_unavailable", message: "Only 2 left right now: choose at most 2." } });
    expect(left).toMatchObject({ field: "quantity", message: "Only 2 left right now: choose at most 2." });
  });
  it("come back to the page without JavaScript with the quantity typed", () => {
    const cookie = encodeFlash({ slug: "abc", email: "a@b.test", amount: "", quantity: "7", field: "quantity", message: "No." });
    expect(readFlash(cookie, "abc")).toMatchObject({ quantity: "7", field: "quantity" });
  });
});
