// One call's RTP: a UDP socket, an outbound stream of 20 ms G.711 packets paced in real time by the
// gateway's one ticker (silence when nothing plays, RFC 4733 events for Play digits), and the
// inbound stream read into DTMF keys and audio for a recorder.

import { randomInt } from "node:crypto";
import type { Socket } from "node:dgram";
import { decodeG711, encodeG711, type G711Codec } from "../rtp/g711.js";
import { buildRtp, parseRtp, type RtpPacket } from "../rtp/packet.js";
import { buildTelephoneEvent, DtmfReceiver, eventOf } from "../rtp/telephone-event.js";
import type { MediaChoice } from "../sdp.js";

export const FRAME_MS = 20;
export const FRAME_SAMPLES = 160;

/** What an output job gives for one 20 ms frame. */
type Frame =
  | { kind: "audio"; pcm: Int16Array }
  | { kind: "event"; event: number; end: boolean; duration: number; start: boolean };

interface Job {
  next(): Frame | undefined;
  resolve(): void;
  reject(reason: unknown): void;
}

export interface RtpEvents {
  key(key: string): void;
  /** An audio packet, decoded. */
  audio(packet: RtpPacket, pcm: Int16Array): void;
}

export class RtpSession {
  /** Counters, for tests and logs. */
  readonly stats = { sent: 0, received: 0, keys: 0, sendErrors: 0 };
  readonly #dtmf = new DtmfReceiver();
  readonly #ssrc = randomInt(0, 2 ** 32);
  #seq = randomInt(0, 2 ** 16);
  #timestamp = randomInt(0, 2 ** 32);
  #startedAt: number | undefined;
  #frames = 0;
  #job: Job | undefined;
  #eventTimestamp = 0;
  readonly #silence: Uint8Array;
  #closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly remote: { address: string; port: number },
    private readonly media: MediaChoice,
    private readonly events: RtpEvents,
  ) {
    this.#silence = encodeG711(media.codec, new Int16Array(FRAME_SAMPLES));
    socket.on("message", (data) => this.#receive(data));
    // A send can fail (no route to the caller's address): count it; a socket error must not crash.
    socket.on("error", () => {
      this.stats.sendErrors++;
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Starts the outbound stream (at the answer). */
  start(now: number): void {
    this.#startedAt ??= now;
  }

  /** Plays 8 kHz PCM; resolves when its last frame is sent, rejects with the signal's reason. */
  play(pcm: Int16Array, signal: AbortSignal): Promise<void> {
    let at = 0;
    return this.#run(signal, () => {
      if (at >= pcm.length) return undefined;
      const frame = new Int16Array(FRAME_SAMPLES);
      frame.set(pcm.subarray(at, at + FRAME_SAMPLES));
      at += FRAME_SAMPLES;
      return { kind: "audio", pcm: frame };
    });
  }

  /** Sends keys as RFC 4733 events (100 ms each, 60 ms apart; w = 500 ms, W = 1 s of silence). */
  sendDigits(digits: string, signal: AbortSignal): Promise<void> {
    const frames: Frame[] = [];
    const silence = (ms: number) => {
      for (let i = 0; i < ms / FRAME_MS; i++)
        frames.push({ kind: "audio", pcm: new Int16Array(FRAME_SAMPLES) });
    };
    for (const k of digits) {
      if (k === "w") silence(500);
      else if (k === "W") silence(1000);
      else {
        const event = eventOf(k);
        if (event === undefined || this.media.dtmfPt === undefined) continue;
        for (let i = 1; i <= 5; i++)
          frames.push({ kind: "event", event, end: i === 5, duration: i * FRAME_SAMPLES, start: i === 1 });
        silence(60);
      }
    }
    let i = 0;
    return this.#run(signal, () => frames[i++]);
  }

  /** Called by the gateway's ticker: sends every frame that is due by `now` (ms, monotonic). */
  tick(now: number): void {
    if (this.#startedAt === undefined || this.#closed) return;
    let due = Math.floor((now - this.#startedAt) / FRAME_MS) + 1;
    // After a long stall (GC, a busy loop), do not burst: skip the lost time.
    if (due - this.#frames > 5) {
      this.#frames = due - 1;
      due = this.#frames + 1;
    }
    while (this.#frames < due) {
      this.#frames++;
      this.#sendFrame();
    }
  }

  close(reason: unknown): void {
    this.#closed = true;
    this.#job?.reject(reason);
    this.#job = undefined;
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }

  #run(signal: AbortSignal, next: () => Frame | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted || this.#closed) return reject(signal.reason ?? new Error("RTP session closed"));
      // A new prompt replaces one still playing (the previous owner of the call stopped waiting).
      this.#job?.reject(new Error("superseded"));
      const onAbort = () => {
        if (this.#job === job) this.#job = undefined;
        reject(signal.reason);
      };
      const job: Job = {
        next,
        resolve: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (r) => {
          signal.removeEventListener("abort", onAbort);
          reject(r);
        },
      };
      this.#job = job;
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #sendFrame(): void {
    const ts = this.#timestamp;
    this.#timestamp = (this.#timestamp + FRAME_SAMPLES) >>> 0;
    const job = this.#job;
    const frame = job?.next();
    if (job && !frame) {
      this.#job = undefined;
      job.resolve();
    }
    if (frame?.kind === "event" && this.media.dtmfPt !== undefined) {
      if (frame.start) this.#eventTimestamp = ts;
      const payload = buildTelephoneEvent({
        event: frame.event,
        end: frame.end,
        volume: 10,
        duration: frame.duration,
      });
      // The end packet is sent three times (RFC 4733 §2.5.1.4), so one loss does not lose the key.
      for (let i = 0; i < (frame.end ? 3 : 1); i++)
        this.#send(this.media.dtmfPt, frame.start, this.#eventTimestamp, payload);
      return;
    }
    const payload = frame?.kind === "audio" ? encodeG711(this.media.codec, frame.pcm) : this.#silence;
    this.#send(this.media.codecPt, this.stats.sent === 0, ts, payload);
  }

  #send(payloadType: number, marker: boolean, timestamp: number, payload: Uint8Array): void {
    const packet = buildRtp({
      payloadType,
      marker,
      sequence: this.#seq,
      timestamp,
      ssrc: this.#ssrc,
      payload,
    });
    this.#seq = (this.#seq + 1) & 0xffff;
    this.stats.sent++;
    this.socket.send(packet, this.remote.port, this.remote.address);
  }

  #receive(data: Buffer): void {
    const packet = parseRtp(data);
    if (!packet) return;
    this.stats.received++;
    if (packet.payloadType === this.media.dtmfPt) {
      const key = this.#dtmf.receive(packet.ssrc, packet.timestamp, packet.payload);
      if (key !== undefined) {
        this.stats.keys++;
        this.events.key(key);
      }
      return;
    }
    // Either G.711 law is decoded by its static payload type, whichever was negotiated.
    const codec: G711Codec | undefined =
      packet.payloadType === this.media.codecPt
        ? this.media.codec
        : packet.payloadType === 0
          ? "PCMU"
          : packet.payloadType === 8
            ? "PCMA"
            : undefined;
    if (codec) this.events.audio(packet, decodeG711(codec, packet.payload));
  }
}
