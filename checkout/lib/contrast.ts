/** Brand colours and WCAG contrast: text on the merchant's colour stays readable (AA). */

export const DEFAULT_BRAND = "#4f46e5";

/** "#abc" or "#aabbcc" -> "#aabbcc"; anything else -> null. */
export function normalizeHex(value: string | null | undefined): string | null {
  if (typeof value !== "string") return null;
  const match = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value.trim());
  if (!match || !match[1]) return null;
  const hex = match[1].toLowerCase();
  return `#${hex.length === 3 ? [...hex].map((c) => c + c).join("") : hex}`;
}

export function brandColor(value: string | null | undefined): string {
  return normalizeHex(value) ?? DEFAULT_BRAND;
}

function channel(value: number): number {
  const c = value / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** WCAG 2 relative luminance of a hex colour, 0 (black) to 1 (white). */
export function luminance(hex: string): number {
  const normal = normalizeHex(hex);
  if (!normal) throw new Error(`not a colour: ${hex}`);
  const n = Number.parseInt(normal.slice(1), 16);
  return 0.2126 * channel((n >> 16) & 255) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255);
}

export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** Black or white, whichever reads better on `background` (always >= 4.5:1 for one of them). */
export function textOn(background: string): "#000000" | "#ffffff" {
  const bg = brandColor(background);
  return contrastRatio(bg, "#000000") >= contrastRatio(bg, "#ffffff") ? "#000000" : "#ffffff";
}

/**
 * The colour the page paints under white text (the Pay button, the header): the merchant's
 * brand colour when white reads on it at WCAG AA (4.5:1), else Paylinks' default.
 */
export function accentColor(value: string | null | undefined): string {
  const brand = brandColor(value);
  return contrastRatio(brand, "#ffffff") >= 4.5 ? brand : DEFAULT_BRAND;
}
