// Registered phones kept across a SIP gateway's restart (`sb_sip_registrations`): each address of
// record's bindings under `<gateway id>.<address of record, base64url>`, written at every change and
// read back when a gateway of the same id starts, so its phones are rung again at once instead of
// after their next REGISTER (up to an hour). A binding over TCP is not kept: its connection is gone
// with the process, and its phone registers again when it connects anew.
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";
import type { Logger } from "../log.js";
import { buckets } from "../protocol/subjects.js";
import { type Binding, MAX_BINDINGS, MAX_EXPIRES_S } from "../sip/registrations.js";
import { GLOBAL_SCOPE, storePlacement, withPlacementHint } from "./placement.js";
import { retrying } from "./retry.js";

const StoredBinding = z.object({
  contact: z.string().max(2048),
  source: z.object({
    protocol: z.literal("UDP"),
    address: z.string().max(64),
    port: z.number().int().min(1).max(65_535),
  }),
  expiresAt: z.number(),
  callId: z.string().max(1024),
  cseq: z.number().int().nonnegative(),
  password: z.string().max(64),
});
const StoredBindings = z.array(StoredBinding).max(MAX_BINDINGS);

/** A gateway id as a key token: what NATS keys allow, else the id's base64url. */
function token(gateway: string): string {
  return /^[A-Za-z0-9_-]+$/.test(gateway) ? gateway : Buffer.from(gateway).toString("base64url");
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

  /** This gateway's bindings, by address of record; one that does not read as a binding is skipped. */
  async load(): Promise<Map<string, Binding[]>> {
    const found = new Map<string, Binding[]>();
    const keys = await this.kv.keys(`${this.#prefix}>`);
    for await (const key of keys) {
      const entry = await this.kv.get(key);
      if (entry?.operation !== "PUT") continue;
      const aor = Buffer.from(key.slice(this.#prefix.length), "base64url").toString();
      const parsed = StoredBindings.safeParse(safeJson(entry.string()));
      if (parsed.success) found.set(aor, parsed.data);
      else this.log.warn({ key }, "a stored registration does not read as one: skipped");
    }
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
