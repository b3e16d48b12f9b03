// One call's RTP: a UDP socket, an outbound stream of 20 ms G.711 packets sent at answer + n·20 ms
// by the gateway's pacer (silence when nothing plays, RFC 4733 events for Play digits), and the
// inbound stream read into DTMF keys and audio for a recorder. Symmetric RTP: when the peer's first
// packets come from another address than its SDP named (it is behind NAT), the stream goes there.
// Only the peer's packets count (media-peer.ts).

import { randomInt } from "node:crypto";
import type { Socket } from "node:dgram";
import { decodeG711, encodeG711, type G711Codec } from "../rtp/g711.js";
import { buildRtp, parseRtp, type RtpPacket } from "../rtp/packet.js";
import { buildTelephoneEvent, DtmfReceiver, eventOf } from "../rtp/telephone-event.js";
import type { MediaChoice } from "../sdp.js";
import { type MediaAddress, MediaPeer, type MediaSources } from "./media-peer.js";
import type { Paced, Pacer } from "./pacer.js";
import { pacerTrace } from "./pacer-trace.js";

export const FRAME_MS = 20;
export const FRAME_SAMPLES = 160;

/** What an output job gives for one 20 ms frame. */
export type Frame =
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
  /** Whether `audio` wants packets now (default: always); when not, none is decoded (25,000 a second at 500 calls). */
  hears?(): boolean;
  /**
   * The 20 ms frame just sent to the peer, as PCM (silence while nothing plays): a stream's outbound
   * track. `frame` is its index from the stream's start: frames skipped after a stall leave a gap.
   */
  sent?(pcm: Int16Array, frame: number): void;
  /** The first packet from an address that is not the peer's (it and the others like it are dropped). */
  stranger?(address: string): void;
}

/** The outbound track's frame while a key is sent (RFC 4733 carries no audio). */
const SILENT_FRAME = new Int16Array(FRAME_SAMPLES);

const HEADER = 12;

/** After a stall (GC, a busy loop) longer than this, the lost time is skipped rather than burst. */
const MAX_BURST_MS = 100;

export class RtpSession implements Paced {
  /** Counters, for tests and logs. */
  readonly stats = { sent: 0, received: 0, keys: 0, sendErrors: 0, foreign: 0 };
  readonly #dtmf = new DtmfReceiver();
  readonly #ssrc = randomInt(0, 2 ** 32);
  #seq = randomInt(0, 2 ** 16);
  #timestamp = randomInt(0, 2 ** 32);
  #startedAt: number | undefined;
  #frames = 0;
  #job: Job | undefined;
  #eventTimestamp = 0;
  #silence: Uint8Array;
  #closed = false;
  /** Where our packets go and whose packets count. */
  readonly #peer: MediaPeer;
  #media: MediaChoice;
  /** Whether the negotiated direction lets us send (not while the peer holds the call). */
  #sending = true;
  /**
   * The audio packet, written in place each frame: no allocation per packet (issue #20: at 500 calls,
   * 25,000 packets a second fed the scavenger). Replaced when the kernel did not take a send at once.
   */
  #out = Buffer.allocUnsafe(HEADER + FRAME_SAMPLES);
  #outPayload = this.#out.subarray(HEADER);

