// Dates in list filters (StartTime, DateCreated and their > / < forms), as Twilio takes them:
// `YYYY-MM-DD` means midnight UTC of that day; anything Date.parse reads (ISO 8601, RFC 2822)
// is the instant it names.
import { fail } from "../../errors/switchboard-error.js";

export const DAY_MS = 86_400_000;

export function instantOf(value: string, name: string): number {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ms = day ? Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])) : Date.parse(value);
  // Date.UTC and Date.parse roll a day past the month's end into the next (2026-02-31 is March 3).
  if (Number.isNaN(ms) || !isCalendarDay(value)) {
    throw fail("invalidParameter", `${name} is not a date: ${value}`);
  }
  return ms;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Whether the day the value names (ISO `YYYY-MM-DD…` or RFC 2822 `D Mon YYYY`) exists. */
function isCalendarDay(value: string): boolean {
  const iso = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  const rfc = /(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4})/.exec(value);
  const [y, m, d] = iso
    ? [Number(iso[1]), Number(iso[2]) - 1, Number(iso[3])]
    : rfc
      ? [Number(rfc[3]), MONTHS.indexOf(rfc[2] ?? ""), Number(rfc[1])]
      : [undefined, undefined, undefined];
  if (y === undefined || m === undefined || d === undefined) return true;
  const date = new Date(Date.UTC(y, m, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m && date.getUTCDate() === d;
}

/** The instant of an optional filter value. */
export function optionalInstant(value: string | undefined, name: string): number | undefined {
  return value === undefined ? undefined : instantOf(value, name);
}

/**
 * Twilio's date filter `name`, `name>` and `name<` on a list (`DateCreated=2026-12-07` that day,
 * `DateCreated>=` on or after, `DateCreated<=` before): a test of an instant, or undefined when the
 * query sets none of them.
 */
export function dateFilter(q: object, name: string): ((ms: number) => boolean) | undefined {
  const query = q as Record<string, unknown>;
  const text = (key: string) => (typeof query[key] === "string" ? (query[key] as string) : undefined);
  const onDay = optionalInstant(text(name), name);
  const after = optionalInstant(text(`${name}>`), `${name}>`);
  const before = optionalInstant(text(`${name}<`), `${name}<`);
  if (onDay === undefined && after === undefined && before === undefined) return undefined;
  return (ms) =>
    (onDay === undefined || (ms >= onDay && ms < onDay + DAY_MS)) &&
    (after === undefined || ms >= after) &&
    (before === undefined || ms < before);
}
