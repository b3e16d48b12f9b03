// Test doubles for the verb port: a Channel that records what it is asked to do, and a clock whose time
// only moves when the test says so.
import { type Clock, sleep } from "../../src/clock/clock.js";
import type {
  CallerInput,
  Channel,
  InputListener,
  ListenOptions,
  RecordedAudio,
  RecordOptions,
} from "../../src/twiml/ports/channel.js";
import type {
  BridgedLeg,
  DialNetwork,
  DialTarget,
  LegProgress,
  Unanswered,
} from "../../src/twiml/ports/dial-network.js";
import type { MediaStreams } from "../../src/twiml/ports/media-streams.js";
import type { NewRecording } from "../../src/twiml/ports/recordings.js";
import type { VerbCallbackRequest, VerbContext } from "../../src/twiml/verb-context.js";
import type { DialOptions } from "../../src/twiml/verbs/dial/noun.js";

export type ChannelCall = readonly [method: string, ...args: unknown[]];

export class ManualClock implements Clock {
  private time = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Moves time on by `ms`, firing the timers that fall due in order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.at <= until).sort(([, a], [, b]) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = until;
  }
}

/**
 * Say and Play finish at once unless `holdAudio` is set, in which case they wait for the signal (like a
 * long prompt the caller hangs up on). Pause waits on the clock, as the real channel does.
 */
export class FakeChannel implements Channel {
  readonly calls: ChannelCall[] = [];
  holdAudio = false;
  /** What the caller gives the next Gather; `bargeIn` makes it arrive while the prompts play. */
  nextInput: CallerInput = { digits: "" };
  bargeIn = false;

  constructor(private readonly clock: Clock) {}

  async ring(): Promise<void> {
    this.calls.push(["ring"]);
  }
  async answer(): Promise<void> {
    this.calls.push(["answer"]);
  }
  async say(text: string, options: { voice: string; language: string }, signal: AbortSignal): Promise<void> {
    this.calls.push(["say", text, options]);
    await this.audio(signal);
  }
  async play(url: string, options: { digits?: string }, signal: AbortSignal): Promise<void> {
    this.calls.push(["play", url, options]);
    await this.audio(signal);
  }
  async pause(seconds: number, signal: AbortSignal): Promise<void> {
    this.calls.push(["pause", seconds]);
    await sleep(this.clock, seconds * 1000, signal);
  }
  listen(options: ListenOptions, _signal: AbortSignal): InputListener {
    this.calls.push(["listen", options]);
    const input = this.nextInput;
    return {
      started: this.bargeIn ? Promise.resolve() : new Promise(() => {}),
      result: async () => {
        this.calls.push(["result"]);
        return input;
      },
      close: () => this.calls.push(["close"]),
    };
  }
  /** What the caller sends the next Record. */
  nextRecording: RecordedAudio = { wav: new Uint8Array(44), durationMs: 0, digits: "" };
  async record(options: RecordOptions, _signal: AbortSignal): Promise<RecordedAudio> {
    this.calls.push(["record", options]);
    return this.nextRecording;
  }
  /** Presses * on the bridge in progress (it ends when the bridge has hangupOnStar). */
  pressStar: () => void = () => {};
  bridge(
    leg: { callSid: string; to: string; hangupOnStar: boolean },
    signal: AbortSignal,
  ): Promise<RecordedAudio | undefined> {
    this.calls.push(["bridge", leg]);
    return new Promise((resolve, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      this.pressStar = () => {
        if (leg.hangupOnStar) resolve(undefined);
      };
    });
  }
  async hangup(): Promise<void> {
    this.calls.push(["hangup"]);
  }
  async reject(reason: "rejected" | "busy"): Promise<void> {
    this.calls.push(["reject", reason]);
  }

