// Addresses seen lately, for a while and up to a bound: where callers authenticated from, so that a
// stranger filling the TCP connection budget for hosts outside --allow (connection-limits.ts) does
// not lock out the phones that authenticate.

/** How long an address stays; beyond it the phone authenticates again, as on its next call. */
const KEEP_MS = 60 * 60_000;
/** Addresses kept at most; the oldest go first. */
const MAX_ADDRESSES = 10_000;

export class RecentAddresses {
  /** When each was last added, oldest first. */
  readonly #at = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  add(address: string): void {
    this.#at.delete(address);
    this.#at.set(address, this.now());
    if (this.#at.size > MAX_ADDRESSES) this.#at.delete(this.#at.keys().next().value as string);
  }

  has(address: string): boolean {
    const at = this.#at.get(address);
    if (at === undefined) return false;
    if (this.now() - at <= KEEP_MS) return true;
    this.#at.delete(address);
    return false;
  }
}
