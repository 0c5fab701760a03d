export function isIpAddress(value: unknown): boolean;
export function bareAddress(entry: unknown): string | null;
export function clientAddress(
  peer: string | null | undefined,
  forwardedFor: string | null | undefined,
  trustedProxies?: number,
): string;
export function trustedProxyCount(value: string | null | undefined): number;
