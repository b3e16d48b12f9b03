// HTTP Basic with AccountSid:AuthToken, compared in constant time; an account sees only its own.
import { timingSafeEqual } from "node:crypto";
import type { AccountRecord } from "../model/records.js";
import { isSid } from "../model/sid.js";

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
  return account !== undefined && expected.length > 0 && given.length === expected.length && same;
}

/**
 * The account these credentials authenticate, or undefined. The user must be an account's own
 * sid: `sb_accounts` also holds non-account keys (`_default`), whose values have no token.
 */
export function authenticate(
  header: string | undefined,
  lookup: (sid: string) => AccountRecord | undefined,
): AccountRecord | undefined {
  const creds = basicCredentials(header);
  return creds && accountFor(creds.user, creds.password, lookup);
}

/** The active account whose sid is `user` and whose token is `password`, or undefined. */
export function accountFor(
  user: string,
  password: string,
  lookup: (sid: string) => AccountRecord | undefined,
): AccountRecord | undefined {
  if (!isSid("AC", user)) return undefined;
  const account = lookup(user);
  const matches = tokenMatches(account, password);
  return matches && account?.sid === user && account.status === "active" ? account : undefined;
}

/**
 * The AccountSid a request's credentials claim, whether or not they are right; undefined when the
 * user is not shaped like one (so the login limiter tracks no arbitrary strings).
 */
export function claimedAccountSid(header: string | undefined): string | undefined {
  const user = basicCredentials(header)?.user;
  return user !== undefined && isSid("AC", user) ? user : undefined;
}