  constructor(
    private readonly socket: Socket,
    private readonly pacer: Pacer,
    remote: MediaAddress | undefined,
    media: MediaChoice,
    private readonly events: RtpEvents,
    sources: MediaSources,
  ) {
    this.#peer = new MediaPeer(remote, sources);
    this.#media = media;
    this.#silence = encodeG711(media.codec, new Int16Array(FRAME_SAMPLES));
    socket.on(
      "message",
      pacerTrace
        ? (data, rinfo) => {
            const t = performance.now();
            this.#receive(data, rinfo);
            pacerTrace?.inbound(performance.now() - t);
          }
        : (data, rinfo) => this.#receive(data, rinfo),
    );
    // A send can fail (no route to the caller's address): count it; a socket error must not crash.
    socket.on("error", () => {
      this.stats.sendErrors++;
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  get media(): MediaChoice {
    return this.#media;
  }

  get remote(): { address: string; port: number } | undefined {
    return this.#peer.remote;
  }

  /** Whether the outbound stream runs (from the answer, or early media, on). */
  get started(): boolean {
    return this.#startedAt !== undefined;
  }

  /**
   * Starts the outbound stream (at the answer): its first frame at the pacer's next grid time
   * (within 5 ms of now: silence, or the first of a prompt), then one every 20 ms.
   */
  start(now: number): void {
    if (this.#startedAt !== undefined || this.#closed) return;
    this.#startedAt = this.pacer.onGrid(now);
    this.pacer.add(this, this.#startedAt);
  }

  /**
   * A new offer/answer in the dialog (hold, resume, a moved address, our offer answered): where to
   * send, in which codec, and whether to send at all. The stream's timing and sequence go on.
   */
  renegotiate(opts: {
    remote?: { address: string; port: number };
    media?: MediaChoice;
    sending: boolean;
  }): void {
    if (opts.remote) this.#peer.negotiate(opts.remote);
    if (opts.media) {
      this.#media = opts.media;
      this.#silence = encodeG711(opts.media.codec, new Int16Array(FRAME_SAMPLES));
    }
    this.#sending = opts.sending;
  }

  /** Plays 8 kHz PCM; resolves when its last frame is sent, rejects with the signal's reason. */
  play(pcm: Int16Array, signal: AbortSignal): Promise<void> {
    let at = 0;
    return this.#run(signal, () => {
      if (at >= pcm.length) return undefined;
      // A whole frame is a view of the prompt (no copy a frame for every call); the last one is padded.
      let frame = pcm.subarray(at, at + FRAME_SAMPLES);
      if (frame.length < FRAME_SAMPLES) {
        const padded = new Int16Array(FRAME_SAMPLES);
        padded.set(frame);
        frame = padded;
      }
      at += FRAME_SAMPLES;
      return { kind: "audio", pcm: frame };
    });
  }

  /**
   * Sends what `next` gives, a frame per 20 ms, until it gives nothing or `signal` aborts (a bridge's
   * relayed audio and keys): on this stream's own timestamps, sequence and SSRC.
   */
  stream(next: () => Frame | undefined, signal: AbortSignal): Promise<void> {
    return this.#run(signal, next);
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
        if (event === undefined || this.#media.dtmfPt === undefined) continue;
        for (let i = 1; i <= 5; i++)
          frames.push({ kind: "event", event, end: i === 5, duration: i * FRAME_SAMPLES, start: i === 1 });
        silence(60);
      }
    }
    let i = 0;
    return this.#run(signal, () => frames[i++]);
  }

  /**
   * Plays frames pulled one per 20 ms (a Media Stream's audio as it arrives); resolves when `next`
   * has none, rejects with the signal's reason or when a prompt supersedes it.
   */
  feed(next: () => Int16Array | undefined, signal: AbortSignal): Promise<void> {
    return this.#run(signal, () => {
      const pcm = next();
      return pcm && { kind: "audio", pcm };
    });
  }

