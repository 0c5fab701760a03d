/** Where the Django public API lives, seen from the Next server (never from the browser). */
export const DEFAULT_API_URL = "http://127.0.0.1:8000";

export function apiUrl(): string {
  return (process.env.PAYLINKS_API_URL || DEFAULT_API_URL).replace(/\/+$/, "");
}

/** Slugs are URL-safe tokens of at most 64 characters; anything else is not a link. */
export const SLUG_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function isSlug(value: string): boolean {
  return SLUG_RE.test(value);
}

/** Session and payment ids are short opaque tokens; anything else is not ours. */
export const TOKEN_RE = /^[A-Za-z0-9_-]{1,255}$/;

export function isToken(value: string | null | undefined): value is string {
  return typeof value === "string" && TOKEN_RE.test(value);
}

/** Origins besides this one that may serve merchant logos (PAYLINKS_MEDIA_ORIGINS). */
export function mediaOrigins(): string[] {
  return (process.env.PAYLINKS_MEDIA_ORIGINS || "")
    .split(/[\s,]+/)
    .map((item) => {
      try {
        const url = new URL(item);
        return url.protocol === "https:" || url.protocol === "http:" ? url.origin : "";
      } catch {
        return "";
      }
    })
    .filter(Boolean);
}
