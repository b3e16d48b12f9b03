// HTTP Basic with AccountSid:AuthToken, compared in constant time; an account sees only its own.
import { timingSafeEqual } from "node:crypto";
import type { AccountRecord } from "../model/records.js";

export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  if (!header?.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function tokenMatches(account: AccountRecord | undefined, password: string): boolean {
  const expected = Buffer.from(account?.auth_token ?? "");
  const given = Buffer.from(password);
  // Compare equal-length buffers even on a miss, so timing says nothing about the token.
  const same = timingSafeEqual(given.length === expected.length ? given : expected, expected);
  return account !== undefined && given.length === expected.length && same;
}
