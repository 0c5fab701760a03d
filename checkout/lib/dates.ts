/** Date-times on the page: always with their time zone (UTC: the server and the browser agree on it). */

export function formatWhen(iso: string | null | undefined, locale: string): string | null {
  if (!iso) return null;
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return null;
  const options: Intl.DateTimeFormatOptions = {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: "UTC",
    timeZoneName: "short",
  };
  try {
    return new Intl.DateTimeFormat(locale, options).format(moment);
  } catch {
    return new Intl.DateTimeFormat("en", options).format(moment);
  }
}
