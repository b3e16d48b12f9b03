// Where registered phones are (RFC 3261 §10, the location service): each address of record
// (`alice@sip.example.com`, a digest user in its realm) bound to the Contacts its phones registered,
// each with when it expires and where its REGISTER came from (behind NAT, where it is reached).
// Held by the gateway that took the REGISTER, in memory, and told to its RegistrationStore (when it
// has one) at every change, so that they outlive a restart.
import { createHash } from "node:crypto";
import type { Remote } from "./ua/stack.js";
import { sameSipUri } from "./ua/uris.js";

/** Shorter registrations are refused with 423 and this Min-Expires (RFC 3261 §10.3 step 7). */
export const MIN_EXPIRES_S = 60;
/** Longer ones are cut to it; also the default when a REGISTER names none. */
export const MAX_EXPIRES_S = 3600;
/** Contacts per address of record (Twilio's limit for a registered user's endpoints); the oldest go first. */
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
  /**
   * A mark of the user's HA1 when it registered (passwordMark): a password changed since unbinds it
   * (the old one's holder). A hash of it, not HA1 itself, as bindings are stored (RegistrationStore).
   */
  readonly password: string;
  /** A TCP binding's connection, held open while it lasts (released when it goes). */
  readonly flow?: { release(): void };
}

/** Where bindings outlive the gateway's process (src/store/sip-registrations.ts). */
export interface BindingStore {
  /** The bindings kept, by address of record. */
  load(): Promise<Map<string, Binding[]>>;
  /** The address of record's bindings as they are now (none: forget it). */
  save(aor: string, bindings: readonly Binding[]): unknown;
  /** Resolves when what was saved is written. */
  flush(): Promise<void>;
}

/** A Contact to bind (expires > 0) or unbind (0), in seconds. */
export interface ContactChange {
  contact: string;
  expires: number;
}

/** What a binding keeps of the user's HA1: enough to tell a changed password, not to answer a challenge. */
export function passwordMark(ha1: string): string {
  return createHash("sha256").update(`switchboard binding:${ha1}`).digest("base64url").slice(0, 22);
}

export class Registrations {
  readonly #byAor = new Map<string, Binding[]>();
  /** Told of every address of record whose bindings changed, with what they are now (none: gone). */
  onChange: ((aor: string, bindings: readonly Binding[]) => void) | undefined;

  constructor(readonly now: () => number = Date.now) {}

  /** Bindings kept from before a restart (RegistrationStore): taken as they are, no change told. */
  restore(aor: string, bindings: readonly Binding[]): void {
    const live = bindings.filter((b) => b.expiresAt > this.now()).slice(0, MAX_BINDINGS);
    if (live.length > 0) this.#byAor.set(aor, live);
  }

  /** Every address of record with bindings (some may have expired since). */
  aors(): string[] {
    return [...this.#byAor.keys()];
  }

  /** The address of record's live bindings, the newest first (an expired one is let go). */
  bindings(aor: string): Binding[] {
    const all = this.#byAor.get(aor) ?? [];
    const live = all.filter((b) => b.expiresAt > this.now());
    if (live.length < all.length) this.#set(aor, live, all);
    return live;
  }

  /** Unbinds what `drop` picks (a password changed, a TCP connection closed). */
  drop(aor: string, drop: (b: Binding) => boolean): void {
    const all = this.#byAor.get(aor) ?? [];
    this.#set(
      aor,
      all.filter((b) => !drop(b)),
      all,
    );
  }

  /**
   * Applies a REGISTER's changes; a string says why it cannot (an out-of-order CSeq, too many
   * Contacts). All or nothing.
   */
  update(
    aor: string,
    changes: readonly ContactChange[],
    from: Pick<Binding, "source" | "callId" | "cseq" | "password" | "flow">,
  ): Binding[] | string {
    const now = this.now();
    const before = this.bindings(aor);
    const outOfOrder = this.#outOfOrder(before, from, changes);
    if (outOfOrder) return outOfOrder;
    let next = before;
    for (const { contact, expires } of changes) {
      next = next.filter((b) => !sameSipUri(b.contact, contact));
      if (expires > 0) next.unshift({ ...from, contact, expiresAt: now + expires * 1000 });
    }
    // Over the limit the oldest go (a phone whose Contact changes at every start must not lock its user out).
    this.#set(aor, next.slice(0, MAX_BINDINGS), before);
    return this.bindings(aor);
  }

  /** Every Contact of the address of record unbound (`Contact: *`), unless an older REGISTER asks it. */
  clear(aor: string, from: Pick<Binding, "callId" | "cseq">): string | undefined {
    const before = this.bindings(aor);
    const outOfOrder = this.#outOfOrder(before, from, before);
    if (outOfOrder) return outOfOrder;
    this.#set(aor, [], before);
    return undefined;
  }

  /** A REGISTER older than one already taken for the same Contact (same Call-ID, CSeq not after it). */
  #outOfOrder(
    bindings: readonly Binding[],
    from: Pick<Binding, "callId" | "cseq">,
    contacts: readonly { contact: string }[],
  ): string | undefined {
    for (const { contact } of contacts) {
      const old = bindings.find((b) => sameSipUri(b.contact, contact));
      if (old && old.callId === from.callId && old.cseq >= from.cseq)
        return `CSeq ${from.cseq} is not after ${old.cseq} for ${contact}`;
    }
    return undefined;
  }

  /** The address of record's bindings from now on; those of `before` not kept let their connection go. */
  #set(aor: string, next: Binding[], before: readonly Binding[]): void {
    for (const b of before) if (!next.includes(b)) b.flow?.release();
    if (next.length === 0) this.#byAor.delete(aor);
    else this.#byAor.set(aor, next);
    if (next.length !== before.length || next.some((b, i) => b !== before[i])) this.onChange?.(aor, next);
  }
}
