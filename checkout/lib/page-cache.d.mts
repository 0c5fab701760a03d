export const LINK_PAGE: RegExp;
export const VISITOR_COOKIE: string;
export const FORM_COOKIE: string;
export type HeaderPair = [string, string];
export interface Entry {
  status: number;
  headers: HeaderPair[];
  body: string;
  nonce: string;
  key: string | null;
  active: boolean;
  expires: number;
}
export function cacheSeconds(value: string | null | undefined): number;
export function visitorOf(cookieHeader: string | null | undefined): string | null;
export function cacheKey(method: string | undefined, url: string | undefined, headers: Record<string, string | string[] | undefined>): string | null;
export function slugOfKey(key: string): string;
export function entryFrom(status: number, headers: HeaderPair[], body: string, now: number, ttlMs: number): Entry | null;
export function personalise(entry: Entry, nonce: string, key: string): { status: number; headers: HeaderPair[]; body: string };
export class PageCache {
  constructor(ttlMs: number, maxEntries?: number);
  ttlMs: number;
  maxEntries: number;
  entries: Map<string, Entry>;
  renders: Map<string, Promise<unknown>>;
  get(key: string, now: number): Entry | null;
  set(key: string, entry: Entry): void;
}
