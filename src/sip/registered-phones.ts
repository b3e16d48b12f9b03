// A gateway's registered phones (with `--digest-users`): where they are (Registrations), kept across a
// restart (a BindingStore), whether they still answer (PhonePings), and where a leg to one of their
// users goes (registered-target.ts).
import type { Logger } from "../log.js";
import { DEFAULT_PINGS, PhonePings, type PingOptions } from "./phone-pings.js";
import { type RegisteredTarget, registeredTarget } from "./registered-target.js";
import { type Binding, type BindingStore, passwordMark, Registrations } from "./registrations.js";
import type { DigestCheck } from "./ua/digest-check.js";
import type { SipStack } from "./ua/stack.js";

export interface RegisteredPhonesOptions {
  digest: DigestCheck;
  /** Where they outlive a restart; without one, in memory only. */
  store?: BindingStore;
  /** How they are pinged (default DEFAULT_PINGS); false: never, every binding is rung until it expires. */
  pings?: PingOptions | false;
  /** The account each realm belongs to (lower case); a realm not named is any account's. */
  realmAccounts?: ReadonlyMap<string, string>;
  log: Logger;
}

export class RegisteredPhones {
  readonly registrations = new Registrations();
  #pings: PhonePings | undefined;

  private constructor(private readonly opts: RegisteredPhonesOptions) {}

  /**
   * The phones kept from before a restart, taken back before the gateway's socket is open (a
   * REGISTER taken now must not be undone by what was kept); every change stored from then on.
   */
  static async restore(opts: RegisteredPhonesOptions): Promise<RegisteredPhones> {
    const phones = new RegisteredPhones(opts);
    const { store } = opts;
    if (store) {
      await phones.#restore(store);
      phones.registrations.onChange = (aor, bindings) => void store.save(aor, bindings);
    }
    return phones;
  }

  /** Starts pinging them from the gateway's SIP stack (unless pings are off). */
  startPings(stack: SipStack, from: string, contact: string): void {
    if (this.opts.pings === false) return;
    const { log } = this.opts;
    this.#pings = new PhonePings(stack, this.registrations, {
      ...(this.opts.pings ?? DEFAULT_PINGS),
      from,
      contact,
      onChange: (what) =>
        log.info(what, what.reachable ? "SIP phone reachable again" : "SIP phone unreachable"),
      onFirstAnswer: (what) => log.debug(what, "SIP phone answers its pings"),
    });
    this.#pings.start();
  }

  /** Where a leg to `uri` goes when `accountSid`'s call dials it; undefined when it names no user of ours. */
  target(uri: string, accountSid: string | undefined): RegisteredTarget | undefined {
    return registeredTarget(
      this.registrations,
      this.opts.digest,
      uri,
      (b) => this.#pings?.reachable(b) ?? true,
      { accountSid, realmAccounts: this.opts.realmAccounts },
    );
  }

  /** Stops the pings and writes what is still to be stored. */
  async stop(): Promise<void> {
    this.#pings?.stop();
    await this.opts.store?.flush();
  }

  /**
   * Those of users still in the file with the same password. A store that cannot be read leaves
   * them to register again, and says so.
   */
  async #restore(store: BindingStore): Promise<void> {
    let kept: Map<string, Binding[]>;
    try {
      kept = await store.load();
    } catch (err) {
      this.opts.log.warn(
        { err },
        "cannot read the registered phones kept: they are rung once they register again",
      );
      return;
    }
    for (const [aor, bindings] of kept) {
      const at = aor.lastIndexOf("@");
      const ha1 = this.opts.digest.ha1Of(aor.slice(at + 1), aor.slice(0, at));
      const mark = ha1 === undefined ? undefined : passwordMark(ha1);
      this.registrations.restore(
        aor,
        bindings.filter((b) => b.password === mark),
      );
    }
  }
}
