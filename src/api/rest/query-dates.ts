// Dates in list filters (StartTime, DateCreated and their > / < forms), as Twilio takes them:
// `YYYY-MM-DD` means midnight UTC of that day; anything Date.parse reads (ISO 8601, RFC 2822)
// is the instant it names.
import { fail } from "../../errors/switchboard-error.js";

export const DAY_MS = 86_400_000;

export function instantOf(value: string, name: string): number {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ms = day ? Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])) : Date.parse(value);
  if (Number.isNaN(ms)) throw fail("invalidParameter", `${name} is not a date: ${value}`);
  return ms;
}

/** The instant of an optional filter value. */
export function optionalInstant(value: string | undefined, name: string): number | undefined {
  return value === undefined ? undefined : instantOf(value, name);
}
