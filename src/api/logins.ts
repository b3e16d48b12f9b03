// Logins for the parts served beside the REST API (the visualizer): an account's AccountSid and
// auth token, checked as the REST API checks them and counted by the same failed-login limiter, or
// the operator's token (`--operator-token`), which sees every account's calls.
import { createHash, timingSafeEqual } from "node:crypto";
import type { AccountRecord } from "../model/records.js";
import { isSid } from "../model/sid.js";
import { accountFor, basicCredentials } from "./auth.js";
import { LoginLimiter } from "./login-limiter.js";

/** The user name an operator logs in with. */
export const OPERATOR_USER = "operator";

/** Who is looking: one account (sees its own calls), or the operator (`accountSid` null, sees all). */
export interface Viewer {
  user: string;
  accountSid: string | null;
}

export type LoginOutcome =
  | {
      ok: true;
      viewer: Viewer;
      /** Whether the credentials still hold: the account is active and its token unchanged. */
      current: () => boolean;
    }
  | { ok: false; retryAfter: number };

export class Logins {
  readonly #operator: Buffer | undefined;

  constructor(
    private readonly accounts: (sid: string) => AccountRecord | undefined,
    private readonly limiter: LoginLimiter,
    operatorToken?: string,
  ) {
    this.#operator = operatorToken ? digest(operatorToken) : undefined;
  }

  /**
   * Checks a login from `ip`. A blocked client or user is refused before the credentials are
   * looked at (`retryAfter` > 0); a wrong one counts as a failed login (`retryAfter` 0).
   */
  login(ip: string, user: string, password: string): LoginOutcome {
    const keys = LoginLimiter.keys(ip, limiterUser(user));
    const wait = this.limiter.retryAfter(keys);
    if (wait > 0) return { ok: false, retryAfter: wait };
    const viewer = this.#check(user, password);
    if (!viewer) {
      this.limiter.fail(keys);
      return { ok: false, retryAfter: 0 };
    }
    // The account's record is in memory anyway (the watched copy): re-checking is a Map read.
    const current = () => viewer.accountSid === null || this.#check(viewer.user, password) !== undefined;
    return { ok: true, viewer, current };
  }

  /** The same, with the credentials of an `Authorization: Basic` header; undefined without one. */
  loginBasic(ip: string, header: string | undefined): LoginOutcome | undefined {
    const creds = basicCredentials(header);
    return creds && this.login(ip, creds.user, creds.password);
  }

  #check(user: string, password: string): Viewer | undefined {
    if (user === OPERATOR_USER) {
      // Both sides hashed: equal lengths, so the comparison's time says nothing about the token.
      const ok = this.#operator !== undefined && timingSafeEqual(digest(password), this.#operator);
      return ok ? { user, accountSid: null } : undefined;
    }
    const account = accountFor(user, password, this.accounts);
    return account && { user: account.sid, accountSid: account.sid };
  }
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** The limiter's per-user key: an AccountSid, or the operator (anything else is tracked by IP only). */
function limiterUser(user: string): string | undefined {
  if (user === OPERATOR_USER) return OPERATOR_USER;
  return isSid("AC", user) ? user : undefined;
}