  private audio(signal: AbortSignal): Promise<void> {
    if (!this.holdAudio) return Promise.resolve();
    return new Promise((_resolve, reject) => {
      signal.throwIfAborted();
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }
}

/** Records what the verbs ask of the call's Media Streams; a connected stream ends when the test says. */
export class FakeStreams implements MediaStreams {
  readonly calls: ChannelCall[] = [];
  #endConnect: (() => void) | undefined;

  connect(stream: Parameters<MediaStreams["connect"]>[0], signal: AbortSignal): Promise<void> {
    this.calls.push(["connect", stream]);
    return new Promise((resolve, reject) => {
      this.#endConnect = resolve;
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }
  async start(stream: Parameters<MediaStreams["start"]>[0]): Promise<void> {
    this.calls.push(["start", stream]);
  }
  async stop(name: string | undefined): Promise<void> {
    this.calls.push(["stop", name]);
  }
  /** The server closes the connected stream. */
  serverCloses(): void {
    this.#endConnect?.();
  }
}

/**
 * A DialNetwork whose next ring comes out as `next` says: the first target answers (and stays on until
 * `calleeHangsUp()` or the Dial hangs it up), or nobody does with the given status. It reports the
 * legs' events as the real one does, with the child's CallSid.
 */
export class FakeDialNetwork implements DialNetwork {
  readonly rings: { targets: readonly DialTarget[]; timeoutS: number; callerId: string }[] = [];
  next: "answer" | Unanswered["status"] = "answer";
  /** Seconds of connected time the bridged leg reports. */
  talkS = 12;
  hungUp = false;
  calleeHangsUp: () => void = () => {};
  /** Caller IDs the account may show; any, unless a test says. */
  allowedCallerIds: ((callerId: string) => boolean) | undefined;

  async callerIdAllowed(callerId: string): Promise<boolean> {
    return this.allowedCallerIds?.(callerId) ?? true;
  }

  async ring(
    targets: readonly DialTarget[],
    options: { timeoutS: number; callerId: string; onProgress: (p: LegProgress) => void },
    signal: AbortSignal,
  ): Promise<BridgedLeg | Unanswered> {
    signal.throwIfAborted();
    this.rings.push({ targets, timeoutS: options.timeoutS, callerId: options.callerId });
    const callSid = "CA0000000000000000000000000000c001";
    const report = (event: LegProgress["event"]) =>
      options.onProgress({ target: 0, event, callSid, params: { CallSid: callSid, Event: event } });
    report("initiated");
    report("ringing");
    if (this.next !== "answer") {
      report("completed");
      return { answered: false, status: this.next, callSid };
    }
    report("answered");
    const ended = new Promise<void>((resolve) => {
      this.calleeHangsUp = resolve;
    });
    return {
      answered: true,
      callSid,
      to: targets[0]?.to ?? "",
      ended,
      hangup: async () => {
        this.hungUp = true;
      },
      durationS: () => this.talkS,
    };
  }
}

export function fakeContext(): {
  ctx: VerbContext;
  channel: FakeChannel;
  clock: ManualClock;
  warnings: unknown[];
  /** The callbacks verbs queued, in order. */
  callbacks: VerbCallbackRequest[];
  /** Recordings verbs stored, and the work they asked to keep past their cancellation. */
  recordings: { stored: NewRecording[]; kept: Promise<unknown>[] };
  streams: FakeStreams;
  network: FakeDialNetwork;
} {
  const clock = new ManualClock();
  const channel = new FakeChannel(clock);
  const warnings: unknown[] = [];
  const callbacks: VerbCallbackRequest[] = [];
  const recordings = { stored: [] as NewRecording[], kept: [] as Promise<unknown>[] };
  const streams = new FakeStreams();
  const network = new FakeDialNetwork();
  const ctx: VerbContext = {
    channel,
    streams,
    clock,
    call: {
      callSid: "CA00000000000000000000000000000001",
      accountSid: "AC00000000000000000000000000000001",
      from: "+15557654321",
      to: "+15551234567",
      direction: "inbound",
      region: "us1",
      transport: "pstn",
    },
    warn: (code, message) => warnings.push({ code, message }),
    // A method, not an arrow: a test that spreads this context with another `call` gets that call's.
    callParams(callStatus) {
      const c = this.call;
      return {
        CallSid: c.callSid,
        AccountSid: c.accountSid,
        From: c.from,
        To: c.to,
        CallStatus: callStatus,
        ApiVersion: "2010-04-01",
        Direction: c.direction,
        Caller: c.from,
        Called: c.to,
      };
    },
    callback: async (request) => {
      callbacks.push(request);
    },
    recordings: {
      url: (sid) =>
        `https://api.example.com/2010-04-01/Accounts/AC00000000000000000000000000000001/Recordings/${sid}`,
      store: async (recording) => {
        recordings.stored.push(recording);
        if (!recording.transcribe) return {};
        const sid = "TR00000000000000000000000000000001";
        const text = recording.audio.transcript ?? "";
        const url = `https://api.example.com/2010-04-01/Accounts/AC00000000000000000000000000000001/Transcriptions/${sid}`;
        return { transcription: { sid, url, status: text ? "completed" : "failed", text } };
      },
      keep: (work) => {
        recordings.kept.push(work);
      },
    },
    legs: network,
    answer: () => channel.answer(),
  };
  return { ctx, channel, clock, warnings, callbacks, recordings, streams, network };
}

/** A <Dial>'s attributes as Twilio defaults them, for running a noun's `dial` directly. */
export const DIAL_DEFAULTS: DialOptions = {
  timeoutS: 30,
  timeLimitS: 14_400,
  callerId: "+15557654321",
  hangupOnStar: false,
  record: "do-not-record",
  answerOnBridge: false,
};
