// Failed-login rate limit, in memory per api process: after `maxFailures` failed Basic-auth attempts
// within `windowMs` from one client IP, or naming one AccountSid, every request from that IP or for
// that AccountSid is refused (429, 20429) until the oldest failure leaves the window. Guessing a
// token is then slow whichever way an attacker spreads the attempts (docs/security.md).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { claimedAccountSid } from "./auth.js";
import { sendTwilioError } from "./twilio-error.js";

export interface LoginLimiterOptions {
  /** Failures allowed within the window; the next request is refused. Default 10. */
  maxFailures?: number;
  /** The sliding window, in ms. Default one minute. */
  windowMs?: number;
  /** Keys tracked at most; beyond it the stalest are dropped, so memory stays bounded. Default 100 000. */
  maxKeys?: number;
  now?: () => number;
}

export class LoginLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** key -> times of its failures within the window, oldest first. Map order = least recently failed first. */
  readonly #failures = new Map<string, number[]>();

  constructor(opts: LoginLimiterOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 10;
    this.windowMs = opts.windowMs ?? 60_000;
    this.#maxKeys = opts.maxKeys ?? 100_000;
    this.#now = opts.now ?? Date.now;
  }

  /** The limiter's keys for a request: its client IP and, when it names one, the AccountSid. */
  static keys(ip: string, accountSid: string | undefined): string[] {
    return accountSid === undefined ? [`ip:${ip}`] : [`ip:${ip}`, `sid:${accountSid}`];
  }

  /** Seconds until a blocked request may be retried, or 0 when none of its keys is blocked. */
  retryAfter(keys: readonly string[]): number {
    const now = this.#now();
    let waitMs = 0;
    for (const key of keys) {
      const times = this.#recent(key, now);
      if (times.length >= this.maxFailures) {
        const oldest = times[times.length - this.maxFailures] ?? now;
        waitMs = Math.max(waitMs, oldest + this.windowMs - now);
      }
    }
    return waitMs > 0 ? Math.ceil(waitMs / 1000) : 0;
  }

  /** Records one failed login against each key. */
  fail(keys: readonly string[]): void {
    const now = this.#now();
    for (const key of keys) {
      const times = this.#recent(key, now);
      times.push(now);
      // Keep only what can still block: the newest maxFailures.
      if (times.length > this.maxFailures) times.splice(0, times.length - this.maxFailures);
      this.#failures.delete(key);
      this.#failures.set(key, times);
    }
    while (this.#failures.size > this.#maxKeys) {
      const stalest = this.#failures.keys().next().value;
      if (stalest === undefined) break;
      this.#failures.delete(stalest);
    }
  }

  /** Keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.#failures.size;
  }

  #recent(key: string, now: number): number[] {
    const times = this.#failures.get(key);
    if (!times) return [];
    const from = times.findIndex((t) => t > now - this.windowMs);
    if (from < 0) {
      this.#failures.delete(key);
      return [];
    }
    if (from > 0) times.splice(0, from);
    return times;
  }
}

/**
 * Puts the limiter in front of an authenticated scope: registered before the auth hook, it refuses
 * blocked requests before their credentials are checked, and counts every 401 the scope sends.
 */
export function limitFailedLogins(app: FastifyInstance, limiter: LoginLimiter): void {
  const keysOf = (req: FastifyRequest) =>
    LoginLimiter.keys(req.ip, claimedAccountSid(req.headers.authorization));
  app.addHook("onRequest", async (req, reply) => {
    const wait = limiter.retryAfter(keysOf(req));
    if (wait === 0) return;
    reply.header("Retry-After", String(wait));
    return sendTwilioError(reply, "tooManyRequests", `Too many failed logins; retry in ${wait} s`);
  });
  // onSend, not onResponse: the failure is counted before the client can see the 401 and retry.
  app.addHook("onSend", async (req, reply) => {
    if (reply.statusCode === 401) limiter.fail(keysOf(req));
  });
}
