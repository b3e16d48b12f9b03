// The webhook client: the undici pools (one per origin) and dispatcher every outgoing request of a
// process part goes through, and the egress policy they obey. Whoever makes one closes it.
import { Agent, Pool } from "undici";
import { assertEgressAllowed, EgressPolicy } from "./egress.js";
import { requestWebhook, type WebhookRequest, type WebhookResponse } from "./request.js";

const MAX_POOLS = 256;
// Without a bound a Pool opens a socket per concurrent request and keeps each alive: a worker filling
// with 100,000 calls held one socket (≈ 3 KB of heap, a file descriptor) per call. Past the bound,
// requests wait in the Pool's queue, inside each request's total timeout.
const MAX_CONNECTIONS_PER_ORIGIN = 128;

export class WebhookClient {
  #egress: EgressPolicy;
  // Keyed by origin and connect timeout (undici sets the connect timeout per Pool); least recently
  // used first, so the oldest is evicted (and closed, letting its requests finish) past the cap.
  readonly #pools = new Map<string, Pool>();
  #agent: Agent | undefined;
  #closed = false;

  constructor(options: { egress?: EgressPolicy } = {}) {
    this.#egress = options.egress ?? EgressPolicy.allowAll();
  }

  get egress(): EgressPolicy {
    return this.#egress;
  }

  /** Changes the policy; connections made under the old one are closed, not reused. */
  set egress(policy: EgressPolicy) {
    this.#egress = policy;
    void this.#closeConnections();
  }

  /** Requests a webhook as Twilio does (request.ts); failures are SwitchboardErrors with Twilio's codes. */
  request(req: WebhookRequest): Promise<WebhookResponse> {
    return requestWebhook(this, req);
  }

  /** Throws 11200 unless the policy allows the URL's host (names are checked when they resolve). */
  assertAllowed(u: URL): void {
    assertEgressAllowed(this.#egress, u);
  }

  /** An undici dispatcher that connects only where the policy allows, for media and WebSockets. */
  dispatcher(): Agent {
    this.#assertOpen();
    this.#agent ??= new Agent({ connect: { lookup: this.#egress.lookup } });
    return this.#agent;
  }

  /** The pool for an origin (used by request.ts). */
  pool(origin: string, connectTimeoutMs: number): Pool {
    this.#assertOpen();
    const key = `${origin} ${connectTimeoutMs}`;
    let pool = this.#pools.get(key);
    if (pool) this.#pools.delete(key);
    else {
      const connect = { timeout: connectTimeoutMs, lookup: this.#egress.lookup };
      pool = new Pool(origin, { pipelining: 1, connections: MAX_CONNECTIONS_PER_ORIGIN, connect });
    }
    this.#pools.set(key, pool);
    for (const [oldKey, old] of this.#pools) {
      if (this.#pools.size <= MAX_POOLS) break;
      this.#pools.delete(oldKey);
      old.close().catch(() => {});
    }
    return pool;
  }

  /** Closes every connection; requests in flight finish first. The client takes no more requests. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#closeConnections();
  }

  async #closeConnections(): Promise<void> {
    const all: { close(): Promise<void> }[] = [...this.#pools.values()];
    if (this.#agent) all.push(this.#agent);
    this.#pools.clear();
    this.#agent = undefined;
    await Promise.allSettled(all.map((d) => d.close()));
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("the WebhookClient is closed");
  }
}
