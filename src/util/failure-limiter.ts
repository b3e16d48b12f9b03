// How many times a key (a client's address, an account) failed to authenticate lately, in memory:
// after `maxFailures` failures within `windowMs`, the key is blocked until its oldest failure leaves
// the window. The REST API's and the visualizer's logins (api/login-limiter.ts) and the SIP gateway's
// digest answers (sip/dialogs.ts) each keep one, so guessing a secret is slow.

export interface FailureLimiterOptions {
  /** Failures allowed within the window; the next request is refused. Default 10. */
  maxFailures?: number;
  /** The sliding window, in ms. Default one minute. */
  windowMs?: number;
  /** Keys tracked at most; beyond it the stalest are dropped, so memory stays bounded. Default 100 000. */
  maxKeys?: number;
  now?: () => number;
}

export class FailureLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** key -> times of its failures within the window, oldest first. Map order = least recently failed first. */
  readonly #failures = new Map<string, number[]>();

  constructor(opts: FailureLimiterOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 10;
    this.windowMs = opts.windowMs ?? 60_000;
    this.#maxKeys = opts.maxKeys ?? 100_000;
    this.#now = opts.now ?? Date.now;
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
