// The channel of a call whose audio is elsewhere: each command goes to the SIP gateway holding the
// call's RTP as a NATS request (`sb.sip.<gateway>.call.<sid>.cmd`) and resolves with its reply, which
// comes when the audio has played. Keys arrive on the call's `.in` like any channel input; a Gather
// is timed here, on the call's clock. The actor cannot tell this channel from the simulated one.

import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import type { CallClock } from "../../clock/call-clock.js";
import { ErrorCodes } from "../../errors/codes.js";
import { SwitchboardError } from "../../errors/switchboard-error.js";
import type { CallerEvent, ChannelOut } from "../../protocol/channel-events.js";
import { encode } from "../../protocol/codec.js";
import { readReply } from "../../protocol/service-error.js";
import {
  ListenReplySchema,
  parseRecordReply,
  ReferReplySchema,
  type SipCommand,
  TranscribeReplySchema,
} from "../../protocol/sip-commands.js";
import { isHandOver } from "../../twiml/abort-reasons.js";
import type {
  BridgeLeg,
  InputListener,
  ListenOptions,
  RecordedAudio,
  RecordOptions,
  ReferResult,
  RoomHandle,
  RoomJoin,
  RoomState,
} from "../../twiml/ports/channel.js";
import type { HostedChannel } from "../host/hosted-channel.js";
import type { MediaStreamOptions } from "../streams/media-stream.js";
import type { OpenStream } from "../streams/open-stream.js";
import { isCallLost, lostCallError } from "./gateway-lost.js";
import { type LiveListener, listenForGather } from "./gather-listener.js";
import { fetchRecording } from "./remote-recording.js";
import { openRemoteStream, reattachRemoteStream, type StreamCommands } from "./remote-stream.js";
import { type ListenerSlot, untilStar } from "./star-wait.js";

/** A short command (ring, answer, hang-up) that takes longer than this has lost its gateway. */
const SHORT_TIMEOUT_MS = 10_000;
/** Recognising a recording of up to 120 s (Twilio's transcription limit) takes the gateway this at most. */
const TRANSCRIBE_TIMEOUT_MS = 60_000;
/** While a prompt plays, the gateway is asked this often whether the call is still there. */
const PING_EVERY_MS = 5_000;
/** No prompt or recording outlasts Twilio's longest call (4 h). */
const LONGEST_MS = 4 * 3600_000 + 60_000;

export class RemoteChannel implements HostedChannel {
  #listener: LiveListener | undefined;
  #gone = false;
  #callerGone = false;

  constructor(
    private readonly nc: NatsConnection,
    /** The call's command subject on its gateway. */
    private readonly subject: string,
    private readonly clock: CallClock,
    private readonly publish: (event: ChannelOut) => void,
    /** Called when the gateway says the call is gone (the caller hung up, or the gateway is lost). */
    private readonly onCallerHangup: () => void,
  ) {}

  /** Nothing to carry over: the caller's side is the gateway's, not a script. */
  state() {
    return { digitsUsed: 0, speechUsed: 0 };
  }

  resumeScript(): void {}

  async ring(): Promise<void> {
    this.publish({ kind: "ringing" });
    await this.#short({ op: "ring" });
  }

  async answer(): Promise<void> {
    await this.#short({ op: "answer" });
    this.publish({ kind: "answer" });
  }

  async say(text: string, options: { voice: string; language: string }, signal: AbortSignal): Promise<void> {
    this.publish({ kind: "say", text, voice: options.voice, language: options.language });
    await this.#long({ op: "say", id: randomUUID(), text, ...options }, signal);
  }

