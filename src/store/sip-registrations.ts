// Registered phones kept across a SIP gateway's restart (`sb_sip_registrations`): each address of
// record's bindings under `<gateway id>.<address of record, base64url>`, written at every change and
// read back when a gateway of the same id starts, so its phones are rung again at once instead of
// after their next REGISTER (up to an hour). A binding over TCP is not kept: its connection is gone
// with the process, and its phone registers again when it connects anew.
import { isIP } from "node:net";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";
import type { Logger } from "../log.js";
import { buckets } from "../protocol/subjects.js";
import { type Binding, MAX_BINDINGS, MAX_EXPIRES_S } from "../sip/registrations.js";
import { parseUri } from "../sip/ua/stack.js";
import { GLOBAL_SCOPE, storePlacement, withPlacementHint } from "./placement.js";
import { retrying } from "./retry.js";

/** A URI as a phone's Contact is one: a SIP URI with a host, nothing that could break a request line. */
const contactUri = z
  .string()
  .max(2048)
  .refine((uri) => !/[\s\p{Cc}]/u.test(uri) && parseUri(uri)?.host !== undefined, "not a SIP URI");

// Anyone who may write the bucket (the `sip` NATS user) could plant a value: only what a REGISTER
// could have bound is taken back, with no expiry beyond the longest registration.
const StoredBinding = z.object({
  contact: contactUri,
  source: z.object({
    protocol: z.literal("UDP"),
    address: z.string().refine((a) => isIP(a) !== 0, "not an IP address"),
    port: z.number().int().min(1).max(65_535),
  }),
  expiresAt: z
    .number()
    .refine((at) => at <= Date.now() + MAX_EXPIRES_S * 1000, "beyond the longest registration"),
  callId: z.string().max(1024),
  cseq: z.number().int().nonnegative(),
  password: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
});
const StoredBindings = z.array(StoredBinding).max(MAX_BINDINGS);
/** An address of record as the registrar makes them: user@realm. */
const AOR = /^[^@\s\p{Cc}]+@[^@\s\p{Cc}]+$/u;

/** A gateway id as a key token: as it is when NATS keys allow it, else `=` and its base64url (never a plain id). */
function token(gateway: string): string {
  return /^[A-Za-z0-9_-]+$/.test(gateway) ? gateway : `=${Buffer.from(gateway).toString("base64url")}`;
}

export class RegistrationStore {
  readonly #prefix: string;
  readonly #pending = new Set<Promise<void>>();

  private constructor(
    readonly kv: KV,
    gateway: string,
    private readonly log: Logger,
  ) {
    this.#prefix = `${token(gateway)}.`;
  }

  /**
   * Opens the bucket (creating it on the `region:global` servers if need be). Nothing in it lives
   * longer than the longest registration: a key not written for that long is gone.
   */
  static async open(nc: NatsConnection, gateway: string, log: Logger): Promise<RegistrationStore> {
    const kvm = new Kvm(nc);
    const placed = storePlacement(nc, GLOBAL_SCOPE);
    const kv = await retrying(`open bucket ${buckets.sipRegistrations}`, () =>
      withPlacementHint(placed, () =>
        kvm.create(buckets.sipRegistrations, { history: 1, ttl: MAX_EXPIRES_S * 1000, ...placed }),
      ),
    );
    return new RegistrationStore(kv, gateway, log);
  }

  /**
   * This gateway's bindings, by address of record. A key that cannot be read, or does not read as
   * bindings a REGISTER could have made, is skipped (and said so); a bucket that cannot be listed
   * throws, and the gateway then starts with none.
   */
  async load(): Promise<Map<string, Binding[]>> {
    const found = new Map<string, Binding[]>();
    const keys: string[] = [];
    for await (const key of await this.kv.keys(`${this.#prefix}>`)) keys.push(key);
    // All at once: the gateway opens its socket only when they are read, one round trip for all.
    await Promise.all(
      keys.map(async (key) => {
        const aor = Buffer.from(key.slice(this.#prefix.length), "base64url").toString();
        try {
          const entry = await this.kv.get(key);
          if (entry?.operation !== "PUT") return;
          const parsed = StoredBindings.safeParse(safeJson(entry.string()));
          if (parsed.success && AOR.test(aor)) found.set(aor, parsed.data);
          else this.log.warn({ key }, "a stored registration does not read as one: skipped");
        } catch (err) {
          this.log.warn({ err, key }, "could not read a stored registration: skipped");
        }
      }),
    );
    return found;
  }

  /**
   * Writes the address of record's bindings as they are now (none: its key goes). Writes from one
   * connection reach the bucket in order, so the last change is what stays; a failed one is logged
   * and the next change writes the whole again. Resolves once written (or failed).
   */
  save(aor: string, bindings: readonly Binding[]): Promise<void> {
    const key = `${this.#prefix}${Buffer.from(aor).toString("base64url")}`;
    const kept = bindings
      .filter((b) => b.flow === undefined && b.source.protocol === "UDP")
      .map(({ contact, source, expiresAt, callId, cseq, password }) => ({
        contact,
        source: { protocol: "UDP", address: source.address, port: source.port },
        expiresAt,
        callId,
        cseq,
        password,
      }));
    const write = (kept.length > 0 ? this.kv.put(key, JSON.stringify(kept)) : this.kv.delete(key)).then(
      () => {},
      (err: unknown) => this.log.warn({ err, aor }, "could not store a registration"),
    );
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
    return write;
  }

  /** Resolves when every write asked so far is done: a gateway stopping keeps its last changes. */
  async flush(): Promise<void> {
    await Promise.all(this.#pending);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
