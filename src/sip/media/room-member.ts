// One SIP call in a room: publishes the caller's audio as 20 ms frames (not while muted or held),
// and plays the room's mix for it on its RTP until it leaves. Beeps on enter/exit go into the room.
import { encode } from "../../protocol/codec.js";
import type { RoomFrame } from "../../protocol/room-audio.js";
import { encodeG711 } from "../rtp/g711.js";
import type { GatewayRooms, MixListener, RoomMix } from "./room-mix.js";
import { FRAME_SAMPLES, type RtpSession } from "./rtp-session.js";

/** The conference beep: 300 ms of 1 kHz at a moderate level. */
const BEEP_FRAMES = 15;
const BEEP = Int16Array.from({ length: BEEP_FRAMES * FRAME_SAMPLES }, (_, i) =>
  Math.round(6000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)),
);
/** Mixed frames waiting for the member's RTP: more would only add delay. */
const MAX_QUEUED = 3;

export interface Membership {
  roomSid: string;
  muted: boolean;
  hold: boolean;
  coachOf?: string | undefined;
  beep: { enter: boolean; exit: boolean };
}

export class RoomMember implements MixListener {
  readonly #pending = new Int16Array(FRAME_SAMPLES);
  #filled = 0;
  #seq = 0;
  #beepSeq = 0;
  readonly #queue: Int16Array[] = [];
  #feed: AbortController | undefined;
  #room: RoomMix | undefined;
  #m: Membership;
  /** Replaced by the same call's membership again (a resumed call): it leaves without its exit beep. */
  #quiet = false;

  constructor(
    private readonly rooms: GatewayRooms,
    readonly callSid: string,
    private readonly rtp: RtpSession,
    membership: Membership,
    /**
     * The first frame's sequence number: where the membership this one replaces left off. The
     * room's jitter buffer for the call (room-source.ts) drops frames numbered below what it has
     * played, so a replacement that started again at 0 would be unheard for a quarter of a second.
     */
    firstSeq = 0,
  ) {
    this.#m = { ...membership };
    this.#seq = firstSeq;
  }

  /** The sequence number of the next frame of the caller's audio. */
  get nextSeq(): number {
    return this.#seq;
  }

  get roomSid(): string {
    return this.#m.roomSid;
  }

  get hearing(): boolean {
    return !this.#m.hold;
  }

  hear(pcm: Int16Array): void {
    this.#queue.push(pcm);
    if (this.#queue.length > MAX_QUEUED) this.#queue.shift();
  }

  /** The caller's audio, as it arrives from RTP (any packet size): published in 20 ms frames. */
  inbound(pcm: Int16Array): void {
    if (!this.#room || this.#m.muted || this.#m.hold) return;
    for (let at = 0; at < pcm.length; ) {
      const n = Math.min(FRAME_SAMPLES - this.#filled, pcm.length - at);
      this.#pending.set(pcm.subarray(at, at + n), this.#filled);
      this.#filled += n;
      at += n;
      if (this.#filled === FRAME_SAMPLES) {
        this.#filled = 0;
        this.#publish({
          seq: this.#seq++,
          audio: encodeG711("PCMU", this.#pending),
          ...(this.#m.coachOf && { coachOf: this.#m.coachOf }),
        });
      }
    }
  }

  /** In the room until `signal` aborts: then the exit beep, and out. */
  async run(signal: AbortSignal): Promise<void> {
    this.#room = this.rooms.enter(this.#m.roomSid, this);
    if (this.#m.beep.enter) this.#beep();
    if (!this.#m.hold) this.#startFeed();
    try {
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
    } finally {
      if (this.#m.beep.exit && !this.#quiet) this.#beep();
      this.#feed?.abort(new Error("left the room"));
      this.rooms.leave(this.#room, this);
      this.#room = undefined;
    }
  }

  /** Its place goes to the same call's new membership of the room: no exit beep when it leaves. */
  leaveQuietly(): void {
    this.#quiet = true;
  }

  update(change: Pick<Membership, "muted" | "hold" | "coachOf">): void {
    const wasHeld = this.#m.hold;
    this.#m = { ...this.#m, ...change };
    if (!this.#m.coachOf) delete this.#m.coachOf;
    if (wasHeld === this.#m.hold || !this.#room) return;
    // Held: the region plays the hold music on the call; unheld, the room is heard again.
    if (this.#m.hold) this.#feed?.abort(new Error("held"));
    else this.#startFeed();
  }

  #startFeed(): void {
    this.#feed?.abort(new Error("restarted"));
    const feed = new AbortController();
    this.#feed = feed;
    this.#queue.length = 0;
    const silence = new Int16Array(FRAME_SAMPLES);
    // A prompt on the call (the region's) supersedes the feed: the room is heard again on an update.
    this.rtp.feed(() => this.#queue.shift() ?? silence, feed.signal).catch(() => {});
  }

  #beep(): void {
    for (let i = 0; i < BEEP_FRAMES; i++)
      this.#publish({
        seq: this.#beepSeq++,
        audio: encodeG711("PCMU", BEEP.subarray(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES)),
        beep: true,
      });
  }

  #publish(frame: RoomFrame): void {
    this.rooms.nc.publish(this.rooms.subjects.roomAudio(this.#m.roomSid, this.callSid), encode(frame));
  }
}
