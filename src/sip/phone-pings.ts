// Whether each registered phone is still there, as Asterisk's qualify and Kamailio's NAT pings ask:
// every `intervalMs` an OPTIONS goes to each binding, where its REGISTER came from (which also keeps
// a NAT's mapping open between registrations). A phone that answered a ping and then has not
// answered one within `timeoutMs` is unreachable: a call to its user does not ring it, and is 480
// at once when none of the user's phones is reachable, until it answers a later ping or registers
// again (a new binding). A phone that went away without unregistering so stops costing its user's
// callers a Dial's whole timeout. One that never answers OPTIONS at all (some devices ignore them)
// is rung as if there were no pings: only a phone that answered before can be found gone.
import { randomBytes } from "node:crypto";
import type { Binding, Registrations } from "./registrations.js";
import { hopOf } from "./ua/dialog.js";
import type { SipMessage, SipStack } from "./ua/stack.js";

export interface PingOptions {
  intervalMs: number;
  timeoutMs: number;
}

/** Every 30 s (under most NATs' UDP timeout), each answered within 5 s (a UDP OPTIONS is sent 4 times by then). */
export const DEFAULT_PINGS: PingOptions = { intervalMs: 30_000, timeoutMs: 5_000 };

export interface PhonePingsOptions extends PingOptions {
  /** Our From (without its tag) and Contact. */
  from: string;
  contact: string;
  /** A phone became unreachable, or reachable again (for the log). */
  onChange?: (what: { aor: string; contact: string; reachable: boolean }) => void;
  /** A binding's phone answered its first ping (it may now be found gone). */
  onFirstAnswer?: (what: { aor: string; contact: string }) => void;
}

export class PhonePings {
  readonly #unreachable = new WeakSet<Binding>();
  /** Bindings whose phone has answered a ping: only these can be found unreachable. */
  readonly #answered = new WeakSet<Binding>();
  readonly #inFlight = new WeakSet<Binding>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stack: SipStack,
    private readonly registrations: Registrations,
    private readonly opts: PhonePingsOptions,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.#round(), this.opts.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Whether the binding's phone may be rung: not found gone (it answered its last ping, or never answered one). */
  reachable(binding: Binding): boolean {
    return !this.#unreachable.has(binding);
  }

  #round(): void {
    for (const aor of this.registrations.aors())
      for (const binding of this.registrations.bindings(aor)) this.#ping(aor, binding);
  }

  #ping(aor: string, binding: Binding): void {
    if (this.#inFlight.has(binding)) return;
    this.#inFlight.add(binding);
    let settled = false;
    const settle = (reachable: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.#inFlight.delete(binding);
      this.#mark(aor, binding, reachable);
    };
    const timer = setTimeout(() => settle(false), this.opts.timeoutMs);
    timer.unref();
    this.stack.request(this.#options(aor, binding), hopOf(binding.source), (rs) => {
      const status = rs.status ?? 0;
      if (status >= 200) settle(!madeHere(rs));
    });
  }

  #options(aor: string, binding: Binding): SipMessage {
    return {
      method: "OPTIONS",
      uri: binding.contact,
      headers: {
        to: { uri: `sip:${aor}`, params: {} },
        from: { uri: this.opts.from, params: { tag: randomBytes(6).toString("hex") } },
        "call-id": randomBytes(12).toString("hex"),
        cseq: { method: "OPTIONS", seq: 1 },
        via: [],
        contact: [{ uri: this.opts.contact, params: {} }],
        "max-forwards": 70,
      },
    };
  }

  #mark(aor: string, binding: Binding, reachable: boolean): void {
    // Replaced by a REGISTER, unbound or expired while the ping was out: nothing to say of it.
    if (!this.registrations.bindings(aor).includes(binding)) return;
    if (reachable && !this.#answered.has(binding)) {
      this.#answered.add(binding);
      this.opts.onFirstAnswer?.({ aor, contact: binding.contact });
    }
    if (!this.#answered.has(binding) || reachable === this.reachable(binding)) return;
    if (reachable) this.#unreachable.delete(binding);
    else this.#unreachable.add(binding);
    this.opts.onChange?.({ aor, contact: binding.contact, reachable });
  }
}

/**
 * A response our own stack made (the transaction's 408 on a timeout, 503 when the hop cannot be
 * reached): it carries no To tag, which any phone's final response has (RFC 3261 §8.2.6.2).
 */
function madeHere(rs: SipMessage): boolean {
  return (rs.status === 408 || rs.status === 503) && rs.headers.to?.params?.tag === undefined;
}
