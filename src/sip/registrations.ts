// Where registered phones are (RFC 3261 §10, the location service): each address of record
// (`alice@sip.example.com`, a digest user in its realm) bound to the Contacts its phones registered,
// each with when it expires and where its REGISTER came from (behind NAT, where it is reached).
// Held by the gateway that took the REGISTER, in memory: a phone registers again within its expiry.
import type { Remote } from "./ua/stack.js";

/** Shorter registrations are refused with 423 and this Min-Expires (RFC 3261 §10.3 step 7). */
export const MIN_EXPIRES_S = 60;
/** Longer ones are cut to it; also the default when a REGISTER names none. */
export const MAX_EXPIRES_S = 3600;
/** Contacts per address of record (Twilio's limit for a registered user's endpoints). */
export const MAX_BINDINGS = 10;

export interface Binding {
  /** The Contact URI the phone registered. */
  readonly contact: string;
  /** Where its REGISTER came from. */
  readonly source: Remote;
  readonly expiresAt: number;
  /** The REGISTER's Call-ID and CSeq: an older one arriving late must not undo a newer (§10.3 step 7). */
  readonly callId: string;
  readonly cseq: number;
}

/** A Contact to bind (expires > 0) or unbind (0), in seconds. */
export interface ContactChange {
  contact: string;
  expires: number;
}

export class Registrations {
  readonly #byAor = new Map<string, Binding[]>();

  constructor(readonly now: () => number = Date.now) {}

  /** The address of record's live bindings, the newest first. */
  bindings(aor: string): Binding[] {
    const live = (this.#byAor.get(aor) ?? []).filter((b) => b.expiresAt > this.now());
    if (live.length === 0) this.#byAor.delete(aor);
    else this.#byAor.set(aor, live);
    return live;
  }

  /**
   * Applies a REGISTER's changes; a string says why it cannot (an out-of-order CSeq, too many
   * Contacts). All or nothing.
   */
  update(
    aor: string,
    changes: readonly ContactChange[],
    from: { source: Remote; callId: string; cseq: number },
  ): Binding[] | string {
    const now = this.now();
    let next = this.bindings(aor);
    for (const { contact, expires } of changes) {
      const old = next.find((b) => b.contact === contact);
      if (old && old.callId === from.callId && old.cseq >= from.cseq)
        return `CSeq ${from.cseq} is not after ${old.cseq} for ${contact}`;
      next = next.filter((b) => b.contact !== contact);
      if (expires > 0) next.unshift({ contact, expiresAt: now + expires * 1000, ...from });
    }
    if (next.length > MAX_BINDINGS) return `at most ${MAX_BINDINGS} Contacts may be registered for ${aor}`;
    if (next.length === 0) this.#byAor.delete(aor);
    else this.#byAor.set(aor, next);
    return next;
  }

  /** Every Contact of the address of record unbound (`Contact: *`). */
  clear(aor: string): void {
    this.#byAor.delete(aor);
  }
}
