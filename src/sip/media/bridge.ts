// Two calls on the gateway talking to each other: each party's audio relayed to the other's RTP
// stream (relay.ts), keys passed both ways, and optionally recorded — one channel of both voices
// mixed, or two: the caller left, the leg right.
import type { RtpPacket } from "../rtp/packet.js";
import { wavFromPcm } from "../rtp/wav.js";
import type { Recording } from "./recorder.js";
import { Relay } from "./relay.js";
import type { RtpSession } from "./rtp-session.js";

/** Where a bridge listens to a call: what its party says and presses. */
export interface CallTap {
  key(k: string): void;
  audio(packet: RtpPacket, pcm: Int16Array): void;
}

/** One side of a bridge: a call's RTP stream and the tap the bridge sets on it. */
export interface BridgeParty {
  readonly rtp: RtpSession;
  tap: CallTap | undefined;
}

export type BridgeRecord = "none" | "mono" | "dual";

export class Bridge {
  readonly #ac = new AbortController();
  /** What each party said, as relayed to the other: [caller, leg]. */
  readonly #heard: [Int16Array[], Int16Array[]] = [[], []];

  /**
   * `continues`: a bridge of the same two calls this one replaces (a region worker that resumed the
   * call bridged them again). Recorded the same way, its recording goes on in this one, so the
   * Recording holds the whole conversation and not only what was said after the resume.
   */
  constructor(
    private readonly caller: BridgeParty,
    private readonly leg: BridgeParty,
    private readonly record: BridgeRecord,
    continues?: Bridge,
  ) {
    if (record !== "none" && continues?.record === record && continues.joins(caller, leg)) {
      // One frame at a time: an hour's frames spread as arguments would overflow the stack.
      for (const channel of [0, 1] as const)
        for (const f of continues.#heard[channel]) this.#heard[channel].push(f);
    }
    this.#connect(caller, leg, 0);
    this.#connect(leg, caller, 1);
  }

  /** Whether this bridge is between these two parties. */
  joins(caller: BridgeParty, leg: BridgeParty): boolean {
    return this.caller === caller && this.leg === leg;
  }

  /** Ends the relay (either side hung up, or `stop`); the recording, if one was asked for. */
  stop(): Recording | undefined {
    if (!this.halt()) return undefined;
    return this.record === "none" ? undefined : this.#recording();
  }

  /** Ends the relay without making its recording (a bridge replacing it goes on with it); false if over. */
  halt(): boolean {
    if (this.#ac.signal.aborted) return false;
    this.#ac.abort(new Error("bridge ended"));
    for (const party of [this.caller, this.leg]) party.tap = undefined;
    return true;
  }

  #connect(from: BridgeParty, to: BridgeParty, channel: 0 | 1): void {
    const relay = new Relay();
    from.tap = { audio: (packet, pcm) => relay.push(packet, pcm), key: (k) => relay.key(k) };
    if (this.record !== "none") relay.onFrame = (pcm) => this.#heard[channel].push(pcm);
    // Ends when the bridge stops (the abort), or when the stream closes or another prompt replaces it.
    to.rtp.stream(relay.next, this.#ac.signal).catch(() => {});
  }

  #recording(): Recording {
    const [a, b] = this.#heard.map(concat) as [Int16Array, Int16Array];
    const samples = Math.max(a.length, b.length);
    let pcm: Int16Array;
    if (this.record === "dual") {
      pcm = new Int16Array(samples * 2);
      for (let i = 0; i < samples; i++) {
        pcm[2 * i] = a[i] ?? 0;
        pcm[2 * i + 1] = b[i] ?? 0;
      }
    } else {
      pcm = new Int16Array(samples);
      for (let i = 0; i < samples; i++) pcm[i] = Math.max(-32768, Math.min(32767, (a[i] ?? 0) + (b[i] ?? 0)));
    }
    return {
      wav: wavFromPcm(pcm, 8000, this.record === "dual" ? 2 : 1),
      durationMs: Math.round(samples / 8),
      digits: "",
    };
  }
}

function concat(frames: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}
