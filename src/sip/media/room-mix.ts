// A room's mix on one gateway: subscribes to every member's frames (`sb.room.<room>.audio.*`), and
// every 20 ms on the gateway's pacer gives each local member the sum of the others' frames — never
// its own, a coach's only to the coached. No process is the room's mixer: each gateway mixes for its own.
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "../../log.js";
import { decode } from "../../protocol/codec.js";
import { parseRoomFrame } from "../../protocol/room-audio.js";
import type { Subjects } from "../../protocol/subjects.js";
import { decodeG711 } from "../rtp/g711.js";
import type { Paced, Pacer } from "./pacer.js";
import { RoomSource, type SourceFrame } from "./room-source.js";
import { FRAME_MS, FRAME_SAMPLES } from "./rtp-session.js";

/** A local member, as the mix sees it. */
export interface MixListener {
  readonly callSid: string;
  /** Held members hear nothing of the room. */
  readonly hearing: boolean;
  /** This 20 ms of the room, for the member's RTP. */
  hear(pcm: Int16Array): void;
}

/** A source silent this long is forgotten (it left; its gateway stopped). */
const FORGET_MS = 5_000;

export class RoomMix implements Paced {
  readonly #sources = new Map<string, RoomSource>();
  readonly #listeners = new Set<MixListener>();
  readonly #sub: Subscription;
  #startedAt: number;
  #ticks = 0;

  constructor(
    nc: NatsConnection,
    subjects: Subjects,
    readonly roomSid: string,
    private readonly pacer: Pacer,
    log: Logger,
  ) {
    this.#sub = nc.subscribe(subjects.roomAllAudio(roomSid), {
      callback: (err, msg) => {
        if (err) return;
        try {
          const frame = parseRoomFrame(decode(msg.data));
          const from = msg.subject.split(".").at(-1) ?? "";
          // A member's beep is its own source: the member hears it too.
          const key = frame.beep ? `${from}/beep` : from;
          let source = this.#sources.get(key);
          if (!source) {
            source = new RoomSource();
            this.#sources.set(key, source);
          }
          source.push(frame, decodeG711("PCMU", frame.audio), performance.now());
        } catch (err) {
          log.warn({ err, roomSid }, "a room frame was refused");
        }
      },
    });
    // On the grid the members' streams start on: the mix and their packets go in the same turn.
    this.#startedAt = pacer.onGrid(performance.now());
    pacer.add(this, this.#startedAt);
  }

  get size(): number {
    return this.#listeners.size;
  }

  add(listener: MixListener): void {
    this.#listeners.add(listener);
  }

  remove(listener: MixListener): void {
    this.#listeners.delete(listener);
  }

  close(): void {
    this.pacer.remove(this);
    this.#sub.unsubscribe();
    this.#listeners.clear();
  }

  tick(now: number): number | undefined {
    // After a stall, the lost frames are not mixed in a burst: the sources' buffers skip ahead.
    const due = Math.floor((now - this.#startedAt) / FRAME_MS) + 1;
    if (due - this.#ticks > 5) this.#ticks = due - 1;
    while (this.#ticks < due) {
      this.#ticks++;
      this.#mixOnce(now);
    }
    return this.#startedAt + this.#ticks * FRAME_MS;
  }

  #mixOnce(now: number): void {
    // Everyone's sum once, then each listener's is it minus its own frame (plus what coaches tell
    // it): O(sources + listeners) per 20 ms, not their product, so a large room stays cheap.
    const total = new Int32Array(FRAME_SAMPLES);
    const own = new Map<string, Int16Array>();
    const coaching: SourceFrame[] = [];
    for (const [key, source] of this.#sources) {
      const frame = source.pop();
      if (!frame) {
        if (now - source.lastArrival > FORGET_MS) this.#sources.delete(key);
        continue;
      }
      if (frame.coachOf !== undefined) {
        coaching.push(frame);
        continue;
      }
      own.set(key, frame.pcm);
      for (let i = 0; i < FRAME_SAMPLES; i++) total[i] = (total[i] as number) + (frame.pcm[i] ?? 0);
    }
    for (const listener of this.#listeners) {
      if (!listener.hearing) continue;
      const mine = own.get(listener.callSid);
      const out = new Int16Array(FRAME_SAMPLES);
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        let v = (total[i] as number) - (mine?.[i] ?? 0);
        for (const c of coaching) if (c.coachOf === listener.callSid) v += c.pcm[i] ?? 0;
        out[i] = Math.max(-32768, Math.min(32767, v));
      }
      listener.hear(out);
    }
  }
}

/** The gateway's rooms, by RoomSid: a mix exists while it has a local member. */
export class GatewayRooms {
  readonly #rooms = new Map<string, RoomMix>();

  constructor(
    readonly nc: NatsConnection,
    readonly subjects: Subjects,
    private readonly pacer: Pacer,
    private readonly log: Logger,
  ) {}

  enter(roomSid: string, listener: MixListener): RoomMix {
    let room = this.#rooms.get(roomSid);
    if (!room) {
      room = new RoomMix(this.nc, this.subjects, roomSid, this.pacer, this.log);
      this.#rooms.set(roomSid, room);
    }
    room.add(listener);
    return room;
  }

  leave(room: RoomMix, listener: MixListener): void {
    room.remove(listener);
    if (room.size > 0 || this.#rooms.get(room.roomSid) !== room) return;
    room.close();
    this.#rooms.delete(room.roomSid);
  }

  get size(): number {
    return this.#rooms.size;
  }
}