  async play(url: string, options: { digits?: string }, signal: AbortSignal): Promise<void> {
    this.publish({ kind: "play", url });
    await this.#long(
      { op: "play", id: randomUUID(), url, ...(options.digits && { digits: options.digits }) },
      signal,
    );
  }

  async pause(seconds: number, signal: AbortSignal): Promise<void> {
    this.publish({ kind: "pause", length: seconds });
    await this.#long({ op: "pause", id: randomUUID(), ms: seconds * 1000 }, signal);
  }

  listen(options: ListenOptions, signal: AbortSignal): InputListener {
    const speechId = options.input.includes("speech") ? randomUUID() : undefined;
    const { listener, live } = listenForGather(this.clock, options, signal, {
      ended: () => {
        if (this.#listener === live) this.#listener = undefined;
        // The gateway's listening ends with the Gather (it may have ended on its own already).
        if (speechId)
          this.nc.publish(this.subject, encode({ op: "stop", id: speechId } satisfies SipCommand));
      },
    });
    this.#listener = live;
    this.publish({ kind: "gather", input: [...options.input], finishOnKey: options.finishOnKey });
    if (speechId) this.#startListening(speechId, options);
    return listener;
  }

  /**
   * Starts the gateway's speech listening (its recogniser's events come on `.in`). Not awaited: the
   * prompts start at once; a lost gateway is found by the next command, a warning is reported.
   */
  #startListening(id: string, options: ListenOptions): void {
    const cmd: SipCommand = {
      op: "listen",
      id,
      options: {
        speechTimeoutMs: options.speechAuto ? "auto" : Math.min(options.speechTimeoutMs, 60_000),
        hints: [...(options.hints ?? [])],
        language: options.language ?? "en-US",
        partial: options.onPartialSpeech !== undefined,
      },
    };
    this.#short(cmd)
      .then((value) => {
        const warning = ListenReplySchema.safeParse(value).data?.warning;
        if (warning) options.onWarning?.(warning.code, warning.message);
      })
      .catch(() => {});
  }

  /** Keys (the caller's RFC 4733 events or INFO) and the recogniser's speech go to the listening Gather. */
  input(event: CallerEvent): void {
    const live = this.#listener;
    if (!live) return;
    if (event.kind === "digits") for (const k of event.digits) live.key(k);
    else if (event.kind === "speechStarted") live.speechStarted?.();
    else if (event.kind === "speechEnded") live.speechEnded?.();
    else if (event.partial) live.partial?.(event.text);
    else live.recognised?.(event.text, event.confidence);
  }

  /**
   * Records on the gateway. Cancelled (hang-up, redirect), it still resolves with what was recorded:
   * the gateway answers the `stop` with it. Digits are "hangup" when the caller hung up. Handed over,
   * it rejects and sends no `stop`: the next worker's `record` with the same key carries it on.
   */
  async record(options: RecordOptions, signal: AbortSignal): Promise<RecordedAudio> {
    const id = randomUUID();
    const cmd: SipCommand = { op: "record", id, options: { ...options } };
    const audio = await fetchRecording(
      this.#fetch,
      id,
      parseRecordReply(await this.#long(cmd, signal, { replyOnAbort: true, keptOnHandOver: true })),
    );
    const transcript = options.transcribe ? await this.#transcript(id) : undefined;
    const ended = this.#callerGone ? { ...audio, digits: "hangup" } : audio;
    return transcript ? { ...ended, transcript } : ended;
  }

  /**
   * A room's mix, recorded on this call's gateway until `signal` aborts (a conference's recording).
   * Not stopped on a hand-over: the next worker's `room-record` carries it on (call-room.ts).
   */
  async recordRoom(roomSid: string, signal: AbortSignal): Promise<RecordedAudio> {
    const id = randomUUID();
    const cmd: SipCommand = { op: "room-record", id, roomSid };
    const reply = await this.#long(cmd, signal, { replyOnAbort: true, keptOnHandOver: true });
    return fetchRecording(this.#fetch, id, parseRecordReply(reply));
  }

  /** The gateway's recording of the whole call (a REST call's `Record=true`), fetched once the call is over. */
  async callRecording(id: string): Promise<RecordedAudio> {
    // Not through #short: the call is over, so a gateway without it is no hang-up to report.
    const cmd: SipCommand = { op: "fetch", id, offset: 0 };
    const first = await this.clock.holding(async () =>
      readReply(await this.nc.request(this.subject, encode(cmd), { timeout: SHORT_TIMEOUT_MS })),
    );
    return fetchRecording(this.#fetch, id, parseRecordReply(first));
  }

  /** The gateway's transcript of a recording; none (a failed transcription) when it has none. */
  async #transcript(id: string): Promise<string | undefined> {
    try {
      const msg = await this.nc.request(this.subject, encode({ op: "transcribe", id } satisfies SipCommand), {
        timeout: TRANSCRIBE_TIMEOUT_MS,
      });
      return TranscribeReplySchema.parse(readReply(msg)).text || undefined;
    } catch {
      return undefined;
    }
  }

  /** `<Refer>`: the gateway sends the REFER and waits for its NOTIFYs; a resumed call's joins it. */
  async refer(target: string, signal: AbortSignal): Promise<ReferResult> {
    const cmd: SipCommand = { op: "refer", id: randomUUID(), target };
    return ReferReplySchema.parse(await this.#long(cmd, signal, { keptOnHandOver: true }));
  }

  readonly #fetch = (cmd: SipCommand) => this.#short(cmd);

  /** A Media Stream of the call's real audio, opened by its gateway (remote-stream.ts). */
  openStream(o: MediaStreamOptions): Promise<OpenStream> {
    return openRemoteStream(this.#streamCommands, randomUUID(), o);
  }

  /** A stream its gateway opened before the call was resumed here: waited on (and stopped) again. */
  reattachStream(id: string, onInvalidMessage: (reason: string) => void): OpenStream {
    return reattachRemoteStream(this.#streamCommands, id, onInvalidMessage);
  }

  readonly #streamCommands: StreamCommands = {
    short: (cmd, timeoutMs) => this.#short(cmd, timeoutMs),
    long: (cmd, signal, opts) => this.#long(cmd, signal, opts),
  };

  /**
   * The call's audio joins a room mixed by the gateways of its members (docs/rooms.md): the `room`
   * command lasts until `signal` aborts, which sends its `stop`. A lost gateway is a caller hang-up.
   */
  joinRoom(room: RoomJoin, signal: AbortSignal): RoomHandle {
    const id = randomUUID();
    const state = (s: RoomState) => ({
      muted: s.muted,
      hold: s.hold,
      ...(s.coachOf && { coachOf: s.coachOf }),
    });
    this.#long({ op: "room", id, roomSid: room.roomSid, beep: room.beep, ...state(room) }, signal, {
      keptOnHandOver: true,
    }).catch(() => {});
    return {
      update: (s) => {
        if (signal.aborted) return;
        this.#short({ op: "room-update", id, ...state(s) }).catch(() => {});
      },
    };
  }

  /** The caller hung up (`.in`): set before the call hears of it, so a cancelled Record says "hangup". */
  callerHungUp(): void {
    this.#callerGone = true;
    this.onCallerHangup();
  }

  /**
   * A <Dial> bridge: the gateway relays RTP between this call and the leg (`bridge`, a long command:
   * answered when either party hangs up, or on `stop`). The caller's `*` stops it when `hangupOnStar`
   * is set; an abort (timeLimit, the Dial cancelled) stops it too. Either way the gateway's reply is
   * awaited, as a recording's is: with `record` it is the bridge's recording.
   */
  async bridge(leg: BridgeLeg, signal: AbortSignal): Promise<RecordedAudio | undefined> {
    this.publish({ kind: "dial", callSid: leg.callSid, to: leg.to });
    // A leg with no audio on this gateway (the simulated network, a hosted number's call): nothing
    // to relay, and asking the gateway to would end the bridge at once. It lasts until the Dial
    // ends it (the leg's own end, timeLimit, the caller leaving) or the caller's `*`.
    if (!leg.onGateway) {
      await untilStar(this.#slot, signal, leg.hangupOnStar);
      return undefined;
    }
    const id = randomUUID();
    const star = new AbortController();
    const live: LiveListener = {
      key: (k) => {
        if (k === "*" && leg.hangupOnStar) star.abort(new Error("the caller pressed *"));
      },
      speak: () => {},
    };
    this.#listener = live;
    const stop = AbortSignal.any([signal, star.signal]);
    try {
      const cmd: SipCommand = { op: "bridge", id, legSid: leg.callSid, record: leg.record ?? "none" };
      const reply = await this.#long(cmd, stop, { replyOnAbort: true, keptOnHandOver: true });
      if (!leg.record) return undefined;
      return await fetchRecording(this.#fetch, id, parseRecordReply(reply));
    } finally {
      if (this.#listener === live) this.#listener = undefined;
    }
  }

  /** The caller's `*` (RFC 4733 from the gateway, or `.in`) in a conference or a queue bridge. */
  star(signal: AbortSignal): Promise<void> {
    return untilStar(this.#slot, signal);
  }

  readonly #slot: ListenerSlot = {
    take: (live) => {
      this.#listener = live;
    },
    release: (live) => {
      if (this.#listener === live) this.#listener = undefined;
    },
  };

  async hangup(): Promise<void> {
    this.publish({ kind: "hangup" });
    await this.#end({ op: "hangup" });
  }

  async reject(reason: "rejected" | "busy"): Promise<void> {
    this.publish({ kind: "reject", reason });
    await this.#end({ op: "reject", reason });
  }

  /** Ending is best effort: a gateway that has lost the call has ended it already. */
  async #end(cmd: SipCommand): Promise<void> {
    try {
      await this.#short(cmd);
    } catch (err) {
      if (!(err instanceof SwitchboardError && err.code === ErrorCodes.sipCallGone.code)) throw err;
    }
  }

  async #short(cmd: SipCommand, timeoutMs = SHORT_TIMEOUT_MS): Promise<unknown> {
    try {
      return await this.clock.holding(async () =>
        readReply(await this.nc.request(this.subject, encode(cmd), { timeout: timeoutMs })),
      );
    } catch (err) {
      throw this.#lost(err);
    }
  }

  /**
   * A command that lasts as long as its audio: the request waits without a short timeout, the
   * gateway is pinged meanwhile, and an abort (hang-up, barge-in) sends `stop` for it.
   *
   * `keptOnHandOver` (a room, its recording, a bridge, a stream's wait): when the call moves to
   * another worker, the command is not stopped. The next worker sends it again and the gateway puts
   * the new one in this one's place (or answers both waits), as after a worker's death, so the
   * callers hear no exit and enter beeps and no gap in the bridge, a recording records on, and an
   * app keeps its stream. This copy only stops waiting for it.
   */
  async #long(
    cmd: Extract<SipCommand, { id: string }>,
    signal: AbortSignal,
    opts: { replyOnAbort?: boolean; keptOnHandOver?: boolean } = {},
  ): Promise<unknown> {
    if (signal.aborted && !opts.replyOnAbort) throw signal.reason;
    const ac = new AbortController();
    let grace: NodeJS.Timeout | undefined;
    const onAbort = () => {
      if (opts.keptOnHandOver && isHandOver(signal.reason)) {
        ac.abort(signal.reason);
        return;
      }
      this.nc.publish(this.subject, encode({ op: "stop", id: cmd.id } satisfies SipCommand));
      // A recording's reply to the stop is its result: wait for it, within bounds.
      if (opts.replyOnAbort) grace = setTimeout(() => ac.abort(signal.reason), SHORT_TIMEOUT_MS);
      else ac.abort(signal.reason);
    };
    const aborted = new Promise<never>((_, reject) => {
      ac.signal.addEventListener("abort", () => reject(ac.signal.reason), { once: true });
    });
    aborted.catch(() => {});
    const ping = setInterval(() => {
      this.#short({ op: "ping" }).catch((err: unknown) => ac.abort(err));
    }, PING_EVERY_MS);
    try {
      const reply = this.nc
        .request(this.subject, encode(cmd), { timeout: LONGEST_MS })
        .then((msg) => readReply(msg));
      reply.catch(() => {});
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      return await Promise.race([reply, aborted]);
    } catch (err) {
      if (signal.aborted && !(opts.replyOnAbort && err !== signal.reason)) throw signal.reason;
      throw this.#lost(err);
    } finally {
      clearInterval(ping);
      clearTimeout(grace);
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * The call is gone from the gateway (the caller hung up; the gateway restarted or cannot be
   * reached): the actor hears a caller hang-up, as it would from the caller's BYE.
   */
  #lost(err: unknown): unknown {
    if (!isCallLost(err)) return err;
    if (!this.#gone) {
      this.#gone = true;
      this.onCallerHangup();
    }
    return lostCallError(err);
  }
}
