import { describe, expect, it } from "vitest";

import { formatWhen } from "@/lib/dates";

const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, " ");

describe("formatWhen", () => {
  it.each([
    ["2026-12-02T14:05:00Z", "en-US", "Dec 2, 2026, 02:05 PM UTC"],
    ["2026-12-02T23:30:00+01:00", "en-GB", "2 Dec 2026, 22:30 UTC"],
    ["2026-12-02T14:05:00Z", "not a locale!", "Dec 2, 2026, 02:05 PM UTC"],
  ])("%s in %s", (iso, locale, expected) => {
    expect(plain(formatWhen(iso, locale) ?? "")).toBe(expected);
  });

  it.each([null, undefined, "", "yesterday"])("%s is nothing to show", (value) => {
    expect(formatWhen(value, "en-US")).toBeNull();
  });
});
