// Records a room's mix on one gateway: a listener of the room's mix that hears every member (coaches
// excepted, as Twilio's conference recording), kept as a WAV until the region's `stop`.
import { wavFromPcm } from "../rtp/wav.js";
import type { Recording } from "./recorder.js";
import type { GatewayRooms, MixListener } from "./room-mix.js";
import { FRAME_SAMPLES } from "./rtp-session.js";

export class RoomRecorder implements MixListener {
  /** No member's CallSid: no one's frames are left out of what it hears. */
  readonly callSid = "";
  readonly hearing = true;
  #frames: Int16Array[] = [];

  /** `continues`: a recorder of the same room this one replaces; what it heard is this one's start. */
  constructor(continues?: RoomRecorder) {
    if (!continues) return;
    this.#frames = continues.#frames;
    continues.#frames = [];
  }

  hear(pcm: Int16Array): void {
    this.#frames.push(pcm);
  }

  /** Records until `signal` aborts; resolves (never rejects) with what was recorded. */
  async run(rooms: GatewayRooms, roomSid: string, signal: AbortSignal): Promise<Recording> {
    const room = rooms.enter(roomSid, this);
    try {
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
    } finally {
      rooms.leave(room, this);
    }
    const pcm = new Int16Array(this.#frames.length * FRAME_SAMPLES);
    this.#frames.forEach((f, i) => {
      pcm.set(f, i * FRAME_SAMPLES);
    });
    return { wav: wavFromPcm(pcm), durationMs: this.#frames.length * 20, digits: "" };
  }
}
