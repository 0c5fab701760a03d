/** Where a customer may be sent after paying. Used on the server and in the browser. */

/**
 * The merchant's after-payment address, if it is one a customer may be sent to: http(s),
 * no user-info ("https://shop.example@evil.example/" opens evil.example), no backslashes
 * or control characters. Django refuses such addresses when a link is saved; this keeps
 * a link saved before that rule from sending anyone there.
 */
export function safeRedirectUrl(url: string): string | null {
  if (/[\\\u0000-\u001f\u007f]/.test(url)) return null;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
    return parsed.username || parsed.password ? null : parsed.href;
  } catch {
    return null;
  }
}
