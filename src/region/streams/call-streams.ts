// The Media Streams of one live call: the port behind VerbContext.streams. A `<Start>` stream outlives
// the verb that began it, so the streams live here, per call, and the call host closes them when the
// call ends (each then gets its `stop` message and its stream-stopped callback).
import type { CallClock } from "../../clock/call-clock.js";
import { ErrorCodes } from "../../errors/codes.js";
import { toSwitchboardError } from "../../errors/switchboard-error.js";
import { newSid } from "../../model/sid.js";
import type { MediaStreams } from "../../twiml/ports/media-streams.js";
import type { CallIdentity, VerbCallbackRequest, VerbContext } from "../../twiml/verb-context.js";
import type { StreamNoun } from "../../twiml/verb-data.js";
import type { WebhookClient } from "../../webhook/client.js";
import { MediaStream } from "./media-stream.js";
import type { OpenStream, StoredStream, StreamOpener, StreamReattacher } from "./open-stream.js";

/** What a stream reports through: the context of the verb that began it, and error notifications. */
export interface StreamHooks {
  readonly call: CallIdentity;
  callback(request: VerbCallbackRequest): Promise<void>;
  warn(code: number, message: string): void;
  error(code: number, message: string): void;
  /** The streams' WebSockets go through its dispatcher, under its egress policy. */
  readonly web: WebhookClient;
}

type StreamEvent = "stream-started" | "stream-stopped" | "stream-error";

interface Running {
  readonly stream: OpenStream;
  readonly streamSid: string;
  readonly noun: StreamNoun;
  readonly hooks: StreamHooks;
  /** `<Start>` streams only: `<Stop>` does not end a `<Connect>`. */
  readonly background: boolean;
  /** Left open for the worker the call moved to: its end is that worker's to report. */
  detached?: boolean;
}

export class CallStreams {
  readonly #clock: CallClock;
  // Made on a call's first stream: most calls never open one, and parked calls are many (issue #9).
  #running: Set<Running> | undefined;
  #closed = false;

  readonly #opener: StreamOpener;
  readonly #reattach: StreamReattacher | undefined;
  /** `<Start>` streams a resumed call had open on its gateway, taken back when its first port is made. */
  #restored: StoredStream[] | undefined;
  /** `<Connect>` streams a resumed call had open on its gateway, taken back when its verb runs again. */
  #restoredConnect: StoredStream[] | undefined;
  /** Called when the streams to store with the call change. */
  onChange: (() => void) | undefined;

  /**
   * `opener`: where the call's audio is (its SIP gateway); the region's own silent stream by default.
   * `reattach`: takes back a stream the gateway holds (a resumed call's).
   */
  constructor(
    clock: CallClock,
    opener: StreamOpener = (o) => MediaStream.open(o),
    reattach?: StreamReattacher,
  ) {
    this.#clock = clock;
    this.#opener = opener;
    this.#reattach = reattach;
  }

