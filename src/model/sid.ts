// Twilio resource identifiers: a two-letter prefix and 32 lower-case hex digits.
import { randomBytes } from "node:crypto";

export type SidPrefix = "CA" | "AC" | "PN" | "RE" | "QQ" | "NO" | "MZ" | "SM" | "CF" | "QU";

export function newSid(prefix: SidPrefix): string {
  return prefix + randomBytes(16).toString("hex");
}

export function isSid(prefix: SidPrefix, value: string): boolean {
  return value.length === 34 && value.startsWith(prefix) && /^[0-9a-fA-F]{32}$/.test(value.slice(2));
}