  /** Called by the pacer: sends every frame due by `now` (ms, monotonic); returns when the next is due. */
  tick(now: number): number | undefined {
    const start = this.#startedAt;
    if (start === undefined || this.#closed) return undefined;
    // After a long stall (GC, a busy loop), do not burst: skip the lost time.
    // The RTP timestamp skips with it: the peer hears a gap where the time went, not a shifted stream.
    if (now - (start + this.#frames * FRAME_MS) > MAX_BURST_MS) {
      const frames = Math.floor((now - start) / FRAME_MS);
      this.#timestamp = (this.#timestamp + (frames - this.#frames) * FRAME_SAMPLES) >>> 0;
      this.#frames = frames;
    }
    while (start + this.#frames * FRAME_MS <= now) {
      this.#frames++;
      this.#sendFrame();
    }
    return start + this.#frames * FRAME_MS;
  }

  close(reason: unknown): void {
    this.#closed = true;
    this.pacer.remove(this);
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
    this.events.sent?.(frame?.kind === "audio" ? frame.pcm : SILENT_FRAME, this.#frames - 1);
    const dtmfPt = this.#media.dtmfPt;
    if (frame?.kind === "event" && dtmfPt !== undefined) {
      if (frame.start) this.#eventTimestamp = ts;
      const payload = buildTelephoneEvent({
        event: frame.event,
        end: frame.end,
        volume: 10,
        duration: frame.duration,
      });
      // The end packet is sent three times (RFC 4733 §2.5.1.4), so one loss does not lose the key.
      for (let i = 0; i < (frame.end ? 3 : 1); i++)
        this.#send(dtmfPt, frame.start, this.#eventTimestamp, payload);
      return;
    }
    const length = frame?.kind === "audio" ? frame.pcm.length : this.#silence.length;
    if (HEADER + length > this.#out.length) this.#newOut(length);
    if (frame?.kind === "audio") encodeG711(this.#media.codec, frame.pcm, this.#outPayload);
    else this.#outPayload.set(this.#silence);
    this.#sendOut(this.#media.codecPt, this.stats.sent === 0, ts, length);
  }

  #newOut(payload: number): void {
    this.#out = Buffer.allocUnsafe(HEADER + Math.max(payload, FRAME_SAMPLES));
    this.#outPayload = this.#out.subarray(HEADER);
  }

  /** Sends `#out` with `length` bytes of payload already in place, its header written here. */
  #sendOut(payloadType: number, marker: boolean, timestamp: number, length: number): void {
    const remote = this.#peer.remote;
    if (!this.#sending || !remote || remote.address === "0.0.0.0") return;
    const out = this.#out;
    const seq = this.#seq;
    const ssrc = this.#ssrc;
    out[0] = 0x80;
    out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
    out[2] = seq >>> 8;
    out[3] = seq & 0xff;
    out[4] = timestamp >>> 24;
    out[5] = (timestamp >>> 16) & 0xff;
    out[6] = (timestamp >>> 8) & 0xff;
    out[7] = timestamp & 0xff;
    out[8] = ssrc >>> 24;
    out[9] = (ssrc >>> 16) & 0xff;
    out[10] = (ssrc >>> 8) & 0xff;
    out[11] = ssrc & 0xff;
    this.#seq = (seq + 1) & 0xffff;
    this.stats.sent++;
    try {
      this.socket.send(
        length + HEADER === out.length ? out : out.subarray(0, HEADER + length),
        remote.port,
        remote.address,
      );
    } catch {
      this.stats.sendErrors++;
      return;
    }
    // Queued rather than taken at once (a full socket buffer): libuv still reads this memory.
    if (this.socket.getSendQueueCount() > 0) this.#newOut(FRAME_SAMPLES);
  }

  #send(payloadType: number, marker: boolean, timestamp: number, payload: Uint8Array): void {
    const remote = this.#peer.remote;
    // On hold, or before the peer said where: the stream's time goes on, nothing goes out.
    if (!this.#sending || !remote || remote.address === "0.0.0.0") return;
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
    try {
      this.socket.send(packet, remote.port, remote.address);
    } catch {
      // A bad address (port 0 in an SDP): counted, never thrown into the pacer.
      this.stats.sendErrors++;
    }
  }

  #receive(data: Buffer, from: { address: string; port: number }): void {
    // Only an RTP packet may move the stream: not a stray datagram.
    const packet = parseRtp(data);
    if (!packet) return;
    if (!this.#peer.admit(from)) {
      if (this.stats.foreign++ === 0) this.events.stranger?.(from.address);
      return;
    }
    this.stats.received++;
    const media = this.#media;
    if (packet.payloadType === media.dtmfPt) {
      const key = this.#dtmf.receive(packet.ssrc, packet.timestamp, packet.payload);
      if (key !== undefined) {
        this.stats.keys++;
        this.events.key(key);
      }
      return;
    }
    // Either G.711 law is decoded by its static payload type, whichever was negotiated.
    const codec: G711Codec | undefined =
      packet.payloadType === media.codecPt
        ? media.codec
        : packet.payloadType === 0
          ? "PCMU"
          : packet.payloadType === 8
            ? "PCMA"
            : undefined;
    if (codec && (this.events.hears?.() ?? true))
      this.events.audio(packet, decodeG711(codec, packet.payload));
  }
}