  /** The streams its gateway holds, to store with the call (`sb.streams`). */
  stored(): StoredStream[] | undefined {
    if (!this.#running?.size) return undefined; // most calls: asked at every snapshot, no stream
    const held = [...this.#running].filter((r) => r.stream.id !== undefined);
    return held.length
      ? held.map((r) => ({
          id: r.stream.id as string,
          streamSid: r.streamSid,
          noun: r.noun,
          ...(!r.background && { connect: true as const }),
        }))
      : undefined;
  }

  /**
   * A resumed call's stored streams: a `<Start>` one is taken back (waited on, stoppable by `<Stop>`)
   * with its first port, a `<Connect>` one when its verb runs again.
   */
  restore(streams: StoredStream[]): void {
    if (!this.#reattach) return;
    const started = streams.filter((s) => !s.connect);
    const connected = streams.filter((s) => s.connect);
    if (started.length) this.#restored = started;
    if (connected.length) this.#restoredConnect = connected;
  }

  /** Whether streams of a resumed call wait to be taken back (VerbContext makes the port then). */
  get restoring(): boolean {
    return this.#restored !== undefined;
  }

  /**
   * The port a verb is given. Its streams report through the verb's context (read when a stream
   * opens, so the context may be the object the port is part of) and `error` for failures.
   */
  port(
    web: WebhookClient,
    context: () => Pick<VerbContext, "call" | "callback" | "warn">,
    error: (code: number, message: string) => void,
  ): MediaStreams {
    const hooks = (): StreamHooks => {
      const ctx = context();
      return { call: ctx.call, callback: ctx.callback, warn: ctx.warn, error, web };
    };
    this.#takeBack(hooks);
    return {
      connect: (noun, signal) => this.#connect(noun, hooks(), signal),
      start: (noun) => this.#start(noun, hooks()),
      stop: async (name) => {
        for (const r of this.#running ?? []) {
          if (r.background && (name === undefined || r.noun.name === name)) r.stream.stop();
        }
      },
    };
  }

  /** The call has ended: every open stream gets `stop` and is closed. */
  closeAll(): void {
    this.#closed = true;
    for (const r of this.#running ?? []) r.stream.stop();
  }

  /**
   * The call moves to another worker: a stream its gateway holds stays open for that worker to take
   * back (no `stop`, no stream-stopped callback from here); any other is closed. Called before the
   * call's actor stops, so a `<Connect>` verb cancelled then finds its stream detached already.
   */
  handOver(): void {
    this.#closed = true;
    for (const r of this.#running ?? []) {
      if (r.stream.detach) {
        r.detached = true;
        r.stream.detach();
      } else r.stream.stop();
    }
  }

  /** A resumed call's `<Connect>` stream for this noun, still open on its gateway: taken back. */
  #takeBackConnect(noun: StreamNoun, hooks: StreamHooks): Running | undefined {
    const i = this.#restoredConnect?.findIndex((s) => s.noun.url === noun.url && s.noun.name === noun.name);
    const kept = i !== undefined && i >= 0 ? this.#restoredConnect?.splice(i, 1)[0] : undefined;
    if (!kept || !this.#reattach) return undefined;
    const stream = this.#reattach(kept.id, (reason) =>
      hooks.warn(ErrorCodes.streamInvalidMessage.code, reason),
    );
    return this.#track({ stream, streamSid: kept.streamSid, noun, hooks, background: false });
  }

  /** Takes back the streams a resumed call had open: they report through the first port's hooks. */
  #takeBack(hooks: () => StreamHooks): void {
    const restored = this.#restored;
    const reattach = this.#reattach;
    if (!restored || !reattach) return;
    this.#restored = undefined;
    for (const s of restored) {
      const h = hooks();
      const stream = reattach(s.id, (reason) => h.warn(ErrorCodes.streamInvalidMessage.code, reason));
      this.#track({ stream, streamSid: s.streamSid, noun: s.noun, hooks: h, background: true });
    }
  }

  async #connect(noun: StreamNoun, hooks: StreamHooks, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    // The server decides how long a <Connect> lasts, as a webhook decides how long its answer takes:
    // simulated time stands still meanwhile (it would otherwise race to the call's time limit).
    const release = this.#clock.hold();
    try {
      const running = this.#takeBackConnect(noun, hooks) ?? (await this.#open(noun, hooks, false));
      const stop = () => running.stream.stop();
      signal.addEventListener("abort", stop, { once: true });
      try {
        await running.stream.ended;
      } finally {
        signal.removeEventListener("abort", stop);
      }
      signal.throwIfAborted();
    } finally {
      release();
    }
  }

  async #start(noun: StreamNoun, hooks: StreamHooks): Promise<void> {
    try {
      await this.#clock.holding(() => this.#open(noun, hooks, true));
    } catch (err) {
      // <Start> moves on whatever happens to its stream; the failure is on the call's notifications.
      const e = toSwitchboardError(err);
      hooks.error(e.code, e.message);
    }
  }

  async #open(noun: StreamNoun, hooks: StreamHooks, background: boolean): Promise<Running> {
    const streamSid = newSid("MZ");
    const { call } = hooks;
    let stream: OpenStream;
    try {
      stream = await this.#opener({
        url: noun.url,
        streamSid,
        accountSid: call.accountSid,
        callSid: call.callSid,
        track: noun.track,
        parameters: noun.parameters,
        bidirectional: !background,
        clock: this.#clock,
        web: hooks.web,
        onInvalidMessage: (reason) => hooks.warn(ErrorCodes.streamInvalidMessage.code, reason),
      });
    } catch (err) {
      await this.#status(noun, hooks, streamSid, "stream-error", (err as Error).message);
      throw err;
    }
    const running = this.#track({ stream, streamSid, noun, hooks, background });
    await this.#status(noun, hooks, streamSid, "stream-started");
    return running;
  }

  /** Keeps a stream until it ends, then reports its stream-stopped (unless left to another worker). */
  #track(running: Running): Running {
    const { stream, noun, hooks, streamSid } = running;
    this.#running ??= new Set();
    this.#running.add(running);
    if (this.#closed) stream.stop();
    if (stream.id !== undefined) this.onChange?.();
    void stream.ended.then(() => {
      if (running.detached) return;
      this.#running?.delete(running);
      if (stream.id !== undefined) this.onChange?.();
      return this.#status(noun, hooks, streamSid, "stream-stopped");
    });
    return running;
  }

  /** The stream's statusCallback (Twilio's parameters), through the call's durable outbox. */
  async #status(
    noun: StreamNoun,
    hooks: StreamHooks,
    streamSid: string,
    event: StreamEvent,
    error?: string,
  ): Promise<void> {
    if (!noun.statusCallback) return;
    await hooks
      .callback({
        url: noun.statusCallback,
        method: noun.statusCallbackMethod,
        params: {
          AccountSid: hooks.call.accountSid,
          CallSid: hooks.call.callSid,
          StreamSid: streamSid,
          StreamName: noun.name ?? streamSid,
          StreamEvent: event,
          ...(error !== undefined && { StreamError: error }),
          Timestamp: new Date(this.#clock.now()).toISOString(),
        },
        key: `stream.${streamSid}.${event}`,
      })
      .catch(() => {
        // A callback that cannot be queued must not stop the stream; the outbox logs its own failures.
      });
  }
}
