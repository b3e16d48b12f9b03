// The Media Streams of one SIP call on its gateway, by the region's command id: opened by `stream`,
// waited on by `stream-ended`, fed the call's audio and keys, all stopped when the call ends.
import { fail } from "../../errors/switchboard-error.js";
import type { SipCommand, StreamEndedReply } from "../../protocol/sip-commands.js";
import type { WebhookClient } from "../../webhook/client.js";
import { StreamFork } from "./stream-fork.js";
import type { PlayoutSink } from "./stream-playout.js";

export class CallForks {
  readonly #forks = new Map<string, StreamFork>();
  #closed = false;

  constructor(
    private readonly web: WebhookClient,
    private readonly sink: PlayoutSink,
  ) {}

  /** Opens the stream; resolves once its socket is open (and `start` is sent). */
  async open(cmd: Extract<SipCommand, { op: "stream" }>): Promise<Record<string, never>> {
    const { op: _op, id, ...o } = cmd;
    if (this.#forks.has(id)) throw fail("invalidPayload", `stream ${id} is open already`);
    const fork = await StreamFork.open({ ...o, web: this.web, sink: this.sink });
    this.#forks.set(id, fork);
    // The call ended (or the region stopped it) while the socket opened.
    if (this.#closed) fork.stop();
    return {};
  }

  /** Resolves when the stream has ended; forgets it then (the region asks once). */
  async ended(id: string): Promise<StreamEndedReply> {
    const fork = this.#forks.get(id);
    if (!fork) return { by: "engine" };
    try {
      return await fork.ended;
    } finally {
      this.#forks.delete(id);
    }
  }

  stop(id: string): void {
    this.#forks.get(id)?.stop();
  }

  get size(): number {
    return this.#forks.size;
  }

  inbound(pcm: Int16Array): void {
    for (const fork of this.#forks.values()) fork.inbound(pcm);
  }

  outbound(pcm: Int16Array): void {
    for (const fork of this.#forks.values()) fork.outbound(pcm);
  }

  key(digit: string): void {
    for (const fork of this.#forks.values()) fork.key(digit);
  }

  /** The call is over: every stream sends `stop` and closes. */
  closeAll(): void {
    this.#closed = true;
    for (const fork of this.#forks.values()) fork.stop();
  }
}
