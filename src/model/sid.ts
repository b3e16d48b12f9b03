// Twilio resource identifiers: a two-letter prefix and 32 lower-case hex digits.
import { createHash, createHmac, randomBytes } from "node:crypto";

export type SidPrefix = "CA" | "AC" | "PN" | "RE" | "QQ" | "NO" | "MZ" | "SM" | "CF" | "QU";

export function newSid(prefix: SidPrefix): string {
  return prefix + randomBytes(16).toString("hex");
}

/**
 * The same SID every time for the same parts: for a resource a resumed call names again (a
 * conference's Recording, announced before it is stored, keeps its RecordingSid across a resume).
 */
export function sidFrom(prefix: SidPrefix, ...parts: string[]): string {
  return prefix + createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 32);
}

/**
 * The same SID every time for the same key and parts, which no one derives without the key: for a
 * resource whose SID is a capability (a Recording's media is served without credentials unless the
 * account enforces them), named again by a resumed call.
 */
export function keyedSid(prefix: SidPrefix, key: string, ...parts: string[]): string {
  return prefix + createHmac("sha256", key).update(parts.join("\0")).digest("hex").slice(0, 32);
}

export function isSid(prefix: SidPrefix, value: string): boolean {
  return value.length === 34 && value.startsWith(prefix) && /^[0-9a-fA-F]{32}$/.test(value.slice(2));
}
