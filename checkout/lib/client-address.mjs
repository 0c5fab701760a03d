// The customer's address, as the checkout page's own server (server.mjs) works it out.
// Plain JavaScript so server.mjs can load it before Next.js starts; its types are in
// client-address.d.mts.

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Whether `value` is an IPv4 or IPv6 address (no port, no brackets). */
export function isIpAddress(value) {
  if (typeof value !== "string" || value.length === 0 || value.length > 45) return false;
  if (IPV4.test(value)) return true;
  if (!value.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(value)) return false;
  try {
    return new URL(`http://[${value}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/**
 * One entry of an address list as an address: the port a proxy may have added
 * ("1.2.3.4:5678", "[2001:db8::1]:443") and the IPv4-mapped IPv6 prefix a dual-stack
 * socket reports ("::ffff:1.2.3.4") are dropped. Null for anything that is not an address.
 */
export function bareAddress(entry) {
  if (typeof entry !== "string") return null;
  let value = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(value);
  if (bracketed) value = bracketed[1];
  else if (/^[\d.]+:\d{1,5}$/.test(value)) value = value.slice(0, value.lastIndexOf(":"));
  if (/^::ffff:/i.test(value) && IPV4.test(value.slice(7))) value = value.slice(7);
  return isIpAddress(value) ? value.toLowerCase() : null;
}

/**
 * The address the customer's request came from.
 *
 * With `trustedProxies` = 0 (the default) that is the TCP peer, whatever X-Forwarded-For
 * says: a client can write anything there. With N reverse proxies of the operator's own
 * in front of the page, each appending the address it saw, the client is the N-th entry
 * from the right of [...X-Forwarded-For, peer]; entries further left are the client's to
 * invent and never count. An entry that is not an address counts as the peer.
 */
export function clientAddress(peer, forwardedFor, trustedProxies = 0) {
  const socket = bareAddress(peer ?? "") ?? String(peer ?? "");
  if (!trustedProxies || !forwardedFor) return socket;
  const chain = [...String(forwardedFor).split(","), socket];
  const entry = chain[Math.max(0, chain.length - 1 - trustedProxies)];
  return bareAddress(entry) ?? socket;
}

/** How many proxies to believe, from CHECKOUT_TRUSTED_PROXIES ("" or unset: none). */
export function trustedProxyCount(value) {
  const text = String(value ?? "").trim();
  if (text === "") return 0;
  if (!/^\d{1,2}$/.test(text)) {
    throw new Error(`CHECKOUT_TRUSTED_PROXIES must be a whole number of proxies, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}
