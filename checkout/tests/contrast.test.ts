import { describe, expect, it } from "vitest";

import { accentColor, brandColor, contrastRatio, DEFAULT_BRAND, luminance, normalizeHex, textOn } from "@/lib/contrast";

describe("contrast", () => {
  it("computes WCAG luminance and ratios", () => {
    expect(luminance("#000000")).toBe(0);
    expect(luminance("#ffffff")).toBe(1);
    expect(contrastRatio("#000", "#fff")).toBeCloseTo(21, 5);
    expect(contrastRatio("#767676", "#ffffff")).toBeCloseTo(4.54, 2);
  });

  it.each([
    ["#F5C518", "#000000"], // yellow: dark text
    ["#4F46E5", "#ffffff"], // indigo: light text
    ["#0B3D2E", "#ffffff"],
    ["#ffffff", "#000000"],
    ["#000000", "#ffffff"],
    ["#777777", "#000000"],
  ])("text on %s is %s", (background, expected) => {
    expect(textOn(background)).toBe(expected);
  });

  it("always keeps AA contrast (4.5:1) for the chosen text", () => {
    for (let n = 0; n < 4096; n += 7) {
      const hex = `#${n.toString(16).padStart(3, "0")}`;
      expect(contrastRatio(hex, textOn(hex))).toBeGreaterThanOrEqual(4.5);
    }
  });

  it("accepts only hex colours", () => {
    expect(normalizeHex("#ABC")).toBe("#aabbcc");
    expect(normalizeHex("abcdef")).toBe("#abcdef");
    expect(normalizeHex("red")).toBeNull();
    expect(normalizeHex("#abcd}")).toBeNull();
    expect(brandColor("};body{display:none")).toBe(DEFAULT_BRAND);
    expect(brandColor(null)).toBe(DEFAULT_BRAND);
  });

  it.each([
    ["#0B3D2E", "#0b3d2e"], // dark green: white reads on it
    ["#4F46E5", "#4f46e5"],
    ["#F5C518", DEFAULT_BRAND], // yellow: white is 1.6:1, the default instead
    ["#777777", DEFAULT_BRAND], // 4.48:1, just under AA
    ["#767676", "#767676"], // 4.54:1, just over
    ["not a colour", DEFAULT_BRAND],
  ])("accent for %s is %s", (value, expected) => {
    expect(accentColor(value)).toBe(expected);
    expect(contrastRatio(accentColor(value), "#ffffff")).toBeGreaterThanOrEqual(4.5);
  });
});
