/** The link's product image as the pay page shows it (paylinks/api/public.py image_url). */

import { originOf } from "./csp";

export interface ProductImage {
  src: string;
  width: number;
  height: number;
}

/** Longest side the page reserves for the image, in CSS pixels (it scales down with the column). */
export const IMAGE_BOX = 480;

/**
 * Where the page loads the image from, with the size it reserves (so nothing moves when it
 * arrives), or null for no image. Django's ``/media/...`` addresses are loaded from this
 * page's own origin (proxy.ts rewrites ``/media/*`` to Django), so they work whichever
 * address Django calls itself by; any other address only from an origin the CSP lets
 * images come from (``allowed``).
 */
export function productImage(
  url: string | null | undefined,
  width: number | null | undefined,
  height: number | null | undefined,
  allowed: string[] = [],
): ProductImage | null {
  if (!url || !width || !height || width <= 0 || height <= 0) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
  let src: string;
  if (parsed.pathname.startsWith("/media/link-images/") && !parsed.search) src = parsed.pathname;
  else if (allowed.includes(originOf(url) ?? "")) src = parsed.href;
  else return null;
  const scale = Math.min(1, IMAGE_BOX / Math.max(width, height));
  return { src, width: Math.round(width * scale), height: Math.round(height * scale) };
}

/** The image's text alternative: what it shows is the item the customer pays for. */
export function imageAlt(title: string): string {
  return `Product image: ${title}`;
}
